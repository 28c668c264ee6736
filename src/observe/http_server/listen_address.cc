#include "observe/http_server/listen_address.h"

#include <charconv>

namespace sg::observe {

std::string ListenAddress::ToString() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string ListenAddress::Url() const { return "http://" + ToString(); }

StatusOr<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidError("listen address \"" + std::string(text) + "\": " + std::string(why) +
                        " (want host:port, [v6]:port or :port)");
  };
  ListenAddress a;
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    a.host = std::string(text.substr(1, close - 1));
    if (a.host.empty()) return bad("empty IPv6 host");
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad("no port");
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    a.host = std::string(text.substr(0, colon));
    if (a.host.find(':') != std::string::npos) return bad("IPv6 hosts need brackets");
    if (a.host.empty()) a.host = "0.0.0.0";
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return bad("port must be 1-65535");
  }
  a.port = static_cast<uint16_t>(value);
  return a;
}

}  // namespace sg::observe
