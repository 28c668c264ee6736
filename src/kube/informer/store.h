// Store: the informer's cache of objects of one resource, keyed
// "namespace/name" (or "name" for cluster-scoped objects), with a built-in
// index by namespace and optional named custom indexes (e.g. the database a
// SchemaMigration targets).
//
// Objects are shared immutable snapshots (std::shared_ptr<const Json>):
// readers keep what they got without copying or locking, and never see a
// half-applied change.
//
// Thread-safety: one writer (the informer) and many concurrent readers
// (shared_mutex). Indexes must be added before the first write.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sg::kube {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

// "ns/name", or "name" without a namespace; "" if metadata.name is missing.
std::string ObjectKey(const nlohmann::json& object);
std::string ObjectKey(std::string_view ns, std::string_view name);

// Values an object is indexed under (none = not indexed).
using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json&)>;

class Store {
 public:
  static constexpr std::string_view kNamespaceIndex = "namespace";

  Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // kAlreadyExists for a duplicate name; kFailedPrecondition once written.
  Status AddIndex(const std::string& name, IndexFunc fn);

  // --- Writer side (one thread) ---
  // Inserts or replaces; returns the previous object (null if new).
  ObjectPtr Upsert(ObjectPtr object);
  // Removes by key; returns the removed object (null if absent).
  ObjectPtr Remove(const std::string& key);
  struct ReplaceResult {
    std::vector<ObjectPtr> added;
    std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;  // {old, new}
    std::vector<ObjectPtr> removed;                        // last known state
  };
  // Makes the contents exactly `objects` (a re-list) and reports the diff.
  ReplaceResult Replace(std::vector<ObjectPtr> objects);

  // --- Readers (any thread) ---
  ObjectPtr Get(const std::string& key) const;
  ObjectPtr Get(std::string_view ns, std::string_view name) const;
  std::vector<ObjectPtr> List() const;  // sorted by key
  std::vector<std::string> Keys() const;
  std::vector<ObjectPtr> ByNamespace(std::string_view ns) const;
  // Objects whose index `name` yields `value`; kNotFound for an unknown index.
  StatusOr<std::vector<ObjectPtr>> ByIndex(const std::string& name, const std::string& value) const;
  size_t Size() const;

 private:
  struct Index {
    IndexFunc fn;
    std::map<std::string, std::set<std::string>> keys;  // value -> keys
  };
  void IndexLocked(const std::string& key, const nlohmann::json& object);
  void UnindexLocked(const std::string& key, const nlohmann::json& object);
  std::vector<ObjectPtr> LookupLocked(const std::set<std::string>& keys) const;

  mutable std::shared_mutex mu_;
  std::map<std::string, ObjectPtr> items_;
  std::map<std::string, Index> indexes_;
  bool written_ = false;
};

}  // namespace sg::kube
