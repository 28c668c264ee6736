// Random PostgreSQL scripts for the differential test of the SQL splitter
// against psql (splitter_psql_test.cc): statements built from the pieces
// where a splitter can go wrong (semicolons in strings, identifiers,
// comments, dollar quotes and parentheses; `begin`, `end`, `case` and
// `atomic` as names; SQL-standard bodies; multi-action rules; transaction
// wrappers), joined by semicolons with comments and white space around them.
//
// Every construct it opens it closes, so a script always splits; whether the
// server accepts a statement does not matter (the test compares what psql
// sends, not what runs). No psql meta-commands, no `:variables`, nothing
// that waits or writes outside the scratch database.
//
// Thread-safety: pure functions of the generator passed in.
#pragma once

#include <random>
#include <string>

namespace sg::testing {

// One script of 1 to 8 statements.
std::string GenerateScript(std::mt19937_64& rng);

}  // namespace sg::testing
