// WatchEvent: one event of a Kubernetes watch stream,
// {"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR", "object": {...}}.
// For ERROR the object is a metav1.Status (api_status.h turns it into a
// Status; code 410 / reason Expired means "re-list").
// Thread-safety: values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sg::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

std::string_view WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  nlohmann::json object;

  // object.metadata.resourceVersion or "".
  std::string ResourceVersion() const;
};

// Parses one decoded event object; kInternal for an unknown type or a
// missing object.
StatusOr<WatchEvent> ParseWatchEvent(const nlohmann::json& event);

}  // namespace sg::kube
