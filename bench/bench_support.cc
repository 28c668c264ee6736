#include "bench/bench_support.h"

#include <glob.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sg::bench {
namespace {

std::string Padded(int version, int width) {
  std::string s = std::to_string(version);
  return std::string(s.size() < static_cast<size_t>(width) ? width - s.size() : 0, '0') + s;
}

std::string Body(int version, MigrationShape shape) {
  const std::string t = "bench_t" + std::to_string(version);
  if (shape == MigrationShape::kTiny) {
    return "-- tiny migration " + std::to_string(version) + "\nSELECT " + std::to_string(version) +
           ";\n";
  }
  return "-- table " + t +
         " with an index and two rows\n"
         "CREATE TABLE " +
         t +
         " (\n"
         "  id bigint PRIMARY KEY,\n"
         "  name text NOT NULL,\n"
         "  created_at timestamptz NOT NULL DEFAULT now()\n"
         ");\n"
         "CREATE INDEX " +
         t + "_name_idx ON " + t +
         " (name);\n"
         "INSERT INTO " +
         t +
         " (id, name) VALUES (1, 'alpha');\n"
         "INSERT INTO " +
         t + " (id, name) VALUES (2, 'beta');\n";
}

std::string Tail(const std::string& s, size_t n) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

// CPU time of every reaped child so far; the bench reaps one child at a time.
double ChildrenCpuMs() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

}  // namespace

std::vector<std::string> WriteMigrationSet(const std::string& dir, int count,
                                           MigrationShape shape) {
  std::filesystem::create_directories(dir);
  const int width = static_cast<int>(std::to_string(count).size());
  std::vector<std::string> files;
  files.reserve(count);
  for (int v = 1; v <= count; ++v) {
    std::string name = shape == MigrationShape::kTiny ? "tiny" : "create_bench_t";
    std::string path = dir + "/" + Padded(v, width) + "_" + name + std::to_string(v) + ".up.sql";
    std::ofstream out(path, std::ios::out | std::ios::trunc);
    out << Body(v, shape);
    if (!out) throw std::runtime_error("cannot write " + path);
    files.push_back(path);
  }
  return files;
}

void WritePsqlScript(const std::string& path, const std::vector<std::string>& files) {
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  for (const auto& f : files) out << "BEGIN;\n\\i " << f << "\nCOMMIT;\n";
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string FindPsql(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  glob_t g;
  std::vector<std::string> found;
  if (glob("/usr/lib/postgresql/*/bin/psql", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) found.push_back(g.gl_pathv[i]);
  }
  globfree(&g);
  if (found.empty()) return "psql";
  // /usr/lib/postgresql/NN/bin/psql: newest major version wins.
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(a.substr(20)) < std::stoi(b.substr(20));
  });
  return found.back();
}

Timing TimeCommand(Clock* clock, const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env, testing::RunResult* result) {
  double cpu_before = ChildrenCpuMs();
  auto start = clock->Now();
  testing::RunResult r = testing::RunCommand(argv, env);
  auto elapsed = clock->Now() - start;
  double cpu = ChildrenCpuMs() - cpu_before;
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw std::runtime_error("`" + cmd + "` exited " + std::to_string(r.exit_code) +
                             (r.signal ? " (signal " + std::to_string(r.signal) + ")" : "") +
                             "\nstdout: " + Tail(r.out, 2000) + "\nstderr: " + Tail(r.err, 2000));
  }
  if (result) *result = std::move(r);
  return {std::chrono::duration<double, std::milli>(elapsed).count(), cpu};
}

Summary Summarize(std::vector<double> samples) {
  Summary s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  size_t n = samples.size();
  s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  s.min = samples.front();
  s.max = samples.back();
  return s;
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

int CountLoggedStatements(const std::string& log_path, int64_t offset) {
  std::ifstream in(log_path);
  if (!in) throw std::runtime_error("cannot read " + log_path);
  in.seekg(offset);
  int count = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("LOG:  statement: ") != std::string::npos ||
        line.find("LOG:  execute ") != std::string::npos) {
      ++count;
    }
  }
  return count;
}

std::string Fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, value);
  return buf;
}

}  // namespace sg::bench
