#include "kube/transport/loopback_https_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cctype>
#include <cstdio>
#include <list>
#include <sstream>

namespace sg::kube {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

std::string ServerRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

namespace {

using SslStream = ssl::stream<tcp::socket&>;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string StatusLine(int status) {
  // The client ignores the reason phrase; a fixed one keeps this small.
  return "HTTP/1.1 " + std::to_string(status) + " Status\r\n";
}

// Parses "METHOD target HTTP/1.1\r\nName: value\r\n...\r\n\r\n".
bool ParseHead(const std::string& head, ServerRequest& r) {
  std::istringstream in(head);
  std::string line;
  if (!std::getline(in, line)) return false;
  std::istringstream first(line);
  std::string version;
  if (!(first >> r.method >> r.target >> version)) return false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string::npos) return false;
    r.headers[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  return true;
}

class StreamResponder final : public Responder {
 public:
  explicit StreamResponder(SslStream& s) : s_(s) {}

  void Reply(int status, std::string_view body, std::string_view content_type,
             const std::vector<std::pair<std::string, std::string>>& headers) override {
    if (state_ != State::kNone) return;
    state_ = State::kDone;
    std::string out = StatusLine(status);
    out += "Content-Type: " + std::string(content_type) + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    out += "\r\n";
    out += body;
    Send(out);
  }

  bool StartChunked(int status, std::string_view content_type) override {
    if (state_ != State::kNone) return false;
    state_ = State::kChunked;
    return Send(StatusLine(status) + "Content-Type: " + std::string(content_type) +
                "\r\nTransfer-Encoding: chunked\r\n\r\n");
  }

  bool Write(std::string_view chunk) override {
    if (state_ != State::kChunked) return false;
    if (chunk.empty()) return ok_;  // an empty chunk would end the body
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    return Send(size + std::string(chunk) + "\r\n");
  }

  void End() override {
    if (state_ != State::kChunked) return;
    state_ = State::kDone;
    Send("0\r\n\r\n");
  }

  // After the handler: make sure the request got exactly one full answer.
  void Finish() {
    if (state_ == State::kNone) Reply(500, "handler did not answer", "text/plain", {});
    if (state_ == State::kChunked) End();
  }
  bool ok() const { return ok_; }

 private:
  enum class State { kNone, kChunked, kDone };

  bool Send(const std::string& bytes) {
    if (!ok_) return false;
    boost::system::error_code ec;
    asio::write(s_, asio::buffer(bytes), ec);  // asio sends with MSG_NOSIGNAL
    if (ec) ok_ = false;
    return ok_;
  }

  SslStream& s_;
  State state_ = State::kNone;
  bool ok_ = true;
};

}  // namespace

struct LoopbackHttpsServer::Impl {
  // One accepted socket and the thread that alone reads and writes it.
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::thread thread;
  };

  Impl(const TestPki& pki, bool require_client_cert) : ctx(ssl::context::tls_server) {
    ctx.use_certificate_chain_file(pki.Path("server.crt"));
    ctx.use_private_key_file(pki.Path("server.key"), ssl::context::pem);
    if (require_client_cert) {
      ctx.load_verify_file(pki.Path("ca.crt"));
      ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.bind(ep);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    accept_thread = std::thread([this] { AcceptLoop(); });
  }

  void AcceptLoop() {
    for (;;) {
      auto c = std::make_unique<Conn>(io);
      boost::system::error_code ec;
      acceptor.accept(c->socket, ec);
      std::lock_guard<std::mutex> l(mu);
      if (stopped) return;
      if (ec) continue;  // e.g. ECONNABORTED: the client gave up first
      ++accepted;
      Conn* raw = c.get();
      conns.push_back(std::move(c));
      raw->thread = std::thread([this, raw] { Serve(*raw); });
    }
  }

  void Serve(Conn& c) {
    SslStream s(c.socket, ctx);
    boost::system::error_code ec;
    s.handshake(ssl::stream_base::server, ec);
    asio::streambuf buf;
    while (!ec) {
      size_t n = asio::read_until(s, buf, "\r\n\r\n", ec);
      if (ec) break;
      ServerRequest req;
      std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
      buf.consume(n);
      StreamResponder r(s);
      if (!ParseHead(head, req) || !req.Header("transfer-encoding").empty()) {
        r.Reply(400, "unsupported request", "text/plain", {{"Connection", "close"}});
        break;
      }
      size_t len = 0;
      std::istringstream(req.Header("content-length")) >> len;
      if (buf.size() < len) asio::read(s, buf, asio::transfer_exactly(len - buf.size()), ec);
      if (ec) break;
      req.body.assign(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + len);
      buf.consume(len);
      Handler h;
      {
        std::lock_guard<std::mutex> l(mu);
        recorded.push_back(req);
        h = handler;
      }
      if (h) {
        h(req, r);
      } else {
        r.Reply(200, R"({"kind":"Thing"})", "application/json", {});
      }
      r.Finish();
      if (!r.ok() || Lower(req.Header("connection")) == "close") break;
    }
    // Let the client see the end at once; the descriptor is closed by Stop()
    // after the join, so it cannot be reused while Stop() may shut it down.
    c.socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu);
      if (stopped) return;
      stopped = true;
      // shutdown(2) wakes a blocked accept(2) and is safe from any thread.
      ::shutdown(acceptor.native_handle(), SHUT_RDWR);
    }
    accept_thread.join();
    std::list<std::unique_ptr<Conn>> taken;
    {
      std::lock_guard<std::mutex> l(mu);
      for (auto& c : conns) ::shutdown(c->socket.native_handle(), SHUT_RDWR);
      taken.swap(conns);
    }
    for (auto& c : taken) c->thread.join();
    taken.clear();  // closes the sockets, now that no thread uses them
    boost::system::error_code ec;
    acceptor.close(ec);
  }

  asio::io_context io;  // never run: every operation here is synchronous
  ssl::context ctx;
  tcp::acceptor acceptor{io};
  int port = 0;
  std::thread accept_thread;

  std::mutex mu;
  bool stopped = false;                    // guarded by mu
  Handler handler;                         // guarded by mu
  std::vector<ServerRequest> recorded;     // guarded by mu
  std::list<std::unique_ptr<Conn>> conns;  // guarded by mu
  int accepted = 0;                        // guarded by mu
};

LoopbackHttpsServer::LoopbackHttpsServer(const TestPki& pki, bool require_client_cert)
    : impl_(std::make_unique<Impl>(pki, require_client_cert)) {}

LoopbackHttpsServer::~LoopbackHttpsServer() { Stop(); }

void LoopbackHttpsServer::Stop() { impl_->Stop(); }

void LoopbackHttpsServer::set_handler(Handler h) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->handler = std::move(h);
}

std::vector<ServerRequest> LoopbackHttpsServer::requests() {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->recorded;
}

int LoopbackHttpsServer::connections() {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->accepted;
}

std::string LoopbackHttpsServer::url() const {
  return "https://127.0.0.1:" + std::to_string(impl_->port);
}

}  // namespace sg::kube
