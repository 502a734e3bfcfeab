#pragma once
// The per-run state every part of taskctl shares: the exit status table, the
// global options, the terminal and colour facts (Context), the CLI's own
// failures (CliError, Interrupted) and the SIGINT/SIGTERM flag.

#include "taskstore/record.hpp" // taskstore::Json

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace taskctl {

using Json = taskstore::Json;

// The exit status table of DESIGN.md ("CLI surface").
enum ExitCode : int
{
  exit_ok = 0,
  exit_failure = 1,
  exit_usage = 2,
  exit_not_found = 3,
  exit_conflict = 4,
  exit_unavailable = 5,
  exit_invalid = 6,
  exit_config = 7,
  exit_interrupted = 130,
};

enum class Format
{
  unset, // the subcommand's default
  json,
  jsonl,
  table,
  raw,
};

enum class ColorMode
{
  auto_,
  always,
  never,
};

// Returns the format named by an -o value ("json", "jsonl", "table", "raw"),
// nullopt for any other text.
std::optional<Format> parse_format(std::string_view name);
// Returns the mode named by a --color value ("auto", "always", "never"),
// nullopt for any other text.
std::optional<ColorMode> parse_color_mode(std::string_view name);

// Returns Format::json or Format::jsonl when the command line (-o, --output,
// -oFORMAT, --output=FORMAT before any "--") or else TASKCTL_OUTPUT asks for
// one of them, Format::unset otherwise. Found without CLI11, so that a parse
// error can still be printed as JSON when a JSON format was asked for.
Format prescan_output(int argc, const char* const* argv);

// Options that every subcommand shares (set by CLI11 in app.cpp).
struct GlobalOptions
{
  std::string store;            // -s/--store; "" = TASKCTL_STORE, else the default store
  Format output = Format::unset;// -o/--output (env TASKCTL_OUTPUT)
  std::string timeout = "5s";   // --timeout (env TASKCTL_TIMEOUT)
  bool timeout_from_flag = false; // --timeout was on the command line (not the environment)
  ColorMode color = ColorMode::auto_; // --color (env TASKCTL_COLOR; NO_COLOR)
  bool quiet = false;           // -q/--quiet
  bool create = false;          // --create (env TASKCTL_CREATE): a write may create a missing store
  bool wide = false;            // --wide: tables never cut to the terminal's width
  bool allow_write = false;     // --allow-write: writes to a read_only config entry are allowed
};

// Returns false when the environment forbids colour in --color auto:
// NO_COLOR set and not empty, or TERM=dumb.
bool environment_allows_color();

// Per-run state derived from the global options and the terminal.
struct Context
{
  GlobalOptions global;
  Format format = Format::table; // resolved: global.output or the subcommand's default
  bool stdin_tty = false;
  bool stdout_tty = false;
  bool stderr_tty = false;
  bool color_stdout = false;
  bool color_stderr = false;

  // Fills the tty and colour fields from the real file descriptors 0, 1, 2.
  void detect_terminal();
  // Fills the tty fields as given and the colour fields from global.color:
  // always/never as said; auto colours a stream only when it is a terminal
  // and environment_allows_color().
  void set_terminal(bool in_tty, bool out_tty, bool err_tty);
  // The subcommand calls this first: format = global.output, or
  // subcommand_default when none was chosen.
  void resolve_format(Format subcommand_default);
  // Errors are JSON when a JSON format was chosen explicitly (-o or TASKCTL_OUTPUT).
  bool json_errors() const { return global.output == Format::json || global.output == Format::jsonl; }
};

// A failure the CLI itself reports: carries its exit status, a stable
// machine-readable code ("confirmation_required", "validation_failed", ...),
// detail lines printed under the message, a hint, and extra JSON fields for
// the JSON error object on stderr.
class CliError : public std::runtime_error
{
public:
  CliError(int exit_code, std::string code, const std::string& message)
    : std::runtime_error(message), exit_code_(exit_code), code_(std::move(code))
  {
  }

  int exit_code() const noexcept { return exit_code_; }
  const std::string& code() const noexcept { return code_; }
  std::vector<std::string> causes;  // messages of the error this one wraps
  std::vector<std::string> details; // printed one per line under the message
  std::string hint;                 // printed as "hint: ..."
  Json extra = Json::object();      // merged into the JSON error object

private:
  int exit_code_;
  std::string code_;
};

// Thrown when SIGINT arrived; the program exits 130.
class Interrupted : public std::runtime_error
{
public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// --- SIGINT --------------------------------------------------------------

// Installs the SIGINT/SIGTERM handler: the first signal sets a flag that the
// scan visitors and input readers poll (so a command stops at the next record
// and nothing is half-written: every write is one atomic backend call); a
// second one exits 130 at once. SIGPIPE is ignored: a write to a closed
// stdout fails with EPIPE instead, which ends taskctl quietly with exit 0
// (as `ls | head` expects: git and ripgrep do the same).
void install_signal_handlers();
// Whether SIGPIPE had its default action when taskctl started: then every
// program taskctl runs (the pager, the editor) gets it back.
bool sigpipe_was_default() noexcept;
// While one lives (gc and delete --owner while they remove), the first
// SIGINT/SIGTERM only sets the flag: the network waits of the batch under way
// run to their end (within --timeout) instead of being cut, so every removal
// is known and reported before the command stops between two batches. A
// second signal still exits at once.
class FinishBatchOnSignal
{
public:
  FinishBatchOnSignal();
  ~FinishBatchOnSignal();
  FinishBatchOnSignal(const FinishBatchOnSignal&) = delete;
  FinishBatchOnSignal& operator=(const FinishBatchOnSignal&) = delete;
};

// Returns true once SIGINT or SIGTERM arrived.
bool interrupted() noexcept;
// 130 for SIGINT, 143 for SIGTERM (130 when no signal arrived).
int interrupt_exit_code() noexcept;
// Throws Interrupted when the flag is set.
void check_interrupted();

} // namespace taskctl
