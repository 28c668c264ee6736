#include "observe/redact/redact.h"

#include <gtest/gtest.h>

namespace sg::observe {
namespace {

TEST(RedactTest, SensitiveKeys) {
  for (const char* k : {"password", "PASSWORD", "db_password", "dbPassword", "token", "bearerToken",
                        "access-token", "secret", "clientSecret", "credentials", "api_key",
                        "apiKey", "Authorization", "private_key", "cookie", "pwd"}) {
    EXPECT_TRUE(IsSensitiveKey(k)) << k;
  }
  for (const char* k :
       {"name", "namespace", "secretName", "secret_ref", "token_file", "tokenPath", "fencingToken",
        "fence_token", "database", "reason", "message", "secretKey", "url"}) {
    EXPECT_FALSE(IsSensitiveKey(k)) << k;
  }
}

TEST(RedactTest, UrlPasswords) {
  EXPECT_EQ(RedactUrlPasswords("postgres://app:s3cret@db:5432/app?sslmode=disable"),
            "postgres://app:***@db:5432/app?sslmode=disable");
  EXPECT_EQ(RedactUrlPasswords("a postgresql://u:p@h/d and https://x:y@z end"),
            "a postgresql://u:***@h/d and https://x:***@z end");
  // An unencoded '@' in the password: nothing after the first '@' leaks.
  EXPECT_EQ(RedactUrlPasswords("postgres://u:p@ss@h/d"), "postgres://u:***@h/d");
  // No password, no userinfo, '@' only in the path: unchanged.
  EXPECT_EQ(RedactUrlPasswords("postgres://u@h/d"), "postgres://u@h/d");
  EXPECT_EQ(RedactUrlPasswords("https://h/p@x"), "https://h/p@x");
  EXPECT_EQ(RedactUrlPasswords("no url here"), "no url here");
  EXPECT_EQ(RedactUrlPasswords("'postgres://u:pw@h'"), "'postgres://u:***@h'");
}

TEST(RedactTest, KeywordValuePasswords) {
  EXPECT_EQ(RedactText("host=db user=app password=s3cret dbname=app"),
            "host=db user=app password=*** dbname=app");
  EXPECT_EQ(RedactText("password='a b c' x=1"), "password='***' x=1");
  EXPECT_EQ(RedactText(R"({"password":"hunter2","user":"u"})"), R"({"password":"***","user":"u"})");
  EXPECT_EQ(RedactText("PGPASSWORD: x y"), "PGPASSWORD: *** y");
  EXPECT_EQ(RedactText("the password is checked"), "the password is checked");
}

TEST(RedactTest, AuthorizationSchemes) {
  EXPECT_EQ(RedactText("Authorization: Bearer eyJhbGciOiJSUzI1NiIs.abc"),
            "Authorization: Bearer ***");
  EXPECT_EQ(RedactText("Basic dXNlcjpwYXNzd29yZA=="), "Basic ***");
  EXPECT_EQ(RedactText("Basic setup done"), "Basic setup done");
}

TEST(RedactTest, Field) {
  EXPECT_EQ(RedactField("token", "abc"), kRedacted);
  EXPECT_EQ(RedactField("url", "postgres://u:p@h/d"), "postgres://u:***@h/d");
  EXPECT_EQ(RedactField("name", "app"), "app");
}

}  // namespace
}  // namespace sg::observe
