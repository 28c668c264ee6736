// Subprocess: runs a program to completion (or starts it in the background)
// and captures its exit code and output. Tests use it to drive the real
// `schemagate` binary exactly as users and Jobs do.
//
// Thread-safety: Run() is reentrant; a Process is owned by one thread.
// Ownership: a Process kills (SIGKILL) and reaps its child if still running
// when destroyed.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace sg::testing {

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH) with `env` added to the environment.
RunResult RunCommand(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env = {});

// A child running in the background; output goes to files under /tmp.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void Kill(int sig);
  // Waits for exit and returns the result with captured output.
  RunResult Wait();

 private:
  pid_t pid_ = -1;
  std::string out_path_, err_path_;
  bool reaped_ = false;
  RunResult result_;
};

}  // namespace sg::testing
