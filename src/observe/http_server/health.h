// HealthChecks: named liveness or readiness checks and their HTTP answer,
// in the shape of the Kubernetes API server's /healthz and /readyz:
//
//   all pass, not verbose -> 200 "ok"
//   verbose (?verbose) or any failure -> one line per check, then a verdict:
//     [+]ping ok
//     [-]informers-synced failed: SchemaMigration informer not synced
//     readyz check failed                                  (HTTP 500)
//
// A check returns OK when healthy; a failure's message (credentials
// redacted) is shown. Checks run on the HTTP server's threads at every probe
// and must be cheap and thread-safe: read an atomic flag, compare a
// timestamp; never call the API server.
//
// Thread-safety: Add() and Evaluate() may be called from any thread.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace sg::observe {

using HealthCheck = std::function<Status()>;

struct HealthReport {
  int http_status = 200;
  std::string body;
};

class HealthChecks {
 public:
  // `kind` names the endpoint in the verdict line ("healthz", "readyz").
  explicit HealthChecks(std::string kind) : kind_(std::move(kind)) {}
  HealthChecks(const HealthChecks&) = delete;
  HealthChecks& operator=(const HealthChecks&) = delete;

  void Add(std::string name, HealthCheck check);
  // Runs `extra` first (e.g. the liveness checks for /readyz), then ours.
  HealthReport Evaluate(bool verbose, const HealthChecks* extra = nullptr) const;

 private:
  struct Result {
    std::string name;
    Status status;
  };
  std::vector<Result> Run() const;

  const std::string kind_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, HealthCheck>> checks_;
};

}  // namespace sg::observe
