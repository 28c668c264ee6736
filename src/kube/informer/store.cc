#include "kube/informer/store.h"

#include <mutex>

namespace sg::kube {

using nlohmann::json;

namespace {

std::string StringAt(const json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string ObjectKey(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string key(ns);
  key += '/';
  key += name;
  return key;
}

std::string ObjectKey(const json& object) {
  const std::string name = StringAt(object, "name");
  if (name.empty()) return "";
  return ObjectKey(StringAt(object, "namespace"), name);
}

Store::Store() {
  indexes_[std::string(kNamespaceIndex)].fn = [](const json& o) {
    return std::vector<std::string>{StringAt(o, "namespace")};
  };
}

Status Store::AddIndex(const std::string& name, IndexFunc fn) {
  std::unique_lock<std::shared_mutex> l(mu_);
  if (written_) return FailedPreconditionError("index " + name + " added after the first write");
  if (indexes_.count(name)) return AlreadyExistsError("index " + name + " already exists");
  indexes_[name].fn = std::move(fn);
  return OkStatus();
}

void Store::IndexLocked(const std::string& key, const json& object) {
  for (auto& [name, index] : indexes_) {
    for (const std::string& value : index.fn(object)) index.keys[value].insert(key);
  }
}

void Store::UnindexLocked(const std::string& key, const json& object) {
  for (auto& [name, index] : indexes_) {
    for (const std::string& value : index.fn(object)) {
      auto it = index.keys.find(value);
      if (it == index.keys.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.keys.erase(it);
    }
  }
}

ObjectPtr Store::Upsert(ObjectPtr object) {
  const std::string key = ObjectKey(*object);
  std::unique_lock<std::shared_mutex> l(mu_);
  written_ = true;
  ObjectPtr old;
  if (auto it = items_.find(key); it != items_.end()) {
    old = it->second;
    UnindexLocked(key, *old);
  }
  IndexLocked(key, *object);
  items_[key] = std::move(object);
  return old;
}

ObjectPtr Store::Remove(const std::string& key) {
  std::unique_lock<std::shared_mutex> l(mu_);
  written_ = true;
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = it->second;
  UnindexLocked(key, *old);
  items_.erase(it);
  return old;
}

Store::ReplaceResult Store::Replace(std::vector<ObjectPtr> objects) {
  std::map<std::string, ObjectPtr> next;
  for (auto& o : objects) {
    std::string key = ObjectKey(*o);
    next[std::move(key)] = std::move(o);
  }
  ReplaceResult diff;
  std::unique_lock<std::shared_mutex> l(mu_);
  written_ = true;
  for (auto& [key, old] : items_) {
    if (!next.count(key)) diff.removed.push_back(old);
  }
  for (auto& [key, object] : next) {
    auto it = items_.find(key);
    if (it == items_.end()) {
      diff.added.push_back(object);
    } else {
      diff.updated.emplace_back(it->second, object);
    }
  }
  items_ = std::move(next);
  for (auto& [name, index] : indexes_) index.keys.clear();
  for (auto& [key, object] : items_) IndexLocked(key, *object);
  return diff;
}

ObjectPtr Store::Get(const std::string& key) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

ObjectPtr Store::Get(std::string_view ns, std::string_view name) const {
  return Get(ObjectKey(ns, name));
}

std::vector<ObjectPtr> Store::List() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (auto& [key, object] : items_) out.push_back(object);
  return out;
}

std::vector<std::string> Store::Keys() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (auto& [key, object] : items_) out.push_back(key);
  return out;
}

std::vector<ObjectPtr> Store::LookupLocked(const std::set<std::string>& keys) const {
  std::vector<ObjectPtr> out;
  out.reserve(keys.size());
  for (const auto& key : keys) {
    if (auto it = items_.find(key); it != items_.end()) out.push_back(it->second);
  }
  return out;
}

std::vector<ObjectPtr> Store::ByNamespace(std::string_view ns) const {
  auto r = ByIndex(std::string(kNamespaceIndex), std::string(ns));
  return r.ok() ? *std::move(r) : std::vector<ObjectPtr>{};
}

StatusOr<std::vector<ObjectPtr>> Store::ByIndex(const std::string& name,
                                                const std::string& value) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto index = indexes_.find(name);
  if (index == indexes_.end()) return NotFoundError("no index named " + name);
  auto it = index->second.keys.find(value);
  if (it == index->second.keys.end()) return std::vector<ObjectPtr>{};
  return LookupLocked(it->second);
}

size_t Store::Size() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return items_.size();
}

}  // namespace sg::kube
