// LoopbackHttpsServer: a small HTTP/1.1-over-TLS server on 127.0.0.1 for the
// transport's tests (real TLS, real sockets; not a fake of the API server).
//
// Why not cpprestsdk's http_listener: its close() closes every connection's
// socket from the closing thread while the connection may be writing a reply
// on a pool thread (asio sockets are not thread-safe), which crashed the
// tests intermittently when a handler answered a client that had already
// cancelled. Here each connection is served by one thread that alone touches
// its socket; Stop() only calls ::shutdown() on the descriptors (safe from
// any thread) and joins, and descriptors are closed after the join.
//
// Each accepted connection gets a thread: TLS handshake, then requests in a
// keep-alive loop (Content-Length bodies only), each passed to the handler on
// that thread. A handler answers once, with Reply() or with a chunked stream
// (StartChunked, Write..., End); a handler that does not answer gets a 500.
// Writes to a client that went away fail quietly (Write returns false).
//
// Thread-safety: set_handler / requests / url from any thread. Handlers run
// concurrently, one thread per connection. Ownership: Stop() (also run by the
// destructor) waits for running handlers, so a test must release a blocked
// handler before its server goes away.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "kube/transport/test_pki.h"

namespace sg::kube {

struct ServerRequest {
  std::string method;
  std::string target;                          // path plus query, as sent
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const;
};

// The answer to one request; used on the handler's thread only.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Reply(int status, std::string_view body,
                     std::string_view content_type = "application/json",
                     const std::vector<std::pair<std::string, std::string>>& headers = {}) = 0;
  // A chunked body: the status line and headers go out at once.
  virtual bool StartChunked(int status, std::string_view content_type) = 0;
  virtual bool Write(std::string_view chunk) = 0;
  virtual void End() = 0;
};

class LoopbackHttpsServer {
 public:
  using Handler = std::function<void(const ServerRequest&, Responder&)>;

  // Listens at once on a free loopback port with pki's server.crt/key; with
  // `require_client_cert` the client must present a certificate of pki's CA.
  explicit LoopbackHttpsServer(const TestPki& pki, bool require_client_cert = false);
  ~LoopbackHttpsServer();
  LoopbackHttpsServer(const LoopbackHttpsServer&) = delete;
  LoopbackHttpsServer& operator=(const LoopbackHttpsServer&) = delete;

  // The default handler answers 200 {"kind":"Thing"}.
  void set_handler(Handler h);
  // Every request read completely, in arrival order.
  std::vector<ServerRequest> requests();
  std::string url() const;
  // Count of TLS connections accepted so far (handshake attempted).
  int connections();

  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::kube
