#pragma once
// The program and its subcommands: run_taskctl is all of taskctl (main.cpp
// only calls it); each register_* adds one subcommand to the CLI11 app.

#include <functional>

namespace CLI {
class App;
}

namespace taskctl {

struct Context;

// A registered subcommand: the CLI11 app and what running it does (returns
// the exit status; throws for failures).
struct Command
{
  CLI::App* app = nullptr;
  std::function<int(Context&)> run;
};

Command register_get(CLI::App& root);
Command register_put(CLI::App& root);
Command register_cas(CLI::App& root);
Command register_delete(CLI::App& root);
Command register_ls(CLI::App& root);
Command register_gc(CLI::App& root);
Command register_validate(CLI::App& root);
Command register_cancel(CLI::App& root);
Command register_set_status(CLI::App& root);
Command register_vars(CLI::App& root);
Command register_expire(CLI::App& root);
Command register_edit(CLI::App& root);
Command register_stats(CLI::App& root);
Command register_export(CLI::App& root);
Command register_import(CLI::App& root);
Command register_copy(CLI::App& root);
Command register_stores(CLI::App& root);
Command register_whoami(CLI::App& root);

// Runs taskctl: installs the signal handlers, parses argv, runs the chosen
// subcommand and prints any failure (failure_report). Returns the exit
// status; never throws a std::exception.
int run_taskctl(int argc, char** argv);

} // namespace taskctl
