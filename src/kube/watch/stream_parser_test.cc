#include "kube/watch/stream_parser.h"

#include <gtest/gtest.h>

namespace sg::kube {
namespace {

const std::string kStream =
    R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"10"},"data":{"k":"line1\nline2 {}"}}})"
    "\n"
    R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"11"}}})"
    "\n\n"
    R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"12"}}})"
    "\r\n"
    R"({"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"13"}}})"
    "\n"
    R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
    "\n";

void ExpectAll(const std::vector<WatchEvent>& events) {
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[0].object["data"]["k"], "line1\nline2 {}");
  EXPECT_EQ(events[0].ResourceVersion(), "10");
  EXPECT_EQ(events[1].type, WatchEventType::kModified);
  EXPECT_EQ(events[2].type, WatchEventType::kBookmark);
  EXPECT_EQ(events[2].ResourceVersion(), "12");
  EXPECT_EQ(events[3].type, WatchEventType::kDeleted);
  EXPECT_EQ(events[4].type, WatchEventType::kError);
  EXPECT_EQ(events[4].object["code"], 410);
}

TEST(StreamParserTest, ByteByByte) {
  StreamParser p;
  std::vector<WatchEvent> events;
  for (char c : kStream) {
    ASSERT_TRUE(p.Feed(std::string_view(&c, 1), &events).ok());
  }
  ExpectAll(events);
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(StreamParserTest, WholeAndOddChunks) {
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, size_t{64}, kStream.size()}) {
    StreamParser p;
    std::vector<WatchEvent> events;
    for (size_t i = 0; i < kStream.size(); i += chunk) {
      ASSERT_TRUE(p.Feed(std::string_view(kStream).substr(i, chunk), &events).ok());
    }
    ExpectAll(events);
  }
}

TEST(StreamParserTest, PartialEventStaysBuffered) {
  StreamParser p;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(p.Feed(R"({"type":"ADDED","obj)", &events).ok());
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(p.buffered(), 20u);
  ASSERT_TRUE(p.Feed("ect\":{}}\n", &events).ok());
  ASSERT_EQ(events.size(), 1u);
}

TEST(StreamParserTest, Errors) {
  std::vector<WatchEvent> events;
  StreamParser bad_json;
  EXPECT_EQ(bad_json.Feed("{not json}\n", &events).code(), Code::kInternal);
  StreamParser bad_type;
  EXPECT_EQ(bad_type
                .Feed(R"({"type":"EXPLODED","object":{}})"
                      "\n",
                      &events)
                .code(),
            Code::kInternal);
  StreamParser small(16);
  EXPECT_EQ(small.Feed(std::string(10, 'x'), &events).code(), Code::kOk);
  EXPECT_EQ(small.Feed(std::string(10, 'x'), &events).code(), Code::kInternal);
}

// Found by fuzz_watch_stream: a line longer than the limit was refused when
// it came in pieces but accepted when it came in one chunk.
TEST(StreamParserTest, LimitHoldsHoweverTheBytesAreCut) {
  const std::string line = R"({"type":"ADDED","object":{"metadata":{"name":"long-enough"}}})";
  std::vector<WatchEvent> events;
  StreamParser whole(16);
  EXPECT_EQ(whole.Feed(line + "\n", &events).code(), Code::kInternal);
  StreamParser pieces(16);
  Status s = pieces.Feed(line.substr(0, 10), &events);
  if (s.ok()) s = pieces.Feed(line.substr(10) + "\n", &events);
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace sg::kube
