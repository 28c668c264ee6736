#include "kube/transport/retry.h"

#include <algorithm>

namespace sg::kube {

bool IsIdempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "PUT" || m == "DELETE";
}

bool ShouldRetryHttp(std::string_view method, int code, bool has_retry_after) {
  if (code == 429) return true;
  if (code >= 500 && has_retry_after) return true;
  if (code == 500 || code == 502 || code == 503 || code == 504) return IsIdempotent(method);
  return false;
}

bool ShouldRetryConnection(std::string_view method) { return IsIdempotent(method); }

std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int attempt,
                                     std::optional<std::chrono::seconds> retry_after,
                                     std::mt19937_64& rng) {
  using std::chrono::milliseconds;
  if (retry_after) {
    return std::min<milliseconds>(*retry_after, policy.max_retry_after);
  }
  double base = static_cast<double>(policy.initial_backoff.count());
  for (int i = 1; i < attempt && base < policy.max_backoff.count(); ++i) base *= 2;
  base = std::min(base, static_cast<double>(policy.max_backoff.count()));
  if (policy.jitter > 0) {
    std::uniform_real_distribution<double> d(0.0, policy.jitter);
    base *= 1.0 + d(rng);
  }
  return milliseconds(static_cast<long long>(base));
}

}  // namespace sg::kube
