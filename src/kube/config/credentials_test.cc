#include "kube/config/credentials.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "kube/config/temp_dir_for_test.h"

namespace sg::kube {
namespace {

TEST(TokenFileCredentialsTest, ReReadsWhenTheFileChanges) {
  TempDir dir;
  std::string path = dir.Write("token", "first-token\n");
  FakeClock clock;
  TokenFileCredentials creds(path, &clock);
  auto t = creds.Token();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->value(), "first-token");

  // Rotation by atomic rename, as kubelet does: a different size and mtime.
  std::string tmp = dir.Write("token.new", "second-token-longer");
  std::filesystem::rename(tmp, path);
  t = creds.Token();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value(), "second-token-longer");
}

TEST(TokenFileCredentialsTest, ReReadsAfterMaxAgeEvenIfStatLooksTheSame) {
  TempDir dir;
  std::string path = dir.Write("token", "aaaa");
  FakeClock clock;
  TokenFileCredentials creds(path, &clock, std::chrono::seconds(60));
  ASSERT_EQ(creds.Token()->value(), "aaaa");
  // Same size, and pin the old mtime: stat cannot see the change.
  auto mtime = std::filesystem::last_write_time(path);
  dir.Write("token", "bbbb");
  std::filesystem::last_write_time(path, mtime);
  EXPECT_EQ(creds.Token()->value(), "aaaa");
  clock.Advance(std::chrono::seconds(61));
  EXPECT_EQ(creds.Token()->value(), "bbbb");
}

TEST(TokenFileCredentialsTest, InvalidateForcesReRead) {
  TempDir dir;
  std::string path = dir.Write("token", "aaaa");
  FakeClock clock;
  TokenFileCredentials creds(path, &clock);
  ASSERT_EQ(creds.Token()->value(), "aaaa");
  auto mtime = std::filesystem::last_write_time(path);
  dir.Write("token", "cccc");
  std::filesystem::last_write_time(path, mtime);
  creds.Invalidate();
  EXPECT_EQ(creds.Token()->value(), "cccc");
}

TEST(TokenFileCredentialsTest, KeepsLastTokenWhileFileIsBriefllyMissing) {
  TempDir dir;
  std::string path = dir.Write("token", "aaaa");
  FakeClock clock;
  TokenFileCredentials creds(path, &clock);
  ASSERT_EQ(creds.Token()->value(), "aaaa");
  std::filesystem::remove(path);
  clock.Advance(std::chrono::minutes(5));
  auto t = creds.Token();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value(), "aaaa");
}

TEST(TokenFileCredentialsTest, MissingFileIsAnErrorNamingThePath) {
  FakeClock clock;
  TokenFileCredentials creds("/nonexistent/token", &clock);
  auto t = creds.Token();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "token file /nonexistent/token: cannot stat it");
}

}  // namespace
}  // namespace sg::kube
