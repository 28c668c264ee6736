// StopOnSignal: how `schemagate migrate` answers SIGTERM and SIGINT, also as
// PID 1 of a container (where a signal without a handler is ignored). The
// constructor blocks both signals in the calling thread before any other
// thread starts (threads inherit the mask) and starts one thread that waits
// for them with sigtimedwait. On a signal it sets stop() (the runner and the
// store check it before every statement) and asks the store to cancel the
// statement in flight, again every 100 ms (a cancel that lands between two
// statements finds nothing to cancel). If the process is still running
// `hard_limit` after the signal, the thread writes `fallback_report` to the
// termination log and ends the process with exit code 8: closing the
// sockets makes the server roll back whatever was still open.
//
// Thread-safety: SetStore from the main thread, stop() from any thread.
// Ownership: borrows the store; the destructor stops and joins the thread
// (call it before the store is destroyed).
#pragma once

#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "migrate/store.h"

namespace sg::cmd {

class StopOnSignal {
 public:
  StopOnSignal(std::string termination_log, std::string fallback_report,
               std::chrono::milliseconds hard_limit = std::chrono::milliseconds(1500));
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

  // nullptr before the store goes away: once this returns, no Cancel() on
  // the old store runs or will run.
  void SetStore(migrate::MigrationStore* store) {
    std::lock_guard<std::mutex> l(mu_);
    store_ = store;
  }
  const std::atomic<bool>* stop() const { return &stop_; }

 private:
  void Watch();

  const std::string termination_log_;
  const std::string fallback_report_;
  const std::chrono::milliseconds hard_limit_;
  sigset_t signals_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::mutex mu_;
  migrate::MigrationStore* store_ = nullptr;  // guarded by mu_
  std::thread thread_;
};

}  // namespace sg::cmd
