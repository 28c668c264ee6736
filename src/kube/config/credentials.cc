#include "kube/config/credentials.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace sg::kube {

TokenFileCredentials::TokenFileCredentials(std::string path, Clock* clock,
                                           std::chrono::seconds max_age)
    : path_(std::move(path)), clock_(clock), max_age_(max_age) {}

StatusOr<std::optional<std::string>> TokenFileCredentials::Token() {
  std::lock_guard<std::mutex> l(mu_);
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    // Keep serving the last token if the file vanished for a moment during
    // an atomic replace (kubelet swaps a symlink); fail only if we never had
    // one.
    if (loaded_) return std::optional(token_);
    return InvalidError("token file " + path_ + ": cannot stat it");
  }
  std::int64_t mtime =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  bool fresh =
      loaded_ && mtime == mtime_ns_ && st.st_size == size_ && clock_->Now() - read_at_ < max_age_;
  if (fresh) return std::optional(token_);

  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (loaded_) return std::optional(token_);
    return InvalidError("token file " + path_ + ": cannot read it");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' ||
                            token.back() == '\t')) {
    token.pop_back();
  }
  if (token.empty()) {
    if (loaded_) return std::optional(token_);
    return InvalidError("token file " + path_ + ": is empty");
  }
  token_ = std::move(token);
  loaded_ = true;
  mtime_ns_ = mtime;
  size_ = st.st_size;
  read_at_ = clock_->Now();
  return std::optional(token_);
}

void TokenFileCredentials::Invalidate() {
  std::lock_guard<std::mutex> l(mu_);
  // Keep the token as a fallback but force a re-read next time.
  size_ = -1;
}

}  // namespace sg::kube
