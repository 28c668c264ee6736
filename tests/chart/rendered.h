// Rendered: the objects `helm template` renders from charts/schemagate, as
// JSON with the types a YAML 1.1 loader (PyYAML, Kubernetes' sigs.k8s.io/yaml)
// gives them, so a test can compare `true` with true and "2" apart from 2.
//
// FindHelm locates the pinned helm: $HELM when set, else $CLUSTER_BIN/helm
// from scripts/cluster-env.sh (built by scripts/cluster-build.sh). It never
// builds helm: a missing helm is an error for the caller to report.
//
// Thread-safety: the functions are reentrant (one subprocess per call).
// Ownership: RenderedObject owns a copy of its document.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sg::testing {

struct RenderedObject {
  std::string kind;
  std::string name;
  std::string ns;  // "" when metadata.namespace is absent
  nlohmann::json doc;

  // "Kind/name", or "Kind/namespace/name" when namespaced: how failures name it.
  std::string Id() const;
};

// The helm binary to use, or FailedPrecondition naming where it looked.
StatusOr<std::string> FindHelm();

// Parses a multi-document YAML stream; empty documents are skipped. Every
// object must have a kind and metadata.name (Invalid naming the document).
StatusOr<std::vector<RenderedObject>> ParseRendered(const std::string& yaml);

// Runs `helm template <args...>` and parses its output; a failing helm is an
// error carrying its stderr.
StatusOr<std::vector<RenderedObject>> HelmTemplate(const std::string& helm,
                                                   const std::vector<std::string>& args);

// YAML -> JSON with YAML 1.1 plain-scalar resolution (bool, null, int, float);
// quoted scalars stay strings. Exposed for the tests of this helper.
nlohmann::json YamlTextToJson(const std::string& yaml);

}  // namespace sg::testing
