#include "kube/transport/test_pki.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sg::kube {

namespace {
void Run(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) {
    std::fprintf(stderr, "test PKI: command failed: %s\n", cmd.c_str());
    std::abort();
  }
}
}  // namespace

TestPki::TestPki() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sgpki.XXXXXX").string();
  dir_ = ::mkdtemp(tmpl.data());
  const std::string d = dir_;
  auto ca = [&](const std::string& name, const std::string& cn) {
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
        "/CN=" +
        cn + " -keyout " + d + "/" + name + ".key -out " + d + "/" + name + ".crt");
  };
  auto leaf = [&](const std::string& name, const std::string& cn, const std::string& ext) {
    std::ofstream(d + "/" + name + ".ext") << ext << "\n";
    Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + cn +
        " -keyout " + d + "/" + name + ".key -out " + d + "/" + name + ".csr");
    Run("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/ca.crt -CAkey " + d +
        "/ca.key -CAcreateserial -days 2 -extfile " + d + "/" + name + ".ext -out " + d + "/" +
        name + ".crt");
  };
  ca("ca", "sg-test-ca");
  ca("other-ca", "sg-other-ca");
  leaf("server", "127.0.0.1",
       "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
  leaf("client", "sg-test-client", "extendedKeyUsage=clientAuth");
}

TestPki::~TestPki() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string TestPki::Read(const std::string& name) const {
  std::ifstream in(Path(name));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace sg::kube
