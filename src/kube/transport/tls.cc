#include "kube/transport/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace sg::kube {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::vector<X509Ptr> ReadCerts(const std::string& pem) {
  std::vector<X509Ptr> out;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the loop ends on a "no start line" error
  return out;
}

std::unique_ptr<EVP_PKEY, PkeyFree> ReadKey(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

StatusOr<std::string> Read(const PemSource& s) {
  if (!s.data.empty()) return s.data;
  if (s.file.empty()) return std::string();
  std::ifstream in(s.file, std::ios::binary);
  if (!in) return InvalidError(s.field + ": cannot read " + s.file);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

StatusOr<TlsMaterial> LoadTlsMaterial(const TlsConfig& config) {
  TlsMaterial m;
  m.insecure_skip_verify = config.insecure_skip_verify;
  SG_ASSIGN_OR_RETURN(m.ca_pem, Read(config.ca));
  SG_ASSIGN_OR_RETURN(m.cert_pem, Read(config.client_cert));
  SG_ASSIGN_OR_RETURN(m.key_pem, Read(config.client_key));
  if (!m.ca_pem.empty() && ReadCerts(m.ca_pem).empty()) {
    return InvalidError(config.ca.field + ": no PEM certificate found");
  }
  if (m.cert_pem.empty() != m.key_pem.empty()) {
    return InvalidError(config.client_cert.field + ": a client certificate needs a key");
  }
  if (!m.cert_pem.empty()) {
    if (ReadCerts(m.cert_pem).empty()) {
      return InvalidError(config.client_cert.field + ": no PEM certificate found");
    }
    // Never quote the key; name the field only.
    if (!ReadKey(m.key_pem)) {
      return InvalidError(config.client_key.field + ": not a PEM private key");
    }
    std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx || !ConfigureSslContext(m, ctx.get())) {
      ERR_clear_error();
      return InvalidError(config.client_key.field + ": does not match " + config.client_cert.field);
    }
  }
  return m;
}

bool ConfigureSslContext(const TlsMaterial& m, SSL_CTX* ctx) {
  if (!m.ca_pem.empty()) {
    X509_STORE* store = X509_STORE_new();
    if (store == nullptr) return false;
    for (auto& cert : ReadCerts(m.ca_pem)) X509_STORE_add_cert(store, cert.get());
    SSL_CTX_set_cert_store(ctx, store);  // takes ownership, drops the system store
  }
  if (!m.cert_pem.empty()) {
    auto certs = ReadCerts(m.cert_pem);
    auto key = ReadKey(m.key_pem);
    if (certs.empty() || !key) return false;
    if (SSL_CTX_use_certificate(ctx, certs[0].get()) != 1) return false;
    for (size_t i = 1; i < certs.size(); ++i) {
      // add_extra_chain_cert takes ownership on success.
      if (SSL_CTX_add_extra_chain_cert(ctx, certs[i].get()) != 1) return false;
      certs[i].release();
    }
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) return false;
    if (SSL_CTX_check_private_key(ctx) != 1) return false;
  }
  return true;
}

}  // namespace sg::kube
