// HttpServer: the operator's observability endpoint, on cpprestsdk's
// http_listener:
//
//   GET /metrics   the Registry's Prometheus text exposition (0.0.4)
//   GET /healthz   liveness: the liveness checks (kubelet restarts on failure)
//   GET /readyz    readiness: the liveness checks, then the readiness checks
//                  (e.g. "informers-synced"); 500 after MarkShuttingDown()
//   ?verbose       per-check lines even when everything passes
// Anything else is 404; methods other than GET/HEAD are 405.
//
// The address defaults to 127.0.0.1:8080 (local runs); the Helm chart passes
// ":8080" so the kubelet and Prometheus can reach it inside the pod.
//
// Thread-safety: requests are served on cpprestsdk's thread pool; AddLiveness
// / AddReadiness / MarkShuttingDown / Stop may be called from any thread,
// before or after Start. Checks must be cheap (see health.h).
// Ownership: `registry` (may be null: /metrics is then empty) must outlive
// the server. Stop() (also run by the destructor) closes the listener and
// waits for it; requests still arriving after that get 503 and never touch
// the registry or the checks.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "observe/http_server/health.h"
#include "observe/http_server/listen_address.h"
#include "observe/metrics/registry.h"

namespace sg::observe {

struct HttpServerOptions {
  std::string address = "127.0.0.1:8080";
};

class HttpServer {
 public:
  // Parses the address and starts listening: kInvalid for a bad address,
  // kUnavailable when it cannot be bound (in use, no such interface).
  static StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                     const Registry* registry);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void AddLivenessCheck(std::string name, HealthCheck check);
  void AddReadinessCheck(std::string name, HealthCheck check);
  // From now on /readyz fails with "shutting-down": the pod leaves Service
  // endpoints while in-flight work drains (call on SIGTERM).
  void MarkShuttingDown();
  void Stop();

  const ListenAddress& address() const { return address_; }

 private:
  struct State;
  class Listener;
  HttpServer(ListenAddress address, std::shared_ptr<State> state);

  const ListenAddress address_;
  std::shared_ptr<State> state_;
  std::unique_ptr<Listener> listener_;
};

}  // namespace sg::observe
