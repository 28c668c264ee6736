// Logger: a small structured logger. Each record is one line on stderr (or
// an injected writer) with a timestamp from the injected sg::Clock, a level,
// an optional logger name, a message and key/value fields, in one of two
// formats (`--log-format`):
//
//   text: 2025-06-01T10:00:00.123Z INFO  controller: reconciled namespace=default name=app
//   version=7 json: {"ts":"2025-06-01T10:00:00.123Z","level":"info","logger":"controller",
//          "msg":"reconciled","namespace":"default","name":"app","version":7}
//
// Text values are quoted (JSON escaping) when empty or when they contain a
// space, '=', '"' or a control character; the message has its newlines
// escaped, so every record is exactly one line. Field keys that collide with
// ts/level/logger/msg are written as field_<key>.
//
// Redaction: every field and the message pass through a Redactor before
// formatting; the default (observe/redact) replaces values of keys such as
// password/token/secret with "[REDACTED]" and masks credentials inside text
// (URL userinfo passwords, password=..., Bearer ...).
//
// Thread-safety: a Logger and all loggers derived from it by With()/Named()
// share one sink; Log() may be called from any thread, lines never
// interleave. SetLevel() is visible to all of them. The redactor runs on
// the logging thread outside the sink's lock: a custom one must be
// thread-safe (the default is a pure function). A Logger is a cheap
// copyable handle (shared ownership of the sink).
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "observe/log/field.h"

namespace sg::observe {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level);
// debug|info|warn|warning|error (case-insensitive); kInvalid otherwise.
StatusOr<LogLevel> ParseLogLevel(std::string_view text);
// text|json; kInvalid otherwise.
StatusOr<LogFormat> ParseLogFormat(std::string_view text);

// Receives each complete line, newline included, under the sink's lock.
using LogWriter = std::function<void(std::string_view line)>;
// One write(2)-sized fwrite per line to stderr.
LogWriter StderrWriter();

// Returns what may be printed for field `key` whose value reads `value`.
using Redactor = std::function<std::string(std::string_view key, std::string_view value)>;

struct LoggerOptions {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
  Clock* clock = Clock::Real();  // must outlive every logger sharing the sink
  LogWriter writer;              // empty: StderrWriter()
  Redactor redactor;             // empty: observe::RedactField
};

class Logger {
 public:
  // info, text, stderr, real clock.
  Logger();
  explicit Logger(LoggerOptions options);

  // A logger adding `fields` to every record (after the ones it already
  // adds); same sink and level.
  Logger With(std::vector<Field> fields) const;
  // A logger named `name`, or "<parent>.<name>" when this one has a name.
  Logger Named(std::string_view name) const;

  void SetLevel(LogLevel level);
  LogLevel level() const;
  bool Enabled(LogLevel level) const;

  void Log(LogLevel level, std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void Log(LogLevel level, std::string_view msg, const std::vector<Field>& fields) const;
  void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Log(LogLevel::kDebug, msg, fields);
  }
  void Info(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Log(LogLevel::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Log(LogLevel::kWarn, msg, fields);
  }
  void Error(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Log(LogLevel::kError, msg, fields);
  }

 private:
  struct Sink;
  Logger(std::shared_ptr<Sink> sink, std::string name, std::vector<Field> fields);
  void Emit(LogLevel level, std::string_view msg, const Field* begin, const Field* end) const;

  std::shared_ptr<Sink> sink_;
  std::string name_;
  std::vector<Field> fields_;
};

// Builds a logger from the --log-level / --log-format flag values; kInvalid
// naming the flag when one is wrong.
StatusOr<Logger> NewLogger(std::string_view level, std::string_view format,
                           Clock* clock = Clock::Real());

// "2025-06-01T10:00:00.123Z": RFC 3339, UTC, milliseconds.
std::string FormatTimestamp(Clock::WallTime t);

}  // namespace sg::observe
