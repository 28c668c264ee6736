#include "pg/sql_generator.h"

#include <array>
#include <string_view>
#include <vector>

namespace sg::testing {
namespace {

class Generator {
 public:
  explicit Generator(std::mt19937_64& rng) : rng_(rng) {}

  std::string Script() {
    std::string out = Chance(20) ? Gap() : "";
    const int statements = 1 + Pick(8);
    for (int i = 0; i < statements; ++i) {
      out += Statement();
      // The last statement sometimes has no semicolon: psql sends it at EOF.
      if (i + 1 < statements || Chance(80)) out += Chance(15) ? Gap() + ";" : ";";
      out += Chance(50) ? "\n" : Gap();
    }
    return out;
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Pick(100) < percent; }
  template <size_t N>
  std::string_view OneOf(const std::array<std::string_view, N>& options) {
    return options[Pick(static_cast<int>(N))];
  }

  // White space and comments between tokens; a `--` comment ends its line.
  std::string Gap() {
    static constexpr std::array<std::string_view, 9> kGaps = {
        " ",
        "\n",
        "\t ",
        " -- a comment; with 'quotes' and \"more\" $$\n",
        "\n-- begin; end;\n",
        " /* block; comment */ ",
        " /* nested /* inner; */ still; comment */ ",
        "\n/* 'unbalanced quote in a comment; */\n",
        " --\n",
    };
    return std::string(OneOf(kGaps));
  }

  // A name a splitter might take for a keyword.
  std::string Name() {
    static constexpr std::array<std::string_view, 14> kNames = {
        "begin",      "end",   "case", "atomic",       "BEGIN",          "t1",
        "x$y$",       "value", "w$$",  "\"semi;col\"", "\"quo\"\"te;\"", "U&\"d\\0061ta\"",
        "_begin_end", "commit"};
    return std::string(OneOf(kNames));
  }

  std::string Literal() {
    static constexpr std::array<std::string_view, 28> kLiterals = {
        "7$$;$$",  // a number, then a dollar quote (not one token)
        "$1$$;$$",
        "1.5$$;$$",
        "1e3$$",           // one token for psql: a number with trailing junk
        "9E'\\'';'",       // a number with junk (9E), then a standard string
        "$a$;$a$$b$;$b$",  // a dollar quote right after another's close
        "'a;b'",
        "'it''s; fine'",
        "'back\\slash'",  // standard_conforming_strings: the backslash is a character
        "E'esc\\';aped'",
        "e'\\\\'",
        "E'two\\nlines;'",
        "$$dollar; 'body'$$",
        "$t$ ; $$ ; $t$",
        "$_x1$;$_x1$",
        "$a$$a$",
        "U&'\\0041;'",
        "B'1010'",
        "X'ff'",
        "'multi\nline;\n string'",
        "42",
        "1.5e3",
        "$1",
        "'1'::int",
        "ARRAY[1, 2]",
        "CASE WHEN true THEN 1 ELSE 2 END",
        "'--not a comment'",
        "'/* not a comment */'",
    };
    return std::string(OneOf(kLiterals));
  }

  std::string Expr(int depth = 0) {
    const int kind = Pick(depth > 2 ? 2 : 5);
    if (kind == 0) return Literal();
    if (kind == 1) return Name();
    if (kind == 2) return "(" + Expr(depth + 1) + Gap() + "+ " + Expr(depth + 1) + ")";
    if (kind == 3) return "(SELECT " + Expr(depth + 1) + "; SELECT " + Expr(depth + 1) + ")";
    return "f(" + Expr(depth + 1) + ", " + Expr(depth + 1) + ")";
  }

  std::string Exprs() {
    std::string out = Expr();
    for (int n = Pick(3); n > 0; --n) out += "," + Gap() + Expr();
    return out;
  }

  // Statements of a SQL-standard body (BEGIN ATOMIC ... END).
  std::string AtomicBody() {
    std::string out = "BEGIN ATOMIC";
    for (int n = 1 + Pick(3); n > 0; --n) {
      out += Gap();
      out += Chance(30) ? "SELECT CASE WHEN " + Expr() + " THEN 1 ELSE 0 END;"
                        : "SELECT " + Exprs() + ";";
    }
    return out + Gap() + "END";
  }

  std::string Routine() {
    std::string head = Chance(50) ? "CREATE OR REPLACE " : "CREATE ";
    head += Chance(70) ? "FUNCTION" : "PROCEDURE";
    head += " r_" + std::to_string(Pick(1000)) + "(" + Name() + " int)";
    const bool function = head.find("FUNCTION") != std::string::npos;
    if (function) head += Chance(30) ? " RETURNS TABLE (begin int, \"end\" int)" : " RETURNS int";
    switch (Pick(3)) {
      case 0:
        return head + " LANGUAGE sql" + Gap() + AtomicBody();
      case 1:
        return head + " AS $fn$\nBEGIN\n  PERFORM 1; -- ;\n  RETURN 1;\nEND\n$fn$ LANGUAGE plpgsql";
      default:
        return head + " LANGUAGE sql AS 'SELECT 1; SELECT 2'";
    }
  }

  std::string Statement() {
    switch (Pick(12)) {
      case 0:
      case 1:
        return "SELECT " + Exprs() + (Chance(40) ? " AS " + Name() : "");
      case 2:
        return "CREATE TABLE " + Name() + " (" + Name() + " int," + Gap() + Name() +
               " text DEFAULT " + Literal() + ")";
      case 3:
      case 4:
        return Routine();
      case 5:
        return "CREATE RULE r_" + std::to_string(Pick(100)) + " AS ON INSERT TO t DO ALSO (" +
               "INSERT INTO a VALUES (" + Literal() + ");" + Gap() + "INSERT INTO b VALUES (" +
               Expr() + "))";
      case 6:
        return std::string(OneOf(std::array<std::string_view, 8>{
            "BEGIN", "begin work", "START TRANSACTION", "COMMIT", "END", "ROLLBACK", "commit",
            "BEGIN ISOLATION LEVEL SERIALIZABLE"}));
      case 7:
        return "DO $do$\nBEGIN\n  RAISE NOTICE '%', " + Literal() + ";\nEND\n$do$";
      case 8:
        return "UPDATE " + Name() + " SET " + Name() + " = " + Expr() + " WHERE " + Name() +
               " IN (" + Exprs() + ")";
      case 9:
        // A routine-looking statement that is not one: `begin` counts only
        // after CREATE [OR REPLACE] FUNCTION|PROCEDURE.
        return "CREATE TABLE begin_" + std::to_string(Pick(100)) + " (begin date, \"end\" date)" +
               Gap() + "-- create function f() begin atomic\n";
      case 10:
        return "COMMENT ON TABLE t IS " + Literal();
      default:
        return "INSERT INTO " + Name() + " (" + Name() + ") VALUES (" + Exprs() + ")" +
               (Chance(30) ? " RETURNING " + Name() : "");
    }
  }

  std::mt19937_64& rng_;
};

}  // namespace

std::string GenerateScript(std::mt19937_64& rng) { return Generator(rng).Script(); }

}  // namespace sg::testing
