#include "kube/events/client_event_sink.h"

namespace sg::kube {

StatusOr<std::string> ClientEventSink::Create(const std::string& ns, const nlohmann::json& event) {
  SG_ASSIGN_OR_RETURN(auto created, writer_->Create(gvr::Event(), ns, event));
  auto meta = created.find("metadata");
  if (meta == created.end() || !meta->is_object() || !meta->contains("name")) {
    return InternalError("created Event has no metadata.name");
  }
  return (*meta)["name"].get<std::string>();
}

Status ClientEventSink::PatchSeries(const std::string& ns, const std::string& name,
                                    const nlohmann::json& merge_patch) {
  auto patched = writer_->Patch(gvr::Event(), ns, name, PatchType::kMerge, merge_patch);
  return patched.status();
}

}  // namespace sg::kube
