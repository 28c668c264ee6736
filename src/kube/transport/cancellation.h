// Cancellation: a one-shot, thread-safe "stop now" signal shared between the
// thread that blocks in a call (a watch stream, a backoff wait) and the thread
// that wants it to return.
//
// Cancel() may be called from any thread, any number of times; callbacks
// registered with OnCancel run exactly once, on the cancelling thread (or at
// once, on the registering thread, if already cancelled). Callbacks must be
// short and must not call back into this object's Remove() for themselves.
// Ownership: the owner of a blocking operation keeps the Cancellation alive
// for as long as that operation runs. Copying is deleted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "common/clock.h"

namespace sg::kube {

class Cancellation {
 public:
  using Callback = std::function<void()>;
  using Handle = std::uint64_t;

  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  void Cancel();
  bool cancelled() const;

  // Registers `cb` to run on Cancel(). Returns a handle for Remove(); 0 when
  // the callback already ran because the signal was set.
  // Const because observers (who may not cancel) register too.
  Handle OnCancel(Callback cb) const;
  // Unregisters; after it returns the callback is not running and never will.
  void Remove(Handle h) const;

  // Blocks until cancelled or clock->Now() >= deadline (via
  // Clock::WaitUntil, so a FakeClock drives it); true when cancelled.
  bool WaitUntil(Clock* clock, Clock::TimePoint deadline) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool cancelled_ = false;
  mutable bool running_callbacks_ = false;
  mutable Handle next_ = 1;
  mutable std::map<Handle, Callback> callbacks_;
};

// RAII registration: unregisters on destruction.
class CancelRegistration {
 public:
  CancelRegistration(const Cancellation& c, Cancellation::Callback cb);
  ~CancelRegistration();
  CancelRegistration(const CancelRegistration&) = delete;
  CancelRegistration& operator=(const CancelRegistration&) = delete;

 private:
  const Cancellation& c_;
  Cancellation::Handle h_ = 0;
};

}  // namespace sg::kube
