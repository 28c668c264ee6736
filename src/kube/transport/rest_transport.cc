#include "kube/transport/rest_transport.h"

#include <cpprest/http_client.h>
#include <pplx/threadpool.h>

#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kube/transport/api_status.h"
#include "kube/transport/tls.h"

namespace sg::kube {

namespace http = web::http;
namespace client = web::http::client;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::map<std::string, std::string> Headers(const http::http_headers& h) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : h) out[Lower(k)] = v;
  return out;
}

// The outcome of one attempt: an HTTP answer, or a failure to get one.
struct Attempt {
  bool answered = false;
  Response response;
  Status error;  // when !answered: kUnavailable, kTimeout
};

// Shared with the pplx continuation, which may outlive the waiting call.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Attempt attempt;
};

// Why every request start and every cancellation goes through the pool:
// cpprestsdk runs its asio handlers on a shared pool without strands, and
// cancels a request (token, or its own timeout) by closing the connection's
// socket from whichever thread cancels. An asio socket is not thread-safe: a
// close on one thread while a pool thread is inside a composed SSL read on the
// same socket (waiting for response headers) frees the reactor's descriptor
// state under it (SIGSEGV in epoll_reactor::start_op; seen when a watch was
// cancelled before its headers arrived). With ONE pool thread, and request
// starts and cancels posted onto it, every connection is touched by that
// thread only. The pool size can be set once, before its first use: this
// runs during static initialisation, before main().
const bool kSinglePoolThread = [] {
  // OpenSSL first: exit handlers run in reverse order, so its cleanup then
  // comes after the pool has joined its thread, never under a TLS handshake
  // still running there.
  OPENSSL_init_ssl(0, nullptr);
  // The pool thread starts now, before main() can block SIGTERM & co. for
  // its sigwait thread; started with them blocked, it never takes a signal
  // meant for the process (a stray SIGTERM would kill it with the default
  // action). Synchronous signals stay deliverable.
  sigset_t all, old;
  sigfillset(&all);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) sigdelset(&all, sig);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  bool ok = true;
  try {
    crossplat::threadpool::initialize_with_threads(1);
  } catch (const std::exception&) {
    ok = false;  // someone started the pool first; Create() reports it
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return ok;
}();

boost::asio::io_service& Pool() { return crossplat::threadpool::shared_instance().service(); }

// Cancels on the pool thread (see above); `cts` is shared, the copy keeps it.
void CancelOnPool(const pplx::cancellation_token_source& cts) {
  boost::asio::post(Pool(), [cts]() mutable { cts.cancel(); });
}

// http_client::request() started on the pool thread. The client is shared so
// it outlives a transport destroyed before the post runs.
pplx::task<http::http_response> RequestOnPool(std::shared_ptr<client::http_client> http,
                                              http::http_request req,
                                              pplx::cancellation_token token) {
  pplx::task_completion_event<http::http_response> tce;
  boost::asio::post(Pool(), [http = std::move(http), req, token, tce]() mutable {
    try {
      http->request(req, token).then([tce](pplx::task<http::http_response> t) {
        try {
          tce.set(t.get());
        } catch (...) {
          tce.set_exception(std::current_exception());  // task_canceled included
        }
      });
    } catch (...) {
      tce.set_exception(std::current_exception());
    }
  });
  return pplx::create_task(tce);
}

}  // namespace

struct RestTransport::Impl {
  Impl(const RestConfig& config, TransportOptions o, TlsMaterial tls,
       client::http_client_config cfg)
      : server(config.server),
        credentials(config.credentials),
        options(std::move(o)),
        tls(std::move(tls)),
        http(std::make_shared<client::http_client>(web::uri(config.server), cfg)),
        rng(std::random_device{}()) {}

  StatusOr<http::http_request> Build(const Request& r) {
    http::http_request req(r.method);
    try {
      req.set_request_uri(web::uri(r.path));
    } catch (const std::exception&) {
      return InvalidError(r.method + " " + r.path + ": not a valid request path");
    }
    auto& h = req.headers();
    h.add("Accept", "application/json");
    h.add("User-Agent", options.user_agent);
    for (const auto& [k, v] : r.headers) {
      if (h.has(k)) h.remove(k);
      h.add(k, v);
    }
    if (credentials) {
      auto token = credentials->Token();
      if (!token.ok()) return token.status().WithContext("credentials");
      if (token->has_value()) h.add("Authorization", "Bearer " + token->value());
    }
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      std::string type = h.content_type().empty() ? "application/json" : h.content_type();
      req.set_body(r.body, type);
    }
    return req;
  }

  std::string Describe(const Request& r) const { return r.method + " " + server + r.path; }

  // One attempt bounded by `wait` real time.
  Attempt Once(const Request& r, http::http_request req, std::chrono::milliseconds wait) {
    auto pending = std::make_shared<Pending>();
    pplx::cancellation_token_source cts;
    RequestOnPool(http, std::move(req), cts.get_token())
        .then([](http::http_response resp) {
          return resp.extract_string(/*ignore_content_type=*/true).then([resp](std::string body) {
            Attempt a;
            a.answered = true;
            a.response.status = resp.status_code();
            a.response.headers = Headers(resp.headers());
            a.response.body = std::move(body);
            return a;
          });
        })
        .then([pending, what = Describe(r)](pplx::task<Attempt> t) {
          Attempt a;
          try {
            a = t.get();
          } catch (const pplx::task_canceled&) {
            a.error = TimeoutError(what + ": deadline exceeded");
          } catch (const std::exception& e) {
            a.error = UnavailableError(what + ": " + e.what());
          }
          std::lock_guard<std::mutex> l(pending->mu);
          pending->attempt = std::move(a);
          pending->done = true;
          pending->cv.notify_all();
        });
    std::unique_lock<std::mutex> l(pending->mu);
    if (!pending->cv.wait_for(l, wait, [&] { return pending->done; })) {
      l.unlock();
      CancelOnPool(cts);
      Attempt a;
      a.error = TimeoutError(Describe(r) + ": deadline of " + std::to_string(wait.count()) +
                             " ms exceeded");
      return a;
    }
    return std::move(pending->attempt);
  }

  std::chrono::milliseconds Delay(int attempt, std::optional<std::chrono::seconds> retry_after) {
    std::lock_guard<std::mutex> l(rng_mu);
    return RetryDelay(options.retry, attempt, retry_after, rng);
  }

  const std::string server;
  const std::shared_ptr<Credentials> credentials;
  const TransportOptions options;
  const TlsMaterial tls;
  // Shared with requests posted to the pool (RequestOnPool).
  std::shared_ptr<client::http_client> http;
  std::mutex rng_mu;
  std::mt19937_64 rng;  // guarded by rng_mu
};

StatusOr<std::unique_ptr<RestTransport>> RestTransport::Create(const RestConfig& config,
                                                               TransportOptions options) {
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return InvalidError(config.source + ": server \"" + config.server + "\" is not an http(s) URL");
  }
  if (!kSinglePoolThread) {
    return InternalError(
        "cpprestsdk's thread pool was started before the Kubernetes transport could make it "
        "single-threaded (see rest_transport.cc)");
  }
  SG_ASSIGN_OR_RETURN(TlsMaterial tls, LoadTlsMaterial(config.tls));
  client::http_client_config cfg;
  // Our own deadlines (Request::timeout) bound each call; cpprestsdk's timer
  // must not cut long watches short.
  cfg.set_timeout(std::chrono::hours(24));
  cfg.set_validate_certificates(!tls.insecure_skip_verify);
  auto material = std::make_shared<TlsMaterial>(tls);
  cfg.set_ssl_context_callback([material](boost::asio::ssl::context& ctx) {
    if (!ConfigureSslContext(*material, ctx.native_handle())) {
      // Only reachable on allocation failure; cpprestsdk turns this into a
      // failed request, which we report as kUnavailable.
      throw std::runtime_error("cannot configure TLS context");
    }
  });
  try {
    auto impl = std::make_unique<Impl>(config, std::move(options), std::move(tls), cfg);
    return std::unique_ptr<RestTransport>(new RestTransport(std::move(impl)));
  } catch (const std::exception& e) {
    return InvalidError(config.source + ": server \"" + config.server + "\": " + e.what());
  }
}

RestTransport::RestTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RestTransport::~RestTransport() = default;

StatusOr<Response> RestTransport::Do(const Request& request) {
  Impl& im = *impl_;
  Clock* clock = im.options.clock;
  auto timeout = request.timeout.count() > 0 ? request.timeout : im.options.default_timeout;
  const auto deadline = clock->Now() + timeout;
  bool reauthenticated = false;
  Status last;
  for (int attempt = 1;; ++attempt) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock->Now());
    if (left.count() <= 0) {
      return last.ok() ? TimeoutError(im.Describe(request) + ": deadline exceeded") : last;
    }
    SG_ASSIGN_OR_RETURN(http::http_request req, im.Build(request));
    Attempt a = im.Once(request, std::move(req), left);
    std::optional<std::chrono::seconds> retry_after;
    bool retry = false;
    if (!a.answered) {
      last = a.error;
      // Our own deadline is final; connection failures retry if safe.
      retry = a.error.code() == Code::kUnavailable && ShouldRetryConnection(request.method);
    } else {
      int code = a.response.status;
      if (code >= 200 && code < 300) return std::move(a.response);
      last = StatusFromHttp(code, a.response.body);
      if (code == 401 && im.credentials && !reauthenticated) {
        // A rotated or expired token: fetch a fresh one and try once more.
        im.credentials->Invalidate();
        reauthenticated = true;
        --attempt;
        continue;
      }
      retry_after = ParseRetryAfter(a.response.Header("retry-after"));
      retry = ShouldRetryHttp(request.method, code, retry_after.has_value());
    }
    if (!retry || attempt >= im.options.retry.max_attempts) return last;
    auto delay = im.Delay(attempt, retry_after);
    if (clock->Now() + delay >= deadline) return last;
    clock->SleepFor(delay);
  }
}

Status RestTransport::Stream(const Request& request, const DataCallback& on_data,
                             const Cancellation& cancel) {
  Impl& im = *impl_;
  if (cancel.cancelled()) return CancelledError(im.Describe(request) + ": cancelled");
  SG_ASSIGN_OR_RETURN(http::http_request req, im.Build(request));
  pplx::cancellation_token_source cts;
  // `done` stops the deadline watchdog; `timed_out` tells why we were cut.
  Cancellation done;
  std::atomic<bool> timed_out{false};
  std::thread watchdog;
  if (request.timeout.count() > 0) {
    auto deadline = Clock::Real()->Now() + request.timeout;
    watchdog = std::thread([&] {
      if (!done.WaitUntil(Clock::Real(), deadline)) {
        timed_out = true;
        CancelOnPool(cts);
      }
    });
  }
  Status result;
  {
    CancelRegistration reg(cancel, [&cts] { CancelOnPool(cts); });
    auto why = [&](const std::string& what) {
      if (cancel.cancelled()) return CancelledError(im.Describe(request) + ": cancelled");
      if (timed_out) return TimeoutError(im.Describe(request) + ": deadline exceeded");
      return UnavailableError(im.Describe(request) + ": " + what);
    };
    try {
      http::http_response resp = RequestOnPool(im.http, std::move(req), cts.get_token()).get();
      int code = resp.status_code();
      if (code < 200 || code >= 300) {
        std::string body = resp.extract_string(true).get();
        if (code == 401 && im.credentials) im.credentials->Invalidate();
        result = StatusFromHttp(code, body);
      } else {
        auto buf = resp.body().streambuf();
        std::vector<unsigned char> chunk(64 * 1024);
        for (;;) {
          // Wait for at least one byte, then take whatever else has arrived.
          size_t n = buf.getn(chunk.data(), 1).get();
          if (n == 0) break;  // end of body
          size_t avail = std::min(buf.in_avail(), chunk.size() - 1);
          if (avail > 0) n += buf.getn(chunk.data() + 1, avail).get();
          if (cancel.cancelled() || timed_out) {
            result = why("");
            break;
          }
          result = on_data(std::string_view(reinterpret_cast<const char*>(chunk.data()), n));
          if (!result.ok()) break;
        }
        if (result.ok() && (cancel.cancelled() || timed_out)) result = why("");
      }
    } catch (const pplx::task_canceled&) {
      result = why("cancelled");
    } catch (const std::exception& e) {
      result = why(e.what());
    }
  }
  done.Cancel();
  if (watchdog.joinable()) watchdog.join();
  return result;
}

}  // namespace sg::kube
