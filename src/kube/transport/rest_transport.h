// RestTransport: the cpprestsdk (boost::asio + OpenSSL) implementation of
// Transport for a RestConfig.
//
// TLS: certificate verification is on unless the config says
// insecure-skip-tls-verify. With a CA configured, ONLY that CA is trusted (the
// system store is dropped, as client-go does); without one, the system store.
// The host name (or IP) of the server is checked against the certificate.
// Client certificate and key come from files or inline data. All PEM inputs
// are read and validated in Create(), so a bad file fails at startup with its
// kubeconfig field named.
//
// Each request: Authorization: Bearer <Credentials::Token()> when there is a
// token (fetched per request; a 401 invalidates it and retries once);
// keep-alive connections are pooled by the one http_client; Accept and
// Content-Type default to application/json. Retries follow retry.h, sleeping
// through the injected Clock.
//
// Cancellation (Stream's Cancellation, a deadline) may come at any moment,
// also before the response headers; the transport may be destroyed as soon
// as the call returns, even if cpprestsdk is still winding the request down.
// For that the transport makes cpprestsdk's thread pool single-threaded
// during static initialisation and runs request starts and cancels on it
// (see rest_transport.cc): nothing else in the process may size or start
// that pool before main(), else Create() fails with kInternal. The pool
// thread blocks asynchronous signals (SIGTERM goes to the program's own
// threads). Code running on the pool (cpprestsdk continuations,
// http_listener handlers) must never block on another cpprestsdk task.
//
// Thread-safety: Do() and Stream() may run concurrently from many threads.
// Ownership: `clock` must outlive the transport. Copying is deleted.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "kube/config/rest_config.h"
#include "kube/transport/retry.h"
#include "kube/transport/transport.h"

namespace sg::kube {

struct TransportOptions {
  Clock* clock = Clock::Real();
  RetryPolicy retry;
  // Deadline for requests that do not set one. Streams default to none.
  std::chrono::milliseconds default_timeout{30'000};
  std::string user_agent = "schemagate";
};

class RestTransport final : public Transport {
 public:
  static StatusOr<std::unique_ptr<RestTransport>> Create(const RestConfig& config,
                                                         TransportOptions options = {});
  ~RestTransport() override;
  RestTransport(const RestTransport&) = delete;
  RestTransport& operator=(const RestTransport&) = delete;

  StatusOr<Response> Do(const Request& request) override;
  Status Stream(const Request& request, const DataCallback& on_data,
                const Cancellation& cancel) override;

  struct Impl;

 private:
  explicit RestTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::kube
