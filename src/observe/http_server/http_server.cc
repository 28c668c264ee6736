#include "observe/http_server/http_server.h"

#include <atomic>
#include <mutex>

#include <cpprest/http_listener.h>

namespace sg::observe {

namespace http = web::http;

struct HttpServer::State {
  const Registry* registry = nullptr;
  HealthChecks liveness{"healthz"};
  HealthChecks readiness{"readyz"};
  std::atomic<bool> shutting_down{false};
  std::atomic<bool> stopped{false};
};

class HttpServer::Listener {
 public:
  explicit Listener(const std::string& url) : listener_(web::uri(url)) {}
  http::experimental::listener::http_listener listener_;
};

namespace {

struct Answer {
  http::status_code code = http::status_codes::OK;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

// "?verbose", "?verbose=1", "?a=b&verbose" (split_query drops keys without '=').
bool HasQueryFlag(const web::uri& uri, const std::string& flag) {
  const std::string query = uri.query();
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string item = query.substr(start, end - start);
    if (item.substr(0, item.find('=')) == flag) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

HttpServer::HttpServer(ListenAddress address, std::shared_ptr<State> state)
    : address_(std::move(address)), state_(std::move(state)) {}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                        const Registry* registry) {
  SG_ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(options.address));
  auto state = std::make_shared<State>();
  state->registry = registry;
  std::unique_ptr<HttpServer> server(new HttpServer(address, state));

  // The handler holds the State, never the server: a request racing Stop()
  // finds `stopped` and does not touch the registry.
  auto handler = [state](http::http_request request) {
    Answer a;
    const std::string path = request.relative_uri().path();
    const auto method = request.method();
    if (state->stopped.load()) {
      a.code = http::status_codes::ServiceUnavailable;
      a.body = "stopped";
    } else if (method != http::methods::GET && method != http::methods::HEAD) {
      a.code = http::status_codes::MethodNotAllowed;
      a.body = "method not allowed";
    } else if (path == "/metrics") {
      a.content_type = std::string(kExpositionContentType);
      a.body = state->registry ? state->registry->Expose() : "";
    } else if (path == "/healthz" || path == "/livez") {
      HealthReport r = state->liveness.Evaluate(HasQueryFlag(request.request_uri(), "verbose"));
      a.code = static_cast<http::status_code>(r.http_status);
      a.body = std::move(r.body);
    } else if (path == "/readyz") {
      bool verbose = HasQueryFlag(request.request_uri(), "verbose");
      HealthReport r = state->readiness.Evaluate(verbose, &state->liveness);
      if (state->shutting_down.load()) {
        r.http_status = 500;
        r.body = "[-]shutting-down failed: the process is terminating\nreadyz check failed";
      }
      a.code = static_cast<http::status_code>(r.http_status);
      a.body = std::move(r.body);
    } else {
      a.code = http::status_codes::NotFound;
      a.body = "404 page not found";
    }
    if (method == http::methods::HEAD) a.body.clear();
    try {
      request.reply(a.code, a.body, a.content_type).then([](pplx::task<void> t) {
        try {
          t.get();
        } catch (...) {  // the client went away: nothing to do
        }
      });
    } catch (...) {
    }
  };

  try {
    server->listener_ = std::make_unique<Listener>(address.Url());
    server->listener_->listener_.support(handler);
    server->listener_->listener_.open().wait();
  } catch (const std::exception& e) {
    server->listener_.reset();
    return UnavailableError("cannot listen on " + address.ToString() + ": " + e.what());
  }
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::AddLivenessCheck(std::string name, HealthCheck check) {
  state_->liveness.Add(std::move(name), std::move(check));
}

void HttpServer::AddReadinessCheck(std::string name, HealthCheck check) {
  state_->readiness.Add(std::move(name), std::move(check));
}

void HttpServer::MarkShuttingDown() { state_->shutting_down.store(true); }

void HttpServer::Stop() {
  if (state_->stopped.exchange(true)) return;
  if (!listener_) return;
  try {
    listener_->listener_.close().wait();
  } catch (...) {  // closing a listener that failed is not an error
  }
  listener_.reset();
}

}  // namespace sg::observe
