#include "cmd/stop_signal.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <optional>

namespace sg::cmd {

StopOnSignal::StopOnSignal(std::string termination_log, std::string fallback_report,
                           std::chrono::milliseconds hard_limit)
    : termination_log_(std::move(termination_log)),
      fallback_report_(std::move(fallback_report)),
      hard_limit_(hard_limit) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  thread_ = std::thread([this] { Watch(); });
}

StopOnSignal::~StopOnSignal() {
  done_ = true;
  thread_.join();
}

void StopOnSignal::Watch() {
  using Steady = std::chrono::steady_clock;
  const timespec slice{0, 100 * 1000 * 1000};
  std::optional<Steady::time_point> since;
  while (!done_) {
    int sig = sigtimedwait(&signals_, nullptr, &slice);
    if (sig > 0 && !since) {
      since = Steady::now();
      stop_ = true;
    }
    if (!since) continue;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (store_) store_->Cancel();
    }
    if (Steady::now() - *since < hard_limit_) continue;
    // Still running: a connect that hangs, or a cancel that never reached
    // the server. Exit anyway: closing the sockets makes the server roll
    // back, and _exit skips destructors the stuck main thread may be in.
    if (!termination_log_.empty()) {
      int fd = ::open(termination_log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ssize_t ignored = ::write(fd, fallback_report_.data(), fallback_report_.size());
        (void)ignored;
        ::close(fd);
      }
    }
    ::_exit(8);
  }
}

}  // namespace sg::cmd
