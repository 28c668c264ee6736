// ClientEventSink: EventSink writing events.k8s.io/v1 Events through the
// kube Client (create; merge patch of `series`).
// Thread-safety: as the Writer it borrows (the Client is thread-safe).
// Ownership: borrows the Writer; it must outlive the sink.
#pragma once

#include "kube/client/client.h"
#include "kube/events/event_sink.h"

namespace sg::kube {

class ClientEventSink final : public EventSink {
 public:
  explicit ClientEventSink(Writer* writer) : writer_(writer) {}
  StatusOr<std::string> Create(const std::string& ns, const nlohmann::json& event) override;
  Status PatchSeries(const std::string& ns, const std::string& name,
                     const nlohmann::json& merge_patch) override;

 private:
  Writer* const writer_;
};

}  // namespace sg::kube
