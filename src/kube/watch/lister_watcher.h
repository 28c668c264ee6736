// ListerWatcher: the two calls a Watcher needs, behind an interface so the
// watcher's state machine can be unit-tested with scripted answers and run
// for real through the Client.
//
// WatchStream is pull-based: Next() blocks until the next event, returns
// nullopt when the server ended the watch normally (its timeoutSeconds), a
// kGone Status for HTTP 410, kCancelled once the Cancellation given to
// Watch() fires, or another error for connection/decoding failures.
// Destroying a stream cancels and releases it (joins its reader thread).
//
// ClientListerWatcher runs the HTTP stream on a background thread that parses
// events (StreamParser) into a small bounded queue; Next() pops from it. So
// a slow consumer applies back-pressure to the socket rather than buffering
// without limit.
// Thread-safety: a ListerWatcher may be shared; a WatchStream is used by one
// thread (cancellation comes through the Cancellation, from any thread).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "kube/client/client.h"
#include "kube/client/options.h"
#include "kube/transport/cancellation.h"
#include "kube/watch/event.h"

namespace sg::kube {

struct ListPage {
  std::vector<nlohmann::json> items;
  std::string resource_version;
  std::string continue_token;
};

class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual StatusOr<std::optional<WatchEvent>> Next() = 0;
};

class ListerWatcher {
 public:
  virtual ~ListerWatcher() = default;
  virtual StatusOr<ListPage> List(const ListOptions& options) = 0;
  // `cancel` must outlive the returned stream.
  virtual StatusOr<std::unique_ptr<WatchStream>> Watch(const ListOptions& options,
                                                       const Cancellation& cancel) = 0;
};

// Lists and watches one resource (in one namespace, or all when `ns` is
// empty) through `client`, which must outlive this object.
class ClientListerWatcher final : public ListerWatcher {
 public:
  ClientListerWatcher(Client* client, Gvr gvr, std::string ns);

  StatusOr<ListPage> List(const ListOptions& options) override;
  StatusOr<std::unique_ptr<WatchStream>> Watch(const ListOptions& options,
                                               const Cancellation& cancel) override;

 private:
  Client* const client_;
  const Gvr gvr_;
  const std::string ns_;
};

}  // namespace sg::kube
