// Helpers shared by the lease unit tests.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace sg::kube::testing {

// Polls (bounded in real time) until `pred` holds: for waiting until another
// thread has parked or acted, never as a timed assertion.
inline bool Eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 10000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

}  // namespace sg::kube::testing
