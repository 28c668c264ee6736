#include "observe/log/log.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

namespace sg::observe {
namespace {

using namespace std::chrono_literals;

// Collects lines; the FakeClock starts at the Unix epoch plus a known offset.
struct Capture {
  std::mutex mu;
  std::vector<std::string> lines;
  LogWriter writer() {
    return [this](std::string_view line) {
      std::lock_guard<std::mutex> l(mu);
      lines.emplace_back(line);
    };
  }
};

class LogTest : public ::testing::Test {
 protected:
  Logger Make(LogFormat format, LogLevel level = LogLevel::kInfo) {
    LoggerOptions o;
    o.format = format;
    o.level = level;
    o.clock = &clock_;
    o.writer = capture_.writer();
    return Logger(std::move(o));
  }
  // The timestamp FakeClock reports, as the logger prints it.
  std::string Ts() { return FormatTimestamp(clock_.WallNow()); }

  FakeClock clock_;
  Capture capture_;
};

TEST(LogFormatTest, ParseFlags) {
  EXPECT_EQ(*ParseLogLevel("DEBUG"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("loud").status().code(), Code::kInvalid);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("xml").status().message(),
            "--log-format: \"xml\" is not one of text, json");
  EXPECT_FALSE(NewLogger("info", "yaml").ok());
  EXPECT_TRUE(NewLogger("debug", "text").ok());
}

TEST(LogFormatTest, Timestamp) {
  using namespace std::chrono;
  Clock::WallTime t{milliseconds(1748772000123)};  // 2025-06-01T10:00:00.123Z
  EXPECT_EQ(FormatTimestamp(t), "2025-06-01T10:00:00.123Z");
  EXPECT_EQ(FormatTimestamp(Clock::WallTime{}), "1970-01-01T00:00:00.000Z");
}

TEST_F(LogTest, TextLine) {
  Logger log = Make(LogFormat::kText).Named("controller");
  log.Info("reconciled", {{"namespace", "default"},
                          {"name", "app"},
                          {"version", 7},
                          {"ok", true},
                          {"elapsed", 1500ms},
                          {"note", "two words"},
                          {"empty", ""},
                          {"eq", "a=b"}});
  ASSERT_EQ(capture_.lines.size(), 1u);
  EXPECT_EQ(capture_.lines[0], Ts() +
                                   " INFO  controller: reconciled namespace=default name=app "
                                   "version=7 ok=true elapsed=1.5 note=\"two words\" "
                                   "empty=\"\" eq=\"a=b\"\n");
}

TEST_F(LogTest, TextMessageStaysOnOneLine) {
  Logger log = Make(LogFormat::kText);
  log.Warn("line one\nline two", {{"err", "x\ny"}});
  ASSERT_EQ(capture_.lines.size(), 1u);
  EXPECT_EQ(capture_.lines[0], Ts() + " WARN  line one\\nline two err=\"x\\ny\"\n");
}

TEST_F(LogTest, JsonLine) {
  Logger log = Make(LogFormat::kJson).Named("wait").With({{"name", "app"}});
  log.Error("failed", {{"code", 7},
                       {"ratio", 0.25},
                       {"status", ConflictError("stale")},
                       {"msg", "collides"},
                       {"inf", 1.0 / 0.0}});
  ASSERT_EQ(capture_.lines.size(), 1u);
  EXPECT_EQ(capture_.lines[0],
            "{\"ts\":\"" + Ts() +
                "\",\"level\":\"error\",\"logger\":\"wait\",\"msg\":\"failed\",\"name\":\"app\","
                "\"code\":7,\"ratio\":0.25,\"status\":\"Conflict: stale\","
                "\"field_msg\":\"collides\",\"inf\":\"+Inf\"}\n");
  auto parsed = nlohmann::json::parse(capture_.lines[0]);
  EXPECT_EQ(parsed["code"], 7);
}

TEST_F(LogTest, LevelsFilter) {
  Logger log = Make(LogFormat::kText, LogLevel::kWarn);
  log.Debug("d");
  log.Info("i");
  log.Warn("w");
  log.Error("e");
  ASSERT_EQ(capture_.lines.size(), 2u);
  EXPECT_NE(capture_.lines[0].find(" WARN  w"), std::string::npos);
  EXPECT_NE(capture_.lines[1].find(" ERROR e"), std::string::npos);
  // SetLevel on a derived logger is seen by every logger of the sink.
  Logger child = log.Named("x");
  child.SetLevel(LogLevel::kDebug);
  EXPECT_TRUE(log.Enabled(LogLevel::kDebug));
  log.Debug("now");
  EXPECT_EQ(capture_.lines.size(), 3u);
}

TEST_F(LogTest, NamedAndWithCompose) {
  Logger base = Make(LogFormat::kText);
  Logger a = base.Named("controller").With({{"ns", "a"}});
  Logger b = a.Named("reconciler").With({{"name", "x"}});
  b.Info("m", {{"k", 1}});
  a.Info("m");
  ASSERT_EQ(capture_.lines.size(), 2u);
  EXPECT_EQ(capture_.lines[0], Ts() + " INFO  controller.reconciler: m ns=a name=x k=1\n");
  EXPECT_EQ(capture_.lines[1], Ts() + " INFO  controller: m ns=a\n");
}

TEST_F(LogTest, CredentialsNeverPrinted) {
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    capture_.lines.clear();
    Logger log = Make(format).With({{"token", "eyJhbGciOi.secret-token"}});
    log.Info("connecting to postgres://app:hunter2@db/app",
             {{"password", "hunter2"},
              {"dbPassword", 1234},
              {"url", "postgresql://u:hunter2@h:5432/d"},
              {"conninfo", "host=h password=hunter2"},
              {"header", "Bearer eyJhbGciOiJSUzI1NiJ9.hunter2"},
              {"secretName", "db-credentials"}});
    ASSERT_EQ(capture_.lines.size(), 1u);
    const std::string& line = capture_.lines[0];
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    EXPECT_EQ(line.find("secret-token"), std::string::npos) << line;
    EXPECT_EQ(line.find("1234"), std::string::npos) << line;
    EXPECT_NE(line.find("[REDACTED]"), std::string::npos) << line;
    EXPECT_NE(line.find("postgres://app:***@db/app"), std::string::npos) << line;
    EXPECT_NE(line.find("db-credentials"), std::string::npos) << line;  // a name, not a secret
  }
}

TEST_F(LogTest, CustomRedactor) {
  LoggerOptions o;
  o.clock = &clock_;
  o.writer = capture_.writer();
  o.redactor = [](std::string_view key, std::string_view value) {
    return key == "account" ? std::string("xxx") : std::string(value);
  };
  Logger log(std::move(o));
  log.Info("m", {{"account", 42}, {"other", 1}});
  ASSERT_EQ(capture_.lines.size(), 1u);
  EXPECT_EQ(capture_.lines[0], Ts() + " INFO  m account=xxx other=1\n");
}

TEST_F(LogTest, ConcurrentWritersNeverInterleave) {
  std::string out;  // the writer appends piecewise, as a stream would
  std::mutex check;
  LoggerOptions o;
  o.clock = &clock_;
  o.format = LogFormat::kJson;
  o.writer = [&](std::string_view line) {
    // Two writes per line: any interleaving would corrupt the JSON.
    out.append(line.substr(0, line.size() / 2));
    std::this_thread::yield();
    out.append(line.substr(line.size() / 2));
  };
  Logger log(std::move(o));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) log.Info("tick", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::pair<int, int>> seen;
  size_t start = 0;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    auto j = nlohmann::json::parse(out.substr(start, nl - start));
    seen.insert({j["thread"].get<int>(), j["i"].get<int>()});
    start = nl + 1;
  }
  EXPECT_EQ(seen.size(), 800u);
}

}  // namespace
}  // namespace sg::observe
