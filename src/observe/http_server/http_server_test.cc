// Starts the server on a free loopback port and scrapes it with a real HTTP
// client.
#include "observe/http_server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>

#include <cpprest/http_client.h>

namespace sg::observe {
namespace {

namespace http = web::http;

// A port the kernel just handed out (and we released): free unless another
// process grabs it in between, which Start's retry below absorbs.
int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::unique_ptr<HttpServer> StartOnFreePort(const Registry* registry) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    HttpServerOptions o;
    o.address = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
    auto s = HttpServer::Start(o, registry);
    if (s.ok()) return std::move(s).value();
  }
  return nullptr;
}

struct Reply {
  int code = 0;
  std::string body;
  std::string content_type;
};

Reply Get(const HttpServer& server, const std::string& path,
          const http::method& method = http::methods::GET) {
  http::client::http_client client(server.address().Url());
  http::http_request req(method);
  req.set_request_uri(path);
  auto resp = client.request(req).get();
  Reply r;
  r.code = resp.status_code();
  r.body = resp.extract_utf8string(true).get();
  r.content_type = resp.headers().content_type();
  return r;
}

TEST(HttpServerTest, ServesMetricsAndHealth) {
  Registry registry;
  Counter* runs = *registry.AddCounter("schemagate_migration_runs_total", "Runs.", {"result"});
  runs->Inc({"succeeded"});
  auto server = StartOnFreePort(&registry);
  ASSERT_TRUE(server);

  Reply m = Get(*server, "/metrics");
  EXPECT_EQ(m.code, 200);
  EXPECT_EQ(m.content_type, kExpositionContentType);
  EXPECT_EQ(m.body, registry.Expose());
  EXPECT_NE(m.body.find("schemagate_migration_runs_total{result=\"succeeded\"} 1\n"),
            std::string::npos);
  runs->Inc({"succeeded"});  // every scrape is fresh
  EXPECT_NE(Get(*server, "/metrics").body.find("{result=\"succeeded\"} 2\n"), std::string::npos);

  std::atomic<bool> synced{false};
  std::atomic<bool> leader_ok{true};
  server->AddLivenessCheck("leader-election", [&] {
    return leader_ok ? OkStatus() : FailedPreconditionError("lease renewal overdue");
  });
  server->AddReadinessCheck("informers-synced",
                            [&] { return synced ? OkStatus() : UnavailableError("not synced"); });

  Reply h = Get(*server, "/healthz");
  EXPECT_EQ(h.code, 200);
  EXPECT_EQ(h.body, "ok");
  Reply r = Get(*server, "/readyz");
  EXPECT_EQ(r.code, 500);
  EXPECT_EQ(r.body,
            "[+]leader-election ok\n[-]informers-synced failed: not synced\nreadyz check failed");
  synced = true;
  EXPECT_EQ(Get(*server, "/readyz").code, 200);
  EXPECT_EQ(Get(*server, "/readyz?verbose").body,
            "[+]leader-election ok\n[+]informers-synced ok\nreadyz check passed");

  // A failing liveness check fails both probes.
  leader_ok = false;
  EXPECT_EQ(Get(*server, "/healthz").code, 500);
  EXPECT_EQ(Get(*server, "/readyz").code, 500);
  leader_ok = true;

  server->MarkShuttingDown();
  Reply sd = Get(*server, "/readyz");
  EXPECT_EQ(sd.code, 500);
  EXPECT_NE(sd.body.find("shutting-down"), std::string::npos);
  EXPECT_EQ(Get(*server, "/healthz").code, 200);  // still alive while draining

  EXPECT_EQ(Get(*server, "/nope").code, 404);
  EXPECT_EQ(Get(*server, "/metrics", http::methods::POST).code, 405);
}

TEST(HttpServerTest, StopReleasesThePort) {
  Registry registry;
  auto server = StartOnFreePort(&registry);
  ASSERT_TRUE(server);
  std::string address = server->address().ToString();
  EXPECT_EQ(Get(*server, "/healthz").code, 200);
  server->Stop();
  server->Stop();  // idempotent
  // The same address can be bound again at once.
  HttpServerOptions o;
  o.address = address;
  auto again = HttpServer::Start(o, &registry);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Get(**again, "/healthz").code, 200);
}

TEST(HttpServerTest, AddressErrors) {
  HttpServerOptions o;
  o.address = "nonsense";
  EXPECT_EQ(HttpServer::Start(o, nullptr).status().code(), Code::kInvalid);
  // A port another socket listens on. (Not a second HttpServer: cpprestsdk
  // shares one acceptor per port inside a process.)
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  o.address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto busy = HttpServer::Start(o, nullptr);
  EXPECT_EQ(busy.status().code(), Code::kUnavailable) << busy.status();
  ::close(fd);

  auto empty = StartOnFreePort(nullptr);
  ASSERT_TRUE(empty);
  EXPECT_EQ(Get(*empty, "/metrics").body, "");  // no registry: empty exposition
}

}  // namespace
}  // namespace sg::observe
