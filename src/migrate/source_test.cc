#include "migrate/source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "migrate/checksum.h"

namespace sg::migrate {
namespace {

namespace fs = std::filesystem;

class SourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sg-src-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& body) {
    std::ofstream(dir_ / name) << body;
  }
  fs::path dir_;
};

TEST_F(SourceTest, OrdersNumericallyAndPairsDownFiles) {
  Write("10_ten.up.sql", "SELECT 10;");
  Write("9_nine.up.sql", "SELECT 9;");
  Write("9_nine.down.sql", "SELECT -9;");
  Write("notes.txt", "ignored");
  auto s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->migrations.size(), 2u);
  EXPECT_EQ(s->migrations[0].migration.version, 9);
  EXPECT_EQ(s->migrations[1].migration.version, 10);
  EXPECT_TRUE(s->migrations[0].migration.down.has_value());
  EXPECT_FALSE(s->migrations[1].migration.down.has_value());
  EXPECT_EQ(s->migrations[0].migration.checksum, Sha256Hex("SELECT 9;"));
  EXPECT_EQ(s->Latest(), 10);
  EXPECT_NE(s->Find(10), nullptr);
  EXPECT_EQ(s->Find(11), nullptr);
}

TEST_F(SourceTest, FollowsConfigMapStyleSymlinksAndSkipsDotEntries) {
  fs::create_directories(dir_ / "..2024_01_01");
  std::ofstream(dir_ / "..2024_01_01" / "1_a.up.sql") << "SELECT 1;";
  fs::create_directory_symlink("..2024_01_01", dir_ / "..data");
  fs::create_symlink("..data/1_a.up.sql", dir_ / "1_a.up.sql");
  auto s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->migrations.size(), 1u);
  EXPECT_EQ(s->migrations[0].migration.up.sql, "SELECT 1;");
}

TEST_F(SourceTest, ReportsEveryProblemAtOnce) {
  Write("1_a.up.sql", "SELECT 1;");
  Write("01_b.up.sql", "SELECT 1;");
  Write("x.up.sql", "SELECT 1;");
  Write("2_empty.up.sql", " \n\t\n");
  Write("4_d.down.sql", "SELECT 1;");
  auto s = LoadSource(dir_.string());
  ASSERT_FALSE(s.ok());
  const std::string m = s.status().message();
  EXPECT_NE(m.find("4 problems"), std::string::npos) << m;
  EXPECT_NE(m.find("duplicate version 1"), std::string::npos) << m;
  EXPECT_NE(m.find("x.up.sql: malformed name"), std::string::npos) << m;
  EXPECT_NE(m.find("2_empty.up.sql: empty"), std::string::npos) << m;
  EXPECT_NE(m.find("4_d.down.sql: down migration without an up file"), std::string::npos) << m;
}

// Issue 11, item 14: golang-migrate pairs up and down by version; a down
// file whose name differs from its up file's was refused.
TEST_F(SourceTest, UpAndDownPairByVersionLikeGolangMigrate) {
  Write("3_add_users.up.sql", "CREATE TABLE users (id int);");
  Write("3_drop_users.down.sql", "DROP TABLE users;");
  auto s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->migrations.size(), 1u);
  EXPECT_EQ(s->migrations[0].migration.name, "add_users");
  ASSERT_EQ(s->migrations[0].down_statements.size(), 1u);
  EXPECT_EQ(s->migrations[0].down_statements[0].text, "DROP TABLE users");
}

TEST_F(SourceTest, StripsABeginCommitWrapperOnly) {
  Write("1_w.up.sql", "BEGIN;\nSELECT 1;\nSELECT 2;\nCOMMIT;\n");
  auto s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->migrations[0].up_statements.size(), 2u);
  EXPECT_EQ(s->migrations[0].up_statements[0].text, "SELECT 1");
  EXPECT_EQ(s->migrations[0].up_statements[0].line, 2);
}

TEST_F(SourceTest, NoTransactionFilesKeepTheirTransactionControl) {
  Write("1_n.up.sql", "-- schemagate:no-transaction\nBEGIN;\nSELECT 1;\nCOMMIT;\nVACUUM;\n");
  auto s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->migrations[0].migration.up.no_transaction);
  EXPECT_EQ(s->migrations[0].up_statements.size(), 4u);
}

TEST_F(SourceTest, EmptyDownFileIsAllowedUntilUsed) {
  Write("1_a.up.sql", "SELECT 1;");
  Write("1_a.down.sql", "-- todo\n");
  auto s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->migrations[0].migration.down.has_value());
  EXPECT_TRUE(s->migrations[0].down_statements.empty());
}

TEST_F(SourceTest, MissingDirectoryIsNotFound) {
  auto s = LoadSource((dir_ / "nope").string());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kNotFound);
  EXPECT_NE(s.status().message().find("nope does not exist"), std::string::npos);
}

TEST(ChecksumTest, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Issue 11, item 3: `BEGIN; DROP TABLE important; ROLLBACK;` was taken for a
// wrapper and committed.
TEST_F(SourceTest, ARollbackWrapperIsRefusedNotCommitted) {
  Write("1_r.up.sql", "BEGIN;\nDROP TABLE important;\nROLLBACK;\n");
  auto s = LoadSource(dir_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("1_r.up.sql:3"), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("ROLLBACK"), std::string::npos) << s.status();
  std::filesystem::remove(dir_ / "1_r.up.sql");
  Write("1_e.up.sql", "START TRANSACTION;\nSELECT 1;\nEND;\n");
  s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->migrations[0].up_statements.size(), 1u);
  std::filesystem::remove(dir_ / "1_e.up.sql");
  Write("1_c.up.sql", "COMMIT;\nSELECT 1;\nBEGIN;\n");
  s = LoadSource(dir_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("1_c.up.sql:1"), std::string::npos) << s.status();
}

// Issue 11, item 9: psql accepts a file that starts with a UTF-8 BOM; the
// runner sent the BOM to the server as part of the first statement.
TEST_F(SourceTest, AByteOrderMarkIsSkippedLikePsql) {
  Write("1_bom.up.sql",
        "\xEF\xBB\xBF"
        "CREATE TABLE t (id int);\nSELECT 1;\n");
  Write("2_bom.up.sql", "\xEF\xBB\xBF-- schemagate:no-transaction\nVACUUM;\n");
  auto s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->migrations[0].up_statements.size(), 2u);
  EXPECT_EQ(s->migrations[0].up_statements[0].text, "CREATE TABLE t (id int)");
  EXPECT_EQ(s->migrations[0].up_statements[0].line, 1);
  EXPECT_TRUE(s->migrations[1].migration.up.no_transaction);
  EXPECT_TRUE(s->migrations[1].up_statements.back().text.ends_with("VACUUM"));
  EXPECT_EQ(s->migrations[1].up_statements.back().line, 2);
}

// Issue 11, item 10: a NUL byte silently ended the statement (libpq stops
// there) and the file was recorded applied; a dangling symlink was skipped.
TEST_F(SourceTest, NulBytesAndDanglingLinksAreRefused) {
  Write("1_nul.up.sql", std::string("CREATE TABLE t (id int);\nDROP TABLE t;\0 SELECT 1;\n", 50));
  fs::create_symlink(dir_ / "nowhere.sql", dir_ / "2_gone.up.sql");
  auto s = LoadSource(dir_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("1_nul.up.sql:2: contains a NUL byte"), std::string::npos)
      << s.status();
  EXPECT_NE(s.status().message().find("2_gone.up.sql: a symbolic link to nothing"),
            std::string::npos)
      << s.status();
}

// Issue 11, item 8: a no-transaction file that left its own transaction
// open was recorded applied, then rolled back when the runner disconnected.
TEST_F(SourceTest, ANoTransactionFileMustCloseItsTransactions) {
  Write("1_open.up.sql",
        "-- schemagate:no-transaction\nBEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n"
        "BEGIN;\nCREATE TABLE u (id int);\n");
  auto s = LoadSource(dir_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("1_open.up.sql:5: BEGIN without a COMMIT"), std::string::npos)
      << s.status();
  Write("1_open.up.sql",
        "-- schemagate:no-transaction\nBEGIN;\nCREATE TABLE t (id int);\nROLLBACK;\nVACUUM;\n");
  EXPECT_TRUE(LoadSource(dir_.string()).ok());
}

// Issue 11, item 13: COPY ... FROM stdin failed at run time with the data
// lines shown as the next statement.
TEST_F(SourceTest, CopyFromStdinIsRefusedWithItsLine) {
  Write("1_copy.up.sql",
        "CREATE TABLE t (a int, b text);\n-- the data\nCOPY t (a, b) FROM stdin;\n1\tx\n\\.\n");
  auto s = LoadSource(dir_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("1_copy.up.sql:3: COPY ... FROM STDIN"), std::string::npos)
      << s.status();
  Write("1_copy.up.sql", "COPY t FROM '/srv/data.csv' (FORMAT csv);\nCOPY t TO STDOUT;\n");
  EXPECT_TRUE(LoadSource(dir_.string()).ok());
}

// Issue 11, item 5: a `begin` column inside a BEGIN;...COMMIT; wrapper was
// rejected, and in a no-transaction file it swallowed the CONCURRENTLY
// statement after it (which then failed inside one big query).
TEST_F(SourceTest, ABeginColumnInWrappersAndNoTransactionFiles) {
  Write("1_w.up.sql", "BEGIN;\nCREATE TABLE periods (id int, begin date);\nCOMMIT;\n");
  Write("2_n.up.sql",
        "-- schemagate:no-transaction\nCREATE TABLE spans (begin date);\n"
        "CREATE INDEX CONCURRENTLY spans_begin ON spans (begin);\n");
  auto s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->migrations[0].up_statements.size(), 1u);
  EXPECT_EQ(s->migrations[0].up_statements[0].text, "CREATE TABLE periods (id int, begin date)");
  ASSERT_EQ(s->migrations[1].up_statements.size(), 2u);
  EXPECT_EQ(s->migrations[1].up_statements[1].text,
            "CREATE INDEX CONCURRENTLY spans_begin ON spans (begin)");
  EXPECT_EQ(s->migrations[1].up_statements[1].line, 3);
}

// Issue 11, item 14: golang-migrate applies comment-only files and empty
// BEGIN/COMMIT wrappers as versions that do nothing; sets keep them.
TEST_F(SourceTest, CommentOnlyFilesAndEmptyWrappersAreNoOpVersions) {
  Write("1_note.up.sql", "-- reserved for the billing team\n/* nothing yet */\n");
  Write("2_wrap.up.sql", "BEGIN;\n-- moved to 3\nCOMMIT;\n");
  Write("3_real.up.sql", "CREATE TABLE t (id int);\n");
  auto s = LoadSource(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->migrations.size(), 3u);
  EXPECT_TRUE(s->migrations[0].up_statements.empty());
  EXPECT_TRUE(s->migrations[1].up_statements.empty());
  EXPECT_EQ(s->migrations[2].up_statements.size(), 1u);
}

}  // namespace
}  // namespace sg::migrate
