#include "kube/informer/informer.h"

namespace sg::kube {

Informer::Informer(std::unique_ptr<WatchSource> source, Clock* clock, InformerOptions options)
    : source_(std::move(source)), clock_(clock), options_(std::move(options)) {}

Informer::~Informer() { Stop(); }

Status Informer::AddIndex(const std::string& name, IndexFunc fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (started_) return FailedPreconditionError("informer: AddIndex after Start");
  }
  return store_.AddIndex(name, std::move(fn));
}

Status Informer::AddHandlers(EventHandlers handlers) {
  std::lock_guard<std::mutex> l(mu_);
  if (started_) return FailedPreconditionError("informer: AddHandlers after Start");
  handlers_.push_back(std::move(handlers));
  return OkStatus();
}

void Informer::Start() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  dispatch_thread_ = std::thread([this] { DispatchLoop(); });
  watch_thread_ = std::thread([this] {
    Status s = source_->Run([this](const WatcherEvent& e) { Apply(e); },
                            [this](const Status& error) {
                              if (options_.on_error) options_.on_error(error);
                            });
    (void)s;  // kCancelled after Stop(); failures were reported via on_error
  });
}

void Informer::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_all();
    if (!started_) return;
  }
  source_->Cancel();
  if (watch_thread_.joinable()) watch_thread_.join();
  if (dispatch_thread_.joinable()) dispatch_thread_.join();
}

void Informer::Apply(const WatcherEvent& event) {
  std::lock_guard<std::mutex> apply(apply_mu_);
  std::vector<Notification> batch;
  switch (event.type) {
    case WatcherEvent::Type::kRestarted: {
      std::vector<ObjectPtr> objects;
      objects.reserve(event.objects.size());
      for (const auto& o : event.objects)
        objects.push_back(std::make_shared<const nlohmann::json>(o));
      auto diff = store_.Replace(std::move(objects));
      for (auto& o : diff.removed) batch.push_back({Notification::Kind::kDelete, nullptr, o});
      for (auto& o : diff.added) batch.push_back({Notification::Kind::kAdd, nullptr, o});
      for (auto& [old_object, object] : diff.updated) {
        batch.push_back({Notification::Kind::kUpdate, old_object, object});
      }
      if (!initial_listed_) {
        initial_listed_ = true;
        batch.push_back({Notification::Kind::kSynced, nullptr, nullptr});
      }
      break;
    }
    case WatcherEvent::Type::kApplied: {
      auto object = std::make_shared<const nlohmann::json>(event.object);
      ObjectPtr old = store_.Upsert(object);
      if (old) {
        batch.push_back({Notification::Kind::kUpdate, old, object});
      } else {
        batch.push_back({Notification::Kind::kAdd, nullptr, object});
      }
      break;
    }
    case WatcherEvent::Type::kDeleted: {
      // The event carries the object's final state on the server.
      store_.Remove(ObjectKey(event.object));
      auto last = std::make_shared<const nlohmann::json>(event.object);
      batch.push_back({Notification::Kind::kDelete, nullptr, last});
      break;
    }
  }
  Push(std::move(batch));
}

void Informer::Push(std::vector<Notification> batch) {
  if (batch.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) return;
  for (auto& n : batch) pending_.push_back(std::move(n));
  cv_.notify_all();
}

std::optional<Clock::TimePoint> Informer::LastProgress() const {
  std::optional<Clock::TimePoint> p = source_->LastProgress();
  std::lock_guard<std::mutex> l(mu_);
  if (delivering_since_ && (!p || *delivering_since_ < *p)) p = delivering_since_;
  return p;
}

void Informer::DispatchLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopping_) return;
    if (!pending_.empty()) {
      Notification n = std::move(pending_.front());
      pending_.pop_front();
      if (n.kind == Notification::Kind::kSynced) {
        synced_ = true;
        if (options_.resync_period > Clock::Duration::zero()) {
          next_resync_ = clock_->Now() + options_.resync_period;
        }
        cv_.notify_all();
        continue;
      }
      delivering_since_ = clock_->Now();
      lock.unlock();
      Deliver(n);
      lock.lock();
      delivering_since_.reset();
      continue;
    }
    if (synced_ && options_.resync_period > Clock::Duration::zero()) {
      if (clock_->Now() >= next_resync_) {
        next_resync_ = clock_->Now() + options_.resync_period;
        lock.unlock();
        {
          // Under apply_mu_ so a resync cannot slip between a store write
          // and its notification.
          std::lock_guard<std::mutex> apply(apply_mu_);
          std::vector<Notification> batch;
          for (auto& o : store_.List()) batch.push_back({Notification::Kind::kUpdate, o, o});
          Push(std::move(batch));
        }
        lock.lock();
        continue;
      }
      clock_->WaitUntil(lock, cv_, next_resync_);
    } else {
      Clock::Wait(lock, cv_);
    }
  }
}

void Informer::Deliver(const Notification& n) {
  for (const auto& h : handlers_) {
    switch (n.kind) {
      case Notification::Kind::kAdd:
        if (h.on_add) h.on_add(n.object);
        break;
      case Notification::Kind::kUpdate:
        if (h.on_update) h.on_update(n.old_object, n.object);
        break;
      case Notification::Kind::kDelete:
        if (h.on_delete) h.on_delete(n.object);
        break;
      case Notification::Kind::kSynced:
        break;
    }
  }
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> l(mu_);
  return synced_;
}

bool Informer::WaitForSync(Clock::TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!synced_ && !stopping_) {
    if (clock_->Now() >= deadline) return false;
    clock_->WaitUntil(lock, cv_, deadline);
  }
  return synced_;
}

}  // namespace sg::kube
