#include "kube/lease/lease_record.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace sg::kube {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

bool ReadDigits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string FormatMicroTime(Clock::WallTime t) {
  const auto us = std::chrono::floor<microseconds>(t);
  const auto secs = std::chrono::floor<std::chrono::seconds>(us);
  const auto frac = (us - secs).count();
  const auto day = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(secs - day);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<long long>(frac));
  return buf;
}

StatusOr<Clock::WallTime> ParseMicroTime(std::string_view s) {
  auto bad = [&] {
    return InvalidError("time \"" + std::string(s) +
                        "\" is not RFC 3339 (want 2006-01-02T15:04:05.000000Z)");
  };
  size_t pos = 0;
  int y, mo, d, h, mi, se;
  if (!ReadDigits(s, pos, 4, y) || !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, mo) ||
      !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, d) ||
      !(Expect(s, pos, 'T') || Expect(s, pos, 't')) || !ReadDigits(s, pos, 2, h) ||
      !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, mi) || !Expect(s, pos, ':') ||
      !ReadDigits(s, pos, 2, se)) {
    return bad();
  }
  long long frac_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 6) frac_us = frac_us * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return bad();
    for (int i = digits; i < 6; ++i) frac_us *= 10;
  }
  int offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!ReadDigits(s, pos, 2, oh) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, om)) {
      return bad();
    }
    offset_min = sign * (oh * 60 + om);
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return bad();
  auto t = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(se) + microseconds(frac_us) - std::chrono::minutes(offset_min);
  return Clock::WallTime(duration_cast<Clock::WallTime::duration>(t.time_since_epoch()));
}

std::optional<int64_t> ParsePositiveInt64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

nlohmann::json LeaseSpecToJson(const LeaseRecord& r) {
  nlohmann::json spec = nlohmann::json::object();
  // An empty holder is written as "" (not omitted) so a merge/update clears it.
  spec["holderIdentity"] = r.holder_identity;
  spec["leaseDurationSeconds"] = r.lease_duration_seconds;
  if (r.acquire_time) spec["acquireTime"] = FormatMicroTime(*r.acquire_time);
  if (r.renew_time) spec["renewTime"] = FormatMicroTime(*r.renew_time);
  spec["leaseTransitions"] = r.lease_transitions;
  return spec;
}

StatusOr<LeaseRecord> LeaseRecordFromSpec(const nlohmann::json& spec) {
  LeaseRecord r;
  if (spec.is_null()) return r;
  if (!spec.is_object()) return InvalidError("Lease spec is not an object");
  auto str = [&](const char* f) -> StatusOr<std::optional<std::string>> {
    auto it = spec.find(f);
    if (it == spec.end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string()) return InvalidError(std::string("Lease spec.") + f + " is not a string");
    return std::optional<std::string>(it->get<std::string>());
  };
  auto num = [&](const char* f) -> StatusOr<int32_t> {
    auto it = spec.find(f);
    if (it == spec.end() || it->is_null()) return 0;
    if (!it->is_number_integer()) {
      return InvalidError(std::string("Lease spec.") + f + " is not an integer");
    }
    return it->get<int32_t>();
  };
  SG_ASSIGN_OR_RETURN(auto holder, str("holderIdentity"));
  r.holder_identity = holder.value_or("");
  SG_ASSIGN_OR_RETURN(r.lease_duration_seconds, num("leaseDurationSeconds"));
  SG_ASSIGN_OR_RETURN(r.lease_transitions, num("leaseTransitions"));
  for (auto [field, out] :
       {std::pair{"acquireTime", &r.acquire_time}, std::pair{"renewTime", &r.renew_time}}) {
    SG_ASSIGN_OR_RETURN(auto text, str(field));
    if (!text) continue;
    auto t = ParseMicroTime(*text);
    if (!t.ok()) return t.status().WithContext(std::string("Lease spec.") + field);
    *out = *t;
  }
  return r;
}

}  // namespace sg::kube
