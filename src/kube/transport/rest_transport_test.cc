// RestTransport against a real loopback HTTPS server (cpprestsdk's
// http_listener) with certificates made by openssl: CA verification, client
// certificates, bearer tokens, retries, error mapping, streaming and
// cancellation go through real TLS and HTTP, not mocks.
// cpprestsdk's U() macro collides with GoogleTest's templates.
#define _TURN_OFF_PLATFORM_STRING
#include "kube/transport/rest_transport.h"

#include <cpprest/http_listener.h>
#include <cpprest/producerconsumerstream.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "kube/transport/test_pki.h"

namespace sg::kube {
namespace {

namespace http = web::http;
using ::testing::HasSubstr;

class LoopbackServer {
 public:
  using Handler = std::function<void(http::http_request)>;

  LoopbackServer(const TestPki& pki, bool require_client_cert = false) : port_(FreeLoopbackPort()) {
    http::experimental::listener::http_listener_config cfg;
    std::string crt = pki.Path("server.crt"), key = pki.Path("server.key"), ca = pki.Path("ca.crt");
    cfg.set_ssl_context_callback([=](boost::asio::ssl::context& ctx) {
      ctx.use_certificate_chain_file(crt);
      ctx.use_private_key_file(key, boost::asio::ssl::context::pem);
      if (require_client_cert) {
        ctx.load_verify_file(ca);
        ctx.set_verify_mode(boost::asio::ssl::verify_peer |
                            boost::asio::ssl::verify_fail_if_no_peer_cert);
      }
    });
    listener_ = std::make_unique<http::experimental::listener::http_listener>(
        web::uri("https://127.0.0.1:" + std::to_string(port_)), cfg);
    listener_->support([this](http::http_request req) {
      {
        std::lock_guard<std::mutex> l(mu_);
        requests_.push_back(req);
      }
      Handler h;
      {
        std::lock_guard<std::mutex> l(mu_);
        h = handler_;
      }
      if (h) {
        h(req);
      } else {
        req.reply(http::status_codes::OK, R"({"kind":"Thing"})", "application/json");
      }
    });
    listener_->open().wait();
  }
  ~LoopbackServer() { listener_->close().wait(); }

  void set_handler(Handler h) {
    std::lock_guard<std::mutex> l(mu_);
    handler_ = std::move(h);
  }
  std::vector<http::http_request> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  std::mutex mu_;
  Handler handler_;
  std::vector<http::http_request> requests_;
  std::unique_ptr<http::experimental::listener::http_listener> listener_;
};

class CountingCredentials : public Credentials {
 public:
  StatusOr<std::optional<std::string>> Token() override {
    return std::optional("token-" + std::to_string(generation_.load()));
  }
  void Invalidate() override { ++generation_; }
  std::atomic<int> generation_{1};
};

class RestTransportTest : public ::testing::Test {
 protected:
  RestConfig Config(const std::string& ca_file) {
    RestConfig c;
    c.server = server_.url();
    c.source = "test";
    c.tls.ca.file = ca_file;
    c.tls.ca.field = "test ca";
    return c;
  }
  std::unique_ptr<RestTransport> Make(const RestConfig& c) {
    TransportOptions o;
    o.clock = &clock_;
    o.retry.jitter = 0;
    auto t = RestTransport::Create(c, o);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::move(t).value() : nullptr;
  }
  static Request Get(std::string path) {
    Request r;
    r.path = std::move(path);
    return r;
  }

  static TestPki& pki() {
    static TestPki* p = new TestPki();
    return *p;
  }
  LoopbackServer server_{pki()};
  FakeClock clock_;
};

TEST_F(RestTransportTest, TrustedCaSucceedsAndBearerTokenIsSent) {
  RestConfig c = Config(pki().Path("ca.crt"));
  c.credentials = std::make_shared<StaticTokenCredentials>("abc123");
  auto t = Make(c);
  auto r = t->Do(Get("/api/v1/namespaces/a/pods?limit=2"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"kind":"Thing"})");
  EXPECT_EQ(r->Header("content-type"), "application/json");
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers()["Authorization"], "Bearer abc123");
  EXPECT_EQ(reqs[0].relative_uri().to_string(), "/api/v1/namespaces/a/pods?limit=2");
}

TEST_F(RestTransportTest, CaFromInlineDataWorks) {
  RestConfig c = Config("");
  c.tls.ca.data = pki().Read("ca.crt");
  auto r = Make(c)->Do(Get("/x"));
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST_F(RestTransportTest, UnknownCaIsRejected) {
  auto r = Make(Config(pki().Path("other-ca.crt")))->Do(Get("/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(RestTransportTest, SystemStoreDoesNotTrustTestCa) {
  // No CA configured: verification is on, against the system store.
  auto r = Make(Config(""))->Do(Get("/x"));
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

TEST_F(RestTransportTest, InsecureSkipVerifyAcceptsUnknownCa) {
  RestConfig c = Config("");
  c.tls.insecure_skip_verify = true;
  auto r = Make(c)->Do(Get("/x"));
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST_F(RestTransportTest, BadPemFailsAtCreateNamingTheField) {
  RestConfig c = Config("");
  c.tls.ca.data = "not a pem";
  auto t = RestTransport::Create(c);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("test ca: no PEM certificate found"));
  RestConfig k = Config(pki().Path("ca.crt"));
  k.tls.client_cert.file = pki().Path("client.crt");
  k.tls.client_key.file = pki().Path("server.key");  // wrong key
  k.tls.client_key.field = "users[0].user.client-key";
  t = RestTransport::Create(k);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("users[0].user.client-key: does not match"));
}

TEST(RestTransportMtlsTest, ClientCertificateFromFilesAndData) {
  TestPki& pki = *new TestPki();  // leaked: listener threads may outlive the test body
  LoopbackServer server(pki, /*require_client_cert=*/true);
  FakeClock clock;
  TransportOptions o;
  o.clock = &clock;
  RestConfig c;
  c.server = server.url();
  c.tls.ca.file = pki.Path("ca.crt");
  auto without = RestTransport::Create(c, o);
  ASSERT_TRUE(without.ok());
  Request r;
  r.path = "/x";
  EXPECT_EQ((*without)->Do(r).status().code(), Code::kUnavailable);

  c.tls.client_cert.file = pki.Path("client.crt");
  c.tls.client_key.file = pki.Path("client.key");
  auto with_files = RestTransport::Create(c, o);
  ASSERT_TRUE(with_files.ok()) << with_files.status();
  auto resp = (*with_files)->Do(r);
  EXPECT_TRUE(resp.ok()) << resp.status();

  c.tls.client_cert = {pki.Read("client.crt"), "", "cert-data"};
  c.tls.client_key = {pki.Read("client.key"), "", "key-data"};
  auto with_data = RestTransport::Create(c, o);
  ASSERT_TRUE(with_data.ok()) << with_data.status();
  resp = (*with_data)->Do(r);
  EXPECT_TRUE(resp.ok()) << resp.status();
}

TEST_F(RestTransportTest, RetryAfterHonouredOn429) {
  std::atomic<int> calls{0};
  server_.set_handler([&](http::http_request req) {
    if (calls++ == 0) {
      http::http_response resp(429);
      resp.headers().add("Retry-After", "3");
      resp.set_body(R"({"kind":"Status","reason":"TooManyRequests","code":429})",
                    "application/json");
      req.reply(resp);
    } else {
      req.reply(http::status_codes::Created, R"({"ok":true})", "application/json");
    }
  });
  Request post;
  post.method = "POST";
  post.path = "/api/v1/namespaces/a/configmaps";
  post.body = "{}";
  auto r = Make(Config(pki().Path("ca.crt")))->Do(post);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(calls.load(), 2);
  // Even a POST is retried on 429 (the server did not act on it), after
  // exactly the server's delay, slept on the injected clock.
  EXPECT_EQ(clock_.sleeps(), std::vector<Clock::Duration>{std::chrono::seconds(3)});
}

TEST_F(RestTransportTest, ServerErrorsRetriedOnlyForIdempotentVerbsWithGrowingBackoff) {
  std::atomic<int> calls{0};
  server_.set_handler([&](http::http_request req) {
    ++calls;
    req.reply(http::status_codes::ServiceUnavailable,
              R"({"kind":"Status","reason":"ServiceUnavailable","code":503,"message":"busy"})",
              "application/json");
  });
  auto t = Make(Config(pki().Path("ca.crt")));
  auto r = t->Do(Get("/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "busy (ServiceUnavailable, HTTP 503)");
  EXPECT_EQ(calls.load(), 5);  // default max_attempts
  using std::chrono::milliseconds;
  EXPECT_EQ(clock_.sleeps(), (std::vector<Clock::Duration>{milliseconds(200), milliseconds(400),
                                                           milliseconds(800), milliseconds(1600)}));
  calls = 0;
  Request post;
  post.method = "POST";
  post.path = "/x";
  r = t->Do(post);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(RestTransportTest, ApiStatusMappedToCodes) {
  server_.set_handler([](http::http_request req) {
    std::string path = req.relative_uri().path();
    if (path == "/nf") {
      req.reply(404,
                R"({"kind":"Status","apiVersion":"v1","status":"Failure",)"
                R"("message":"configmaps \"x\" not found","reason":"NotFound","code":404})",
                "application/json");
    } else if (path == "/exists") {
      req.reply(409, R"({"kind":"Status","reason":"AlreadyExists","code":409,"message":"dup"})",
                "application/json");
    } else if (path == "/conflict") {
      req.reply(409, R"({"kind":"Status","reason":"Conflict","code":409,"message":"stale"})",
                "application/json");
    } else {
      req.reply(403, "<html>proxy says no</html>", "text/html");
    }
  });
  auto t = Make(Config(pki().Path("ca.crt")));
  auto r = t->Do(Get("/nf"));
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "configmaps \"x\" not found (NotFound, HTTP 404)");
  EXPECT_EQ(t->Do(Get("/exists")).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(t->Do(Get("/conflict")).status().code(), Code::kConflict);
  r = t->Do(Get("/html"));
  EXPECT_EQ(r.status().code(), Code::kForbidden);
  EXPECT_THAT(r.status().message(), HasSubstr("proxy says no"));
}

TEST_F(RestTransportTest, UnauthorizedRefreshesTokenOnce) {
  server_.set_handler([](http::http_request req) {
    if (req.headers()["Authorization"] == "Bearer token-2") {
      req.reply(200, "{}", "application/json");
    } else {
      req.reply(401, R"({"kind":"Status","reason":"Unauthorized","code":401})", "application/json");
    }
  });
  RestConfig c = Config(pki().Path("ca.crt"));
  auto creds = std::make_shared<CountingCredentials>();
  c.credentials = creds;
  auto t = Make(c);
  auto r = t->Do(Get("/x"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(creds->generation_.load(), 2);
  // Token 3 onwards are rejected too: one refresh per request, then the 401.
  server_.set_handler([](http::http_request req) {
    req.reply(401, R"({"kind":"Status","reason":"Unauthorized","code":401})", "application/json");
  });
  r = t->Do(Get("/x"));
  EXPECT_EQ(r.status().code(), Code::kUnauthorized);
  EXPECT_EQ(creds->generation_.load(), 3);
}

TEST_F(RestTransportTest, PerRequestTimeout) {
  std::promise<void> release;
  auto released = release.get_future().share();
  server_.set_handler([released](http::http_request req) {
    released.wait();
    req.reply(200, "{}", "application/json");
  });
  Request r = Get("/slow");
  r.timeout = std::chrono::milliseconds(300);
  auto t = Make(Config(pki().Path("ca.crt")));
  auto resp = t->Do(r);
  release.set_value();
  EXPECT_EQ(resp.status().code(), Code::kTimeout);
}

TEST_F(RestTransportTest, StreamDeliversChunksAndEnds) {
  server_.set_handler([](http::http_request req) {
    concurrency::streams::producer_consumer_buffer<uint8_t> buf;
    http::http_response resp(200);
    resp.set_body(buf.create_istream(), "application/json");
    req.reply(resp);
    std::thread([buf]() mutable {
      for (std::string part : {"{\"type\":\"ADDED\",", "\"object\":{}}\n", "tail\n"}) {
        buf.putn_nocopy(reinterpret_cast<const uint8_t*>(part.data()), part.size()).wait();
        buf.sync().wait();
        std::this_thread::yield();
      }
      buf.close(std::ios_base::out).wait();
    }).detach();
  });
  std::string got;
  Cancellation cancel;
  Status s = Make(Config(pki().Path("ca.crt")))
                 ->Stream(
                     Get("/watch"),
                     [&](std::string_view chunk) {
                       got.append(chunk);
                       return OkStatus();
                     },
                     cancel);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(got, "{\"type\":\"ADDED\",\"object\":{}}\ntail\n");
}

TEST_F(RestTransportTest, StreamCancelUnblocksAWaitingRead) {
  concurrency::streams::producer_consumer_buffer<uint8_t> open_buf;
  server_.set_handler([open_buf](http::http_request req) {
    http::http_response resp(200);
    resp.set_body(open_buf.create_istream(), "application/json");
    req.reply(resp);
    std::string first = "first\n";
    auto b = open_buf;
    b.putn_nocopy(reinterpret_cast<const uint8_t*>(first.data()), first.size()).wait();
    b.sync().wait();
  });
  Cancellation cancel;
  std::promise<void> got_first;
  auto t = Make(Config(pki().Path("ca.crt")));
  std::thread canceller([&] {
    got_first.get_future().wait();
    cancel.Cancel();
  });
  bool signalled = false;
  Status s = t->Stream(
      Get("/watch"),
      [&](std::string_view) {
        if (!signalled) got_first.set_value();
        signalled = true;
        return OkStatus();
      },
      cancel);
  canceller.join();
  EXPECT_EQ(s.code(), Code::kCancelled) << s;
  auto b = open_buf;
  b.close(std::ios_base::out).wait();
}

TEST_F(RestTransportTest, StreamCancelBeforeHeadersArrive) {
  std::promise<void> arrived;
  std::promise<void> release;
  auto released = release.get_future().share();
  server_.set_handler([&arrived, released](http::http_request req) {
    arrived.set_value();
    released.wait();  // never answers until the test ends
    req.reply(200, "{}", "application/json");
  });
  Cancellation cancel;
  std::thread canceller([&] {
    arrived.get_future().wait();
    cancel.Cancel();
  });
  auto t = Make(Config(pki().Path("ca.crt")));
  Status s = t->Stream(
      Get("/watch"), [](std::string_view) { return OkStatus(); }, cancel);
  canceller.join();
  release.set_value();
  EXPECT_EQ(s.code(), Code::kCancelled) << s;
}

TEST_F(RestTransportTest, StreamErrorStatusIsMapped) {
  server_.set_handler([](http::http_request req) {
    req.reply(410, R"({"kind":"Status","reason":"Expired","code":410,"message":"too old"})",
              "application/json");
  });
  Cancellation cancel;
  Status s = Make(Config(pki().Path("ca.crt")))
                 ->Stream(
                     Get("/watch"), [](std::string_view) { return OkStatus(); }, cancel);
  EXPECT_EQ(s.code(), Code::kGone);
  EXPECT_EQ(s.message(), "too old (Expired, HTTP 410)");
}

}  // namespace
}  // namespace sg::kube
