#include "kube/transport/transport.h"

namespace sg::kube {

std::string Response::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace sg::kube
