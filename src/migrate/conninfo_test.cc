#include "migrate/conninfo.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace sg::migrate {
namespace {

TEST(ConnInfoTest, DisplayNeverHoldsThePassword) {
  auto c = ConnInfo::Parse("postgresql://app:hunter2@db.example:6432/orders?sslmode=require");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->display(), "app@db.example:6432/orders");
  auto k = ConnInfo::Parse("host=10.0.0.1 port=5432 dbname=x user=u password=hunter2");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->display(), "u@10.0.0.1:5432/x");
}

TEST(ConnInfoTest, RedactsThePasswordAnywhere) {
  auto c = ConnInfo::Parse("postgresql://app:hunter2@h/db");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Redact("failed for hunter2 at postgresql://app:hunter2@h/db"),
            "failed for *** at postgresql://app:***@h/db");
}

TEST(ConnInfoTest, InvalidUrlIsInvalidWithoutEchoingIt) {
  auto c = ConnInfo::Parse("postgresql://app:hunter2@h:notaport/db?nosuchoption=1");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalid);
  EXPECT_EQ(c.status().message().find("hunter2"), std::string::npos) << c.status();
  EXPECT_EQ(ConnInfo::Parse("").status().code(), Code::kInvalid);
}

// The measured leaks: libpq's parse errors quote the unparseable part, and
// that part is the password (or a whole Secret key holding a bare token).
TEST(ConnInfoTest, ParseErrorsNeverEchoAnyPartOfTheInput) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"postgresql://app:50%off!@db:5432/shop", "off!"},
      {"tok_live_bare_token_0123456789", "tok_live"},
      {"host=db password=my secret", "secret"},
      {"host=db password='s3cretval", "s3cretval"},
      {"postgresql://app:pw@[::1/db", "pw"},
      {"postgresql://app:s3cr%00t@h/db", "s3cr"},
      {"postgresql://h/db?sslmode=require&x=pass=w0rdX", "w0rdX"},
      {"postgresql://app:ab/cd@db:5432/shop", "ab/cd"},
      {"postgresql://app:p@ss@db:5432/shop", "ss@db"},
  };
  for (const auto& [input, secret] : cases) {
    auto c = ConnInfo::Parse(input);
    ASSERT_FALSE(c.ok()) << input;
    EXPECT_EQ(c.status().code(), Code::kInvalid);
    const std::string m = c.status().message();
    EXPECT_EQ(m.find(secret), std::string::npos) << input << " -> " << m;
    EXPECT_EQ(m.find('"'), std::string::npos) << "nothing quoted from the input: " << m;
    EXPECT_NE(m.find("invalid database URL"), std::string::npos) << m;
  }
}

// Property: whatever the password, a valid URL with it parses, and no
// message this file produces (display, Redact of libpq's connection errors,
// parse errors of a broken variant) contains it. Seeded; the seed is printed.
TEST(ConnInfoTest, GeneratedPasswordsAppearInNoMessage) {
  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("SG_SEED")) seed = static_cast<unsigned>(std::stoul(s));
  std::printf("ConnInfoTest seed %u (SG_SEED=%u to replay)\n", seed, seed);
  std::mt19937 rng(seed);
  const std::string alphabet =
      "abcXYZ019%: /@'\"\\?&=#[]{}!$^*()+,;<>|`~\t"
      "\xc3\xa9\xe2\x82\xac";  // é, €
  auto pct = [](const std::string& raw) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : raw) {
      if (std::isalnum(ch)) {
        out += static_cast<char>(ch);
      } else {
        out += '%';
        out += hex[ch >> 4];
        out += hex[ch & 15];
      }
    }
    return out;
  };
  for (int i = 0; i < 500; ++i) {
    size_t len = 8 + rng() % (i % 50 == 0 ? 2000 : 40);
    std::string pw;
    while (pw.size() < len) pw += alphabet[rng() % alphabet.size()];
    std::string why = "seed " + std::to_string(seed) + " case " + std::to_string(i);
    auto c = ConnInfo::Parse("postgresql://app:" + pct(pw) + "@db:5432/shop");
    ASSERT_TRUE(c.ok()) << why << ": " << c.status();
    EXPECT_EQ(c->display().find(pw), std::string::npos) << why;
    std::string libpq =
        "connection to server at \"db\" failed: FATAL:  password authentication "
        "failed for user \"app\" (password " +
        pw + ")";
    EXPECT_EQ(c->Redact(libpq).find(pw), std::string::npos) << why;
    // Broken variants: raw (unencoded) and keyword forms.
    const std::vector<std::string> variants = {"postgresql://app:" + pw + "@db:5432/shop",
                                               "host=db password=" + pw + " x",
                                               "host=db password=" + pw};
    for (const std::string& broken : variants) {
      auto b = ConnInfo::Parse(broken);
      if (b.ok()) {
        EXPECT_EQ(b->display().find(pw), std::string::npos) << why;
        continue;
      }
      // Short passwords may coincide with the fixed wording; test real ones.
      if (pw.size() >= 8) {
        EXPECT_EQ(b.status().message().find(pw), std::string::npos)
            << why << ": " << b.status().message();
      }
    }
  }
}

TEST(ConnInfoTest, ConnectErrorsAreFixedClassesNamingTheField) {
  auto c = ConnInfo::Parse("postgresql://app:hunter2@db:5432/shop");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->DescribeConnectError("connection to server at \"db\" (10.0.0.1), port 5432 "
                                    "failed: FATAL:  password authentication failed for user "
                                    "\"app\""),
            "password authentication failed (check the user and password)");
  EXPECT_EQ(c->DescribeConnectError("could not translate host name \"db\" to address"),
            "unknown host (host)");
  EXPECT_EQ(c->DescribeConnectError("invalid integer value \"hunter2\" for connection option "
                                    "\"port\""),
            "a number is expected (port, connect_timeout)");
  EXPECT_EQ(c->DescribeConnectError("FATAL:  database \"shop\" does not exist"),
            "the database does not exist (dbname)");
  std::string unknown = c->DescribeConnectError("something new about \"tok_live_x\" happened");
  EXPECT_EQ(unknown.find("tok_live_x"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("something new"), std::string::npos) << unknown;
}

}  // namespace
}  // namespace sg::migrate
