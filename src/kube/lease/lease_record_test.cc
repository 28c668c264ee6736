#include "kube/lease/lease_record.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

namespace sg::kube {
namespace {

using namespace std::chrono_literals;

TEST(MicroTimeTest, FormatsUtcWithMicroseconds) {
  // 2024-05-01T10:00:00Z is 1714557600 s after the epoch.
  Clock::WallTime t{std::chrono::seconds(1714557600) + 123456789ns};
  EXPECT_EQ(FormatMicroTime(t), "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(FormatMicroTime(Clock::WallTime{std::chrono::seconds(0)}),
            "1970-01-01T00:00:00.000000Z");
}

TEST(MicroTimeTest, ParsesWhatItFormatsAndOtherRfc3339Forms) {
  Clock::WallTime t{std::chrono::seconds(1714557600) + 123456us};
  auto parsed = ParseMicroTime(FormatMicroTime(t));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, t);
  auto plain = ParseMicroTime("2024-05-01T10:00:00Z");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, Clock::WallTime{std::chrono::seconds(1714557600)});
  auto offset = ParseMicroTime("2024-05-01T12:00:00.5+02:00");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, Clock::WallTime{std::chrono::seconds(1714557600) + 500ms});
}

TEST(MicroTimeTest, RejectsGarbageNamingTheText) {
  for (const char* bad : {"", "2024-05-01", "2024-13-01T00:00:00Z", "2024-05-01T10:00:00",
                          "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00Zjunk"}) {
    auto r = ParseMicroTime(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalid);
    EXPECT_NE(r.status().message().find(bad), std::string::npos);
  }
}

TEST(LeaseRecordTest, ParsesPositiveDecimalIntegersOnly) {
  EXPECT_EQ(ParsePositiveInt64("1"), 1);
  EXPECT_EQ(ParsePositiveInt64("4815162342"), 4815162342);
  EXPECT_EQ(ParsePositiveInt64("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "0", "-1", "+1", " 1", "1 ", "1e3", "0x10", "abc",
                          "9223372036854775808", "99999999999999999999"}) {
    EXPECT_EQ(ParsePositiveInt64(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(LeaseRecordJsonTest, RoundTripsSpec) {
  LeaseRecord r;
  r.holder_identity = "pod-a";
  r.lease_duration_seconds = 15;
  r.acquire_time = Clock::WallTime{std::chrono::seconds(1714557600)};
  r.renew_time = Clock::WallTime{std::chrono::seconds(1714557610) + 250us};
  r.lease_transitions = 3;
  auto spec = LeaseSpecToJson(r);
  EXPECT_EQ(spec["holderIdentity"], "pod-a");
  EXPECT_EQ(spec["renewTime"], "2024-05-01T10:00:10.000250Z");
  auto back = LeaseRecordFromSpec(spec);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
}

TEST(LeaseRecordJsonTest, MissingFieldsAreZeroAndBadTypesNameTheField) {
  auto empty = LeaseRecordFromSpec(nlohmann::json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, LeaseRecord{});
  auto bad = LeaseRecordFromSpec({{"leaseTransitions", "three"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("leaseTransitions"), std::string::npos);
  auto bad_time = LeaseRecordFromSpec({{"renewTime", "yesterday"}});
  ASSERT_FALSE(bad_time.ok());
  EXPECT_NE(bad_time.status().message().find("renewTime"), std::string::npos);
}

}  // namespace
}  // namespace sg::kube
