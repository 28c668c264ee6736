// Options for client calls, mirroring metav1.ListOptions, DeleteOptions,
// PatchOptions, CreateOptions/UpdateOptions. Each turns into query
// parameters (and for delete, a body) in client.cc.
// Thread-safety: values.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace sg::kube {

struct ListOptions {
  std::string label_selector;  // "app=x,tier!=db"
  std::string field_selector;  // "metadata.name=x"
  int limit = 0;               // page size; 0 = no paging
  std::string continue_token;  // from the previous page's metadata.continue
  std::string resource_version;
  std::string resource_version_match;  // "NotOlderThan" | "Exact" | ""
  // Watch only.
  bool allow_watch_bookmarks = false;
  std::optional<int> timeout_seconds;
};

enum class PropagationPolicy { kDefault, kOrphan, kBackground, kForeground };

struct DeleteOptions {
  PropagationPolicy propagation = PropagationPolicy::kDefault;
  std::optional<int> grace_period_seconds;
  // Preconditions: the delete fails with kConflict if they do not hold.
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

struct WriteOptions {  // create / update / update status
  std::string field_manager;
  bool dry_run = false;
};

enum class PatchType {
  kMerge,  // application/merge-patch+json (RFC 7386)
  kJson,   // application/json-patch+json (RFC 6902)
  kApply,  // application/apply-patch+yaml: server-side apply (JSON is YAML)
};

struct PatchOptions {
  std::string field_manager;  // required for kApply
  bool force = false;         // kApply only: take ownership of conflicting fields
  bool dry_run = false;
};

}  // namespace sg::kube
