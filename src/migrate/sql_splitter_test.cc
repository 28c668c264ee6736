#include "migrate/sql_splitter.h"

#include <gtest/gtest.h>

namespace sg::migrate {
namespace {

std::vector<std::string> Texts(std::string_view sql) {
  auto r = SplitStatements(sql);
  EXPECT_TRUE(r.ok()) << r.status();
  std::vector<std::string> out;
  if (r.ok()) {
    for (auto& s : *r) out.push_back(s.text);
  }
  return out;
}

TEST(SqlSplitterTest, SplitsOnTopLevelSemicolons) {
  EXPECT_EQ(Texts("SELECT 1; SELECT 2;\nSELECT 3"),
            (std::vector<std::string>{"SELECT 1", "SELECT 2", "SELECT 3"}));
}

TEST(SqlSplitterTest, IgnoresSemicolonsInStringsIdentifiersAndComments) {
  auto t = Texts(
      "INSERT INTO \"a;b\" VALUES ('x;y', 'it''s;'); -- c;d\n"
      "/* e; /* nested; */ f; */ SELECT E'\\';'; SELECT 2");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], "INSERT INTO \"a;b\" VALUES ('x;y', 'it''s;')");
  EXPECT_EQ(t[1], "-- c;d\n/* e; /* nested; */ f; */ SELECT E'\\';'");
  EXPECT_EQ(t[2], "SELECT 2");
}

TEST(SqlSplitterTest, DollarQuotes) {
  auto t = Texts(
      "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;"
      "DO $body$ BEGIN PERFORM 1; $x$ not a close; END $body$; SELECT $1");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[2], "SELECT $1");  // a parameter, not a dollar quote
}

TEST(SqlSplitterTest, IdentifierWithDollarIsNotAQuote) {
  EXPECT_EQ(Texts("SELECT a$b$c FROM t; SELECT 2").size(), 2u);
}

// Numbers as psql 15 lexes them (seen with log_statement = all, and kept
// so by tests/pg/splitter_psql_test.cc): a '$' right after a number or a
// parameter opens a dollar quote, an identifier right after a number is
// junk of the same token, and a dollar quote may follow another's close.
TEST(SqlSplitterTest, NumbersBeforeDollarQuotesAndQuotes) {
  EXPECT_EQ(Texts("SELECT 7$$;$$; SELECT 2"),
            (std::vector<std::string>{"SELECT 7$$;$$", "SELECT 2"}));
  EXPECT_EQ(Texts("SELECT $1$$;$$; SELECT 1.5$$;$$"),
            (std::vector<std::string>{"SELECT $1$$;$$", "SELECT 1.5$$;$$"}));
  EXPECT_EQ(Texts("SELECT 1e3$$; SELECT 2"),
            (std::vector<std::string>{"SELECT 1e3$$", "SELECT 2"}));
  // 9E is one token, so the quote after it opens a standard string.
  EXPECT_EQ(Texts("SELECT 9E'\\'';'; SELECT 2"),
            (std::vector<std::string>{"SELECT 9E'\\'';'", "SELECT 2"}));
  EXPECT_EQ(Texts("SELECT E'\\';'; SELECT 2"),
            (std::vector<std::string>{"SELECT E'\\';'", "SELECT 2"}));
  EXPECT_EQ(Texts("SELECT $a$;$a$$b$;$b$; SELECT 2"),
            (std::vector<std::string>{"SELECT $a$;$a$$b$;$b$", "SELECT 2"}));
}

TEST(SqlSplitterTest, BeginAtomicBodies) {
  auto t = Texts(
      "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a; "
      "SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; END; BEGIN; COMMIT");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1], "BEGIN");
}

TEST(SqlSplitterTest, ReportsStartLines) {
  auto r = SplitStatements("\n\nSELECT 1;\n-- note\nSELECT\n2;");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].line, 3);
  // Issue 11, item 13: the line of the first token, not of the comment
  // above it (the text keeps the comment).
  EXPECT_EQ((*r)[1].line, 5);
  EXPECT_EQ((*r)[1].text, "-- note\nSELECT\n2");
  auto c = SplitStatements("SELECT 1;\n/* a\n /* nested */\n*/ -- x\n\n  SELECT 2;");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[1].line, 6);
}

TEST(SqlSplitterTest, DropsEmptyStatements) {
  EXPECT_TRUE(Texts(" ; ;\n-- only comments\n/* x */").empty());
}

TEST(SqlSplitterTest, UnterminatedConstructsNameTheirLine) {
  for (auto [sql, needle] : std::vector<std::pair<std::string, std::string>>{
           {"SELECT 1;\nSELECT 'open", "string literal opened at line 2"},
           {"\n\"open", "quoted identifier opened at line 2"},
           {"SELECT 1;\n\n$q$ body", "dollar-quoted string $q$ opened at line 3"},
           {"/* open", "comment */ opened at line 1"}}) {
    auto r = SplitStatements(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status();
  }
}

TEST(SqlSplitterTest, CountsLinesAcrossEveryConstruct) {
  // Line counting must be right across every construct.
  std::string sql = "SELECT 'a\nb';\n$$\n\n$$;\n/*\n*/SELECT 3;";
  auto r = SplitStatements(sql);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].line, 3);
  EXPECT_EQ((*r)[2].line, 7);  // SELECT 3, after the comment that opens on line 6
}

TEST(TransactionControlTest, Recognises) {
  for (const char* s : {"BEGIN", "begin work", "COMMIT", "END", "ROLLBACK", "START TRANSACTION",
                        "-- x\nCOMMIT", "ABORT"}) {
    EXPECT_TRUE(IsTransactionControl({s, 1})) << s;
  }
  for (const char* s : {"ROLLBACK TO SAVEPOINT a", "SAVEPOINT a", "SELECT 1",
                        "CREATE TABLE begin_x ()", "START something"}) {
    EXPECT_FALSE(IsTransactionControl({s, 1})) << s;
  }
}

// Issue 11, item 4: a column named `begin` in a CREATE TABLE opened a
// "BEGIN ATOMIC body", so the rest of the file became one statement and the
// COMMIT in it went unseen. psql counts BEGIN only in CREATE [OR REPLACE]
// FUNCTION|PROCEDURE and outside parentheses.
TEST(SqlSplitterTest, BeginAsANameIsJustAName) {
  auto r = SplitStatements(
      "CREATE TABLE periods (id int, begin date);\nCOMMIT;\nCREATE TABLE half (id int);\n"
      "SELECT 1/0;\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ(ClassifyTransactionControl((*r)[1]), TransactionControl::kCommit);
  EXPECT_EQ((*r)[1].line, 2);
  EXPECT_EQ(Texts("CREATE INDEX i ON t (begin); SELECT 2").size(), 2u);
  EXPECT_EQ(Texts("CREATE VIEW v AS SELECT begin, \"end\" FROM t; SELECT 2").size(), 2u);
  // Routines still keep their bodies whole, with or without OR REPLACE.
  EXPECT_EQ(Texts("CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t "
                  "VALUES (1); INSERT INTO t VALUES (2); END; SELECT 1")
                .size(),
            2u);
  EXPECT_EQ(Texts("CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
                  "END; SELECT 2")
                .size(),
            2u);
}

// Issue 11, item 5: psql ends a statement only at a ';' outside
// parentheses, so a rule's action list is one statement.
TEST(SqlSplitterTest, SemicolonsInsideParenthesesEndNothing) {
  auto t = Texts(
      "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES "
      "(2));\nSELECT 1; SELECT (2)); SELECT 3");
  ASSERT_EQ(t.size(), 4u) << t[0];
  EXPECT_EQ(t[1], "SELECT 1");
  EXPECT_EQ(t[2], "SELECT (2))");  // an unmatched ')' does not go below zero
}

TEST(TransactionControlTest, Classifies) {
  auto kind = [](const char* text) { return ClassifyTransactionControl(Statement{text, 1}); };
  EXPECT_EQ(kind("BEGIN"), TransactionControl::kBegin);
  EXPECT_EQ(kind("start transaction isolation level serializable"), TransactionControl::kBegin);
  EXPECT_EQ(kind("END"), TransactionControl::kCommit);
  EXPECT_EQ(kind("commit work"), TransactionControl::kCommit);
  EXPECT_EQ(kind("-- done\nROLLBACK"), TransactionControl::kRollback);
  EXPECT_EQ(kind("ABORT"), TransactionControl::kRollback);
  EXPECT_EQ(kind("ROLLBACK TO SAVEPOINT s"), TransactionControl::kNone);
  EXPECT_EQ(kind("COMMIT PREPARED 'x'"), TransactionControl::kOther);
  EXPECT_EQ(kind("SELECT begin FROM t"), TransactionControl::kNone);
}

TEST(CopyFromStdinTest, RecognisedWithoutRegexOnLongStatements) {
  auto is = [](std::string text) { return IsCopyFromStdin(Statement{std::move(text), 1}); };
  EXPECT_TRUE(is("COPY t (a, b) FROM stdin"));
  EXPECT_TRUE(is("-- data\ncopy t from\n  STDIN with (format csv)"));
  EXPECT_FALSE(is("COPY t FROM '/srv/stdin.csv'"));
  EXPECT_FALSE(is("COPY t TO STDOUT"));
  EXPECT_FALSE(is("SELECT 'copy t from stdin'"));
  EXPECT_FALSE(is("COPY t FROM stdin_file"));
  // A megabyte-long statement: a recursive matcher would overflow the stack.
  EXPECT_FALSE(is("COPY t FROM '" + std::string(1 << 20, 'x') + "'"));
}

TEST(OutsideTransactionOnlyTest, NamesWhatPostgresRefusesInATransaction) {
  auto what = [](const char* text) { return OutsideTransactionOnly(Statement{text, 1}); };
  EXPECT_EQ(what("create index concurrently i on t (a)"), "CREATE INDEX CONCURRENTLY");
  EXPECT_EQ(what("-- x\nCREATE UNIQUE INDEX CONCURRENTLY i ON t (a)"),
            "CREATE UNIQUE INDEX CONCURRENTLY");
  EXPECT_EQ(what("DROP INDEX CONCURRENTLY i"), "DROP INDEX CONCURRENTLY");
  EXPECT_EQ(what("REINDEX (VERBOSE) INDEX CONCURRENTLY i"), "REINDEX CONCURRENTLY");
  EXPECT_EQ(what("VACUUM ANALYZE t"), "VACUUM");
  EXPECT_EQ(what("CREATE DATABASE x"), "CREATE DATABASE");
  EXPECT_EQ(what("ALTER SYSTEM SET work_mem = '8MB'"), "ALTER SYSTEM");
  EXPECT_EQ(what("CREATE INDEX i ON t (concurrently)"), "");
  EXPECT_EQ(what("REINDEX INDEX i"), "");
  EXPECT_EQ(what("SELECT 'vacuum'"), "");
}

}  // namespace
}  // namespace sg::migrate
