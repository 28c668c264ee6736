// Splits a PostgreSQL script into statements the way psql does, so each can be
// sent on its own (a failure then names the exact statement and line, and
// statements that refuse to run in a transaction block, like CREATE INDEX
// CONCURRENTLY, can run outside one).
//
// Understands: '-- line' and nested '/* block */' comments, 'strings' with ''
// escapes, E'strings' with backslash escapes, "quoted identifiers", dollar
// quotes ($$ ... $$, $tag$ ... $tag$), and SQL-standard bodies
// (CREATE FUNCTION ... BEGIN ATOMIC ... END) whose semicolons do not end the
// statement. psql backslash meta-commands are not supported.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sg::migrate {

struct Statement {
  std::string text;  // without the terminating ';', trimmed; comments kept
  int line = 1;      // 1-based line where the statement starts
};

// Fails (kInvalid) only on an unterminated string, identifier, dollar quote or
// block comment; the message gives the line where it opened. A UTF-8
// byte-order mark at the start is skipped.
StatusOr<std::vector<Statement>> SplitStatements(std::string_view sql);

enum class TransactionControl {
  kNone,
  kBegin,     // BEGIN [WORK | TRANSACTION], START TRANSACTION
  kCommit,    // COMMIT, END
  kRollback,  // ROLLBACK, ABORT (not ROLLBACK TO SAVEPOINT)
  kOther,     // COMMIT PREPARED, ROLLBACK PREPARED
};

// What a statement does to the transaction, from its first words (a
// statement, never an identifier: `begin` as a column name is inside one).
TransactionControl ClassifyTransactionControl(const Statement& statement);

// `COPY ... FROM STDIN`: psql sends the lines after it as data; the runner
// has no such channel.
bool IsCopyFromStdin(const Statement& statement);

// The name of what the statement is ("CREATE INDEX CONCURRENTLY", "VACUUM",
// ...) when PostgreSQL refuses to run it inside a transaction block (25001),
// else "".
std::string OutsideTransactionOnly(const Statement& statement);

// Not kNone: statements that would break the runner's own transaction.
bool IsTransactionControl(const Statement& statement);

}  // namespace sg::migrate
