#pragma once
// Helpers of the in-process unit tests of the taskctl_cli units (unit_*.cpp):
// environment variables for one scope, a file descriptor's output captured,
// standard input fed from a pipe, and the CliError a call throws.

#include "support/env_guard.hpp"
#include "context.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace clitest {

using ScopedEnv = taskstore::testing::EnvGuard;

// Runs f with file descriptor fd (1 or 2) sent to a temporary file and
// returns what was written to it (stdio flushed before and after).
std::string captured(int fd, const std::function<void()>& f);

// Runs f with standard input a pipe that carries data, then end of file.
void with_stdin(const std::string& data, const std::function<void()>& f);

// Returns the CliError f throws, or nullopt when it throws nothing (any
// other exception propagates).
std::optional<taskctl::CliError> cli_error(const std::function<void()>& f);

} // namespace clitest
