#include "migrate/sql_splitter.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

namespace sg::migrate {
namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) {
  return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The offset of the first token of `text`: white space, `--` and nested
// `/* */` comments skipped; text.size() when there is none. Adds the
// newlines it skipped to *newlines when given.
size_t FirstToken(std::string_view text, int* newlines = nullptr) {
  size_t i = 0;
  auto newline = [&](size_t at) {
    if (newlines && text[at] == '\n') ++*newlines;
  };
  while (i < text.size()) {
    if (text.compare(i, 2, "--") == 0) {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (text.compare(i, 2, "/*") == 0) {
      int depth = 0;
      while (i < text.size()) {
        if (text.compare(i, 2, "/*") == 0) {
          ++depth;
          i += 2;
        } else if (text.compare(i, 2, "*/") == 0) {
          i += 2;
          if (--depth == 0) break;
        } else {
          newline(i++);
        }
      }
    } else if (std::isspace(static_cast<unsigned char>(text[i]))) {
      newline(i++);
    } else {
      return i;
    }
  }
  return text.size();
}

// True when the statement holds something other than white space and comments.
bool HasCode(std::string_view text) { return FirstToken(text) < text.size(); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

class Splitter {
 public:
  explicit Splitter(std::string_view sql) : sql_(sql) {
    // A UTF-8 byte-order mark before the first statement, as editors on
    // Windows write it: psql skips it, so do we (it is not SQL).
    if (sql_.starts_with("\xEF\xBB\xBF")) pos_ = start_ = 3;
  }

  StatusOr<std::vector<Statement>> Run() {
    while (pos_ < sql_.size()) {
      char c = sql_[pos_];
      char next = pos_ + 1 < sql_.size() ? sql_[pos_ + 1] : '\0';
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (c == '-' && next == '-') {
        while (pos_ < sql_.size() && sql_[pos_] != '\n') ++pos_;
      } else if (c == '/' && next == '*') {
        SG_RETURN_IF_ERROR(SkipBlockComment());
      } else if (c == '\'') {
        // E'...': the word just before the quote is a lone E.
        SG_RETURN_IF_ERROR(SkipQuoted('\'', e_prefix_at_ == pos_, "string literal"));
      } else if (c == '"') {
        SG_RETURN_IF_ERROR(SkipQuoted('"', false, "quoted identifier"));
      } else if (c == '$' && TryDollarQuote()) {
        // Never inside an identifier (Word() takes its '$'s), so after a
        // number or another quote's close it opens one, as in psql.
        SG_RETURN_IF_ERROR(SkipDollarQuoted());
      } else if (IsIdentStart(c)) {
        Word();
      } else if (IsDigit(c) || (c == '.' && IsDigit(next))) {
        Number();
      } else if (c == '(') {
        ++paren_depth_;
        ++pos_;
      } else if (c == ')') {
        if (paren_depth_ > 0) --paren_depth_;
        ++pos_;
      } else if (c == ';' && atomic_depth_ == 0 && paren_depth_ == 0) {
        Emit(pos_);
        ++pos_;
        start_ = pos_;
        start_line_ = line_;
        words_ = 0;
        head_.fill('\0');
      } else {
        ++pos_;
      }
    }
    Emit(sql_.size());
    return std::move(out_);
  }

 private:
  void Emit(size_t end) {
    std::string_view raw = sql_.substr(start_, end - start_);
    if (!HasCode(raw)) return;
    // Report the line of the statement's first token: blanks and the
    // comments above it (a file's directive, a note) are skipped, though
    // they stay in the text.
    int line = start_line_;
    FirstToken(raw, &line);
    out_.push_back(Statement{std::string(Trim(raw)), line});
  }

  // Tracks BEGIN ATOMIC ... END bodies the way psql's lexer (psqlscan.l)
  // does: only in a statement that starts CREATE [OR REPLACE] FUNCTION or
  // PROCEDURE, and only outside parentheses, so a column or argument named
  // `begin` (CREATE TABLE periods (begin date)) is just a name.
  void Word() {
    size_t b = pos_;
    while (pos_ < sql_.size() && IsIdentChar(sql_[pos_])) ++pos_;
    if (pos_ - b == 1 && (sql_[b] == 'E' || sql_[b] == 'e')) e_prefix_at_ = pos_;
    std::string w = Lower(sql_.substr(b, pos_ - b));
    if (words_ < head_.size() &&
        (w == "create" || w == "or" || w == "replace" || w == "function" || w == "procedure")) {
      head_[words_] = w[0];
    }
    ++words_;
    const bool routine =
        head_[0] == 'c' &&
        (head_[1] == 'f' || head_[1] == 'p' ||
         (head_[1] == 'o' && head_[2] == 'r' && (head_[3] == 'f' || head_[3] == 'p')));
    if (!routine || paren_depth_ > 0) return;
    if (w == "begin") {
      ++atomic_depth_;
    } else if (w == "case" && atomic_depth_ > 0) {
      ++atomic_depth_;
    } else if (w == "end" && atomic_depth_ > 0) {
      --atomic_depth_;
    }
  }

  // A numeric literal as psql's lexer (15) reads one: digits, maybe a
  // decimal point, and an identifier right after them is trailing junk of
  // the same token (`1e3$$` is one token, so is `9E`: no E'' string after
  // it). A '$' right after the number opens a dollar quote: `7$$;$$`.
  void Number() {
    auto digits = [&] {
      while (pos_ < sql_.size() && IsDigit(sql_[pos_])) ++pos_;
    };
    digits();
    if (pos_ < sql_.size() && sql_[pos_] == '.' && sql_.compare(pos_, 2, "..") != 0) {
      ++pos_;
      digits();
    }
    if (pos_ < sql_.size() && IsIdentStart(sql_[pos_])) {
      while (pos_ < sql_.size() && IsIdentChar(sql_[pos_])) ++pos_;
    }
  }

  Status SkipBlockComment() {
    int open_line = line_;
    int depth = 0;
    while (pos_ < sql_.size()) {
      if (sql_.compare(pos_, 2, "/*") == 0) {
        ++depth;
        pos_ += 2;
      } else if (sql_.compare(pos_, 2, "*/") == 0) {
        pos_ += 2;
        if (--depth == 0) return OkStatus();
      } else {
        if (sql_[pos_] == '\n') ++line_;
        ++pos_;
      }
    }
    return InvalidError("unterminated /* comment */ opened at line " + std::to_string(open_line));
  }

  Status SkipQuoted(char quote, bool backslash_escapes, const char* what) {
    int open_line = line_;
    ++pos_;
    while (pos_ < sql_.size()) {
      char c = sql_[pos_];
      if (c == '\n') ++line_;
      if (backslash_escapes && c == '\\') {
        pos_ += 2;
        continue;
      }
      if (c == quote) {
        if (pos_ + 1 < sql_.size() && sql_[pos_ + 1] == quote) {
          pos_ += 2;
          continue;
        }
        ++pos_;
        return OkStatus();
      }
      ++pos_;
    }
    return InvalidError(std::string("unterminated ") + what + " opened at line " +
                        std::to_string(open_line));
  }

  // At a '$': is this the opening of a dollar quote? Sets tag_ if so.
  bool TryDollarQuote() {
    size_t i = pos_ + 1;
    if (i < sql_.size() && sql_[i] == '$') {
      tag_ = "$$";
      return true;
    }
    if (i >= sql_.size() || !IsIdentStart(sql_[i])) return false;
    while (i < sql_.size() && IsIdentChar(sql_[i]) && sql_[i] != '$') ++i;
    if (i >= sql_.size() || sql_[i] != '$') return false;
    tag_ = std::string(sql_.substr(pos_, i - pos_ + 1));
    return true;
  }

  Status SkipDollarQuoted() {
    int open_line = line_;
    size_t body = pos_ + tag_.size();
    size_t close = sql_.find(tag_, body);
    if (close == std::string_view::npos) {
      return InvalidError("unterminated dollar-quoted string " + tag_ + " opened at line " +
                          std::to_string(open_line));
    }
    line_ += static_cast<int>(std::count(sql_.begin() + pos_, sql_.begin() + close, '\n'));
    pos_ = close + tag_.size();
    return OkStatus();
  }

  std::string_view sql_;
  size_t pos_ = 0;
  size_t start_ = 0;
  int line_ = 1;
  int start_line_ = 1;
  int atomic_depth_ = 0;
  int paren_depth_ = 0;  // a ';' inside parentheses ends nothing (psql: CREATE RULE ... (a; b))
  // The first letters of the statement's first four words when they are
  // CREATE, OR, REPLACE, FUNCTION or PROCEDURE (psql's `identifiers`).
  std::array<char, 4> head_{};
  size_t words_ = 0;
  std::string tag_;
  size_t e_prefix_at_ = std::string_view::npos;  // just after a lone E word
  std::vector<Statement> out_;
};

// The statement's first words, lower-cased, comments skipped.
std::vector<std::string> LeadingWords(std::string_view text, size_t n) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size() && words.size() < n) {
    char c = text[i];
    if (text.compare(i, 2, "--") == 0) {
      size_t nl = text.find('\n', i);
      i = nl == std::string_view::npos ? text.size() : nl + 1;
    } else if (text.compare(i, 2, "/*") == 0) {
      size_t close = text.find("*/", i + 2);
      i = close == std::string_view::npos ? text.size() : close + 2;
    } else if (IsIdentStart(c)) {
      size_t b = i;
      while (i < text.size() && IsIdentChar(text[i])) ++i;
      words.push_back(Lower(text.substr(b, i - b)));
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else {
      break;
    }
  }
  return words;
}

}  // namespace

StatusOr<std::vector<Statement>> SplitStatements(std::string_view sql) {
  return Splitter(sql).Run();
}

TransactionControl ClassifyTransactionControl(const Statement& statement) {
  auto words = LeadingWords(statement.text, 2);
  if (words.empty()) return TransactionControl::kNone;
  const std::string& w = words[0];
  const std::string second = words.size() > 1 ? words[1] : "";
  // ROLLBACK TO SAVEPOINT stays inside the runner's transaction: harmless.
  if (w == "rollback" && second == "to") return TransactionControl::kNone;
  // Two-phase commit names a prepared transaction, never the current one.
  if ((w == "commit" || w == "rollback") && second == "prepared") {
    return TransactionControl::kOther;
  }
  // "BEGIN ATOMIC" never starts a statement; "END IF" etc. only occur in bodies.
  if (w == "begin" || (w == "start" && second == "transaction")) return TransactionControl::kBegin;
  if (w == "commit" || w == "end") return TransactionControl::kCommit;
  if (w == "rollback" || w == "abort") return TransactionControl::kRollback;
  return TransactionControl::kNone;
}

bool IsCopyFromStdin(const Statement& statement) {
  // A scan, not std::regex: libstdc++'s matcher recurses per character and
  // a long statement (a big function body) would overflow the stack.
  auto words = LeadingWords(statement.text, 1);
  if (words.empty() || words[0] != "copy") return false;
  const std::string text = Lower(statement.text);
  for (size_t at = text.find("from"); at != std::string::npos; at = text.find("from", at + 4)) {
    if (at > 0 && IsIdentChar(text[at - 1])) continue;
    size_t w = at + 4;
    if (w >= text.size() || !std::isspace(static_cast<unsigned char>(text[w]))) continue;
    while (w < text.size() && std::isspace(static_cast<unsigned char>(text[w]))) ++w;
    if (text.compare(w, 5, "stdin") == 0 && (w + 5 == text.size() || !IsIdentChar(text[w + 5]))) {
      return true;
    }
  }
  return false;
}

std::string OutsideTransactionOnly(const Statement& statement) {
  auto w = LeadingWords(statement.text, 4);
  auto at = [&](size_t i) { return i < w.size() ? w[i] : std::string(); };
  if (at(0) == "vacuum") return "VACUUM";
  if (at(0) == "create" && at(1) == "index" && at(2) == "concurrently") {
    return "CREATE INDEX CONCURRENTLY";
  }
  if (at(0) == "create" && at(1) == "unique" && at(2) == "index" && at(3) == "concurrently") {
    return "CREATE UNIQUE INDEX CONCURRENTLY";
  }
  if (at(0) == "drop" && at(1) == "index" && at(2) == "concurrently") {
    return "DROP INDEX CONCURRENTLY";
  }
  if (at(0) == "reindex") {
    // REINDEX [ (options) ] ... CONCURRENTLY, and REINDEX DATABASE/SYSTEM.
    std::string lower = Lower(statement.text);
    if (lower.find("concurrently") != std::string::npos) return "REINDEX CONCURRENTLY";
    if (at(1) == "database") return "REINDEX DATABASE";
    if (at(1) == "system") return "REINDEX SYSTEM";
  }
  if (at(0) == "create" && at(1) == "database") return "CREATE DATABASE";
  if (at(0) == "drop" && at(1) == "database") return "DROP DATABASE";
  if (at(0) == "create" && at(1) == "tablespace") return "CREATE TABLESPACE";
  if (at(0) == "drop" && at(1) == "tablespace") return "DROP TABLESPACE";
  if (at(0) == "alter" && at(1) == "system") return "ALTER SYSTEM";
  return "";
}

bool IsTransactionControl(const Statement& statement) {
  return ClassifyTransactionControl(statement) != TransactionControl::kNone;
}

}  // namespace sg::migrate
