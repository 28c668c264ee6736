#include "kube/watch/stream_parser.h"

namespace sg::kube {

Status StreamParser::Feed(std::string_view chunk, std::vector<WatchEvent>* out) {
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      if (buffer_.size() + chunk.size() > max_line_) {
        return InternalError("watch event larger than " + std::to_string(max_line_) + " bytes");
      }
      buffer_.append(chunk);
      return OkStatus();
    }
    if (buffer_.empty()) {
      // Fast path: a whole line inside this chunk, no copy. The limit holds
      // for it too, so how the bytes were cut never changes the verdict.
      if (nl > max_line_) {
        return InternalError("watch event larger than " + std::to_string(max_line_) + " bytes");
      }
      SG_RETURN_IF_ERROR(ParseLine(chunk.substr(0, nl), out));
    } else {
      if (buffer_.size() + nl > max_line_) {
        return InternalError("watch event larger than " + std::to_string(max_line_) + " bytes");
      }
      buffer_.append(chunk.substr(0, nl));
      std::string line = std::move(buffer_);
      buffer_.clear();
      SG_RETURN_IF_ERROR(ParseLine(line, out));
    }
    chunk.remove_prefix(nl + 1);
  }
  return OkStatus();
}

Status StreamParser::ParseLine(std::string_view line, std::vector<WatchEvent>* out) {
  size_t b = line.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return OkStatus();
  nlohmann::json j = nlohmann::json::parse(line.substr(b), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InternalError("watch stream: an event is not valid JSON");
  SG_ASSIGN_OR_RETURN(WatchEvent e, ParseWatchEvent(j));
  out->push_back(std::move(e));
  return OkStatus();
}

}  // namespace sg::kube
