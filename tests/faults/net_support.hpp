#pragma once
// Support of the network fault tests: a dynalite of the test's own, and a
// runner of the real taskctl that can pause a server once taskctl is under
// way (after it printed a given text) and then send taskctl a signal.

#include "cli_support.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace faults {

using clitest::Json;

// A dynalite (node TASKCTL_DYNALITE_CLI) on a free 127.0.0.1 port, killed
// (SIGCONT, then SIGKILL) by the destructor and by the kernel if the test dies.
class Dynalite
{
public:
  Dynalite();
  ~Dynalite();
  Dynalite(const Dynalite&) = delete;
  Dynalite& operator=(const Dynalite&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void pause();  // SIGSTOP
  void resume(); // SIGCONT

private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// What run() does around the taskctl child.
struct Plan
{
  std::vector<std::string> args;
  std::map<std::string, std::string> env; // added to a hermetic environment
  // Called once stdout contains `after_output` ("" = as soon as taskctl
  // started), typically to pause the server.
  std::string after_output;
  // Then stop reading taskctl's stdout this long before the trigger: taskctl
  // fills the pipe and blocks in the middle of its walk, so the trigger (the
  // pause) surely comes mid-operation.
  std::chrono::milliseconds hold{0};
  std::function<void()> on_trigger;
  // Sent to taskctl `settle` after the trigger (0 = none).
  int signal = 0;
  std::chrono::milliseconds settle{400};
  // taskctl is killed (SIGKILL) when it runs this long after the trigger.
  std::chrono::milliseconds watchdog{20000};
};

struct Outcome
{
  int exit_code = -1;   // exit status, or 128 + signal when killed
  bool killed = false;  // the watchdog fired
  bool triggered = false;
  std::string out;
  std::string err;
  double after_trigger = 0; // seconds from the trigger to the exit
  double after_signal = 0;  // seconds from the signal to the exit
};

// Runs taskctl (TASKCTL_BIN) as the plan says; HOME is a fresh directory,
// TASKCTL_* and AWS_* of the test's environment are removed, dummy AWS
// credentials set.
Outcome run(const Plan& plan);

// Renders an outcome for failure messages.
std::string describe(const Outcome& o);

} // namespace faults
