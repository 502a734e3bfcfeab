#pragma once
// Every failure of a run mapped to the exit status table of DESIGN.md in one
// place: what main prints and the status it exits with.

#include "output.hpp" // ErrorReport

#include <exception>

namespace taskctl {

struct Context;

// Returns the report for the exception error (thrown by a subcommand or the
// program): CliError keeps its exit status, code, causes, details, hint and
// extra fields; StorageError not_found -> 3, version_conflict -> 4 (with the
// versions), backend -> 5 when unavailable, else 1; InvalidArgument -> 2;
// ConfigError -> 7; TaskError by kind (not_found 3, concurrent_modification
// 4, invalid_transition / expired / variable_size_exceeded 6, others 1);
// anything else -> 1. An Interrupted, or a
// CliError, StorageError or other failure once SIGINT arrived, is reported
// as "interrupted" with interrupt_exit_code(). Messages of nested exceptions
// become causes. error must hold a std::exception.
ErrorReport failure_report(const Context& ctx, std::exception_ptr error);

} // namespace taskctl
