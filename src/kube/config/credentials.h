// Credentials: where the transport gets the bearer token for each request.
//
// The transport calls Token() before every request, so a credential that
// changes (a rotated service-account token file, an exec plugin whose token
// expired) is picked up without rebuilding the client. Invalidate() is called
// after a 401 so the next Token() fetches anew (exec plugins re-run, files
// are re-read).
//
// Tokens are secrets: implementations never put them in a Status message or a
// log line; errors name the file or command instead.
// Thread-safety: every implementation is safe for concurrent use.
// Ownership: shared (std::shared_ptr) between the config and transports.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace sg::kube {

class Credentials {
 public:
  virtual ~Credentials() = default;
  // The bearer token to send, or nullopt to send none (client-certificate
  // auth). An error means no request should be sent.
  virtual StatusOr<std::optional<std::string>> Token() = 0;
  // Drops any cached token (the server rejected it).
  virtual void Invalidate() {}
};

// A fixed token from the kubeconfig's `token` field.
class StaticTokenCredentials final : public Credentials {
 public:
  explicit StaticTokenCredentials(std::string token) : token_(std::move(token)) {}
  StatusOr<std::optional<std::string>> Token() override { return std::optional(token_); }

 private:
  const std::string token_;
};

// A token kept in a file that may be replaced at any time (in-cluster
// projected service-account tokens rotate; kubeconfig `tokenFile`). The file
// is re-read when its modification time or size changed, and at least once
// per `max_age` regardless (mtime granularity can hide a quick rewrite).
// `clock` must outlive this object.
class TokenFileCredentials final : public Credentials {
 public:
  TokenFileCredentials(std::string path, Clock* clock,
                       std::chrono::seconds max_age = std::chrono::seconds(60));
  TokenFileCredentials(const TokenFileCredentials&) = delete;
  TokenFileCredentials& operator=(const TokenFileCredentials&) = delete;

  StatusOr<std::optional<std::string>> Token() override;
  void Invalidate() override;

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  Clock* const clock_;
  const std::chrono::seconds max_age_;
  std::mutex mu_;
  bool loaded_ = false;        // guarded by mu_
  std::string token_;          // guarded by mu_
  Clock::TimePoint read_at_;   // guarded by mu_
  std::int64_t mtime_ns_ = 0;  // guarded by mu_
  std::int64_t size_ = -1;     // guarded by mu_
};

}  // namespace sg::kube
