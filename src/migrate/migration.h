// Migration: one versioned change as read from the source directory, and the
// naming rules for its files (golang-migrate's `<version>_<name>.up.sql` /
// `.down.sql`, so existing migration sets work unchanged).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::migrate {

enum class Direction { kUp, kDown };

// The largest version: 18 digits (leading zeros do not count), so that
// `new` and every bound in flags, files and docs agree, and a version
// always fits the tracking table's bigint with room for `new` to add one.
inline constexpr int64_t kMaxVersion = 999'999'999'999'999'999;

// What a file name says, or nullopt when the name does not follow the rules
// (a version above kMaxVersion included).
struct FileName {
  int64_t version = 0;
  std::string name;
  Direction direction = Direction::kUp;
};
std::optional<FileName> ParseFileName(std::string_view file_name);

// One SQL script (the up or the down half of a migration).
struct Script {
  std::string path;  // as found on disk, for messages
  std::string sql;
  bool no_transaction = false;  // first line is `-- schemagate:no-transaction`

  // The file's base name ("0001_init.up.sql"), as users see it in messages.
  std::string FileName() const;
};

struct Migration {
  int64_t version = 0;
  std::string name;
  std::string checksum;  // SHA-256 (hex) of the up file's bytes
  Script up;
  std::optional<Script> down;
};

// The directive a file's first line carries to run outside a transaction.
inline constexpr std::string_view kNoTransactionDirective = "-- schemagate:no-transaction";
bool HasNoTransactionDirective(std::string_view sql);

}  // namespace sg::migrate
