#include "kube/watch/event.h"

namespace sg::kube {

std::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

std::string WatchEvent::ResourceVersion() const {
  if (!object.is_object()) return "";
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto rv = meta->find("resourceVersion");
  return rv != meta->end() && rv->is_string() ? rv->get<std::string>() : "";
}

StatusOr<WatchEvent> ParseWatchEvent(const nlohmann::json& event) {
  if (!event.is_object()) return InternalError("watch event is not a JSON object");
  auto type = event.find("type");
  auto object = event.find("object");
  if (type == event.end() || !type->is_string()) {
    return InternalError("watch event without a type");
  }
  if (object == event.end() || !object->is_object()) {
    return InternalError("watch event without an object");
  }
  WatchEvent e;
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "ADDED") {
    e.type = WatchEventType::kAdded;
  } else if (t == "MODIFIED") {
    e.type = WatchEventType::kModified;
  } else if (t == "DELETED") {
    e.type = WatchEventType::kDeleted;
  } else if (t == "BOOKMARK") {
    e.type = WatchEventType::kBookmark;
  } else if (t == "ERROR") {
    e.type = WatchEventType::kError;
  } else {
    return InternalError("watch event of unknown type \"" + t.substr(0, 40) + "\"");
  }
  e.object = *object;
  return e;
}

}  // namespace sg::kube
