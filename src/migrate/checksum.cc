#include "migrate/checksum.h"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace sg::migrate {

std::string Sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  // Fetched once: OpenSSL 3's implicit fetch per call costs more than hashing
  // a small migration file.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (sha256 == nullptr ||
      EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, sha256, nullptr) != 1) {
    // Only on allocation failure inside OpenSSL; nothing sensible to return.
    throw std::runtime_error("EVP_Digest(sha256) failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace sg::migrate
