// StreamParser: incremental decoder for the watch body, a sequence of JSON
// objects separated by newlines that arrives in arbitrary chunks (an event
// may span many chunks; a chunk may hold many events).
//
// Feed() buffers the bytes, parses every complete line and appends its event
// to `out`. Blank lines are skipped. A line longer than `max_line_bytes` (a
// protection against an unbounded buffer) or one that is not a valid event
// is an error; after an error the parser should be discarded.
// Thread-safety: none; one parser per stream, used by one thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kube/watch/event.h"

namespace sg::kube {

class StreamParser {
 public:
  explicit StreamParser(std::size_t max_line_bytes = 64u << 20) : max_line_(max_line_bytes) {}

  Status Feed(std::string_view chunk, std::vector<WatchEvent>* out);

  // Bytes of an incomplete event still waiting for the rest.
  std::size_t buffered() const { return buffer_.size(); }

 private:
  Status ParseLine(std::string_view line, std::vector<WatchEvent>* out);

  const std::size_t max_line_;
  std::string buffer_;
};

}  // namespace sg::kube
