#include "support/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sg::testing {
namespace {

std::string FindBindir() {
  if (const char* env = std::getenv("SG_PG_BINDIR")) return env;
  glob_t g;
  std::vector<std::string> dirs;
  if (glob("/usr/lib/postgresql/*/bin/postgres", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) dirs.push_back(g.gl_pathv[i]);
  }
  globfree(&g);
  if (dirs.empty()) throw std::runtime_error("no PostgreSQL server found; run scripts/setup.sh");
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(a.substr(20)) < std::stoi(b.substr(20));  // /usr/lib/postgresql/NN
  });
  return std::filesystem::path(dirs.back()).parent_path().string();
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

struct Account {
  uid_t uid;
  gid_t gid;
  bool drop;
};

Account ServerAccount() {
  if (geteuid() != 0) return {geteuid(), getegid(), false};
  passwd* pw = getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("running as root but there is no postgres user");
  return {pw->pw_uid, pw->pw_gid, true};
}

// Forks and execs argv as the server account; stdout/stderr to `log`.
pid_t SpawnAs(const Account& who, const std::vector<std::string>& argv, const std::string& log) {
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setsid();  // keep terminal signals meant for the test away from the server
    if (who.drop && (setgid(who.gid) != 0 || setuid(who.uid) != 0)) _exit(126);
    // After setuid, which clears it. The signal comes when the thread that
    // forked ends: servers are started from the test's main thread (SetUp).
    prctl(PR_SET_PDEATHSIG, SIGINT);
    if (getppid() != parent) _exit(125);  // the test already died
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::unique_ptr<PgServer> PgServer::Start(const Options& options) {
  std::unique_ptr<PgServer> s(new PgServer());
  s->bindir_ = FindBindir();
  char tmpl[] = "/tmp/sg-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  s->dir_ = tmpl;
  Account who = ServerAccount();
  if (who.drop && chown(s->dir_.c_str(), who.uid, who.gid) != 0) {
    throw std::runtime_error("chown " + s->dir_ + " failed");
  }
  const std::string log = s->dir_ + "/server.log";
  const std::string pwfile = s->dir_ + "/pwfile";
  {
    std::ofstream pw(pwfile);
    pw << kPassword << "\n";
  }
  if (who.drop) chown(pwfile.c_str(), who.uid, who.gid);
  { std::ofstream l(log); }
  if (who.drop) chown(log.c_str(), who.uid, who.gid);

  pid_t init = SpawnAs(
      who,
      {s->bindir_ + "/initdb", "-D", s->dir_ + "/data", "-U", "postgres", "--pwfile=" + pwfile,
       "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C", "-N"},
      log);
  int status = 0;
  waitpid(init, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("initdb failed:\n" + Slurp(log));
  }
  unlink(pwfile.c_str());

  for (int attempt = 0; attempt < 5; ++attempt) {
    s->port_ = FreePort();
    std::vector<std::string> argv = {s->bindir_ + "/postgres",
                                     "-D",
                                     s->dir_ + "/data",
                                     "-p",
                                     std::to_string(s->port_),
                                     "-k",
                                     s->dir_,
                                     "-c",
                                     "listen_addresses=127.0.0.1",
                                     "-c",
                                     "fsync=off",
                                     "-c",
                                     "synchronous_commit=off",
                                     "-c",
                                     "full_page_writes=off",
                                     "-c",
                                     "max_connections=200",
                                     "-c",
                                     "log_min_messages=warning",
                                     "-c",
                                     "log_line_prefix=%a|"};
    for (const auto& setting : options.settings) {
      argv.push_back("-c");
      argv.push_back(setting);
    }
    s->pid_ = SpawnAs(who, argv, log);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(s->pid_, &status, WNOHANG) == s->pid_) {
        s->pid_ = -1;
        break;  // died (port taken?): try another port
      }
      try {
        pqxx::connection c(s->Url());
        return s;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (s->pid_ > 0) break;
  }
  throw std::runtime_error("postgres did not start:\n" + Slurp(log));
}

PgServer::~PgServer() {
  if (pid_ > 0) {
    kill(pid_, SIGINT);  // fast shutdown: disconnect clients, stop
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PgServer::Url(const std::string& db) const {
  return std::string("postgresql://postgres:") + kPassword + "@127.0.0.1:" + std::to_string(port_) +
         "/" + db + "?sslmode=disable";
}

std::string PgServer::CreateDatabase(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::string name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  pqxx::connection c(Url());
  pqxx::nontransaction tx(c);
  tx.exec("CREATE DATABASE " + tx.quote_name(name));
  return Url(name);
}

PgServer& SharedPgServer() {
  static std::once_flag once;
  static std::unique_ptr<PgServer> server;
  std::call_once(once, [] {
    server = PgServer::Start();
    // Stopped at exit by the unique_ptr's destructor.
  });
  return *server;
}

}  // namespace sg::testing
