// End-to-end: leader election between separate processes on a real Lease
// (scripts/cluster.sh). Two lease_candidate processes contend; the leader is
// stopped gracefully (SIGTERM: it releases the Lease) and then crashed
// (SIGKILL: the standby waits out LeaseDuration measured from when it last
// saw the record change). The takeover times are printed, not asserted;
// the test asserts that exactly one candidate leads at a time, that the
// standby takes over before a generous deadline, and that leaseTransitions
// (the fencing token) increases with each change of holder.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "kube/lease/lease_record.h"
#include "kube/transport/rest_transport.h"

namespace sg::kube {
namespace {

using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string FindKubeconfig() {
  if (const char* k = std::getenv("KUBECONFIG"); k && *k) return k;
  std::string cmd = std::string("bash ") + SG_SOURCE_DIR + "/scripts/cluster.sh env 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[1024];
  while (fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  auto pos = out.find("KUBECONFIG=");
  if (pos == std::string::npos) return "";
  std::string path = out.substr(pos + 11);
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  return path;
}

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
    std::mt19937_64 rng(std::random_device{}());
    ns_ = "lease-e2e-" + std::to_string(rng() % 1000000000);
    auto created = client_->Create(gvr::Namespace(), "", {{"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status();
  }
  void TearDown() override {
    if (client_ && !ns_.empty()) client_->Delete(gvr::Namespace(), "", ns_).IgnoreError();
  }

  std::unique_ptr<Candidate> Start(const std::string& identity) {
    return std::make_unique<Candidate>(
        std::vector<std::string>{LEASE_CANDIDATE_BIN, kubeconfig_, ns_, "election", identity});
  }

  LeaseRecord Lease() {
    auto got = client_->Get(gvr::Lease(), ns_, "election");
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return {};
    auto r = LeaseRecordFromSpec((*got)["spec"]);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : LeaseRecord{};
  }

  std::string kubeconfig_;
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

}  // namespace
}  // namespace sg::kube
