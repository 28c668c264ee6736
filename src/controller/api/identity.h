// The database a SchemaMigration targets, as seen by the lock: its identity
// (given, or derived as documented in docs/api.md), the name of its Lease in
// the operator's namespace, and the holder identity of one SchemaMigration.
// Also the SHA-256 helper used for names and checksums.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "controller/api/schema_migration.h"

namespace sg::controller {

inline constexpr const char* kIdentityAnnotation = "schemagate.dev/database-identity";

// spec.database.identity, else "host:port/dbname", else
// "<namespace>/<secret>/<key>".
std::string DatabaseIdentity(const std::string& ns, const DatabaseSpec& db);
// "sg-db-" + first 16 hex digits of SHA-256(identity).
std::string LeaseName(const std::string& identity);
// "<namespace>/<name>/<uid>": the Lease holder while this object's Job runs.
std::string HolderIdentity(const ObjectMeta& meta);

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

}  // namespace sg::controller
