// Kubeconfig: parsing kubeconfig files (yaml-cpp), merging several of them
// by client-go's rules, and turning one context into a RestConfig.
//
// Merge rules (client-go clientcmd, KUBECONFIG=a:b:c): for clusters, users
// and contexts the FIRST file that defines a name wins, as a whole entry
// (entries are not merged field by field); current-context is the first
// non-empty one. Relative paths inside a file (certificate-authority,
// client-certificate, client-key, tokenFile, exec command containing '/')
// are resolved against that file's directory before merging.
//
// Every entry remembers where it came from so errors read
//   "kubeconfig /x/config: users[0].user.client-certificate: cannot read ..."
// Secrets (token, client-key-data) never appear in errors.
// Thread-safety: values and pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/clock.h"
#include "common/status.h"
#include "kube/config/exec_credential.h"
#include "kube/config/rest_config.h"

namespace sg::kube {

struct KubeconfigCluster {
  std::string server;
  PemSource certificate_authority;
  bool insecure_skip_tls_verify = false;
  std::string origin;  // "kubeconfig /x/config: clusters[0].cluster"
};

struct KubeconfigUser {
  PemSource client_certificate;
  PemSource client_key;
  std::string token;       // secret
  std::string token_file;  // absolute
  std::optional<ExecConfig> exec;
  std::string origin;  // "kubeconfig /x/config: users[1].user"
};

struct KubeconfigContext {
  std::string cluster;
  std::string user;
  std::string namespace_;
  std::string origin;
};

struct Kubeconfig {
  std::map<std::string, KubeconfigCluster> clusters;
  std::map<std::string, KubeconfigUser> users;
  std::map<std::string, KubeconfigContext> contexts;
  std::string current_context;
  std::vector<std::string> files;  // the files that were read, in order
};

// Parses one file's text; `path` names it in errors and anchors relative
// paths (its directory).
StatusOr<Kubeconfig> ParseKubeconfig(std::string_view yaml_text, const std::string& path);

// Reads and parses one file.
StatusOr<Kubeconfig> LoadKubeconfigFile(const std::string& path);

// Merges `configs` in order, first definition wins (see above).
Kubeconfig MergeKubeconfigs(const std::vector<Kubeconfig>& configs);

// Builds the RestConfig for `context` (or the current context when empty).
// Fails if the context, its cluster or its user is missing, if the server is
// not set, or if the user's auth fields are inconsistent (a certificate
// without a key). Files are checked for readability here so a typo is
// reported with its field at startup. `clock` feeds token-file and exec
// credentials and must outlive the result.
StatusOr<RestConfig> BuildRestConfig(const Kubeconfig& config, std::string_view context,
                                     Clock* clock);

}  // namespace sg::kube
