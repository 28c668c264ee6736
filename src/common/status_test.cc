#include "common/status.h"

#include <gtest/gtest.h>

namespace sg {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidError("odd: " + std::to_string(x));
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  SG_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Status Check(int x) {
  SG_RETURN_IF_ERROR(Quarter(x).status());
  return OkStatus();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(OkStatus().ok());
  Status s = ConflictError("stale resourceVersion");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(s.ToString(), "Conflict: stale resourceVersion");
  EXPECT_EQ(s.WithContext("updating lease").message(), "updating lease: stale resourceVersion");
}

TEST(StatusTest, StatusOrPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd: 3");
  EXPECT_TRUE(Check(8).ok());
  EXPECT_EQ(Check(2).code(), Code::kInvalid);
}

}  // namespace
}  // namespace sg
