#include "controller/api/schema_migration.h"

#include <algorithm>
#include <regex>

#include "common/duration.h"

namespace sg::controller {
namespace {

// Collects errors, each prefixed with its field path.
class Errors {
 public:
  void Add(const std::string& field, const std::string& what) {
    list_.push_back(field + ": " + what);
  }
  bool empty() const { return list_.empty(); }
  std::string Join() const {
    std::string out;
    for (const auto& e : list_) out += (out.empty() ? "" : "; ") + e;
    return out;
  }

 private:
  std::vector<std::string> list_;
};

bool IsObject(const Json& j, const char* key) { return j.contains(key) && j[key].is_object(); }

std::string String(const Json& j, const char* key, const std::string& field, Errors& errors) {
  if (!j.contains(key) || j[key].is_null()) return "";
  if (!j[key].is_string()) {
    errors.Add(field + "." + key, "must be a string");
    return "";
  }
  return j[key].get<std::string>();
}

bool Bool(const Json& j, const char* key, const std::string& field, Errors& errors) {
  if (!j.contains(key) || j[key].is_null()) return false;
  if (!j[key].is_boolean()) {
    errors.Add(field + "." + key, "must be a boolean");
    return false;
  }
  return j[key].get<bool>();
}

std::optional<int64_t> Int(const Json& j, const char* key, const std::string& field, int64_t min,
                           int64_t max, Errors& errors) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (!j[key].is_number_integer()) {
    errors.Add(field + "." + key, "must be an integer");
    return std::nullopt;
  }
  int64_t v = j[key].get<int64_t>();
  if (v < min || v > max) {
    errors.Add(field + "." + key, "must be between " + std::to_string(min) + " and " +
                                      std::to_string(max) + ", got " + std::to_string(v));
    return std::nullopt;
  }
  return v;
}

std::optional<SecretKeyRef> KeyRef(const Json& j, const char* key, const std::string& field,
                                   const std::string& default_key, Errors& errors) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  std::string f = field + "." + key;
  if (!j[key].is_object()) {
    errors.Add(f, "must be an object {name, key}");
    return std::nullopt;
  }
  SecretKeyRef ref;
  ref.name = String(j[key], "name", f, errors);
  ref.key = String(j[key], "key", f, errors);
  if (ref.key.empty()) ref.key = default_key;
  if (ref.name.empty()) errors.Add(f + ".name", "required");
  if (ref.key.empty()) errors.Add(f + ".key", "required");
  return ref;
}

std::map<std::string, std::string> StringMap(const Json& j, const char* key,
                                             const std::string& field, Errors& errors) {
  std::map<std::string, std::string> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_object()) {
    errors.Add(field + "." + key, "must be a map of strings");
    return out;
  }
  for (const auto& [k, v] : j[key].items()) {
    if (!v.is_string()) {
      errors.Add(field + "." + key + "." + k, "must be a string");
      continue;
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

void ParseDatabase(const Json& spec, SchemaMigrationSpec& out, Errors& errors) {
  const std::string f = "spec.database";
  if (!IsObject(spec, "database")) {
    errors.Add(f, "required");
    return;
  }
  const Json& d = spec["database"];
  DatabaseSpec& db = out.database;
  db.secret_ref = KeyRef(d, "secretRef", f, "url", errors);
  db.host = String(d, "host", f, errors);
  db.dbname = String(d, "dbname", f, errors);
  auto port = Int(d, "port", f, 1, 65535, errors);
  db.user_secret_ref = KeyRef(d, "userSecretRef", f, "", errors);
  db.password_secret_ref = KeyRef(d, "passwordSecretRef", f, "", errors);
  db.identity = String(d, "identity", f, errors);
  if (db.secret_ref.has_value() == !db.host.empty()) {
    errors.Add(f, "set exactly one of secretRef or host");
  }
  if (!db.host.empty() && db.dbname.empty()) errors.Add(f + ".dbname", "required with host");
  if (db.secret_ref &&
      (port || !db.dbname.empty() || db.user_secret_ref || db.password_secret_ref)) {
    errors.Add(f, "port, dbname, userSecretRef and passwordSecretRef are only allowed with host");
  }
  if (port) db.port = static_cast<int32_t>(*port);
}

void ParseSelector(const Json& s, const std::string& f, LabelSelector& sel, Errors& errors) {
  sel.match_labels = StringMap(s, "matchLabels", f, errors);
  if (s.contains("matchExpressions") && s["matchExpressions"].is_array()) {
    int i = 0;
    for (const auto& e : s["matchExpressions"]) {
      std::string ef = f + ".matchExpressions[" + std::to_string(i++) + "]";
      LabelRequirement r;
      r.key = String(e, "key", ef, errors);
      r.op = String(e, "operator", ef, errors);
      if (e.contains("values") && e["values"].is_array()) {
        for (const auto& v : e["values"]) {
          if (v.is_string()) r.values.push_back(v.get<std::string>());
        }
      }
      bool with_values = r.op == "In" || r.op == "NotIn";
      if (!with_values && r.op != "Exists" && r.op != "DoesNotExist") {
        errors.Add(ef + ".operator", "must be In, NotIn, Exists or DoesNotExist");
      } else if (with_values == r.values.empty()) {
        errors.Add(ef + ".values",
                   with_values ? "required for " + r.op : "not allowed with " + r.op);
      }
      if (r.key.empty()) errors.Add(ef + ".key", "required");
      sel.match_expressions.push_back(std::move(r));
    }
  }
  if (sel.match_labels.empty() && sel.match_expressions.empty()) {
    errors.Add(f, "must not be empty (it would select every ConfigMap)");
  }
}

void ParseSource(const Json& spec, SchemaMigrationSpec& out, Errors& errors) {
  const std::string f = "spec.source";
  if (!IsObject(spec, "source")) {
    errors.Add(f, "required");
    return;
  }
  const Json& s = spec["source"];
  SourceSpec& src = out.source;
  if (s.contains("configMaps") && !s["configMaps"].is_null()) {
    if (!s["configMaps"].is_array()) {
      errors.Add(f + ".configMaps", "must be a list of names");
    } else {
      for (const auto& n : s["configMaps"]) {
        if (!n.is_string() || n.get<std::string>().empty()) {
          errors.Add(f + ".configMaps", "names must be non-empty strings");
          continue;
        }
        src.config_maps.push_back(n.get<std::string>());
      }
      std::sort(src.config_maps.begin(), src.config_maps.end());
      src.config_maps.erase(std::unique(src.config_maps.begin(), src.config_maps.end()),
                            src.config_maps.end());
    }
  }
  if (IsObject(s, "configMapSelector")) {
    src.selector.emplace();
    ParseSelector(s["configMapSelector"], f + ".configMapSelector", *src.selector, errors);
  }
  if (IsObject(s, "image")) {
    const Json& i = s["image"];
    ImageSource img;
    img.ref = String(i, "ref", f + ".image", errors);
    std::string path = String(i, "path", f + ".image", errors);
    if (!path.empty()) img.path = path;
    img.pull_policy = String(i, "pullPolicy", f + ".image", errors);
    if (img.ref.empty()) errors.Add(f + ".image.ref", "required");
    if (img.path.empty() || img.path[0] != '/') errors.Add(f + ".image.path", "must be absolute");
    src.image = std::move(img);
  }
  bool cms = !src.config_maps.empty() || src.selector.has_value();
  if (cms == src.image.has_value()) {
    errors.Add(f, "set image, or configMaps and/or configMapSelector, not both");
  }
}

void ParseDurationField(const Json& r, const char* key, const std::string& f, std::string& out,
                        Errors& errors) {
  out = String(r, key, f, errors);
  if (out.empty()) return;
  if (auto d = ParseDuration(out); !d.ok()) errors.Add(f + "." + key, d.status().message());
}

void ParseRunner(const Json& spec, SchemaMigrationSpec& out, Errors& errors) {
  if (!IsObject(spec, "runner")) return;
  const std::string f = "spec.runner";
  const Json& r = spec["runner"];
  ParseDurationField(r, "lockTimeout", f, out.runner.lock_timeout, errors);
  ParseDurationField(r, "statementTimeout", f, out.runner.statement_timeout, errors);
  out.runner.tracking_schema = String(r, "trackingSchema", f, errors);
  out.runner.tracking_table = String(r, "trackingTable", f, errors);
  out.runner.allow_out_of_order = Bool(r, "allowOutOfOrder", f, errors);
}

void ParseJob(const Json& spec, SchemaMigrationSpec& out, Errors& errors) {
  if (!IsObject(spec, "job")) return;
  const std::string f = "spec.job";
  const Json& j = spec["job"];
  JobSpec& job = out.job;
  job.image = String(j, "image", f, errors);
  job.image_pull_policy = String(j, "imagePullPolicy", f, errors);
  job.service_account_name = String(j, "serviceAccountName", f, errors);
  if (IsObject(j, "resources")) job.resources = j["resources"];
  if (IsObject(j, "nodeSelector")) job.node_selector = j["nodeSelector"];
  if (j.contains("tolerations") && j["tolerations"].is_array()) job.tolerations = j["tolerations"];
  if (IsObject(j, "affinity")) job.affinity = j["affinity"];
  job.pod_labels = StringMap(j, "podLabels", f, errors);
  job.pod_annotations = StringMap(j, "podAnnotations", f, errors);
  if (auto v = Int(j, "activeDeadlineSeconds", f, 1, INT64_MAX, errors)) {
    job.active_deadline_seconds = *v;
  }
  if (auto v = Int(j, "ttlSecondsAfterFinished", f, 0, INT32_MAX, errors)) {
    job.ttl_seconds_after_finished = static_cast<int32_t>(*v);
  }
  if (auto v = Int(j, "backoffLimit", f, 0, 10, errors)) {
    job.backoff_limit = static_cast<int32_t>(*v);
  }
}

}  // namespace

bool LabelSelector::Matches(const Json& labels) const {
  auto get = [&](const std::string& k) -> std::optional<std::string> {
    if (!labels.is_object() || !labels.contains(k) || !labels[k].is_string()) return std::nullopt;
    return labels[k].get<std::string>();
  };
  for (const auto& [k, v] : match_labels) {
    if (get(k) != v) return false;
  }
  for (const auto& r : match_expressions) {
    auto v = get(r.key);
    bool in = v && std::find(r.values.begin(), r.values.end(), *v) != r.values.end();
    if (r.op == "In" && !in) return false;
    if (r.op == "NotIn" && in) return false;
    if (r.op == "Exists" && !v) return false;
    if (r.op == "DoesNotExist" && v) return false;
  }
  return true;
}

StatusOr<SchemaMigrationSpec> ParseSpec(const Json& spec) {
  if (!spec.is_object()) return InvalidError("spec: required");
  Errors errors;
  SchemaMigrationSpec out;
  ParseDatabase(spec, out, errors);
  ParseSource(spec, out, errors);
  out.target_version = Int(spec, "targetVersion", "spec", 0, INT64_MAX, errors);
  out.allow_down = Bool(spec, "allowDown", "spec", errors);
  out.suspend = Bool(spec, "suspend", "spec", errors);
  if (out.allow_down && !out.target_version) {
    errors.Add("spec.allowDown", "needs an explicit spec.targetVersion");
  }
  ParseRunner(spec, out, errors);
  ParseJob(spec, out, errors);
  if (!errors.empty()) return InvalidError(errors.Join());
  return out;
}

ObjectMeta ParseMeta(const Json& object) {
  ObjectMeta m;
  // Typed access only: a field of the wrong type reads as absent (the API
  // server validates metadata, but this must never throw on any object).
  const Json& md =
      object.is_object() && IsObject(object, "metadata") ? object["metadata"] : Json::object();
  auto str = [&](const char* key) {
    auto it = md.find(key);
    return it != md.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  m.ns = str("namespace");
  m.name = str("name");
  m.uid = str("uid");
  m.resource_version = str("resourceVersion");
  if (auto g = md.find("generation"); g != md.end() && g->is_number_integer()) {
    m.generation = g->get<int64_t>();
  }
  m.deleting = md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null();
  if (m.deleting && md["deletionTimestamp"].is_string()) {
    m.deletion_timestamp = md["deletionTimestamp"].get<std::string>();
  }
  if (md.contains("annotations") && md["annotations"].is_object()) {
    for (const auto& [k, v] : md["annotations"].items()) {
      if (v.is_string()) m.annotations[k] = v.get<std::string>();
    }
  }
  if (md.contains("finalizers") && md["finalizers"].is_array()) {
    for (const auto& f : md["finalizers"]) {
      if (f.is_string()) m.finalizers.push_back(f.get<std::string>());
    }
  }
  return m;
}

bool ObjectMeta::HasFinalizer(const std::string& f) const {
  return std::find(finalizers.begin(), finalizers.end(), f) != finalizers.end();
}

}  // namespace sg::controller
