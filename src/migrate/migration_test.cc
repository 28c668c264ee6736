#include "migrate/migration.h"

#include <gtest/gtest.h>

namespace sg::migrate {
namespace {

TEST(FileNameTest, ParsesGolangMigrateNames) {
  auto up = ParseFileName("0001_create_users.up.sql");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->version, 1);
  EXPECT_EQ(up->name, "create_users");
  EXPECT_EQ(up->direction, Direction::kUp);
  auto down = ParseFileName("20240101120000_add.index.down.sql");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->version, 20240101120000);
  EXPECT_EQ(down->name, "add.index");
  EXPECT_EQ(down->direction, Direction::kDown);
}

TEST(FileNameTest, RejectsMalformed) {
  for (const char* bad : {"x_1.up.sql", "1.up.sql", "1_.up.sql", "_a.up.sql", "1_a.sql",
                          "1_a.UP.sql", "99999999999999999999_big.up.sql", "1_a.up.sql.bak",
                          // 19 digits: above kMaxVersion (issue 11, item 12)
                          "1000000000000000000_big.up.sql"}) {
    EXPECT_FALSE(ParseFileName(bad)) << bad;
  }
}

TEST(FileNameTest, EighteenDigitsWhateverTheLeadingZeros) {
  auto max = ParseFileName("999999999999999999_max.up.sql");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->version, kMaxVersion);
  auto padded = ParseFileName("0000000000000000000001_one.up.sql");
  ASSERT_TRUE(padded);
  EXPECT_EQ(padded->version, 1);
}

TEST(DirectiveTest, OnlyTheFirstLineCounts) {
  EXPECT_TRUE(HasNoTransactionDirective("-- schemagate:no-transaction\nCREATE INDEX ..."));
  EXPECT_TRUE(HasNoTransactionDirective("-- schemagate:no-transaction  \r\nX"));
  EXPECT_TRUE(HasNoTransactionDirective("\xEF\xBB\xBF-- schemagate:no-transaction\n"));
  EXPECT_FALSE(HasNoTransactionDirective("\n-- schemagate:no-transaction\n"));
  EXPECT_FALSE(HasNoTransactionDirective("-- schemagate:no-transactions\n"));
}

TEST(ScriptTest, FileNameIsTheBaseName) {
  Script s{"/a/b/0001_x.up.sql", "", false};
  EXPECT_EQ(s.FileName(), "0001_x.up.sql");
}

}  // namespace
}  // namespace sg::migrate
