#include "observe/http_server/health.h"

#include <gtest/gtest.h>

#include <atomic>

namespace sg::observe {
namespace {

TEST(HealthChecksTest, NoChecksIsHealthy) {
  HealthChecks h("healthz");
  auto r = h.Evaluate(false);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(h.Evaluate(true).body, "healthz check passed");
}

TEST(HealthChecksTest, FailureListsEveryCheck) {
  HealthChecks live("healthz");
  live.Add("ping", [] { return OkStatus(); });
  HealthChecks ready("readyz");
  std::atomic<bool> synced{false};
  ready.Add("informers-synced", [&] {
    return synced ? OkStatus() : UnavailableError("SchemaMigration informer not synced");
  });
  auto r = ready.Evaluate(false, &live);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_EQ(r.body,
            "[+]ping ok\n"
            "[-]informers-synced failed: SchemaMigration informer not synced\n"
            "readyz check failed");
  synced = true;
  r = ready.Evaluate(false, &live);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "ok");
  r = ready.Evaluate(true, &live);
  EXPECT_EQ(r.body, "[+]ping ok\n[+]informers-synced ok\nreadyz check passed");
}

TEST(HealthChecksTest, MessagesAreRedactedAndExceptionsContained) {
  HealthChecks h("healthz");
  h.Add("db", [] { return UnavailableError("cannot reach postgres://u:hunter2@h/d"); });
  h.Add("boom", []() -> Status { throw std::runtime_error("x"); });
  auto r = h.Evaluate(false);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
  EXPECT_NE(r.body.find("[-]db failed: cannot reach postgres://u:***@h/d\n"), std::string::npos);
  EXPECT_NE(r.body.find("[-]boom failed: check threw an exception\n"), std::string::npos);
}

}  // namespace
}  // namespace sg::observe
