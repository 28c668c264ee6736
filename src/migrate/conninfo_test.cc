#include "migrate/conninfo.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sg::migrate
