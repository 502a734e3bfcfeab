#pragma once
// Runs the real taskctl binary: stdin/stdout/stderr through pipes (or a
// pseudo-terminal), a timeout, environment overrides, and the exit status.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace clitest {

struct RunOptions
{
  std::string input;                  // written to stdin, then stdin is closed
  bool keep_stdin_open = false;       // do not close stdin after input (a "slow" stdin)
  std::map<std::string, std::optional<std::string>> env; // overrides; nullopt unsets
  std::chrono::milliseconds timeout{30000};
  // Put these on a pseudo-terminal instead of a pipe (the child becomes a
  // session leader with the pty as its controlling terminal, so /dev/tty works).
  bool tty_stdin = false;
  bool tty_stdout = false;
  bool tty_stderr = false;
  std::string tty_input;              // typed on the terminal (e.g. "y\n")
  unsigned short tty_columns = 120;   // the terminal's width (40 rows)
  // Called once the child runs and its input is written, e.g. to send it a signal.
  std::function<void(pid_t)> on_start;
};

struct RunResult
{
  int exit_code = -1;       // exit status, or 128 + signal when killed
  int term_signal = 0;      // the signal that killed it (0: it exited)
  std::string out;          // stdout (when a pipe)
  std::string err;          // stderr (when a pipe)
  std::string tty;          // everything written to the terminal
  long max_rss_kb = 0;      // the child's peak resident set size (taskctl's, not this process's)
  bool timed_out = false;
};

// Runs argv[0] = path with args. The environment is the test's own, made
// hermetic: TASKCTL_*, NO_COLOR and XDG_DATA_HOME removed, PAGER=cat, then
// env applied.
RunResult run(const std::string& path, const std::vector<std::string>& args, const RunOptions& options = {});

} // namespace clitest
