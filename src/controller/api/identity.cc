#include "controller/api/identity.h"

#include <openssl/evp.h>

#include <array>

namespace sg::controller {

std::string DatabaseIdentity(const std::string& ns, const DatabaseSpec& db) {
  if (!db.identity.empty()) return db.identity;
  if (!db.host.empty()) return db.host + ":" + std::to_string(db.port) + "/" + db.dbname;
  if (db.secret_ref) return ns + "/" + db.secret_ref->name + "/" + db.secret_ref->key;
  return ns + "/";
}

std::string LeaseName(const std::string& identity) {
  return "sg-db-" + Sha256Hex(identity).substr(0, 16);
}

std::string HolderIdentity(const ObjectMeta& meta) {
  return meta.ns + "/" + meta.name + "/" + meta.uid;
}

std::string Sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  // EVP_Digest cannot fail for SHA-256 on valid memory short of allocation
  // failure; an empty result would then only weaken a name, never a lock.
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) {
    return "";
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace sg::controller
