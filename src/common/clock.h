// Clock: the one place time comes from, so every time-dependent component can
// be driven by a FakeClock in tests instead of sleeping.
//
// Now() is monotonic (deadlines, lease expiry, backoff); WallNow() is calendar
// time (timestamps written to the API server or the database).
//
// WaitUntil blocks on a condition variable until it is notified or the
// clock's Now() reaches a deadline, so a component that waits for "the next
// timer or a new item" can be driven by FakeClock::Advance in tests.
//
// Thread-safety: RealClock is stateless and thread-safe. FakeClock is
// thread-safe; SleepFor advances the fake time at once and never blocks.
// Ownership: Clock::Real() is a process-wide singleton, never deleted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

namespace sg {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  virtual WallTime WallNow() const = 0;
  virtual void SleepFor(Duration d) = 0;

  // Blocks with `lock` (held on entry and on return) released until `cv` is
  // notified or Now() >= `deadline`. Spurious returns are allowed: callers
  // re-check their predicate and the deadline in a loop. The default waits on
  // the real steady clock, which is what Now() reports for RealClock.
  virtual void WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         TimePoint deadline);

  // Blocks until `cv` is notified (or a spurious wakeup): no deadline.
  static void Wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv) {
    cv.wait(lock);
  }

  static Clock* Real();
};

class FakeClock : public Clock {
 public:
  FakeClock();
  TimePoint Now() const override;
  WallTime WallNow() const override;
  // Advances the fake time by `d` and records the request.
  void SleepFor(Duration d) override;

  // Returns at once if Now() >= deadline; otherwise waits for `cv`, for an
  // Advance (which notifies every waiting condition variable) or for a short
  // real-time slice, whichever comes first, so a notification racing the
  // wait costs milliseconds, never a hang.
  void WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline) override;

  // Moves both clocks forward and wakes every WaitUntil caller.
  void Advance(Duration d);
  // Shifts only the calendar clock (simulates skew between machines).
  void AdvanceWall(Duration d);
  std::vector<Duration> sleeps() const;
  // Number of threads blocked in WaitUntil right now on a deadline still in
  // the future: tests wait for a component to park on its timer before
  // advancing time (a waiter whose deadline passed no longer counts, even
  // before its thread has woken up).
  size_t waiters() const;

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  WallTime wall_;
  std::vector<Duration> sleeps_;
  std::multimap<std::condition_variable*, TimePoint> waiting_;
};

}  // namespace sg
