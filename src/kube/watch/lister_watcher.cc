#include "kube/watch/lister_watcher.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "kube/watch/stream_parser.h"

namespace sg::kube {

namespace {

// Runs Client::WatchRaw on its own thread and hands parsed events to Next()
// through a bounded queue.
class ClientWatchStream final : public WatchStream {
 public:
  static constexpr size_t kMaxQueued = 256;

  ClientWatchStream(Client* client, Gvr gvr, std::string ns, ListOptions options,
                    const Cancellation& outer)
      : outer_reg_(outer, [this] { inner_.Cancel(); }), wake_reg_(inner_, [this] {
          std::lock_guard<std::mutex> l(mu_);
          cv_.notify_all();
        }) {
    thread_ = std::thread(
        [this, client, gvr = std::move(gvr), ns = std::move(ns), options = std::move(options)] {
          StreamParser parser;
          std::vector<WatchEvent> events;
          Status s = client->WatchRaw(
              gvr, ns, options,
              [&](std::string_view chunk) -> Status {
                events.clear();
                SG_RETURN_IF_ERROR(parser.Feed(chunk, &events));
                std::unique_lock<std::mutex> l(mu_);
                for (auto& e : events) {
                  cv_.wait(l, [&] { return queue_.size() < kMaxQueued || inner_.cancelled(); });
                  if (inner_.cancelled()) return CancelledError("watch cancelled");
                  queue_.push_back(std::move(e));
                  cv_.notify_all();
                }
                return OkStatus();
              },
              inner_);
          std::lock_guard<std::mutex> l(mu_);
          final_ = s;
          finished_ = true;
          cv_.notify_all();
        });
  }

  ~ClientWatchStream() override {
    inner_.Cancel();
    thread_.join();
  }

  StatusOr<std::optional<WatchEvent>> Next() override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !queue_.empty() || finished_ || inner_.cancelled(); });
    if (!queue_.empty()) {
      WatchEvent e = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();
      return std::optional<WatchEvent>(std::move(e));
    }
    if (inner_.cancelled()) return CancelledError("watch cancelled");
    if (!final_.ok()) return final_;
    return std::optional<WatchEvent>();
  }

 private:
  Cancellation inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> queue_;  // guarded by mu_
  bool finished_ = false;         // guarded by mu_
  Status final_;                  // guarded by mu_
  CancelRegistration outer_reg_;
  CancelRegistration wake_reg_;
  std::thread thread_;
};

}  // namespace

ClientListerWatcher::ClientListerWatcher(Client* client, Gvr gvr, std::string ns)
    : client_(client), gvr_(std::move(gvr)), ns_(std::move(ns)) {}

StatusOr<ListPage> ClientListerWatcher::List(const ListOptions& options) {
  SG_ASSIGN_OR_RETURN(Json list, client_->List(gvr_, ns_, options));
  ListPage page;
  page.resource_version = list.value(Json::json_pointer("/metadata/resourceVersion"), "");
  page.continue_token = list.value(Json::json_pointer("/metadata/continue"), "");
  if (auto it = list.find("items"); it != list.end() && it->is_array()) {
    page.items.reserve(it->size());
    for (auto& item : *it) {
      // List items come without kind/apiVersion; restore them so cached
      // objects look like those from Get and watch events.
      if (item.is_object()) {
        if (!item.contains("kind") && !gvr_.kind.empty()) item["kind"] = gvr_.kind;
        if (!item.contains("apiVersion")) item["apiVersion"] = gvr_.ApiVersion();
      }
      page.items.push_back(std::move(item));
    }
  }
  return page;
}

StatusOr<std::unique_ptr<WatchStream>> ClientListerWatcher::Watch(const ListOptions& options,
                                                                  const Cancellation& cancel) {
  return std::unique_ptr<WatchStream>(
      std::make_unique<ClientWatchStream>(client_, gvr_, ns_, options, cancel));
}

}  // namespace sg::kube
