// RestConfig: everything needed to talk to one API server, independent of
// where it came from (kubeconfig or in-cluster). Built by kubeconfig.h /
// in_cluster.h / loader.h and consumed by RestTransport.
//
// File references are kept as paths (with `source` naming the field for
// errors) and read when the transport is created; -data fields are already
// base64-decoded PEM.
// Thread-safety: a value; `credentials` is itself thread-safe.
#pragma once

#include <memory>
#include <string>

#include "kube/config/credentials.h"

namespace sg::kube {

// One PEM input: either inline data or a file, plus the kubeconfig field it
// came from ("kubeconfig /x/config: users[0].user.client-certificate").
struct PemSource {
  std::string data;  // decoded PEM (from a -data field)
  std::string file;  // path (absolute after loading)
  std::string field;

  bool empty() const { return data.empty() && file.empty(); }
};

struct TlsConfig {
  PemSource ca;           // empty: the system trust store
  PemSource client_cert;  // with client_key, mutual TLS
  PemSource client_key;
  bool insecure_skip_verify = false;
};

struct RestConfig {
  std::string server;  // "https://127.0.0.1:6443" (no trailing slash)
  TlsConfig tls;
  std::shared_ptr<Credentials> credentials;  // may be null: no token
  std::string namespace_;                    // default namespace ("default")
  std::string context;                       // context name, "" in-cluster
  std::string source;                        // "kubeconfig /x/config" or "in-cluster"
};

}  // namespace sg::kube
