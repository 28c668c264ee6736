#include "observe/log/log.h"

#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

#include "observe/redact/redact.h"

namespace sg::observe {

struct Logger::Sink {
  std::atomic<int> level;
  LogFormat format;
  Clock* clock;
  LogWriter writer;
  Redactor redactor;
  std::mutex mu;  // serialises writer calls: one line at a time
};

namespace {

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsReservedKey(std::string_view k) {
  return k == "ts" || k == "level" || k == "logger" || k == "msg";
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '=' || c == '"' || u == 0x7f) return true;
  }
  return false;
}

std::string JsonQuote(std::string_view v) {
  return nlohmann::json(std::string(v))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The message stays unquoted but on one line.
std::string EscapeMessage(std::string_view msg) {
  std::string out;
  out.reserve(msg.size());
  for (char c : msg) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string_view UpperLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO ";
    case LogLevel::kWarn:
      return "WARN ";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

StatusOr<LogLevel> ParseLogLevel(std::string_view text) {
  std::string t = Lowercase(text);
  if (t == "debug") return LogLevel::kDebug;
  if (t == "info") return LogLevel::kInfo;
  if (t == "warn" || t == "warning") return LogLevel::kWarn;
  if (t == "error") return LogLevel::kError;
  return InvalidError("--log-level: \"" + std::string(text) +
                      "\" is not one of debug, info, warn, error");
}

StatusOr<LogFormat> ParseLogFormat(std::string_view text) {
  std::string t = Lowercase(text);
  if (t == "text") return LogFormat::kText;
  if (t == "json") return LogFormat::kJson;
  return InvalidError("--log-format: \"" + std::string(text) + "\" is not one of text, json");
}

LogWriter StderrWriter() {
  return [](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  };
}

std::string FormatTimestamp(Clock::WallTime t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the compiler can imagine (-Wformat-truncation)
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

Logger::Logger() : Logger(LoggerOptions{}) {}

Logger::Logger(LoggerOptions options) : sink_(std::make_shared<Sink>()) {
  sink_->level.store(static_cast<int>(options.level));
  sink_->format = options.format;
  sink_->clock = options.clock ? options.clock : Clock::Real();
  sink_->writer = options.writer ? std::move(options.writer) : StderrWriter();
  sink_->redactor = options.redactor ? std::move(options.redactor) : Redactor(&RedactField);
}

Logger::Logger(std::shared_ptr<Sink> sink, std::string name, std::vector<Field> fields)
    : sink_(std::move(sink)), name_(std::move(name)), fields_(std::move(fields)) {}

Logger Logger::With(std::vector<Field> fields) const {
  std::vector<Field> all = fields_;
  for (auto& f : fields) all.push_back(std::move(f));
  return Logger(sink_, name_, std::move(all));
}

Logger Logger::Named(std::string_view name) const {
  std::string n = name_.empty() ? std::string(name) : name_ + "." + std::string(name);
  return Logger(sink_, std::move(n), fields_);
}

void Logger::SetLevel(LogLevel level) { sink_->level.store(static_cast<int>(level)); }

LogLevel Logger::level() const { return static_cast<LogLevel>(sink_->level.load()); }

bool Logger::Enabled(LogLevel level) const {
  return static_cast<int>(level) >= sink_->level.load(std::memory_order_relaxed);
}

void Logger::Log(LogLevel level, std::string_view msg, std::initializer_list<Field> fields) const {
  if (!Enabled(level)) return;
  Emit(level, msg, fields.begin(), fields.end());
}

void Logger::Log(LogLevel level, std::string_view msg, const std::vector<Field>& fields) const {
  if (!Enabled(level)) return;
  Emit(level, msg, fields.data(), fields.data() + fields.size());
}

void Logger::Emit(LogLevel level, std::string_view msg, const Field* begin,
                  const Field* end) const {
  const Sink& s = *sink_;
  std::string ts = FormatTimestamp(s.clock->WallNow());
  std::string safe_msg = s.redactor("msg", msg);

  // Redacted fields: base fields first, then this call's.
  struct Out {
    std::string key;
    const Field* field;  // null when the value was rewritten by the redactor
    std::string text;
  };
  std::vector<Out> out;
  out.reserve(fields_.size() + static_cast<size_t>(end - begin));
  auto add = [&](const Field& f) {
    std::string key = IsReservedKey(f.key()) ? "field_" + f.key() : f.key();
    std::string raw = f.ValueString();
    std::string red = s.redactor(f.key(), raw);
    bool is_string = std::holds_alternative<std::string>(f.value());
    if (!is_string && red == raw) {
      out.push_back({std::move(key), &f, std::move(red)});
    } else {
      out.push_back({std::move(key), nullptr, std::move(red)});
    }
  };
  for (const Field& f : fields_) add(f);
  for (const Field* f = begin; f != end; ++f) add(*f);

  std::string line;
  if (s.format == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = ts;
    j["level"] = LogLevelName(level);
    if (!name_.empty()) j["logger"] = name_;
    j["msg"] = safe_msg;
    for (const Out& o : out) {
      if (!o.field) {
        j[o.key] = o.text;
        continue;
      }
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, double>) {
              if (std::isfinite(v)) {
                j[o.key] = v;
              } else {
                j[o.key] = o.text;  // JSON has no NaN/Inf
              }
            } else {
              j[o.key] = v;
            }
          },
          o.field->value());
    }
    line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  } else {
    line = ts;
    line += ' ';
    line += UpperLevel(level);
    line += ' ';
    if (!name_.empty()) {
      line += name_;
      line += ": ";
    }
    line += EscapeMessage(safe_msg);
    for (const Out& o : out) {
      line += ' ';
      line += o.key;
      line += '=';
      line += NeedsQuotes(o.text) ? JsonQuote(o.text) : o.text;
    }
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(sink_->mu);
  s.writer(line);
}

StatusOr<Logger> NewLogger(std::string_view level, std::string_view format, Clock* clock) {
  SG_ASSIGN_OR_RETURN(LogLevel l, ParseLogLevel(level));
  SG_ASSIGN_OR_RETURN(LogFormat f, ParseLogFormat(format));
  LoggerOptions o;
  o.level = l;
  o.format = f;
  o.clock = clock;
  return Logger(std::move(o));
}

}  // namespace sg::observe
