#include "controller/controller.h"

#include <unistd.h>

#include <random>
#include <thread>

#include "controller/api/identity.h"
#include "kube/events/client_event_sink.h"
#include "kube/lease/kube_lease_lock.h"
#include "kube/workqueue/work_queue.h"

namespace sg::controller {

using nlohmann::json;

namespace {

std::string DefaultIdentity() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::mt19937_64 rng(std::random_device{}());
  return std::string(host) + "_" + std::to_string(rng() % 100000000);
}

std::string Label(const json& obj, const char* key) {
  const json& md = obj["metadata"];
  if (!md.contains("labels") || !md["labels"].is_object()) return "";
  return md["labels"].value(key, "");
}

}  // namespace

Controller::Controller(kube::Client* client, Clock* clock, ControllerOptions options)
    : client_(client),
      clock_(clock),
      options_(std::move(options)),
      liveness_(clock, options_.liveness) {
  if (options_.identity.empty()) options_.identity = DefaultIdentity();
  queue_ = std::make_unique<kube::WorkQueue>(clock_);
}

Controller::~Controller() { Stop(); }

void Controller::SetLeader(bool leading) {
  leading_ = leading;
  if (options_.reconciler.metrics) options_.reconciler.metrics->leader->Set(leading ? 1 : 0);
}

Status Controller::Ready() const {
  if (stopped_.load()) return UnavailableError("stopping");
  if (!leading_.load()) return OkStatus();  // standing by: ready to take over
  if (!synced_.load()) return UnavailableError("informer caches not synced");
  return OkStatus();
}

size_t Controller::QueueDepth() const { return queue_->Len(); }

bool Controller::MayAct() const {
  if (!leading_.load()) return false;
  const kube::LeaderElector* elector = elector_.load();
  // leader_elect off: leading_ is all there is. With it, leading_ follows the
  // callbacks, which fire only after the fact; IsLeader() turns false on
  // its own at the renew deadline.
  return !options_.leader_elect || (elector && elector->IsLeader());
}

void Controller::Stop() {
  stopped_ = true;
  std::lock_guard<std::mutex> l(mu_);
  stopping_ = true;
  cv_.notify_all();
}

void Controller::EnqueueObject(const kube::ObjectPtr& obj) {
  if (obj) queue_->Add(kube::ObjectKey(*obj));
}

void Controller::EnqueueOwner(const kube::ObjectPtr& obj) {
  if (!obj) return;
  std::string owner = Label(*obj, kMigrationLabel);
  std::string ns = (*obj)["metadata"].value("namespace", "");
  if (!owner.empty()) queue_->Add(kube::ObjectKey(ns, owner));
}

void Controller::EnqueueForConfigMap(const kube::ObjectPtr& obj) {
  if (!obj) return;
  std::string ns = (*obj)["metadata"].value("namespace", "");
  for (const auto& sm : migrations_->InNamespace(ns)) {
    const json& spec = (*sm).value("spec", json::object());
    if (spec.contains("source") && !spec["source"].contains("image")) EnqueueObject(sm);
  }
}

void Controller::EnqueueIdentity(const std::string& identity) {
  for (const auto& sm : migrations_->All()) {
    auto spec = ParseSpec((*sm).value("spec", json()));
    if (!spec.ok()) continue;
    std::string ns = (*sm)["metadata"].value("namespace", "");
    if (DatabaseIdentity(ns, spec->database) == identity) EnqueueObject(sm);
  }
}

void Controller::Worker(int index) {
  const observe::ControllerMetrics* m = options_.reconciler.metrics;
  while (MayAct()) {
    auto key = queue_->Get();
    if (!key) break;
    // Get may have blocked past the end of our leadership.
    if (!MayAct()) {
      queue_->Done(*key);
      break;
    }
    auto slash = key->find('/');
    std::string ns = key->substr(0, slash), name = key->substr(slash + 1);
    liveness_.Started(index, *key);
    ReconcileResult r;
    try {
      r = reconciler_->Reconcile(ns, name);
    } catch (const std::exception& e) {
      // A bug or an input nobody foresaw: this key is retried with backoff,
      // every other key goes on (never std::terminate for all namespaces).
      r.status = InternalError(std::string("unexpected exception in reconcile: ") + e.what());
    } catch (...) {
      r.status = InternalError("unexpected non-standard exception in reconcile");
    }
    liveness_.Finished(index);
    // The one error policy: every error is retried with the per-key
    // exponential backoff (a conflict included); success forgets it.
    if (!r.status.ok()) {
      // A status-write conflict is routine (stale cache), not news.
      observe::LogLevel level =
          r.status.code() == Code::kConflict ? observe::LogLevel::kDebug : observe::LogLevel::kWarn;
      options_.logger.Log(level, "reconcile failed, retrying",
                          {{"namespace", ns}, {"name", name}, {"error", r.status}});
      queue_->AddRateLimited(*key);
      if (m) {
        m->reconciles->Inc({"error"});
        m->reconcile_errors->Inc();
      }
    } else if (r.requeue_after) {
      queue_->Forget(*key);
      queue_->AddAfter(*key, *r.requeue_after);
      if (m) m->reconciles->Inc({"requeue"});
    } else {
      queue_->Forget(*key);
      if (m) m->reconciles->Inc({"success"});
    }
    queue_->Done(*key);
  }
}

Status Controller::RunLeading() {
  kube::WatcherOptions all;
  kube::WatcherOptions managed;
  managed.label_selector = std::string(kManagedByLabel) + "=" + kManagedByValue;
  // Every ConfigMap in scope is listed, but only its summary is kept.
  const kube::WatcherOptions config_maps = ConfigMapCacheOptions();
  migrations_ = std::make_unique<ResourceCache>(client_, kube::gvr::SchemaMigration(),
                                                options_.namespaces, all, clock_);
  config_maps_ = std::make_unique<ResourceCache>(client_, kube::gvr::ConfigMap(),
                                                 options_.namespaces, config_maps, clock_);
  jobs_ = std::make_unique<ResourceCache>(client_, kube::gvr::Job(), options_.namespaces, managed,
                                          clock_);
  pods_ = std::make_unique<ResourceCache>(client_, kube::gvr::Pod(), options_.namespaces, managed,
                                          clock_);
  sink_ = std::make_unique<kube::ClientEventSink>(client_);
  kube::EventRecorderOptions eo;
  eo.reporting_instance = options_.identity;
  recorder_ = std::make_unique<kube::EventRecorder>(sink_.get(), clock_, eo);
  reconciler_ = std::make_unique<Reconciler>(
      client_, Caches{migrations_.get(), config_maps_.get(), jobs_.get(), pods_.get()}, clock_,
      options_.reconciler, recorder_.get());
  reconciler_->SetOnLeaseReleased([this](const std::string& id) { EnqueueIdentity(id); });
  reconciler_->SetMayAct([this] { return MayAct(); });

  migrations_->AddHandlers(
      {[this](const kube::ObjectPtr& o) { EnqueueObject(o); },
       [this](const kube::ObjectPtr&, const kube::ObjectPtr& n) { EnqueueObject(n); },
       [this](const kube::ObjectPtr& o) { EnqueueObject(o); }});
  auto owner = kube::EventHandlers{
      [this](const kube::ObjectPtr& o) { EnqueueOwner(o); },
      [this](const kube::ObjectPtr&, const kube::ObjectPtr& n) { EnqueueOwner(n); },
      [this](const kube::ObjectPtr& o) { EnqueueOwner(o); }};
  jobs_->AddHandlers(owner);
  pods_->AddHandlers(owner);
  config_maps_->AddHandlers({[this](const kube::ObjectPtr& o) { EnqueueForConfigMap(o); },
                             [this](const kube::ObjectPtr& old, const kube::ObjectPtr& n) {
                               if (!old ||
                                   (*old).value("files", json()) != (*n).value("files", json()) ||
                                   (*old)["metadata"].value("labels", json()) !=
                                       (*n)["metadata"].value("labels", json())) {
                                 EnqueueForConfigMap(n);
                               }
                             },
                             [this](const kube::ObjectPtr& o) { EnqueueForConfigMap(o); }});
  for (auto* c : {config_maps_.get(), jobs_.get(), pods_.get(), migrations_.get()}) c->Start();
  // Reconcile only from complete caches, or a Job could look missing.
  while (!config_maps_->WaitForSync(clock_->Now() + std::chrono::seconds(1)) ||
         !jobs_->WaitForSync(clock_->Now() + std::chrono::seconds(1)) ||
         !pods_->WaitForSync(clock_->Now() + std::chrono::seconds(1)) ||
         !migrations_->WaitForSync(clock_->Now() + std::chrono::seconds(1))) {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_ || lost_) break;
  }
  synced_ = true;
  bool interrupted;
  {
    std::lock_guard<std::mutex> l(mu_);
    interrupted = stopping_ || lost_;
  }
  // Stopped or deposed before the caches filled: say so, not "synced".
  if (interrupted) {
    options_.logger.Info("stopped before the caches synced", {});
  } else {
    options_.logger.Info("caches synced", {{"workers", options_.workers}});
  }
  std::vector<std::pair<std::string, Liveness::ProgressFn>> informers;
  const std::vector<std::pair<const char*, const ResourceCache*>> caches = {
      {"SchemaMigration", migrations_.get()},
      {"ConfigMap", config_maps_.get()},
      {"Job", jobs_.get()},
      {"Pod", pods_.get()}};
  for (const auto& entry : caches) {
    const ResourceCache* cache = entry.second;
    informers.emplace_back(entry.first, [cache] { return cache->LastProgress(); });
  }
  liveness_.SetInformers(std::move(informers));
  std::vector<std::thread> workers;
  for (int i = 0; i < options_.workers; ++i) workers.emplace_back([this, i] { Worker(i); });
  {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return stopping_ || lost_; });
  }
  bool lost;
  {
    std::lock_guard<std::mutex> l(mu_);
    lost = lost_;
  }
  if (lost) {
    // No drain: a standby may lead soon; what is queued is its work now.
    queue_->ShutDown();
  } else {
    // Stop(): still leading (the Lease is released after this), so finish
    // what was taken, for at most 30 s.
    queue_->ShutDownWithDrain(clock_->Now() + std::chrono::seconds(30));
  }
  for (auto& t : workers) t.join();
  liveness_.SetInformers({});
  synced_ = false;
  for (auto* c : {migrations_.get(), pods_.get(), jobs_.get(), config_maps_.get()}) c->Stop();
  recorder_->Shutdown();
  std::lock_guard<std::mutex> l(mu_);
  return lost_ ? FailedPreconditionError("lost leadership") : OkStatus();
}

Status Controller::Run() {
  if (!options_.leader_elect) {
    SetLeader(true);
    Status s = RunLeading();
    SetLeader(false);
    return s;
  }
  auto lock = std::make_unique<kube::KubeLeaseLock>(
      &client_->transport(), options_.reconciler.operator_namespace, options_.leader_lease_name);
  kube::LeaderElectorConfig cfg;
  cfg.identity = options_.identity;
  cfg.callbacks.on_started_leading = [this](int64_t token) {
    options_.logger.Info("acquired the leader Lease", {{"fencing_token", token}});
    std::lock_guard<std::mutex> l(mu_);
    started_leading_ = true;
    SetLeader(true);
    cv_.notify_all();
  };
  cfg.callbacks.on_stopped_leading = [this] {
    std::lock_guard<std::mutex> l(mu_);
    SetLeader(false);
    lost_ = true;
    cv_.notify_all();
  };
  cfg.callbacks.on_new_leader = [this](const std::string& id) {
    options_.logger.Info("leader changed", {{"leader", id.empty() ? std::string("nobody") : id}});
  };
  SG_ASSIGN_OR_RETURN(auto elector, kube::LeaderElector::New(std::move(lock), cfg, clock_));
  const std::string lease_name =
      options_.reconciler.operator_namespace + "/" + options_.leader_lease_name;
  elector_ = elector.get();
  const kube::LeaseClaim* claim = &elector->claim();
  liveness_.SetLeaderLease(lease_name, claim->timings().lease_duration,
                           [claim] { return claim->RenewedAt(); });
  Status elector_status;
  std::thread election([&] {
    elector_status = elector->Run();
    std::lock_guard<std::mutex> l(mu_);
    if (!stopping_) lost_ = true;
    cv_.notify_all();
  });
  options_.logger.Info("waiting for leadership",
                       {{"lease", lease_name}, {"identity", options_.identity}});
  bool lead = false;
  {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return stopping_ || lost_ || started_leading_; });
    lead = started_leading_ && !stopping_ && !lost_;
  }
  Status s = OkStatus();
  if (lead) {
    options_.logger.Info("leading", {{"identity", options_.identity}});
    s = RunLeading();
  }
  elector->Stop();  // releases the Lease when we still hold it
  election.join();
  SetLeader(false);
  liveness_.SetLeaderLease("", Clock::Duration::zero(), nullptr);
  elector_ = nullptr;
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  if (lost_ && !stopping_)
    return FailedPreconditionError("lost leadership: " + elector_status.ToString());
  return OkStatus();
}

}  // namespace sg::controller
