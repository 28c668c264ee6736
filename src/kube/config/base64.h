// Base64 (RFC 4648, standard alphabet) for kubeconfig -data fields and the
// exec plugin's cluster info. Internal to sg_kube_config.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sg::kube {

// Whitespace is ignored; padding optional. nullopt on a bad character.
std::optional<std::string> Base64Decode(std::string_view in);
std::string Base64Encode(std::string_view in);

}  // namespace sg::kube
