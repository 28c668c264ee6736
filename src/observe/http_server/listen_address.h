// ListenAddress: the `--metrics-bind-address` / `--health-probe-bind-address`
// style "host:port" value, parsed once. Accepted forms:
//   127.0.0.1:8080     one IPv4 address
//   [::1]:8080         one IPv6 address (brackets required)
//   localhost:8080     a name, resolved when the listener binds
//   :8080              every interface (0.0.0.0), what the chart uses in pods
// The port must be 1-65535.
//
// Thread-safety: a value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sg::observe {

struct ListenAddress {
  std::string host;  // without brackets
  uint16_t port = 0;

  // "http://127.0.0.1:8080" (IPv6 hosts bracketed).
  std::string Url() const;
  // "127.0.0.1:8080".
  std::string ToString() const;
};

// kInvalid naming the problem for anything else.
StatusOr<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace sg::observe
