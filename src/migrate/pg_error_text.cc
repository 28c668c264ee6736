#include "migrate/pg_error_text.h"

#include <cstring>
#include <sstream>

namespace sg::migrate {
namespace {

std::string TrimmedRight(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::string PrimaryMessage(const std::string& what) {
  std::istringstream in(what);
  std::string line, out;
  bool first = true;
  while (std::getline(in, line)) {
    if (first) {
      for (const char* p : {"ERROR:  ", "FATAL:  "}) {
        if (line.rfind(p, 0) == 0) line.erase(0, std::strlen(p));
      }
      out = line;
      first = false;
    } else if (line.rfind("HINT:", 0) == 0) {
      out += "; " + line;
    }
  }
  return TrimmedRight(out);
}

std::string DetailOf(const std::string& what) {
  std::istringstream in(what);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("DETAIL:", 0) == 0) {
      line.erase(0, std::strlen("DETAIL:"));
      while (!line.empty() && line.front() == ' ') line.erase(0, 1);
      return TrimmedRight(line);
    }
  }
  return "";
}

}  // namespace sg::migrate
