// Clock: the one place time comes from, so every time-dependent component can
// be driven by a FakeClock in tests instead of sleeping.
//
// Now() is monotonic (deadlines, lease expiry, backoff); WallNow() is calendar
// time (timestamps written to the API server or the database).
//
// Thread-safety: RealClock is stateless and thread-safe. FakeClock is
// thread-safe; SleepFor advances the fake time at once and never blocks.
// Ownership: Clock::Real() is a process-wide singleton, never deleted.
#pragma once

#include <chrono>
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

  static Clock* Real();
};

class FakeClock : public Clock {
 public:
  FakeClock();
  TimePoint Now() const override;
  WallTime WallNow() const override;
  // Advances the fake time by `d` and records the request.
  void SleepFor(Duration d) override;

  void Advance(Duration d);
  std::vector<Duration> sleeps() const;

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  WallTime wall_;
  std::vector<Duration> sleeps_;
};

}  // namespace sg
