// What charts/schemagate renders (`helm template`, no cluster), in both watch
// scopes: RBAC verbs exactly as src/controller and src/kube call them (no
// wildcard, no Secrets), the restricted securityContext, probes, PDB,
// topology spread, labels, the ServiceMonitor only when enabled. The pinned
// helm must be built (scripts/cluster-build.sh helm): without it these tests
// fail, they do not skip. The lint, bad-values and drift checks are in
// chart_test.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/rendered.h"

namespace sg::testing {
namespace {

using nlohmann::json;

constexpr char kReleaseNs[] = "sg-system";

using RuleKey = std::pair<std::string, std::string>;  // (apiGroup, resource)
using Rules = std::map<RuleKey, std::set<std::string>>;

// Exactly what src/controller and src/kube call per watched namespace: no
// wildcard, no Secrets, no deletes but of Jobs (stopping a deleted
// SchemaMigration's runner), no get/update nobody calls.
const Rules kWorkloadRules = {
    {{"schemagate.dev", "schemamigrations"}, {"list", "watch", "patch"}},
    {{"schemagate.dev", "schemamigrations/status"}, {"patch"}},
    {{"schemagate.dev", "schemamigrations/finalizers"}, {"update"}},
    {{"", "configmaps"}, {"list", "watch"}},
    {{"", "pods"}, {"list", "watch"}},
    {{"batch", "jobs"}, {"list", "watch", "create", "delete"}},
    {{"events.k8s.io", "events"}, {"create", "patch"}},
};
const Rules kLeaseRules = {
    {{"coordination.k8s.io", "leases"}, {"get", "create", "update"}}};
const Rules kWaitRules = {{{"schemagate.dev", "schemamigrations"}, {"get", "list", "watch"}}};

std::string Name(const RuleKey& key) {
  return (key.first.empty() ? "core" : key.first) + "/" + key.second;
}

std::string Join(const std::set<std::string>& items) {
  std::string out, sep;
  for (const auto& i : items) out += std::exchange(sep, ",") + i;
  return "[" + out + "]";
}

// "" when `got` grants exactly `want`, else each resource's difference.
std::string RulesDiff(const Rules& got, const Rules& want) {
  std::string out;
  for (const auto& [key, verbs] : got) {
    auto w = want.find(key);
    if (w == want.end()) {
      out += "\n    " + Name(key) + ": granted " + Join(verbs) + ", want no access";
      continue;
    }
    std::set<std::string> extra, missing;
    std::set_difference(verbs.begin(), verbs.end(), w->second.begin(), w->second.end(),
                        std::inserter(extra, extra.end()));
    std::set_difference(w->second.begin(), w->second.end(), verbs.begin(), verbs.end(),
                        std::inserter(missing, missing.end()));
    if (!extra.empty()) out += "\n    " + Name(key) + ": extra verbs " + Join(extra);
    if (!missing.empty()) out += "\n    " + Name(key) + ": missing verbs " + Join(missing);
  }
  for (const auto& [key, verbs] : want) {
    if (!got.count(key)) out += "\n    " + Name(key) + ": not granted, want " + Join(verbs);
  }
  return out;
}

template <typename T>
std::string Show(const std::set<T>& items) {
  json out = json::array();
  for (const auto& i : items) out.push_back(json(i));
  return out.dump();
}

// The i-th element of a list; null when not a list or too short.
json Index(const json& list, size_t i) {
  return list.is_array() && i < list.size() ? list[i] : json();
}

// doc at a dotted path ("spec.template.spec"); null when any step is missing.
json At(const json& doc, const std::string& path) {
  const json* cur = &doc;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(key)) return nullptr;
    cur = &(*cur)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *cur;
}

// One rendering indexed by kind; lookups that fail name what was rendered.
class RenderedChart {
 public:
  explicit RenderedChart(std::vector<RenderedObject> objects) : objects_(std::move(objects)) {
    for (const auto& o : objects_) by_kind_[o.kind].push_back(&o);
  }

  std::vector<const RenderedObject*> Kind(const std::string& kind) const {
    auto it = by_kind_.find(kind);
    return it == by_kind_.end() ? std::vector<const RenderedObject*>{} : it->second;
  }

  // The only object of a kind, or nullptr after a failure saying how many.
  const RenderedObject* One(const std::string& kind) const {
    auto all = Kind(kind);
    if (all.size() == 1) return all[0];
    std::string ids;
    for (const auto* o : all) ids += " " + o->Id();
    ADD_FAILURE() << "want exactly one " << kind << ", rendered " << all.size() << ":" << ids;
    return nullptr;
  }

  // Verbs per (apiGroup, resource) of a Role/ClusterRole. Rules naming the
  // same resource twice are merged, so a second rule cannot widen the first
  // unnoticed.
  static Rules RulesOf(const RenderedObject& role) {
    Rules out;
    const json rules = At(role.doc, "rules");
    if (!rules.is_array()) return out;
    for (size_t i = 0; i < rules.size(); ++i) {
      const json& r = rules[i];
      for (const char* field : {"apiGroups", "resources", "verbs"}) {
        if (!At(r, field).is_array()) {
          ADD_FAILURE() << role.Id() << ": rules[" << i << "]." << field << " is not a list";
          return out;
        }
      }
      auto text = [](const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
      for (const auto& g : r["apiGroups"]) {
        for (const auto& res : r["resources"]) {
          for (const auto& v : r["verbs"]) out[{text(g), text(res)}].insert(text(v));
        }
      }
    }
    return out;
  }

  const std::vector<RenderedObject>& objects() const { return objects_; }

 private:
  std::vector<RenderedObject> objects_;
  std::map<std::string, std::vector<const RenderedObject*>> by_kind_;
};

::testing::AssertionResult GrantsExactly(const RenderedObject& role, const Rules& want) {
  std::string diff = RulesDiff(RenderedChart::RulesOf(role), want);
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << role.Id() << ": rules differ from what the code calls:" << diff << "\n  ";
}

// Labels and namespaces on every object.
void CheckMetadata(const RenderedChart& chart) {
  for (const auto& o : chart.objects()) {
    if (o.kind != "CustomResourceDefinition") {
      json labels = At(o.doc, "metadata.labels");
      for (const char* key :
           {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
            "app.kubernetes.io/managed-by", "helm.sh/chart"}) {
        EXPECT_TRUE(labels.is_object() && labels.contains(key))
            << o.Id() << ": metadata.labels." << key << " missing";
      }
    }
    bool cluster_scoped = o.kind == "ClusterRole" || o.kind == "ClusterRoleBinding" ||
                          o.kind == "CustomResourceDefinition";
    EXPECT_TRUE(cluster_scoped || !o.ns.empty()) << o.Id() << ": no metadata.namespace";
  }
}

// The Deployment: replicas, leader election, probes, restricted pod. Returns
// its container args, ServiceAccount name and selector for the later checks.
struct DeploymentFacts {
  std::vector<std::string> args;
  std::string service_account;
  json selector;
};

void CheckDeployment(const RenderedChart& chart, DeploymentFacts* facts) {
  const RenderedObject* dep = chart.One("Deployment");
  ASSERT_NE(dep, nullptr);
  const std::string id = dep->Id();
  EXPECT_EQ(At(dep->doc, "spec.replicas"), json(2)) << id << ": spec.replicas";
  json pod = At(dep->doc, "spec.template.spec");
  ASSERT_TRUE(pod.is_object()) << id << ": no spec.template.spec";
  json containers = At(pod, "containers");
  ASSERT_TRUE(containers.is_array() && containers.size() == 1)
      << id << ": want exactly one container, spec.template.spec.containers is "
      << containers.dump();
  const json& c = containers[0];
  ASSERT_TRUE(c.is_object()) << id << ": containers[0] is not a mapping";
  const std::string cid = id + " container " + c.value("name", std::string("?"));

  json args = At(c, "args");
  ASSERT_TRUE(args.is_array() && !args.empty()) << cid << ": no args";
  for (const auto& a : args) facts->args.push_back(a.is_string() ? a.get<std::string>() : a.dump());
  const auto& av = facts->args;
  auto has_arg = [&](const std::string& want) {
    return std::find(av.begin(), av.end(), want) != av.end();
  };
  EXPECT_EQ(av[0], "controller") << cid << ": args[0] is not the controller subcommand";
  EXPECT_TRUE(has_arg("--leader-elect=true")) << cid << ": leader election not on: " << args.dump();
  EXPECT_TRUE(has_arg("--metrics-addr=$(POD_IP):8080"))
      << cid << ": metrics not bound to the pod IP: " << args.dump();
  EXPECT_TRUE(has_arg("--job-image=schemagate:dev"))
      << cid << ": Job image is not the operator image: " << args.dump();

  json env = json::object();
  for (const auto& e : At(c, "env")) {
    if (e.is_object()) env[e.value("name", "")] = At(e, "valueFrom.fieldRef.fieldPath");
  }
  EXPECT_EQ(env, (json{{"POD_NAME", "metadata.name"},
                       {"POD_NAMESPACE", "metadata.namespace"},
                       {"POD_IP", "status.podIP"}}))
      << cid << ": env (name -> valueFrom.fieldRef.fieldPath), want exactly the downward API trio";

  EXPECT_EQ(At(c, "livenessProbe.httpGet"), (json{{"path", "/healthz"}, {"port", "metrics"}}))
      << cid << ": livenessProbe.httpGet";
  EXPECT_EQ(At(c, "readinessProbe.httpGet"), (json{{"path", "/readyz"}, {"port", "metrics"}}))
      << cid << ": readinessProbe.httpGet";

  const json runtime_default = {{"type", "RuntimeDefault"}};
  json psc = At(pod, "securityContext");
  EXPECT_EQ(At(psc, "runAsNonRoot"), json(true)) << id << ": pod securityContext.runAsNonRoot";
  EXPECT_EQ(At(psc, "seccompProfile"), runtime_default)
      << id << ": pod securityContext.seccompProfile";
  json sc = At(c, "securityContext");
  EXPECT_EQ(At(sc, "runAsNonRoot"), json(true)) << cid << ": securityContext.runAsNonRoot";
  EXPECT_EQ(At(sc, "readOnlyRootFilesystem"), json(true))
      << cid << ": securityContext.readOnlyRootFilesystem";
  EXPECT_EQ(At(sc, "allowPrivilegeEscalation"), json(false))
      << cid << ": securityContext.allowPrivilegeEscalation";
  EXPECT_EQ(At(sc, "capabilities"), (json{{"drop", json::array({"ALL"})}}))
      << cid << ": securityContext.capabilities";
  EXPECT_EQ(At(sc, "seccompProfile"), runtime_default) << cid << ": securityContext.seccompProfile";
  json requests = At(c, "resources.requests");
  EXPECT_TRUE(requests.is_object() && !requests.empty()) << cid << ": no resources.requests";

  facts->selector = At(dep->doc, "spec.selector.matchLabels");
  EXPECT_TRUE(facts->selector.is_object() && !facts->selector.empty())
      << id << ": no spec.selector.matchLabels";
  json spread = At(pod, "topologySpreadConstraints");
  json keys = json::array();
  for (const auto& t : spread) keys.push_back(At(t, "topologyKey"));
  EXPECT_EQ(keys, json::array({"kubernetes.io/hostname", "topology.kubernetes.io/zone"}))
      << id << ": topologySpreadConstraints[].topologyKey";
  for (size_t i = 0; i < spread.size(); ++i) {
    EXPECT_EQ(At(spread[i], "labelSelector.matchLabels"), facts->selector)
        << id << ": topologySpreadConstraints[" << i
        << "].labelSelector.matchLabels differs from spec.selector.matchLabels";
  }

  json sa = At(pod, "serviceAccountName");
  ASSERT_TRUE(sa.is_string()) << id << ": no spec.template.spec.serviceAccountName";
  facts->service_account = sa;
  json sas = json::array();
  for (const auto* s : chart.Kind("ServiceAccount")) sas.push_back(s->name);
  EXPECT_EQ(sas, json::array({sa})) << "ServiceAccounts rendered, want only the Deployment's";
}

void CheckPdbServiceCrd(const RenderedChart& chart, const json& selector) {
  if (const RenderedObject* pdb = chart.One("PodDisruptionBudget")) {
    EXPECT_EQ(At(pdb->doc, "spec.minAvailable"), json(1)) << pdb->Id() << ": spec.minAvailable";
    EXPECT_EQ(At(pdb->doc, "spec.selector.matchLabels"), selector)
        << pdb->Id() << ": spec.selector.matchLabels differs from the Deployment's";
  }
  if (const RenderedObject* svc = chart.One("Service")) {
    EXPECT_EQ(At(Index(At(svc->doc, "spec.ports"), 0), "targetPort"), json("metrics"))
        << svc->Id() << ": spec.ports[0].targetPort (the metrics Service)";
    EXPECT_EQ(At(svc->doc, "spec.selector"), selector)
        << svc->Id() << ": spec.selector differs from the Deployment's";
  }
  EXPECT_EQ(chart.Kind("CustomResourceDefinition").size(), 1u)
      << "CustomResourceDefinitions rendered (--include-crds), want 1";
}

// RBAC in either scope; `watched` empty means cluster-wide.
void CheckRbac(const RenderedChart& chart, const DeploymentFacts& facts,
               const std::vector<std::string>& watched) {
  std::map<std::pair<std::string, std::string>, const RenderedObject*> roles;  // (ns, name)
  for (const auto* r : chart.Kind("Role")) roles[{r->ns, r->name}] = r;
  std::map<std::string, const RenderedObject*> croles;
  for (const auto* r : chart.Kind("ClusterRole")) croles[r->name] = r;

  auto leases = roles.find({kReleaseNs, "schemagate-leases"});
  if (leases == roles.end()) {
    ADD_FAILURE() << "no Role/" << kReleaseNs << "/schemagate-leases (the lease Role)";
  } else {
    EXPECT_TRUE(GrantsExactly(*leases->second, kLeaseRules)) << "(the lease Role)";
  }
  if (auto wait = croles.find("schemagate-wait"); wait == croles.end()) {
    ADD_FAILURE() << "no ClusterRole/schemagate-wait (for `schemagate wait`)";
  } else {
    EXPECT_TRUE(GrantsExactly(*wait->second, kWaitRules)) << "(for `schemagate wait`)";
  }

  const json subjects = json::array({json{
      {"kind", "ServiceAccount"}, {"name", facts.service_account}, {"namespace", kReleaseNs}}});
  auto bindings = chart.Kind("RoleBinding");
  for (const auto* b : chart.Kind("ClusterRoleBinding")) bindings.push_back(b);
  for (const auto* b : bindings) {
    EXPECT_EQ(At(b->doc, "subjects"), subjects)
        << b->Id() << ": subjects, want only the operator's ServiceAccount";
  }

  std::vector<const RenderedObject*> all_roles;
  for (const auto& [k, r] : roles) all_roles.push_back(r);
  for (const auto& [k, r] : croles) all_roles.push_back(r);
  for (const auto* r : all_roles) {
    json rules = At(r->doc, "rules");
    EXPECT_TRUE(rules.is_array()) << r->Id() << ": rules is not a list";
    if (!rules.is_array()) continue;
    for (size_t i = 0; i < rules.size(); ++i) {
      for (const char* field : {"verbs", "resources", "apiGroups"}) {
        json list = At(rules[i], field);
        EXPECT_FALSE(list.is_array() &&
                     std::find(list.begin(), list.end(), json("*")) != list.end())
            << r->Id() << ": wildcard in rules[" << i << "]." << field << " " << list.dump();
      }
      json res = At(rules[i], "resources");
      EXPECT_FALSE(res.is_array() &&
                   std::find(res.begin(), res.end(), json("secrets")) != res.end())
          << r->Id() << ": rules[" << i << "] grants Secrets " << rules[i].dump();
    }
  }

  std::set<std::string> crole_names;
  for (const auto& [n, r] : croles) crole_names.insert(n);
  std::set<std::pair<std::string, std::string>> role_keys;
  for (const auto& [k, r] : roles) role_keys.insert(k);
  auto show_roles = [](const std::set<std::pair<std::string, std::string>>& keys) {
    std::string out;
    for (const auto& [ns, n] : keys) out += " Role/" + ns + "/" + n;
    return out;
  };
  const auto& args = facts.args;

  if (watched.empty()) {
    EXPECT_EQ(crole_names, (std::set<std::string>{"schemagate", "schemagate-wait"}))
        << "ClusterRoles rendered cluster-wide: " << Show(crole_names);
    if (auto it = croles.find("schemagate"); it != croles.end()) {
      EXPECT_TRUE(GrantsExactly(*it->second, kWorkloadRules)) << "(cluster-wide workload access)";
    }
    json refs = json::array();
    for (const auto* b : chart.Kind("ClusterRoleBinding"))
      refs.push_back(At(b->doc, "roleRef.name"));
    EXPECT_EQ(refs, json::array({"schemagate"})) << "ClusterRoleBindings' roleRef.name";
    std::set<std::pair<std::string, std::string>> want = {{kReleaseNs, "schemagate-leases"}};
    EXPECT_EQ(role_keys, want) << "Roles rendered:" << show_roles(role_keys)
                               << "; want:" << show_roles(want);
    EXPECT_TRUE(chart.Kind("ServiceMonitor").empty())
        << "ServiceMonitor rendered though metrics.serviceMonitor.enabled is false";
    for (const auto& a : args) {
      EXPECT_NE(a.rfind("--namespaces", 0), 0u)
          << "Deployment arg " << a << " in cluster-wide mode";
    }
    return;
  }

  EXPECT_EQ(crole_names, std::set<std::string>{"schemagate-wait"})
      << "namespaced mode renders ClusterRoles " << Show(crole_names);
  for (const auto* b : chart.Kind("ClusterRoleBinding")) {
    ADD_FAILURE() << "namespaced mode renders " << b->Id();
  }
  std::set<std::pair<std::string, std::string>> want = {{kReleaseNs, "schemagate-leases"}};
  for (const auto& ns : watched) want.insert({ns, "schemagate"});
  EXPECT_EQ(role_keys, want) << "Roles rendered:" << show_roles(role_keys)
                             << "; want:" << show_roles(want);
  std::string joined;
  for (const auto& ns : watched) {
    joined += (joined.empty() ? "" : ",") + ns;
    auto it = roles.find({ns, "schemagate"});
    if (it == roles.end()) continue;  // reported by the set comparison above
    EXPECT_TRUE(GrantsExactly(*it->second, kWorkloadRules)) << "(workload access in " << ns << ")";
  }
  EXPECT_NE(std::find(args.begin(), args.end(), "--namespaces=" + joined), args.end())
      << "Deployment args lack --namespaces=" << joined << ": " << json(args).dump();
  if (const RenderedObject* sm = chart.One("ServiceMonitor")) {
    EXPECT_EQ(At(Index(At(sm->doc, "spec.endpoints"), 0), "port"), json("metrics"))
        << sm->Id() << ": spec.endpoints[0].port";
  }
}

void CheckRendered(const std::vector<std::string>& values,
                   const std::vector<std::string>& watched) {
  StatusOr<std::string> helm = FindHelm();
  ASSERT_TRUE(helm.ok()) << helm.status();
  std::vector<std::string> args = {"schemagate", std::string(SG_SOURCE_DIR) + "/charts/schemagate",
                                   "--namespace", kReleaseNs, "--include-crds"};
  args.insert(args.end(), values.begin(), values.end());
  StatusOr<std::vector<RenderedObject>> objects = HelmTemplate(*helm, args);
  ASSERT_TRUE(objects.ok()) << objects.status();
  RenderedChart chart(std::move(*objects));
  CheckMetadata(chart);
  DeploymentFacts facts;
  CheckDeployment(chart, &facts);
  if (::testing::Test::HasFatalFailure()) return;
  CheckPdbServiceCrd(chart, facts.selector);
  CheckRbac(chart, facts, watched);
}

TEST(ChartRenderTest, ClusterWideDefaults) { CheckRendered({}, {}); }

TEST(ChartRenderTest, NamespacedWithServiceMonitor) {
  CheckRendered(
      {"--set", "watchNamespaces={team-a,team-b}", "--set", "metrics.serviceMonitor.enabled=true"},
      {"team-a", "team-b"});
}

// The loader keeps YAML 1.1 types, which the checks above rely on.
TEST(ChartRenderTest, YamlTypesAsKubernetesReadsThem) {
  EXPECT_EQ(YamlTextToJson("{a: true, b: 'true', c: 2, d: \"2\", e: off, f: ~, g: 1.5, h: x}"),
            (json{{"a", true},
                  {"b", "true"},
                  {"c", 2},
                  {"d", "2"},
                  {"e", false},
                  {"f", nullptr},
                  {"g", 1.5},
                  {"h", "x"}}));
}

}  // namespace
}  // namespace sg::testing
