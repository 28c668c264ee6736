#include "kube/config/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

extern char** environ;

namespace sg::kube {

namespace {

constexpr std::string_view kApiVersion = "client.authentication.k8s.io/v1";
constexpr size_t kMaxOutput = 1 << 20;

int Digits(std::string_view s, size_t pos, size_t n, bool* ok) {
  int v = 0;
  if (pos + n > s.size()) {
    *ok = false;
    return 0;
  }
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      *ok = false;
      return 0;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

StatusOr<Clock::WallTime> ParseRfc3339(std::string_view s) {
  bool ok = true;
  std::tm tm{};
  tm.tm_year = Digits(s, 0, 4, &ok) - 1900;
  tm.tm_mon = Digits(s, 5, 2, &ok) - 1;
  tm.tm_mday = Digits(s, 8, 2, &ok);
  tm.tm_hour = Digits(s, 11, 2, &ok);
  tm.tm_min = Digits(s, 14, 2, &ok);
  tm.tm_sec = Digits(s, 17, 2, &ok);
  if (!ok || s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return InvalidError("not an RFC 3339 timestamp: \"" + std::string(s.substr(0, 40)) + "\"");
  }
  size_t pos = 19;
  std::chrono::nanoseconds frac{0};
  if (s[pos] == '.') {
    ++pos;
    long long scale = 100'000'000;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += std::chrono::nanoseconds((s[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) ok = false;
  }
  std::chrono::seconds offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    int hh = Digits(s, pos + 1, 2, &ok);
    int mm = Digits(s, pos + 4, 2, &ok);
    if (pos + 3 >= s.size() || s[pos + 3] != ':') ok = false;
    offset = std::chrono::seconds(sign * (hh * 3600 + mm * 60));
    pos += 6;
  } else {
    ok = false;
  }
  if (!ok || pos != s.size()) {
    return InvalidError("not an RFC 3339 timestamp: \"" + std::string(s.substr(0, 40)) + "\"");
  }
  time_t t = timegm(&tm);
  return Clock::WallTime(std::chrono::seconds(t) - offset) +
         std::chrono::duration_cast<Clock::WallTime::duration>(frac);
}

Status ValidateExecConfig(const ExecConfig& c) {
  if (c.api_version != kApiVersion) {
    return InvalidError(c.origin + ".apiVersion: \"" + c.api_version +
                        "\" is not supported (only " + std::string(kApiVersion) + ")");
  }
  if (c.command.empty()) return InvalidError(c.origin + ".command: must be set");
  if (c.interactive_mode == "Always") {
    return InvalidError(c.origin +
                        ".interactiveMode: Always needs a terminal; schemagate never runs "
                        "plugins interactively");
  }
  return OkStatus();
}

ExecCredentials::ExecCredentials(ExecConfig config, Clock* clock)
    : config_(std::move(config)), clock_(clock) {}

int ExecCredentials::runs() const {
  std::lock_guard<std::mutex> l(mu_);
  return runs_;
}

void ExecCredentials::Invalidate() {
  std::lock_guard<std::mutex> l(mu_);
  token_.reset();
  expires_.reset();
}

StatusOr<std::optional<std::string>> ExecCredentials::Token() {
  std::lock_guard<std::mutex> l(mu_);
  bool valid = token_.has_value() && (!expires_ || clock_->WallNow() < *expires_);
  if (!valid) SG_RETURN_IF_ERROR(RunLocked());
  return token_;
}

Status ExecCredentials::RunLocked() {
  ++runs_;
  const std::string where = config_.origin + ": command " + config_.command;
  nlohmann::json info = {{"apiVersion", config_.api_version},
                         {"kind", "ExecCredential"},
                         {"spec", {{"interactive", false}}}};
  if (config_.provide_cluster_info) info["spec"]["cluster"] = config_.cluster_info;

  // Environment: ours, then the config's entries (overriding), then the info.
  std::vector<std::string> env;
  auto overridden = [&](std::string_view entry) {
    std::string_view name = entry.substr(0, entry.find('='));
    if (name == "KUBERNETES_EXEC_INFO") return true;
    for (const auto& [k, v] : config_.env) {
      if (k == name) return true;
    }
    return false;
  };
  for (char** e = environ; e && *e; ++e) {
    if (!overridden(*e)) env.emplace_back(*e);
  }
  for (const auto& [k, v] : config_.env) env.push_back(k + "=" + v);
  env.push_back("KUBERNETES_EXEC_INFO=" + info.dump());
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args_storage{config_.command};
  for (const auto& a : config_.args) args_storage.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return InternalError(where + ": pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, config_.command.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return InvalidError(where + ": cannot run it: " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  bool too_big = false;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + config_.timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{fds[0], POLLIN, 0};
    int ready = left.count() > 0 ? ::poll(&pfd, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() + n > kMaxOutput) {
      too_big = true;
      continue;  // drain so the plugin is not blocked on a full pipe
    }
    out.append(buf, n);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return TimeoutError(where + ": still running after " + std::to_string(config_.timeout.count()) +
                        " ms; killed");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFEXITED(status)
                          ? "exited with status " + std::to_string(WEXITSTATUS(status))
                          : "was killed by a signal";
    return UnauthorizedError(where + ": " + how);
  }
  if (too_big) return InvalidError(where + ": output larger than 1 MiB");
  // Never quote the output in errors: it may hold a token.
  nlohmann::json cred = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (cred.is_discarded() || !cred.is_object()) {
    return InvalidError(where + ": output is not an ExecCredential JSON object");
  }
  if (cred.value("kind", "") != "ExecCredential") {
    return InvalidError(where + ": output kind is not ExecCredential");
  }
  if (cred.value("apiVersion", "") != config_.api_version) {
    return InvalidError(where + ": output apiVersion does not match " + config_.api_version);
  }
  auto st = cred.find("status");
  if (st == cred.end() || !st->is_object()) {
    return InvalidError(where + ": output has no status");
  }
  std::string token = st->value("token", "");
  if (token.empty()) {
    if (st->contains("clientCertificateData")) {
      return InvalidError(where +
                          ": client certificates from exec plugins are not supported; "
                          "return status.token");
    }
    return InvalidError(where + ": output has no status.token");
  }
  std::optional<Clock::WallTime> expires;
  if (auto it = st->find("expirationTimestamp"); it != st->end() && !it->is_null()) {
    if (!it->is_string())
      return InvalidError(where + ": status.expirationTimestamp is not a string");
    auto t = ParseRfc3339(it->get<std::string>());
    if (!t.ok()) return t.status().WithContext(where + ": status.expirationTimestamp");
    expires = *t;
  }
  token_ = std::move(token);
  expires_ = expires;
  return OkStatus();
}

}  // namespace sg::kube
