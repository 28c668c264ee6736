// SchemaMigration (schemagate.dev/v1alpha1) as C++ values: the spec parsed
// from the object's JSON with validation errors naming the field, and the
// object metadata the controller needs. The CRD (crds/) validates the same
// rules on the API server; parsing repeats them so the controller never acts
// on an object the server would not have accepted (older CRD, other writer).
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sg::controller {

using Json = nlohmann::json;

inline constexpr const char* kGroup = "schemagate.dev";
inline constexpr const char* kApiVersion = "schemagate.dev/v1alpha1";
inline constexpr const char* kKind = "SchemaMigration";
// Annotation users set to a new value to retry a Stalled migration.
inline constexpr const char* kRetryAnnotation = "schemagate.dev/retry";
// Finalizer held while a SchemaMigration holds or waits for its database
// Lease, so deleting it releases the Lease at once (docs/controller.md).
inline constexpr const char* kFinalizer = "schemagate.dev/release-lease";
// Label on Jobs and their pods naming the owning SchemaMigration.
inline constexpr const char* kMigrationLabel = "schemagate.dev/migration";
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "schemagate";

struct SecretKeyRef {
  std::string name;
  std::string key;
};

struct DatabaseSpec {
  std::optional<SecretKeyRef> secret_ref;  // libpq URL / keyword string
  std::string host;                        // discrete form
  int32_t port = 5432;
  std::string dbname;
  std::optional<SecretKeyRef> user_secret_ref;
  std::optional<SecretKeyRef> password_secret_ref;
  std::string identity;  // as given ("" = derive)
};

struct LabelRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};

struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelRequirement> match_expressions;
  // `labels` is an object (metadata.labels) or null.
  bool Matches(const Json& labels) const;
};

struct ImageSource {
  std::string ref;
  std::string path = "/migrations";
  std::string pull_policy;  // "" = cluster default
};

struct SourceSpec {
  std::vector<std::string> config_maps;
  std::optional<LabelSelector> selector;
  std::optional<ImageSource> image;
};

struct RunnerSpec {
  std::string lock_timeout;
  std::string statement_timeout;
  std::string tracking_schema;
  std::string tracking_table;
  bool allow_out_of_order = false;
};

struct JobSpec {
  std::string image;  // "" = the operator's default
  std::string image_pull_policy;
  Json resources;  // null when absent
  std::string service_account_name;
  Json node_selector;
  Json tolerations;
  Json affinity;
  std::map<std::string, std::string> pod_labels;
  std::map<std::string, std::string> pod_annotations;
  int64_t active_deadline_seconds = 600;
  int32_t ttl_seconds_after_finished = 3600;
  int32_t backoff_limit = 1;
};

struct SchemaMigrationSpec {
  DatabaseSpec database;
  SourceSpec source;
  std::optional<int64_t> target_version;
  bool allow_down = false;
  bool suspend = false;
  RunnerSpec runner;
  JobSpec job;
};

// Parses `spec`; every problem is reported at once, each naming its field:
// "spec.database: set exactly one of secretRef or host; spec.job.backoffLimit: ...".
StatusOr<SchemaMigrationSpec> ParseSpec(const Json& spec);

// The metadata of a SchemaMigration the controller acts on.
struct ObjectMeta {
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  bool deleting = false;
  std::string deletion_timestamp;  // RFC 3339, "" when not deleting
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;
  bool HasFinalizer(const std::string& f) const;
};

ObjectMeta ParseMeta(const Json& object);

}  // namespace sg::controller
