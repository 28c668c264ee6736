#include "kube/client/gvr.h"

namespace sg::kube {

std::string Gvr::ApiVersion() const { return group.empty() ? version : group + "/" + version; }

std::string Gvr::ToString() const {
  std::string s = resource + "." + version;
  if (!group.empty()) s += "." + group;
  return s;
}

bool operator==(const Gvr& a, const Gvr& b) {
  return a.group == b.group && a.version == b.version && a.resource == b.resource;
}

std::string EscapeComponent(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string ResourcePath(const Gvr& gvr, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string p =
      gvr.group.empty() ? "/api/" + gvr.version : "/apis/" + gvr.group + "/" + gvr.version;
  if (gvr.namespaced && !ns.empty()) p += "/namespaces/" + EscapeComponent(ns);
  p += "/" + gvr.resource;
  if (!name.empty()) {
    p += "/" + EscapeComponent(name);
    if (!subresource.empty()) p += "/" + std::string(subresource);
  }
  return p;
}

namespace gvr {
#define SG_GVR(fn, g, v, r, k, ns)                 \
  const Gvr& fn() {                                \
    static const Gvr* x = new Gvr{g, v, r, k, ns}; \
    return *x;                                     \
  }
SG_GVR(Namespace, "", "v1", "namespaces", "Namespace", false)
SG_GVR(Pod, "", "v1", "pods", "Pod", true)
SG_GVR(ConfigMap, "", "v1", "configmaps", "ConfigMap", true)
SG_GVR(Secret, "", "v1", "secrets", "Secret", true)
SG_GVR(ServiceAccount, "", "v1", "serviceaccounts", "ServiceAccount", true)
SG_GVR(Job, "batch", "v1", "jobs", "Job", true)
SG_GVR(Lease, "coordination.k8s.io", "v1", "leases", "Lease", true)
SG_GVR(Event, "events.k8s.io", "v1", "events", "Event", true)
SG_GVR(CoreEvent, "", "v1", "events", "Event", true)
SG_GVR(SchemaMigration, "schemagate.dev", "v1alpha1", "schemamigrations", "SchemaMigration", true)
#undef SG_GVR
}  // namespace gvr

}  // namespace sg::kube
