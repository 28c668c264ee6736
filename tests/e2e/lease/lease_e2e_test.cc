// End-to-end: leader election between separate processes on a real Lease
// (scripts/cluster.sh). Two lease_candidate processes contend; the leader is
// stopped gracefully (SIGTERM: it releases the Lease) and then crashed
// (SIGKILL: the standby waits out LeaseDuration measured from when it last
// saw the record change). The takeover times are printed, not asserted;
// the test asserts that exactly one candidate leads at a time, that the
// standby takes over before a generous deadline, and that leaseTransitions
// and the fencing token (annotation schemagate.dev/fencing-token, derived
// from the real API server's resourceVersions) increase with each change of
// holder.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "kube/lease/lease_record.h"
#include "kube/transport/rest_transport.h"
#include "support/kube_env.h"

namespace sg::kube {
namespace {

using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

using ::sg::testing::FindKubeconfig;

// One lease_candidate child with its stdout read line by line.
class Candidate {
 public:
  Candidate(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Candidate() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  Candidate(const Candidate&) = delete;
  Candidate& operator=(const Candidate&) = delete;

  void Signal(int sig) { kill(pid_, sig); }

  // Reads until a line starting with `prefix` arrives; false at `deadline`
  // or end of output.
  bool WaitForLine(const std::string& prefix, Steady::time_point deadline) {
    for (;;) {
      if (Seen(prefix)) return true;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
      if (left <= 0ms) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return Seen(prefix);
      partial_.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = partial_.find('\n')) != std::string::npos) {
        lines_.push_back(partial_.substr(0, nl));
        partial_.erase(0, nl + 1);
      }
    }
  }
  // The " @<monotonic ms>" stamp of the first line starting with `prefix`.
  std::optional<Steady::time_point> StampOf(const std::string& prefix) const {
    for (auto& l : lines_) {
      if (l.rfind(prefix, 0) != 0) continue;
      auto at = l.rfind(" @");
      if (at == std::string::npos) return std::nullopt;
      return Steady::time_point(std::chrono::milliseconds(std::stoll(l.substr(at + 2))));
    }
    return std::nullopt;
  }
  bool Seen(const std::string& prefix) const {
    for (auto& l : lines_) {
      if (l.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
  // Exit code after waiting (the process must be ending).
  int WaitExit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  std::string Output() const {
    std::string out;
    for (auto& l : lines_) out += l + "\n";
    return out;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool reaped_ = false;
  std::string partial_;
  std::vector<std::string> lines_;
};

// A loopback TCP proxy in front of the API server that can be frozen: while
// frozen it accepts and holds connections but moves no bytes, so requests
// through it hang exactly like a network partition that drops nothing.
class StallProxy {
 public:
  StallProxy(const std::string& host, int port) : host_(host), port_(port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    listen_port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~StallProxy() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    acceptor_.join();
    std::lock_guard<std::mutex> l(mu_);
    for (auto& t : pumps_) t.join();
  }
  StallProxy(const StallProxy&) = delete;
  StallProxy& operator=(const StallProxy&) = delete;

  std::string url() const { return "https://127.0.0.1:" + std::to_string(listen_port_); }
  void Freeze() { frozen_ = true; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      int upstream = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
      if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(client);
        close(upstream);
        continue;
      }
      std::lock_guard<std::mutex> l(mu_);
      pumps_.emplace_back([this, client, upstream] { Pump(client, upstream); });
    }
  }
  void Pump(int a, int b) {
    char buf[16384];
    while (!stop_) {
      pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (poll(p, 2, 100) <= 0) continue;
      if (frozen_) continue;  // hold the bytes: the peer's request hangs
      bool closed = false;
      for (int i = 0; i < 2; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(p[i].fd, buf, sizeof buf);
        if (n <= 0 || write(p[1 - i].fd, buf, static_cast<size_t>(n)) != n) closed = true;
      }
      if (closed) break;
    }
    close(a);
    close(b);
  }

  const std::string host_;
  const int port_;
  int listen_fd_ = -1;
  int listen_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> frozen_{false};
  std::mutex mu_;
  std::thread acceptor_;
  std::vector<std::thread> pumps_;
};

class LeaseE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadOptions o;
    kubeconfig_ = o.kubeconfig = FindKubeconfig();
    ASSERT_FALSE(o.kubeconfig.empty()) << "no local cluster: run scripts/cluster.sh up";
    auto rc = LoadRestConfig(o);
    ASSERT_TRUE(rc.ok()) << rc.status();
    auto t = RestTransport::Create(*rc);
    ASSERT_TRUE(t.ok()) << t.status();
    client_ = std::make_unique<Client>(std::move(t).value());
    server_ = rc->server;
    std::mt19937_64 rng(std::random_device{}());
    ns_ = "lease-e2e-" + std::to_string(rng() % 1000000000);
    auto created = client_->Create(gvr::Namespace(), "", {{"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status();
  }
  void TearDown() override {
    if (client_ && !ns_.empty()) client_->Delete(gvr::Namespace(), "", ns_).IgnoreError();
  }

  std::unique_ptr<Candidate> Start(const std::string& identity, const std::string& server = "") {
    std::vector<std::string> args{LEASE_CANDIDATE_BIN, kubeconfig_, ns_, "election", identity};
    if (!server.empty()) args.push_back(server);
    return std::make_unique<Candidate>(args);
  }

  LeaseRecord Lease() {
    auto got = client_->Get(gvr::Lease(), ns_, "election");
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return {};
    auto r = LeaseRecordFromSpec((*got)["spec"]);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return LeaseRecord{};
    const auto& meta = (*got)["metadata"];
    if (meta.contains("annotations") && meta["annotations"].contains(kFencingTokenAnnotation)) {
      r->fencing_token =
          ParsePositiveInt64(meta["annotations"][kFencingTokenAnnotation].get<std::string>());
    }
    return *r;
  }

  std::string kubeconfig_;
  std::string server_;  // "https://127.0.0.1:6443"
  std::unique_ptr<Client> client_;
  std::string ns_;
};

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

TEST_F(LeaseE2eTest, StandbyTakesOverAfterGracefulStopAndAfterCrash) {
  auto a = Start("candidate-a");
  ASSERT_TRUE(a->WaitForLine("started", Steady::now() + 60s)) << a->Output();
  auto b = Start("candidate-b");
  ASSERT_TRUE(b->WaitForLine("new-leader candidate-a", Steady::now() + 60s)) << b->Output();
  LeaseRecord first = Lease();
  EXPECT_EQ(first.holder_identity, "candidate-a");
  EXPECT_EQ(first.lease_duration_seconds, 15);
  ASSERT_TRUE(first.fencing_token.has_value());
  EXPECT_GE(*first.fencing_token, 2);

  // b must stay a standby while a renews: give it a few retry periods.
  EXPECT_FALSE(b->WaitForLine("started", Steady::now() + 7s)) << b->Output();

  // Graceful: SIGTERM -> a releases the Lease -> b acquires on its next try.
  const auto graceful_start = Steady::now();
  a->Signal(SIGTERM);
  ASSERT_TRUE(b->WaitForLine("started", Steady::now() + 60s)) << b->Output();
  const double graceful = Seconds(Steady::now() - graceful_start);
  EXPECT_TRUE(a->WaitForLine("exit OK", Steady::now() + 30s)) << a->Output();
  EXPECT_EQ(a->WaitExit(), 0);
  EXPECT_TRUE(a->Seen("stopped")) << a->Output();
  LeaseRecord second = Lease();
  EXPECT_EQ(second.holder_identity, "candidate-b");
  EXPECT_EQ(second.lease_transitions, first.lease_transitions + 1);
  EXPECT_GT(second.fencing_token.value_or(0), *first.fencing_token);

  // Crash: SIGKILL -> nothing released -> c waits out LeaseDuration from
  // its own observation of b's last renewal.
  auto c = Start("candidate-c");
  ASSERT_TRUE(c->WaitForLine("new-leader candidate-b", Steady::now() + 60s)) << c->Output();
  EXPECT_FALSE(c->Seen("started"));
  const auto crash_start = Steady::now();
  b->Signal(SIGKILL);
  ASSERT_TRUE(c->WaitForLine("started", Steady::now() + 120s)) << c->Output();
  const double crash = Seconds(Steady::now() - crash_start);
  EXPECT_EQ(b->WaitExit(), -SIGKILL);
  LeaseRecord third = Lease();
  EXPECT_EQ(third.holder_identity, "candidate-c");
  EXPECT_EQ(third.lease_transitions, second.lease_transitions + 1);
  EXPECT_GT(third.fencing_token.value_or(0), second.fencing_token.value_or(0));

  c->Signal(SIGTERM);
  EXPECT_EQ(c->WaitExit(), 0);
  EXPECT_EQ(Lease().holder_identity, "");

  std::printf(
      "[ FIGURES  ] leader election takeover (LeaseDuration 15s, RenewDeadline 10s, "
      "RetryPeriod 2s): graceful %.2f s, crash %.2f s\n",
      graceful, crash);
  RecordProperty("graceful_takeover_seconds", std::to_string(graceful));
  RecordProperty("crash_takeover_seconds", std::to_string(crash));
}

// kubernetes #44887: a leader whose requests hang must stop acting within
// RenewDeadline, before a standby can take over after LeaseDuration.
TEST_F(LeaseE2eTest, LeaderWithHungRequestsStopsBeforeStandbyTakesOver) {
  // server_ is https://HOST:PORT with a numeric loopback host.
  const auto colon = server_.rfind(':');
  ASSERT_NE(colon, std::string::npos) << server_;
  const std::string host = server_.substr(8, colon - 8);
  const int port = std::stoi(server_.substr(colon + 1));
  ASSERT_EQ(host, "127.0.0.1") << "the stall proxy needs a loopback IPv4 server: " << server_;
  StallProxy proxy(host, port);

  auto a = Start("candidate-a", proxy.url());
  ASSERT_TRUE(a->WaitForLine("started", Steady::now() + 60s)) << a->Output();
  auto b = Start("candidate-b");
  ASSERT_TRUE(b->WaitForLine("new-leader candidate-a", Steady::now() + 60s)) << b->Output();
  const int32_t before = Lease().lease_transitions;

  const auto frozen_at = Steady::now();
  const auto frozen_wall = std::chrono::system_clock::now();
  proxy.Freeze();
  ASSERT_TRUE(a->WaitForLine("stopped", Steady::now() + 60s)) << a->Output();
  // a's last successful renewal (its renewTime is the start of that write).
  LeaseRecord at_stop = Lease();
  ASSERT_TRUE(b->WaitForLine("started", Steady::now() + 120s)) << b->Output();
  ASSERT_TRUE(a->WaitForLine("exit", Steady::now() + 60s)) << a->Output();
  EXPECT_TRUE(a->Seen("exit FailedPrecondition")) << a->Output();
  EXPECT_EQ(a->WaitExit(), 1);

  auto a_stopped = a->StampOf("stopped");
  auto b_started = b->StampOf("started");
  ASSERT_TRUE(a_stopped && b_started) << a->Output() << b->Output();
  // The safety property: the stale leader gave up before the new one began.
  EXPECT_LT(*a_stopped, *b_started) << a->Output() << b->Output();
  LeaseRecord now = Lease();
  EXPECT_EQ(now.holder_identity, "candidate-b");
  EXPECT_EQ(now.lease_transitions, before + 1);

  double since_renew = -1;
  if (at_stop.holder_identity == "candidate-a" && at_stop.renew_time) {
    // stop (as wall time) - last renewal start
    since_renew = Seconds(frozen_wall - *at_stop.renew_time) + Seconds(*a_stopped - frozen_at);
  }
  std::printf(
      "[ FIGURES  ] hung leader: stopped acting %.2f s after its requests hung (%.2f s after "
      "its last successful renewal began; RenewDeadline 10 s), standby led after %.2f s "
      "(gap %.2f s)\n",
      Seconds(*a_stopped - frozen_at), since_renew, Seconds(*b_started - frozen_at),
      Seconds(*b_started - *a_stopped));
  b->Signal(SIGTERM);
  EXPECT_EQ(b->WaitExit(), 0);
}

}  // namespace
}  // namespace sg::kube
