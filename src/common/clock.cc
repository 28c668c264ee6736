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

void Clock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                      TimePoint deadline) {
  // "No deadline" callers pass max(); do not feed it to the timed wait.
  if (deadline == TimePoint::max()) {
    cv.wait(lock);
    return;
  }
  cv.wait_until(lock, deadline);
}

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
  // Notifying under mu_ keeps each cv alive: a waiter deregisters under mu_.
  for (auto& [cv, deadline] : waiting_) cv->notify_all();
}

void FakeClock::AdvanceWall(Duration d) {
  std::lock_guard<std::mutex> l(mu_);
  wall_ += std::chrono::duration_cast<WallTime::duration>(d);
}

void FakeClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint deadline) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (now_ >= deadline) return;
    waiting_.emplace(&cv, deadline);
  }
  // Advance may run between the check above and the wait below without
  // holding the caller's mutex; the bounded real wait turns that lost
  // notification into a short delay instead of a hang.
  cv.wait_for(lock, std::chrono::milliseconds(5));
  std::lock_guard<std::mutex> l(mu_);
  auto [first, last] = waiting_.equal_range(&cv);
  for (auto it = first; it != last; ++it) {
    if (it->second == deadline) {
      waiting_.erase(it);
      break;
    }
  }
}

size_t FakeClock::waiters() const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (auto& [cv, deadline] : waiting_) n += deadline > now_ ? 1 : 0;
  return n;
}

std::vector<Clock::Duration> FakeClock::sleeps() const {
  std::lock_guard<std::mutex> l(mu_);
  return sleeps_;
}

}  // namespace sg
