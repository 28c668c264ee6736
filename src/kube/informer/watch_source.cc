#include "kube/informer/watch_source.h"

namespace sg::kube {

WatcherSource::WatcherSource(std::unique_ptr<ListerWatcher> lw, Clock* clock,
                             WatcherOptions options)
    : lw_(std::move(lw)), watcher_(lw_.get(), clock, std::move(options)) {}

Status WatcherSource::Run(const EventFn& on_event, const ErrorFn& on_error) {
  return watcher_.Run(on_event, on_error);
}

void WatcherSource::Cancel() { watcher_.Cancel(); }

}  // namespace sg::kube
