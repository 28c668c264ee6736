// TestPki: a throw-away PKI made with the openssl command for TLS tests: a
// CA, a server certificate for 127.0.0.1/localhost signed by it, a client
// certificate signed by it, and an unrelated CA. Files live in a temp dir
// removed on destruction.
// Thread-safety: none needed (one per test fixture).
#pragma once

#include <string>

namespace sg::kube {

class TestPki {
 public:
  TestPki();  // aborts the test binary if openssl fails
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Read(const std::string& name) const;
  // ca.crt ca.key server.crt server.key client.crt client.key other-ca.crt

 private:
  std::string dir_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

}  // namespace sg::kube
