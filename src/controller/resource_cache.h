// ResourceCache: informers for one resource over the controller's watch
// scope (all namespaces, or one informer per listed namespace), read as one
// cache. Handlers are added to every informer.
//
// Thread-safety: AddHandlers before Start; readers from any thread.
// Ownership: owns its informers; borrows the Client and the Clock.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kube/client/client.h"
#include "kube/informer/informer.h"
#include "kube/watch/watcher.h"

namespace sg::controller {

// The ConfigMap cache's options: small pages (a ConfigMap may be close to
// 1 MiB) and SummarizeConfigMap as the transform, so memory grows with the
// number of ConfigMaps in scope, not with their size.
kube::WatcherOptions ConfigMapCacheOptions();

class ResourceCache {
 public:
  // `namespaces` empty = all namespaces. `options` (label selector, page
  // size, transform) applies to every informer.
  ResourceCache(kube::Client* client, const kube::Gvr& gvr,
                const std::vector<std::string>& namespaces, const kube::WatcherOptions& options,
                Clock* clock);
  ResourceCache(const ResourceCache&) = delete;
  ResourceCache& operator=(const ResourceCache&) = delete;

  void AddHandlers(const kube::EventHandlers& handlers);
  void Start();
  void Stop();
  bool WaitForSync(Clock::TimePoint deadline);

  kube::ObjectPtr Get(const std::string& ns, const std::string& name) const;
  std::vector<kube::ObjectPtr> InNamespace(const std::string& ns) const;
  std::vector<kube::ObjectPtr> All() const;
  // The oldest LastProgress() of its informers (liveness).
  std::optional<Clock::TimePoint> LastProgress() const;

 private:
  const kube::Store* StoreFor(const std::string& ns) const;
  std::map<std::string, std::unique_ptr<kube::Informer>> informers_;  // "" = all
};

}  // namespace sg::controller
