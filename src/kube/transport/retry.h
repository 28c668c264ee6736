// Retry policy for API requests: which failures are retried and how long to
// wait between attempts (exponential backoff with jitter, bounded, honouring
// the server's Retry-After).
//
// Rules (after client-go's request.go):
//   - 429, and any 5xx carrying Retry-After: the server asks for a retry and
//     did not act on the request -> retried for every verb.
//   - other 500/502/503/504 and connection failures: retried only for
//     idempotent verbs (GET, HEAD, OPTIONS, PUT, DELETE), since a POST or
//     PATCH may have been applied before the failure.
//   - everything else (4xx, timeouts of our own deadline) is final.
// Thread-safety: RetryPolicy is a value; Backoff() is const and uses the
// caller's random source.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string_view>

namespace sg::kube {

struct RetryPolicy {
  int max_attempts = 5;  // total attempts, including the first
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};
  // Longest Retry-After we accept; a longer one is clamped (so a request is
  // never parked for minutes behind a misbehaving proxy).
  std::chrono::milliseconds max_retry_after{30'000};
  double jitter = 0.2;  // delay * [1, 1 + jitter)

  static RetryPolicy None() {
    RetryPolicy p;
    p.max_attempts = 1;
    return p;
  }
};

bool IsIdempotent(std::string_view method);

// Whether an HTTP answer is worth another attempt. `has_retry_after` is true
// when the answer carried a parsable Retry-After header.
bool ShouldRetryHttp(std::string_view method, int http_code, bool has_retry_after);

// Whether a failure to get any answer (connect refused, reset) is retried.
bool ShouldRetryConnection(std::string_view method);

// The delay before attempt number `attempt` (1 = the first retry): the
// server's Retry-After if given (clamped to max_retry_after), otherwise
// initial_backoff * 2^(attempt-1) capped at max_backoff, with jitter.
std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int attempt,
                                     std::optional<std::chrono::seconds> retry_after,
                                     std::mt19937_64& rng);

}  // namespace sg::kube
