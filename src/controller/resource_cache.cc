#include "controller/resource_cache.h"

#include "controller/source/source_info.h"
#include "kube/informer/watch_source.h"
#include "kube/watch/lister_watcher.h"

namespace sg::controller {

namespace {

// One list response of 20 ConfigMaps of up to ~1 MiB stays far below the
// chart's memory limit.
constexpr int kConfigMapPageSize = 20;

}  // namespace

kube::WatcherOptions ConfigMapCacheOptions() {
  kube::WatcherOptions o;
  o.page_size = kConfigMapPageSize;
  o.transform = SummarizeConfigMap;
  return o;
}

ResourceCache::ResourceCache(kube::Client* client, const kube::Gvr& gvr,
                             const std::vector<std::string>& namespaces,
                             const kube::WatcherOptions& options, Clock* clock) {
  std::vector<std::string> scope = namespaces.empty() ? std::vector<std::string>{""} : namespaces;
  for (const auto& ns : scope) {
    kube::WatcherOptions wo = options;
    auto lw = std::make_unique<kube::ClientListerWatcher>(client, gvr, ns);
    auto source = std::make_unique<kube::WatcherSource>(std::move(lw), clock, wo);
    informers_[ns] = std::make_unique<kube::Informer>(std::move(source), clock);
  }
}

void ResourceCache::AddHandlers(const kube::EventHandlers& handlers) {
  for (auto& [ns, inf] : informers_) inf->AddHandlers(handlers).IgnoreError();
}

void ResourceCache::Start() {
  for (auto& [ns, inf] : informers_) inf->Start();
}

void ResourceCache::Stop() {
  for (auto& [ns, inf] : informers_) inf->Stop();
}

bool ResourceCache::WaitForSync(Clock::TimePoint deadline) {
  for (auto& [ns, inf] : informers_) {
    if (!inf->WaitForSync(deadline)) return false;
  }
  return true;
}

const kube::Store* ResourceCache::StoreFor(const std::string& ns) const {
  auto it = informers_.find("");
  if (it == informers_.end()) it = informers_.find(ns);
  return it == informers_.end() ? nullptr : &it->second->store();
}

kube::ObjectPtr ResourceCache::Get(const std::string& ns, const std::string& name) const {
  const kube::Store* s = StoreFor(ns);
  return s ? s->Get(ns, name) : nullptr;
}

std::vector<kube::ObjectPtr> ResourceCache::InNamespace(const std::string& ns) const {
  const kube::Store* s = StoreFor(ns);
  return s ? s->ByNamespace(ns) : std::vector<kube::ObjectPtr>{};
}

std::vector<kube::ObjectPtr> ResourceCache::All() const {
  std::vector<kube::ObjectPtr> out;
  for (const auto& [ns, inf] : informers_) {
    auto l = inf->store().List();
    out.insert(out.end(), l.begin(), l.end());
  }
  return out;
}

std::optional<Clock::TimePoint> ResourceCache::LastProgress() const {
  std::optional<Clock::TimePoint> oldest;
  for (const auto& [ns, inf] : informers_) {
    auto p = inf->LastProgress();
    if (p && (!oldest || *p < *oldest)) oldest = p;
  }
  return oldest;
}

}  // namespace sg::controller
