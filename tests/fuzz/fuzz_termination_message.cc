// Fuzz target: what the controller reads from a finished runner pod
// (controller/job/job_result.h). The input is a pod's termination message,
// written by whatever ran in the pod: any tenant's image. When it is a JSON
// object it is also used as the pod itself and as the Job, so every typed
// accessor meets every shape. Nothing may throw: one bad pod must never
// stop the operator for every namespace.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "controller/job/job_result.h"

namespace {

using nlohmann::json;

void Observe(const json& job, const std::vector<json>& pods) {
  sg::controller::JobOutcome o = sg::controller::ObserveJob(job, pods);
  (void)o.Reason();
  (void)o.Summary();
  (void)o.CurrentVersion();
  (void)o.TargetVersion();
  (void)o.PendingCount();
  (void)o.AppliedCount();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string message(reinterpret_cast<const char*>(data), size);
  json job = {
      {"metadata", {{"name", "app-1"}, {"annotations", {{"schemagate.dev/fence-token", "3"}}}}},
      {"status",
       {{"startTime", "2026-01-01T00:00:00Z"},
        {"conditions",
         {{{"type", "Failed"},
           {"status", "True"},
           {"reason", "PodFailurePolicy"},
           {"message", message}}}}}}};
  json pod = {{"metadata", {{"name", "app-1-x"}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
              {"status",
               {{"phase", "Failed"},
                {"containerStatuses",
                 {{{"name", "migrate"},
                   {"state",
                    {{"terminated",
                      {{"exitCode", 3},
                       {"finishedAt", "2026-01-01T00:00:01Z"},
                       {"message", message}}}}}}}}}}};
  Observe(job, {pod});
  json parsed = json::parse(message, nullptr, false);
  if (!parsed.is_discarded()) {
    Observe(parsed, {parsed, pod});
    Observe(job, {parsed});
    pod["status"]["containerStatuses"][0]["state"] = parsed;
    Observe(job, {pod});
  }
  return 0;
}
