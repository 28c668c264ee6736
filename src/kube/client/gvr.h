// GroupVersionResource: how a resource is addressed on the API server, and
// the REST paths built from it.
//
// Core resources ("" group) live under /api/v1, the rest under
// /apis/<group>/<version>. Namespaced resources add /namespaces/<ns>; an
// empty namespace for a namespaced resource means "all namespaces" (list and
// watch only). Names and namespaces are percent-escaped.
// Thread-safety: values and pure functions.
#pragma once

#include <string>
#include <string_view>

namespace sg::kube {

struct Gvr {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string resource;  // plural, lower-case: "configmaps"
  std::string kind;      // "ConfigMap" (for apply bodies and messages)
  bool namespaced = true;

  // "apps/v1" or "v1".
  std::string ApiVersion() const;
  // "configmaps.v1" / "leases.v1.coordination.k8s.io" (for messages).
  std::string ToString() const;
};

bool operator==(const Gvr& a, const Gvr& b);

// "/api/v1/namespaces/ns/configmaps/name/status"; `name` and `subresource`
// may be empty. For a cluster-scoped resource `ns` is ignored.
std::string ResourcePath(const Gvr& gvr, std::string_view ns, std::string_view name = {},
                         std::string_view subresource = {});

// Percent-escapes one path segment or query value (RFC 3986 unreserved kept).
std::string EscapeComponent(std::string_view text);

// The resources the controller uses.
namespace gvr {
const Gvr& Namespace();
const Gvr& Pod();
const Gvr& ConfigMap();
const Gvr& Secret();
const Gvr& ServiceAccount();
const Gvr& Job();              // batch/v1
const Gvr& Lease();            // coordination.k8s.io/v1
const Gvr& Event();            // events.k8s.io/v1
const Gvr& CoreEvent();        // v1 events
const Gvr& SchemaMigration();  // schemagate.dev/v1alpha1
}  // namespace gvr

}  // namespace sg::kube
