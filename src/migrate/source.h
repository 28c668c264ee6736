// Source: reads a directory of migration files into an ordered, validated
// migration set.
//
// Directory rules: `<version>_<name>.up.sql` with optional
// `<version>_<name>.down.sql`; version = digits, ordered numerically. Other
// files are ignored, as are names starting with '.' (Kubernetes ConfigMap
// volumes keep their `..data` links there); symlinks are followed. Every
// problem is reported at once, each naming its file.
//
// A transactional file may wrap itself in BEGIN; ... COMMIT; (common in
// golang-migrate sets): the wrapper is dropped because the runner supplies the
// transaction. Any other transaction control in a transactional file is an
// error.
//
// Thread-safety: pure functions over the filesystem.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "migrate/migration.h"
#include "migrate/sql_splitter.h"

namespace sg::migrate {

// A migration with its scripts already split into statements.
struct SourceMigration {
  Migration migration;
  std::vector<Statement> up_statements;
  std::vector<Statement> down_statements;  // empty when there is no down file
};

struct Source {
  std::string dir;
  std::vector<SourceMigration> migrations;  // ascending by version

  const SourceMigration* Find(int64_t version) const;
  int64_t Latest() const { return migrations.empty() ? 0 : migrations.back().migration.version; }
};

// Loads and validates `dir`. kNotFound / kInvalid name the directory or files.
StatusOr<Source> LoadSource(const std::string& dir);

// Splits one script and applies the transaction-wrapper rules above.
// `path` is used in error messages only. No statements (only comments, or an
// empty BEGIN/COMMIT wrapper) is a no-op version, as in golang-migrate; a
// file with nothing at all in it is kInvalid.
StatusOr<std::vector<Statement>> PrepareScript(const std::string& path, std::string_view sql,
                                               bool no_transaction);

}  // namespace sg::migrate
