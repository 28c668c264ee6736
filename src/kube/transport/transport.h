// Transport: the seam between the Kubernetes client and HTTP.
//
// A Transport sends one HTTP request to the API server (paths are absolute
// API paths with their query, e.g. "/api/v1/namespaces/a/pods?limit=5") and
// returns the response. Authentication, TLS, retries and timeouts are the
// implementation's business (see rest_transport.h); callers see only
// requests, responses and Status values.
//
// Contract for Do():
//   - returns a Response for every HTTP answer with a 2xx status;
//   - returns a non-OK Status for everything else: a non-2xx answer becomes
//     the code of the API's Status `reason` (kNotFound, kConflict, kGone...)
//     with its message (api_status.h); a connection failure kUnavailable; an
//     expired per-request timeout kTimeout.
// Contract for Stream(): sends the request and hands the body to `on_data` as
// it arrives (chunk boundaries are arbitrary). Returns OK when the server ends
// the body, the mapped error for a non-2xx answer (the body is not streamed),
// kCancelled once `cancel` is signalled, or the Status `on_data` returned if
// it was not OK (which stops the stream).
//
// Thread-safety: implementations are safe for concurrent calls from many
// threads. `on_data` runs on the thread that called Stream().
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "kube/transport/cancellation.h"

namespace sg::kube {

struct Request {
  std::string method = "GET";
  std::string path;  // absolute path plus query, already escaped
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Whole-request deadline (for Stream: connect until the end of the body).
  // Zero means the transport's default.
  std::chrono::milliseconds timeout{0};
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The header's value or "" (`name` lower-case).
  std::string Header(const std::string& name) const;
};

class Transport {
 public:
  using DataCallback = std::function<Status(std::string_view chunk)>;

  virtual ~Transport() = default;
  virtual StatusOr<Response> Do(const Request& request) = 0;
  virtual Status Stream(const Request& request, const DataCallback& on_data,
                        const Cancellation& cancel) = 0;
};

}  // namespace sg::kube
