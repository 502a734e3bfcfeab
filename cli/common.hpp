#pragma once
// Shared CLI helpers: global options, exit codes, CLI-level errors, store
// opening (default store, password sources, read-only opens), input reading,
// the confirmation prompt and the SIGINT flag.

#include "taskstore/backend.hpp"
#include "taskstore/key.hpp"
#include "taskstore/record.hpp"
#include "taskstore/uri.hpp"
#include "taskstore/validate.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
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

// Options that every subcommand shares (set by CLI11 in main.cpp).
struct GlobalOptions
{
  std::string store;            // -s/--store; "" = TASKCTL_STORE, else the default store
  Format output = Format::unset;// -o/--output (env TASKCTL_OUTPUT)
  std::string timeout = "5s";   // --timeout (env TASKCTL_TIMEOUT)
  ColorMode color = ColorMode::auto_; // --color (env TASKCTL_COLOR; NO_COLOR)
  bool quiet = false;           // -q/--quiet
};

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

  // Fills the tty and colour fields; the subcommand calls resolve_format.
  void detect_terminal();
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

// Thrown when SIGINT arrived; main exits 130.
class Interrupted : public std::runtime_error
{
public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// --- SIGINT --------------------------------------------------------------

// Installs the SIGINT/SIGTERM handler: the first signal sets a flag that the
// scan visitors and input readers poll (so a command stops at the next record
// and nothing is half-written: every write is one atomic backend call); a
// second one exits 130 at once.
void install_signal_handlers();
bool interrupted() noexcept;
// 130 for SIGINT, 143 for SIGTERM.
int interrupt_exit_code() noexcept;
// Throws Interrupted when the flag is set.
void check_interrupted();

// --- stores --------------------------------------------------------------

enum class StoreAccess
{
  read,  // never creates the store; a missing store is a ConfigError (exit 7)
  write, // creates the store (and the default store's directory, mode 0700)
};

// Where the store URI came from.
enum class StoreSource
{
  flag,
  environment,
  default_store,
};

struct ResolvedStore
{
  std::string uri_text;  // as given (may hold a password: never print it)
  taskstore::StoreUri uri;
  StoreSource source = StoreSource::default_store;
  std::string default_path; // the default SQLite file, when source == default_store
};

// The default store file: $XDG_DATA_HOME/taskctl/tasks.db, else
// ~/.local/share/taskctl/tasks.db. Throws ConfigError when neither
// XDG_DATA_HOME nor HOME is set.
std::string default_store_path();

// Resolves --store, then TASKCTL_STORE, then the default store, and parses
// the URI (InvalidArgument -> exit 2). Warns (unless quiet) when a password is
// inline in a URI given on the command line.
ResolvedStore resolve_store(const Context& ctx);

// Parses --timeout (InvalidArgument on a malformed duration).
std::chrono::milliseconds parse_timeout(const Context& ctx);

// Opens the store: password from TASKCTL_STORE_PASSWORD or
// TASKCTL_STORE_PASSWORD_FILE, --timeout, create_if_missing from access.
// A missing default store on a read is a ConfigError saying how to point
// taskctl at a store.
std::unique_ptr<taskstore::StorageBackend> open_store(const Context& ctx, StoreAccess access);

// The redacted URI of the store this run uses (for messages); never throws.
std::string store_display(const Context& ctx);

// Every secret this run knows (the store URI's password, the password from
// the environment or file), so the error printer can scrub them.
std::vector<std::string> known_secrets();

// --- input ---------------------------------------------------------------

// Reads a value: spec "" = stdin when it is not a terminal (usage error when
// it is), "-" = stdin, else a file. Throws CliError io_error (exit 1) when the
// file cannot be read, Interrupted on SIGINT.
std::string read_input(const Context& ctx, const std::string& spec);

// A std::streambuf over a file descriptor whose reads stop (EOF) when SIGINT
// arrives, so a blocked read of a slow stdin returns.
class FdStreamBuf : public std::streambuf
{
public:
  explicit FdStreamBuf(int fd) : fd_(fd) {}
  bool failed() const { return failed_; }
  int error() const { return errno_; }

protected:
  int_type underflow() override;

private:
  int fd_;
  bool failed_ = false;
  int errno_ = 0;
  char buffer_[1 << 16];
};

// --- confirmation --------------------------------------------------------

// Asks "question [y/N]" on /dev/tty and returns when the answer is yes.
// With yes == true returns at once. When stdin is not a terminal and yes is
// false, throws CliError confirmation_required (exit 2) saying taskctl refuses
// to <action> and telling the user to pass --yes or --dry-run. Any answer but
// y/yes throws CliError aborted (exit 1).
void confirm(const Context& ctx, bool yes, const std::string& action, const std::string& question);

// Throws CliError confirmation_required (exit 2) when yes is false and stdin
// is not a terminal: checked before the store is opened.
void require_yes_without_tty(const Context& ctx, bool yes, const std::string& action);

// --- keys and records ----------------------------------------------------

// Checks a KEY argument: it must contain ':' (split at the first one); empty
// parts are allowed, as in pmcp-tasks. Returns the parts; throws
// InvalidArgument (exit 2) for a key without ':'.
taskstore::KeyParts check_key(const std::string& key);

// The limits options shared by put, cas and validate.
struct LimitOptions
{
  std::size_t max_depth = taskstore::StoreConfig{}.max_variable_depth;
  std::size_t max_string_length = taskstore::StoreConfig{}.max_string_length;
  std::size_t max_size = taskstore::StoreConfig{}.max_variable_size_bytes;

  void add_to(CLI::App& app);
  taskstore::StoreConfig config() const;
};

// Validates record bytes for put/cas against KEY and the limits. Returns the
// bytes to store: the canonical compact form pmcp-tasks writes. Throws
// CliError validation_failed (exit 6) listing every problem. Warns (unless
// quiet) about unknown fields, which are not stored (pmcp-tasks ignores them).
std::string prepare_record(const Context& ctx, const std::string& key, const std::string& data,
                           const LimitOptions& limits);

// "/pointer: message (actual > limit)" (the limit figures only for the
// depth, string-length and size rules); "/" stands for the root pointer.
std::string format_violation(const taskstore::Violation& v);
// {"pointer","rule","message"[,"limit","actual"]}.
Json violation_to_json(const taskstore::Violation& v);

// The largest nesting depth of arrays/objects in a JSON text (strings
// skipped); a cheap guard before building a DOM that nlohmann would copy or
// print recursively.
std::size_t json_nesting_depth(std::string_view text);

// Facts about a stored record read without building a DOM (SAX; safe for
// depth bombs): its status, creation time, expiry.
struct RecordSummary
{
  bool json = false;   // the data is a JSON object
  std::optional<std::string> status;
  std::optional<std::string> created_at;
  std::optional<std::string> expires_at; // the text as stored
  std::optional<std::string> owner_id;
  std::optional<std::string> task_id;
  bool expired = false;                  // expiresAt parsed and strictly past now
};
RecordSummary summarize_record(std::string_view data, taskstore::Timestamp now);

// --- writes (put and cas) -----------------------------------------------

struct WriteRequest
{
  std::string key;
  std::string input;                         // "", "-" or a file
  bool no_validate = false;
  bool dry_run = false;
  bool if_absent = false;                    // put --if-absent
  std::optional<std::uint64_t> expect_version; // cas --expect-version
  LimitOptions limits;
};

// Reads, validates and writes one record (put and cas share it). Returns the
// exit status; throws for failures.
int run_write(Context& ctx, const WriteRequest& request);
// KEY, FILE, --no-validate, -n/--dry-run and the limits, for put and cas.
void add_write_options(CLI::App& app, WriteRequest& request);

// --- registration --------------------------------------------------------

// A registered subcommand: the CLI11 app and what running it does.
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

} // namespace taskctl
