#include "common/clock.h"

#include <thread>

namespace sg {
namespace {

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  void SleepFor(Duration d) override { std::this_thread::sleep_for(d); }
};

}  // namespace

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();
  return clock;
}

// Starts far from the epoch so "zero" timestamps never look valid by accident.
FakeClock::FakeClock()
    : now_(TimePoint(std::chrono::hours(1000))),
      wall_(WallTime(std::chrono::seconds(1'800'000'000))) {}

Clock::TimePoint FakeClock::Now() const {
  std::lock_guard<std::mutex> l(mu_);
  return now_;
}

Clock::WallTime FakeClock::WallNow() const {
  std::lock_guard<std::mutex> l(mu_);
  return wall_;
}

void FakeClock::SleepFor(Duration d) {
  std::lock_guard<std::mutex> l(mu_);
  sleeps_.push_back(d);
  now_ += d;
  wall_ += std::chrono::duration_cast<WallTime::duration>(d);
}

void FakeClock::Advance(Duration d) {
  std::lock_guard<std::mutex> l(mu_);
  now_ += d;
  wall_ += std::chrono::duration_cast<WallTime::duration>(d);
}

std::vector<Clock::Duration> FakeClock::sleeps() const {
  std::lock_guard<std::mutex> l(mu_);
  return sleeps_;
}

}  // namespace sg
