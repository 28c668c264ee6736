#include "observe/http_server/listen_address.h"

#include <gtest/gtest.h>

namespace sg::observe {
namespace {

TEST(ListenAddressTest, Forms) {
  auto a = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->Url(), "http://127.0.0.1:8080");
  auto all = ParseListenAddress(":9090");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->ToString(), "0.0.0.0:9090");
  auto v6 = ParseListenAddress("[::1]:8080");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->Url(), "http://[::1]:8080");
  EXPECT_EQ(ParseListenAddress("localhost:1")->host, "localhost");
}

TEST(ListenAddressTest, Errors) {
  for (const char* bad : {"", "8080", "host:", "host:0", "host:65536", "host:80x", "::1:8080",
                          "[::1]8080", "[::1", "[]:80"}) {
    auto a = ParseListenAddress(bad);
    EXPECT_EQ(a.status().code(), Code::kInvalid) << bad;
  }
  EXPECT_EQ(ParseListenAddress("h:0").status().message(),
            "listen address \"h:0\": port must be 1-65535 (want host:port, [v6]:port or :port)");
}

}  // namespace
}  // namespace sg::observe
