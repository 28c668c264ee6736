// End-to-end: `schemagate wait` as a process against the real local API
// server (scripts/cluster.sh), with the repository's SchemaMigration CRD.
// The test plays the controller: it creates the object and writes its status
// through the status subresource, and reads the command's progress lines to
// know what it has observed. Every wait has a deadline; nothing sleeps a
// fixed time to "let things happen".
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "support/kube_env.h"

namespace sg::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

using ::sg::testing::FindKubeconfig;

// The binary under test: $SCHEMAGATE_BIN (to try another build) or the one
// built with this test.
std::string SchemagateBin() {
  if (const char* b = std::getenv("SCHEMAGATE_BIN"); b && *b) return b;
  return SCHEMAGATE_BIN;
}

int Shell(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// `schemagate wait ...` in the background; stderr goes to a file the test
// reads to see what the command has observed.
class WaitProcess {
 public:
  WaitProcess(std::vector<std::string> args, const std::string& kubeconfig) {
    char tmpl[] = "/tmp/sg-wait-e2e-XXXXXX";
    int fd = ::mkstemp(tmpl);
    err_path_ = tmpl;
    std::vector<std::string> argv = {SchemagateBin(), "wait"};
    for (auto& a : args) argv.push_back(std::move(a));
    if (!kubeconfig.empty()) argv.push_back("--kubeconfig=" + kubeconfig);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fd, 2);
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    ::close(fd);
  }
  ~WaitProcess() {
    if (!exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::unlink(err_path_.c_str());
  }
  WaitProcess(const WaitProcess&) = delete;
  WaitProcess& operator=(const WaitProcess&) = delete;

  std::string Stderr() const {
    std::ifstream in(err_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // True once the process has exited (code in exit_code()).
  bool Exited() {
    if (exited_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return exited_;
  }
  // Polls (20 ms) until exit or the deadline; -1 if still running.
  int WaitExit(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!Exited() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    return exited_ ? code_ : -1;
  }
  // Polls (20 ms) stderr until it contains `text` or the deadline passes.
  bool WaitForStderr(const std::string& text, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Stderr().find(text) != std::string::npos) return true;
      if (Exited()) return Stderr().find(text) != std::string::npos;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string err_path_;
  bool exited_ = false;
  int code_ = -1;
};

json Condition(const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message, int64_t generation) {
  return {{"type", type},
          {"status", status},
          {"reason", reason},
          {"message", message},
          {"observedGeneration", generation},
          {"lastTransitionTime", "2025-01-01T00:00:00Z"}};
}

class WaitE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubeconfig_ = FindKubeconfig();
    ASSERT_FALSE(kubeconfig_.empty()) << "no local cluster: run scripts/cluster.sh up";
    LoadOptions o;
    o.kubeconfig = kubeconfig_;
    auto rc = LoadRestConfig(o);
    ASSERT_TRUE(rc.ok()) << rc.status();
    auto c = NewClient(*rc);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(c).value();
    // The repository's CRD (the controller's e2e applies the same file).
    std::string kc = "KUBECONFIG=" + kubeconfig_ + " ";
    ASSERT_EQ(Shell(kc + "kubectl apply -f " + SG_SOURCE_DIR +
                    "/crds/schemagate.dev_schemamigrations.yaml >/dev/null"),
              0);
    ASSERT_EQ(Shell(kc + "kubectl wait --for=condition=Established --timeout=60s "
                         "crd/schemamigrations.schemagate.dev >/dev/null"),
              0);
    std::mt19937_64 rng(std::random_device{}());
    ns_ = "wait-e2e-" + std::to_string(rng() % 1000000000);
    auto created = client_->Create(gvr::Namespace(), "", {{"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status();
  }
  void TearDown() override {
    if (client_ && !ns_.empty()) client_->Delete(gvr::Namespace(), "", ns_).IgnoreError();
  }

  // Creates a valid SchemaMigration; returns its generation.
  int64_t Create(const std::string& name) {
    json sm = {{"apiVersion", "schemagate.dev/v1alpha1"},
               {"kind", "SchemaMigration"},
               {"metadata", {{"name", name}}},
               {"spec",
                {{"database", {{"secretRef", {{"name", "db"}}}}},
                 {"source", {{"configMaps", {"migrations-v1"}}}}}}};
    auto r = client_->Create(gvr::SchemaMigration(), ns_, sm);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? (*r)["metadata"]["generation"].get<int64_t>() : 0;
  }
  // A spec change: the API server bumps metadata.generation.
  int64_t ChangeSpec(const std::string& name, const std::string& configmap) {
    auto r = client_->Patch(gvr::SchemaMigration(), ns_, name, PatchType::kMerge,
                            {{"spec", {{"source", {{"configMaps", {configmap}}}}}}});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? (*r)["metadata"]["generation"].get<int64_t>() : 0;
  }
  void SetStatus(const std::string& name, int64_t observed, const std::string& ready,
                 const std::string& reason, int64_t applied, bool stalled = false) {
    json status = {
        {"observedGeneration", observed},
        {"appliedVersion", applied},
        {"conditions",
         {Condition("Ready", ready, reason, "test " + reason, observed),
          Condition("Reconciling", ready == "True" || stalled ? "False" : "True", reason,
                    "test " + reason, observed),
          Condition("Stalled", stalled ? "True" : "False", reason, "test " + reason, observed)}}};
    auto r = client_->PatchStatus(gvr::SchemaMigration(), ns_, name, PatchType::kMerge,
                                  {{"status", status}});
    ASSERT_TRUE(r.ok()) << r.status();
  }

  std::string kubeconfig_;
  std::unique_ptr<Client> client_;
  std::string ns_;
};

TEST_F(WaitE2eTest, WaitsForCreationAndACurrentReady) {
  WaitProcess w({ns_ + "/app", "--timeout=120s"}, kubeconfig_);
  ASSERT_TRUE(w.WaitForStderr("not found (yet)", 30s)) << w.Stderr();

  int64_t gen1 = Create("app");
  ASSERT_TRUE(w.WaitForStderr("waiting for the controller to report a status", 30s)) << w.Stderr();
  SetStatus("app", gen1, "False", "JobRunning", 0);
  ASSERT_TRUE(w.WaitForStderr("Ready=False (JobRunning: test JobRunning)", 30s)) << w.Stderr();
  EXPECT_FALSE(w.Exited()) << "returned while Ready=False:\n" << w.Stderr();

  // A new spec: Ready=True written for the old generation must not count.
  int64_t gen2 = ChangeSpec("app", "migrations-v2");
  ASSERT_GT(gen2, gen1);
  SetStatus("app", gen1, "True", "Migrated", 3);
  ASSERT_TRUE(w.WaitForStderr("observe generation " + std::to_string(gen2), 30s)) << w.Stderr();
  EXPECT_FALSE(w.Exited()) << "returned on a stale observedGeneration:\n" << w.Stderr();

  SetStatus("app", gen2, "True", "Migrated", 3);
  EXPECT_EQ(w.WaitExit(30s), 0) << w.Stderr();
  EXPECT_NE(w.Stderr().find("SchemaMigration is ready"), std::string::npos) << w.Stderr();
}

TEST_F(WaitE2eTest, MinVersionAndAlreadyReady) {
  int64_t gen = Create("app");
  SetStatus("app", gen, "True", "Migrated", 3);

  // Already there: returns without waiting for any change.
  WaitProcess now({ns_ + "/app", "--min-version=3", "--timeout=60s"}, kubeconfig_);
  EXPECT_EQ(now.WaitExit(30s), 0) << now.Stderr();

  WaitProcess w({ns_ + "/app", "--min-version=5", "--timeout=120s"}, kubeconfig_);
  ASSERT_TRUE(w.WaitForStderr("applied version 3 < required 5", 30s)) << w.Stderr();
  SetStatus("app", gen, "True", "Migrated", 4);
  ASSERT_TRUE(w.WaitForStderr("applied version 4 < required 5", 30s)) << w.Stderr();
  EXPECT_FALSE(w.Exited()) << w.Stderr();
  SetStatus("app", gen, "True", "Migrated", 5);
  EXPECT_EQ(w.WaitExit(30s), 0) << w.Stderr();
}

TEST_F(WaitE2eTest, TimeoutExitCode) {
  WaitProcess w({ns_ + "/never", "--timeout=2s"}, kubeconfig_);
  EXPECT_EQ(w.WaitExit(60s), 3) << w.Stderr();
  EXPECT_NE(w.Stderr().find("timed out"), std::string::npos) << w.Stderr();
}

TEST_F(WaitE2eTest, StalledExitCodeOnlyWhenAsked) {
  int64_t gen = Create("app");
  WaitProcess patient({ns_ + "/app", "--timeout=120s"}, kubeconfig_);
  WaitProcess strict({ns_ + "/app", "--fail-on-stalled", "--timeout=120s"}, kubeconfig_);
  ASSERT_TRUE(strict.WaitForStderr("report a status", 30s)) << strict.Stderr();
  SetStatus("app", gen, "False", "MigrationFailed", 2, /*stalled=*/true);
  EXPECT_EQ(strict.WaitExit(30s), 4) << strict.Stderr();
  ASSERT_TRUE(patient.WaitForStderr("Stalled=True (MigrationFailed", 30s)) << patient.Stderr();
  EXPECT_FALSE(patient.Exited()) << patient.Stderr();
  // The human fixed it; the controller recovered.
  SetStatus("app", gen, "True", "Migrated", 3);
  EXPECT_EQ(patient.WaitExit(30s), 0) << patient.Stderr();
}

TEST_F(WaitE2eTest, SigtermInterrupts) {
  WaitProcess w({ns_ + "/app"}, kubeconfig_);
  ASSERT_TRUE(w.WaitForStderr("not found (yet)", 30s)) << w.Stderr();
  ::kill(w.pid(), SIGTERM);
  EXPECT_EQ(w.WaitExit(30s), 1) << w.Stderr();
}

TEST_F(WaitE2eTest, UnreachableApiServerAndUsageErrors) {
  // A kubeconfig whose server refuses connections: exit 7 after the retries.
  char dir[] = "/tmp/sg-wait-kc-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/config";
  {
    std::ofstream f(path);
    f << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
         "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', "
         "insecure-skip-tls-verify: true}}]\n"
         "users: [{name: u, user: {token: not-a-real-token}}]\n"
         "contexts: [{name: c, context: {cluster: c, user: u}}]\n";
  }
  WaitProcess w({"default/app", "--max-api-failures=2"}, path);
  EXPECT_EQ(w.WaitExit(60s), 7) << w.Stderr();
  EXPECT_EQ(w.Stderr().find("not-a-real-token"), std::string::npos) << w.Stderr();

  WaitProcess bad({"a/b/c"}, path);
  EXPECT_EQ(bad.WaitExit(30s), 2) << bad.Stderr();
  WaitProcess bad_timeout({"a/b", "--timeout=soon"}, path);
  EXPECT_EQ(bad_timeout.WaitExit(30s), 2) << bad_timeout.Stderr();
  WaitProcess no_config({"a/b"}, std::string(dir) + "/missing");
  EXPECT_EQ(no_config.WaitExit(30s), 2) << no_config.Stderr();
  ::unlink(path.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace sg::kube
