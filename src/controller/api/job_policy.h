// JobPolicy: what a SchemaMigration may ask of the pod the operator creates
// for it. Creating a SchemaMigration is creating a pod (image, service
// account, Secret keys as env, scheduling), so the cluster admin restricts it
// here (controller flags, chart values `jobPolicy`); the controller stalls a
// SchemaMigration that asks for more (reason PolicyViolation) before any Job.
//
// Thread-safety: values and pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "controller/api/schema_migration.h"

namespace sg::controller {

struct JobPolicy {
  // spec.job.image and spec.source.image.ref must start with one of these;
  // empty: any image. The operator's own default image is always allowed.
  std::vector<std::string> allowed_image_prefixes;
  // spec.job.serviceAccountName is refused unless this is set (the runner
  // needs no API access; a service account is a grant of its own).
  bool allow_service_account_name = false;
};

// OK, or kFailedPrecondition naming the field, the value and the rule.
Status CheckJobPolicy(const SchemaMigrationSpec& spec, const JobPolicy& policy);

}  // namespace sg::controller
