// Controller: runs the SchemaMigration reconciler. Builds the informers
// (SchemaMigrations, ConfigMaps, and Jobs and pods labelled
// app.kubernetes.io/managed-by=schemagate) over the watch scope, maps their
// events to SchemaMigration keys on a WorkQueue, and runs workers with one
// error policy. With leader election (default) nothing is watched or
// reconciled until this process leads; losing leadership ends Run() with
// kFailedPrecondition (exit and restart, as client-go users do). Stop()
// (SIGTERM) drains the workers and releases the leader Lease.
//
// Acting only while leading: MayAct() is the elector's time-bounded
// IsLeader() (false from the renew deadline of the last renewal on, which
// is before a standby may lead, see lease_claim.h). A worker checks it
// before taking each key, and the Reconciler gets it (SetMayAct) to check
// before it acts (creates a Job). On losing leadership the queue is shut down without a
// drain: no worker takes another key; a reconcile in flight ends on its own
// (every API call in it is bounded) and is told by MayAct() not to act.
//
// Observability: logs through options.logger; when options.metrics is set,
// updates reconciles/errors/leader here and passes it to the Reconciler (runs,
// durations, applied version, Lease wait). Ready() is the /readyz answer,
// Live() the /healthz one (liveness.h: a wedged worker or informer, or a
// leader that stopped renewing its Lease).
//
// Thread-safety: Run() on one thread; Stop(), Ready(), Live(), IsLeader(),
// MayAct() and QueueDepth() from any thread (signal thread, health server,
// workers). Ownership: borrows the Client, the Clock and the metrics (which
// must outlive Run()).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/liveness.h"
#include "controller/reconciler.h"
#include "kube/client/client.h"
#include "kube/events/event_sink.h"
#include "kube/lease/leader_elector.h"
#include "kube/workqueue/work_queue.h"
#include "observe/log/log.h"

namespace sg::controller {

struct ControllerOptions {
  ReconcilerOptions reconciler;
  std::vector<std::string> namespaces;  // empty = all
  bool leader_elect = true;
  std::string leader_lease_name = "schemagate-controller";
  std::string identity;  // leader identity; default hostname + random suffix
  int workers = 2;
  LivenessOptions liveness;
  // Text or JSON lines on stderr by default; never given a secret.
  observe::Logger logger;
};

class Controller {
 public:
  Controller(kube::Client* client, Clock* clock, ControllerOptions options);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  Status Run();
  void Stop();

  bool IsLeader() const { return leading_.load(); }
  // This process may still act on the cluster: it leads and, with leader
  // election, holds the Lease within its renew deadline right now.
  bool MayAct() const;
  // Readiness: OK once the caches of a leading controller have synced, and
  // while a replica stands by for leadership (it can take over at once);
  // kUnavailable while leading with caches still syncing, and after Stop().
  Status Ready() const;
  // Liveness: kUnavailable when a worker or an informer is wedged.
  Status Live() const { return liveness_.Check(); }
  size_t QueueDepth() const;

 private:
  Status RunLeading();
  void Worker(int index);
  void EnqueueObject(const kube::ObjectPtr& obj);
  void EnqueueOwner(const kube::ObjectPtr& obj);
  void EnqueueForConfigMap(const kube::ObjectPtr& obj);
  void EnqueueIdentity(const std::string& identity);
  void SetLeader(bool leading);

  kube::Client* const client_;
  Clock* const clock_;
  ControllerOptions options_;

  Liveness liveness_;
  std::unique_ptr<kube::WorkQueue> queue_;
  std::unique_ptr<ResourceCache> migrations_, config_maps_, jobs_, pods_;
  std::unique_ptr<kube::EventSink> sink_;
  std::unique_ptr<kube::EventRecorder> recorder_;
  std::unique_ptr<Reconciler> reconciler_;

  // Set while Run()'s elector exists (workers and MayAct() read it).
  std::atomic<const kube::LeaderElector*> elector_{nullptr};
  std::atomic<bool> leading_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> stopped_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool lost_ = false;
  bool started_leading_ = false;
};

}  // namespace sg::controller
