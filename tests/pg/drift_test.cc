// Drift is an error by default, named file by file.
#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

using nlohmann::json;

class DriftTest : public MigrateTest {
 protected:
  void SetUp() override {
    MigrateTest::SetUp();
    Write("0001_a.up.sql", "CREATE TABLE a (x int);\n");
    Write("0003_c.up.sql", "CREATE TABLE c (x int);\n");
    ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  }
};

TEST_F(DriftTest, ChangedChecksum) {
  Write("0001_a.up.sql", "CREATE TABLE a (x bigint);\n");
  Write("0004_d.up.sql", "CREATE TABLE d (x int);\n");
  int code = -1;
  json r = MigrateJson({"up"}, &code);
  EXPECT_EQ(code, 4);
  EXPECT_EQ(r["error"]["reason"], "ChecksumMismatch");
  ASSERT_EQ(r["drift"].size(), 1u);
  EXPECT_EQ(r["drift"][0]["file"], "0001_a.up.sql");
  EXPECT_NE(r["drift"][0]["message"].get<std::string>().find("0001_a.up.sql was changed"),
            std::string::npos);
  EXPECT_FALSE(TableExists("d"));  // nothing runs while drifted
  EXPECT_EQ(Migrate({"status"}).exit_code, 4);
  EXPECT_EQ(Migrate({"validate"}).exit_code, 4);
}

TEST_F(DriftTest, MissingFile) {
  Remove("0001_a.up.sql");
  int code = -1;
  json r = MigrateJson({"up"}, &code);
  EXPECT_EQ(code, 4);
  EXPECT_EQ(r["drift"][0]["kind"], "MissingFile");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("version 1 (a) is applied but"),
            std::string::npos);
}

TEST_F(DriftTest, OutOfOrderRefusedUnlessAllowed) {
  Write("0002_b.up.sql", "CREATE TABLE b (x int);\n");
  int code = -1;
  json r = MigrateJson({"up"}, &code);
  EXPECT_EQ(code, 4);
  EXPECT_EQ(r["drift"][0]["kind"], "OutOfOrder");
  EXPECT_EQ(r["drift"][0]["file"], "0002_b.up.sql");
  EXPECT_FALSE(TableExists("b"));
  RunResult allowed = Migrate({"up", "--allow-out-of-order"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_TRUE(TableExists("b"));
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(DriftTest, EveryDriftIsListed) {
  Write("0001_a.up.sql", "-- edited\nCREATE TABLE a (x int);\n");
  Remove("0003_c.up.sql");
  int code = -1;
  json r = MigrateJson({"validate"}, &code);
  EXPECT_EQ(code, 4);
  ASSERT_EQ(r["drift"].size(), 2u);
  EXPECT_EQ(r["drift"][0]["kind"], "ChecksumMismatch");
  EXPECT_EQ(r["drift"][1]["kind"], "MissingFile");
}

}  // namespace
}  // namespace sg::testing
