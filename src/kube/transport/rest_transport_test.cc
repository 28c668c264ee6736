// RestTransport against a real loopback HTTPS server (loopback_https_server.h)
// with certificates made by openssl: CA verification, client certificates,
// bearer tokens, retries, error mapping, streaming and cancellation go through
// real TLS and HTTP, not mocks.
#include "kube/transport/rest_transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "kube/transport/loopback_https_server.h"
#include "kube/transport/test_pki.h"

namespace sg::kube {
namespace {

using ::testing::HasSubstr;

// Sets a promise once, however often a handler runs (a retried request must
// not throw promise_already_satisfied on a server thread).
class Signal {
 public:
  void Notify() {
    std::call_once(once_, [this] { p_.set_value(); });
  }
  std::future<void> Future() { return p_.get_future(); }

 private:
  std::once_flag once_;
  std::promise<void> p_;
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
  LoopbackHttpsServer server_{pki()};
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
  EXPECT_EQ(reqs[0].Header("authorization"), "Bearer abc123");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/a/pods?limit=2");
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
  TestPki pki;
  LoopbackHttpsServer server(pki, /*require_client_cert=*/true);
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
  server_.set_handler([&](const ServerRequest&, Responder& r) {
    if (calls++ == 0) {
      r.Reply(429, R"({"kind":"Status","reason":"TooManyRequests","code":429})", "application/json",
              {{"Retry-After", "3"}});
    } else {
      r.Reply(201, R"({"ok":true})");
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
  server_.set_handler([&](const ServerRequest&, Responder& r) {
    ++calls;
    r.Reply(503, R"({"kind":"Status","reason":"ServiceUnavailable","code":503,"message":"busy"})");
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
  server_.set_handler([](const ServerRequest& req, Responder& r) {
    const std::string& path = req.target;
    if (path == "/nf") {
      r.Reply(404, R"({"kind":"Status","apiVersion":"v1","status":"Failure",)"
                   R"("message":"configmaps \"x\" not found","reason":"NotFound","code":404})");
    } else if (path == "/exists") {
      r.Reply(409, R"({"kind":"Status","reason":"AlreadyExists","code":409,"message":"dup"})");
    } else if (path == "/conflict") {
      r.Reply(409, R"({"kind":"Status","reason":"Conflict","code":409,"message":"stale"})");
    } else {
      r.Reply(403, "<html>proxy says no</html>", "text/html");
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
  server_.set_handler([](const ServerRequest& req, Responder& r) {
    if (req.Header("authorization") == "Bearer token-2") {
      r.Reply(200, "{}");
    } else {
      r.Reply(401, R"({"kind":"Status","reason":"Unauthorized","code":401})");
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
  server_.set_handler([](const ServerRequest&, Responder& r) {
    r.Reply(401, R"({"kind":"Status","reason":"Unauthorized","code":401})");
  });
  r = t->Do(Get("/x"));
  EXPECT_EQ(r.status().code(), Code::kUnauthorized);
  EXPECT_EQ(creds->generation_.load(), 3);
}

TEST_F(RestTransportTest, PerRequestTimeout) {
  std::promise<void> release;
  auto released = release.get_future().share();
  server_.set_handler([released](const ServerRequest&, Responder& r) {
    released.wait();
    r.Reply(200, "{}");
  });
  Request r = Get("/slow");
  r.timeout = std::chrono::milliseconds(300);
  auto t = Make(Config(pki().Path("ca.crt")));
  auto resp = t->Do(r);
  release.set_value();
  EXPECT_EQ(resp.status().code(), Code::kTimeout);
}

TEST_F(RestTransportTest, StreamDeliversChunksAndEnds) {
  server_.set_handler([](const ServerRequest&, Responder& r) {
    r.StartChunked(200, "application/json");
    for (std::string part : {"{\"type\":\"ADDED\",", "\"object\":{}}\n", "tail\n"}) {
      r.Write(part);
    }
    r.End();
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
  std::promise<void> release;
  auto released = release.get_future().share();
  server_.set_handler([released](const ServerRequest&, Responder& r) {
    r.StartChunked(200, "application/json");
    r.Write("first\n");
    released.wait();  // keeps the body open until the test ends
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
  release.set_value();
  EXPECT_EQ(s.code(), Code::kCancelled) << s;
}

TEST_F(RestTransportTest, StreamCancelBeforeHeadersArrive) {
  auto arrived = std::make_shared<Signal>();
  std::promise<void> release;
  auto released = release.get_future().share();
  server_.set_handler([arrived, released](const ServerRequest&, Responder& r) {
    arrived->Notify();
    released.wait();  // never answers until the test ends
    r.Reply(200, "{}");
  });
  Cancellation cancel;
  std::thread canceller([&, got = arrived->Future()] {
    got.wait();
    cancel.Cancel();
  });
  auto t = Make(Config(pki().Path("ca.crt")));
  Status s = t->Stream(
      Get("/watch"), [](std::string_view) { return OkStatus(); }, cancel);
  canceller.join();
  release.set_value();
  EXPECT_EQ(s.code(), Code::kCancelled) << s;
}

// What a watch sees when the controller shuts down: the stream is cancelled
// at any point before the server answers (before the call, while connecting
// or in the TLS handshake, while the request waits for headers), then the
// transport is destroyed while cpprestsdk may still be finishing the
// cancelled request, and only then does the server answer. Repeated, because
// the races this guards against lose only now and then.
TEST_F(RestTransportTest, StreamCancelAtAnyPointThenDestroyRepeatedly) {
  constexpr int kIterations = 200;
  std::mt19937 rng(42);
  for (int i = 0; i < kIterations; ++i) {
    auto arrived = std::make_shared<Signal>();
    std::promise<void> release;
    auto released = release.get_future().share();
    server_.set_handler([arrived, released](const ServerRequest&, Responder& r) {
      arrived->Notify();
      released.wait();
      r.Reply(200, "{}");
    });
    auto t = Make(Config(pki().Path("ca.crt")));
    ASSERT_NE(t, nullptr);
    Cancellation cancel;
    std::thread canceller;
    switch (i % 3) {
      case 0:  // already cancelled when the call starts
        cancel.Cancel();
        break;
      case 1: {  // somewhere in connect / handshake / request
        auto delay = std::chrono::microseconds(std::uniform_int_distribution<>(0, 3000)(rng));
        canceller = std::thread([&cancel, delay] {
          std::this_thread::sleep_for(delay);
          cancel.Cancel();
        });
        break;
      }
      default:  // the server holds the request: headers never came
        canceller = std::thread([&cancel, got = arrived->Future()] {
          got.wait();
          cancel.Cancel();
        });
    }
    Status s = t->Stream(
        Get("/watch"), [](std::string_view) { return OkStatus(); }, cancel);
    if (canceller.joinable()) canceller.join();
    t.reset();  // destroyed while the cancelled request may still be in flight
    release.set_value();
    ASSERT_EQ(s.code(), Code::kCancelled) << "iteration " << i << ": " << s;
  }
}

// Do() gives up at its deadline while the server still holds the request;
// the transport goes away at once and the server answers afterwards.
TEST_F(RestTransportTest, DoTimeoutThenDestroyWhileInFlightRepeatedly) {
  constexpr int kIterations = 200;
  for (int i = 0; i < kIterations; ++i) {
    std::promise<void> release;
    auto released = release.get_future().share();
    server_.set_handler([released](const ServerRequest&, Responder& r) {
      released.wait();
      r.Reply(200, "{}");
    });
    auto t = Make(Config(pki().Path("ca.crt")));
    ASSERT_NE(t, nullptr);
    Request r = Get("/slow");
    r.timeout = std::chrono::milliseconds(1 + i % 20);
    auto resp = t->Do(r);
    t.reset();
    release.set_value();
    ASSERT_EQ(resp.status().code(), Code::kTimeout) << "iteration " << i << ": " << resp.status();
  }
}

TEST_F(RestTransportTest, StreamErrorStatusIsMapped) {
  server_.set_handler([](const ServerRequest&, Responder& r) {
    r.Reply(410, R"({"kind":"Status","reason":"Expired","code":410,"message":"too old"})");
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
