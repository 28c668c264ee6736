// EventSink: where the EventRecorder writes events.k8s.io/v1 Events. The
// seam between aggregation logic and the API server: ClientEventSink is the
// real one (client_event_sink.h), tests use an in-memory sink.
//
// Contract: Create stores a new Event in `ns` and returns its name;
// PatchSeries merge-patches an existing Event's `series` and fails with
// kNotFound if the Event is gone (Events expire after an hour by default).
// Thread-safety: called from the recorder's sender thread only.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sg::kube {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual StatusOr<std::string> Create(const std::string& ns, const nlohmann::json& event) = 0;
  virtual Status PatchSeries(const std::string& ns, const std::string& name,
                             const nlohmann::json& merge_patch) = 0;
};

}  // namespace sg::kube
