// TLS material for RestTransport: reads the PEM inputs of a TlsConfig once,
// validates them with OpenSSL (so a bad file fails at startup, naming its
// kubeconfig field), and configures an OpenSSL context from them.
// Internal to sg_kube_transport.
//
// Thread-safety: TlsMaterial is an immutable value; ConfigureSslContext may
// run concurrently on different contexts.
#pragma once

#include <string>

#include <openssl/ssl.h>

#include "common/status.h"
#include "kube/config/rest_config.h"

namespace sg::kube {

struct TlsMaterial {
  std::string ca_pem;    // empty: system trust store
  std::string cert_pem;  // client certificate chain, leaf first
  std::string key_pem;   // secret
  bool insecure_skip_verify = false;
};

StatusOr<TlsMaterial> LoadTlsMaterial(const TlsConfig& config);

// Installs the material into `ctx`: with a CA, the trust store is replaced
// by it alone. Returns false on failure (cannot happen for material that
// LoadTlsMaterial accepted, barring memory exhaustion).
bool ConfigureSslContext(const TlsMaterial& material, SSL_CTX* ctx);

}  // namespace sg::kube
