// SHA-256 checksums of migration files (OpenSSL EVP).
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace sg::migrate {

// Lower-case hex SHA-256 of `bytes`, exactly as stored in the tracking table.
std::string Sha256Hex(std::string_view bytes);

}  // namespace sg::migrate
