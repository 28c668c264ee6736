#include "controller/api/job_policy.h"

namespace sg::controller {
namespace {

bool Allowed(const std::string& image, const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return true;
  for (const auto& p : prefixes) {
    if (!p.empty() && image.rfind(p, 0) == 0) return true;
  }
  return false;
}

std::string List(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

Status CheckJobPolicy(const SchemaMigrationSpec& spec, const JobPolicy& policy) {
  const auto& prefixes = policy.allowed_image_prefixes;
  if (!spec.job.image.empty() && !Allowed(spec.job.image, prefixes)) {
    return FailedPreconditionError("spec.job.image " + spec.job.image +
                                   " is not allowed: images must start with one of " +
                                   List(prefixes) + " (the operator's jobPolicy)");
  }
  if (spec.source.image && !Allowed(spec.source.image->ref, prefixes)) {
    return FailedPreconditionError("spec.source.image.ref " + spec.source.image->ref +
                                   " is not allowed: images must start with one of " +
                                   List(prefixes) + " (the operator's jobPolicy)");
  }
  if (!spec.job.service_account_name.empty() && !policy.allow_service_account_name) {
    return FailedPreconditionError(
        "spec.job.serviceAccountName " + spec.job.service_account_name +
        " is not allowed: the operator's jobPolicy.allowServiceAccountName is false (the runner "
        "needs no API access)");
  }
  return OkStatus();
}

}  // namespace sg::controller
