#include "controller/job/job_builder.h"

#include "controller/api/identity.h"

namespace sg::controller {

using nlohmann::json;

std::string JobName(const ObjectMeta& meta, const std::string& checksum,
                    std::optional<int64_t> target, int32_t attempt) {
  std::string key = meta.uid + "\n" + std::to_string(meta.generation) + "\n" + checksum + "\n" +
                    (target ? std::to_string(*target) : "newest") + "\n" + std::to_string(attempt);
  std::string base = meta.name.substr(0, 40);
  while (!base.empty() && (base.back() == '-' || base.back() == '.')) base.pop_back();
  return base + "-" + Sha256Hex(key).substr(0, 10);
}

std::string QuoteConninfoValue(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::vector<std::string> RunnerArgs(const SchemaMigrationSpec& spec, const JobPlan& plan) {
  std::vector<std::string> a = {"migrate"};
  if (plan.down) {
    a.insert(a.end(), {"down", "--to", std::to_string(plan.target.value_or(0))});
  } else {
    a.push_back("up");
    if (plan.target) a.insert(a.end(), {"--target", std::to_string(*plan.target)});
  }
  a.insert(a.end(), {"--dir", "/migrations", "--lock=none", "--fence-token",
                     std::to_string(plan.fence_token), "--output", "json", "--termination-log",
                     "/dev/termination-log", "--identity", "$(POD_NAME)"});
  const RunnerSpec& r = spec.runner;
  if (!r.lock_timeout.empty()) a.insert(a.end(), {"--lock-timeout", r.lock_timeout});
  if (!r.statement_timeout.empty()) {
    a.insert(a.end(), {"--statement-timeout", r.statement_timeout});
  }
  if (!r.tracking_schema.empty()) a.insert(a.end(), {"--schema", r.tracking_schema});
  if (!r.tracking_table.empty()) a.insert(a.end(), {"--table", r.tracking_table});
  if (r.allow_out_of_order) a.push_back("--allow-out-of-order");
  return a;
}

namespace {

json SecretEnv(const std::string& name, const SecretKeyRef& ref) {
  return {{"name", name},
          {"valueFrom", {{"secretKeyRef", {{"name", ref.name}, {"key", ref.key}}}}}};
}

json Env(const SchemaMigrationSpec& spec) {
  json env = json::array();
  env.push_back(
      {{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}});
  const DatabaseSpec& db = spec.database;
  if (db.secret_ref) {
    env.push_back(SecretEnv("DATABASE_URL", *db.secret_ref));
  } else {
    // Plain fields go into a keyword string; user and password come from
    // Secrets as PGUSER/PGPASSWORD, which libpq reads because the string
    // does not name them.
    env.push_back(
        {{"name", "DATABASE_URL"},
         {"value", "host=" + QuoteConninfoValue(db.host) + " port=" + std::to_string(db.port) +
                       " dbname=" + QuoteConninfoValue(db.dbname)}});
    if (db.user_secret_ref) env.push_back(SecretEnv("PGUSER", *db.user_secret_ref));
    if (db.password_secret_ref) env.push_back(SecretEnv("PGPASSWORD", *db.password_secret_ref));
  }
  return env;
}

json ContainerSecurity() {
  return {{"runAsNonRoot", true},
          {"readOnlyRootFilesystem", true},
          {"allowPrivilegeEscalation", false},
          {"capabilities", {{"drop", {"ALL"}}}},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

}  // namespace

json BuildJob(const ObjectMeta& meta, const SchemaMigrationSpec& spec, const JobPlan& plan) {
  const JobSpec& js = spec.job;
  json labels = {{kMigrationLabel, meta.name}, {kManagedByLabel, kManagedByValue}};
  json pod_labels = json::object();
  for (const auto& [k, v] : js.pod_labels) pod_labels[k] = v;
  for (const auto& [k, v] : labels.items()) pod_labels[k] = v;  // ours win
  json pod_annotations = json::object();
  for (const auto& [k, v] : js.pod_annotations) pod_annotations[k] = v;

  json container = {
      {"name", "migrate"},
      {"image", js.image.empty() ? plan.default_image : js.image},
      {"imagePullPolicy", js.image_pull_policy.empty() ? "IfNotPresent" : js.image_pull_policy},
      {"args", RunnerArgs(spec, plan)},
      {"env", Env(spec)},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
      {"securityContext", ContainerSecurity()},
      {"volumeMounts",
       {{{"name", "migrations"}, {"mountPath", "/migrations"}, {"readOnly", true}}}},
  };
  if (!js.resources.is_null()) container["resources"] = js.resources;

  json volume = {{"name", "migrations"}};
  json init_containers = json::array();
  if (spec.source.image) {
    const ImageSource& img = *spec.source.image;
    volume["emptyDir"] = json::object();
    json init = {{"name", "source"},
                 {"image", img.ref},
                 {"command", {"cp", "-R", img.path + "/.", "/migrations/"}},
                 {"securityContext", ContainerSecurity()},
                 {"volumeMounts", {{{"name", "migrations"}, {"mountPath", "/migrations"}}}}};
    if (!img.pull_policy.empty()) init["imagePullPolicy"] = img.pull_policy;
    init_containers.push_back(init);
  } else {
    json sources = json::array();
    for (const auto& cm : plan.config_maps) sources.push_back({{"configMap", {{"name", cm}}}});
    volume["projected"] = {{"sources", sources}};
  }

  json pod_spec = {
      {"restartPolicy", "Never"},
      // The runner stops within 2 s of SIGTERM (it cancels the statement in
      // flight); the controller holds the Lease until the pod has gone.
      {"terminationGracePeriodSeconds", kRunnerGracePeriodSeconds},
      {"automountServiceAccountToken", false},
      {"securityContext",
       {{"runAsNonRoot", true}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", {container}},
      {"volumes", {volume}},
  };
  if (!init_containers.empty()) pod_spec["initContainers"] = init_containers;
  if (!js.service_account_name.empty()) pod_spec["serviceAccountName"] = js.service_account_name;
  if (!js.node_selector.is_null()) pod_spec["nodeSelector"] = js.node_selector;
  if (!js.tolerations.is_null()) pod_spec["tolerations"] = js.tolerations;
  if (!js.affinity.is_null()) pod_spec["affinity"] = js.affinity;

  json rules = json::array();
  rules.push_back({{"action", "Ignore"},
                   {"onPodConditions", {{{"type", "DisruptionTarget"}, {"status", "True"}}}}});
  rules.push_back({{"action", "FailJob"},
                   {"onExitCodes",
                    {{"containerName", "migrate"}, {"operator", "In"}, {"values", {2, 3, 4, 6}}}}});
  rules.push_back(
      {{"action", "Count"},
       {"onExitCodes", {{"containerName", "migrate"}, {"operator", "In"}, {"values", {5, 7, 8}}}}});

  json job = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata",
               {{"name", plan.name},
                {"namespace", meta.ns},
                {"labels", labels},
                {"annotations", {{"schemagate.dev/fence-token", std::to_string(plan.fence_token)}}},
                {"ownerReferences",
                 {{{"apiVersion", kApiVersion},
                   {"kind", kKind},
                   {"name", meta.name},
                   {"uid", meta.uid},
                   {"controller", true},
                   {"blockOwnerDeletion", true}}}}}},
              {"spec",
               {{"backoffLimit", js.backoff_limit},
                {"activeDeadlineSeconds", js.active_deadline_seconds},
                {"ttlSecondsAfterFinished", js.ttl_seconds_after_finished},
                {"podFailurePolicy", {{"rules", rules}}},
                {"template",
                 {{"metadata", {{"labels", pod_labels}, {"annotations", pod_annotations}}},
                  {"spec", pod_spec}}}}}};
  return job;
}

}  // namespace sg::controller
