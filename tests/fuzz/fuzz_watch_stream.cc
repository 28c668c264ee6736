// Fuzz target: the watch body decoder (kube/watch/stream_parser.h) as the
// API server's bytes arrive, cut into chunks at places the input chooses.
// Beyond "no crash": the events and the verdict must not depend on how the
// bytes were cut, and nothing is left buffered past a newline.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kube/watch/stream_parser.h"

namespace {

struct Outcome {
  std::vector<sg::kube::WatchEvent> events;
  bool ok = true;
};

Outcome Feed(std::string_view body, std::size_t max_line, const std::vector<std::size_t>& cuts) {
  sg::kube::StreamParser parser(max_line);
  Outcome o;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    if (cut <= at || cut > body.size()) continue;
    if (!parser.Feed(body.substr(at, cut - at), &o.events).ok()) {
      o.ok = false;
      return o;
    }
    at = cut;
  }
  o.ok = parser.Feed(body.substr(at), &o.events).ok();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // The first two bytes choose the line limit and the chunking.
  const std::size_t max_line = 16 + data[0] * 64;
  const unsigned stride = 1 + data[1] % 97;
  std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::vector<std::size_t> cuts;
  for (std::size_t i = stride; i < body.size(); i += stride + (i % 7)) cuts.push_back(i);

  Outcome whole = Feed(body, max_line, {});
  Outcome chunked = Feed(body, max_line, cuts);
  if (whole.ok != chunked.ok) __builtin_trap();
  if (whole.ok) {
    // Both saw every complete line: the same events in the same order.
    if (whole.events.size() != chunked.events.size()) __builtin_trap();
    for (std::size_t i = 0; i < whole.events.size(); ++i) {
      if (whole.events[i].type != chunked.events[i].type ||
          whole.events[i].object != chunked.events[i].object) {
        __builtin_trap();
      }
      (void)whole.events[i].ResourceVersion();
    }
  }
  return 0;
}
