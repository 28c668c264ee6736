// PgErrorText: what of libpq's error text may travel. A libpq error reads
// "ERROR:  msg\nDETAIL:  d\nHINT:  h\nLINE 1: ...". The primary message names
// the constraint, table and column; DETAIL of a constraint violation holds
// the row's values ("Failing row contains (...)", "Key (email)=(...)"), and
// the runner's message reaches the termination message, status and Events.
// So DETAIL is kept apart, printed only on request (--verbose-errors).
//
// Thread-safety: pure functions.
#pragma once

#include <string>

namespace sg::migrate {

// "msg; HINT: h" (no "ERROR:  " prefix, no DETAIL, no LINE excerpt).
std::string PrimaryMessage(const std::string& what);
// "d" of the DETAIL line, "" when there is none.
std::string DetailOf(const std::string& what);

}  // namespace sg::migrate
