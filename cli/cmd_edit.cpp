// taskctl edit KEY: a record in $VISUAL / $EDITOR, as kubectl edit does it.
// The record is written pretty to a temporary file under a comment header,
// the editor runs on that file, and what it saved is checked as put checks a
// record (taskstore::prepare_record) plus pmcp-tasks' transition table, then
// written back with one CAS on the version read: an edit is never re-applied
// to a newer version. A record that fails the checks is reopened with the
// problems on top; a save that cannot be written keeps the user's edits in
// the file and says where.

#include "app.hpp"
#include "context.hpp"
#include "output.hpp"
#include "repair.hpp"
#include "store.hpp"
#include "terminal.hpp"
#include "write.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/prepare.hpp"
#include "taskstore/record.hpp"
#include "taskstore/status.hpp"
#include "taskstore/summary.hpp"
#include "taskstore/time.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace taskctl {

namespace {

using taskstore::TaskStatus;

struct EditOptions
{
  std::string key;
  bool dry_run = false;
  bool force = false;
  LimitOptions limits;
};

// --- the temporary file ---------------------------------------------------------

// A CliError io_error (exit 1) for a failed file operation, with errno's text.
CliError
io_error(const std::string& what, int error)
{
  return CliError(exit_failure, "io_error", fmt::format("{}: {}", what, std::strerror(error)));
}

// The file the editor works on: $TMPDIR (else /tmp)/taskctl-edit-XXXXXX.json,
// mode 0600. Removed when this goes out of scope, unless kept.
class EditFile
{
public:
  // Creates the file holding text; throws CliError io_error.
  explicit EditFile(const std::string& text)
  {
    const char* tmpdir = std::getenv("TMPDIR");
    const std::string dir = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
    std::string pattern = dir + "/taskctl-edit-XXXXXX.json";
    const int fd = ::mkstemps(pattern.data(), 5);
    if (fd < 0) {
      throw io_error(fmt::format("cannot create a temporary file in {}", dir), errno);
    }
    m_path = pattern;
    const bool ok = ::fchmod(fd, 0600) == 0 && write_fully(fd, text);
    const int error = errno;
    ::close(fd);
    if (!ok) {
      ::unlink(m_path.c_str());
      throw io_error(fmt::format("cannot write {}", m_path), error);
    }
  }

  ~EditFile()
  {
    if (!m_kept) {
      ::unlink(m_path.c_str());
    }
  }

  EditFile(const EditFile&) = delete;
  EditFile& operator=(const EditFile&) = delete;

  const std::string& path() const { return m_path; }

  // Replaces the file's contents with text (the editor may have replaced the
  // file itself: it is opened by name). Throws CliError io_error.
  void write(std::string_view text) const
  {
    const int fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      throw io_error(fmt::format("cannot write {}", m_path), errno);
    }
    const bool ok = write_fully(fd, text);
    const int error = errno;
    ::close(fd);
    if (!ok) {
      throw io_error(fmt::format("cannot write {}", m_path), error);
    }
  }

  // Returns the file's contents; throws CliError io_error (e.g. the editor removed it).
  std::string read() const
  {
    const int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw io_error(fmt::format("cannot read the edited file {}", m_path), errno);
    }
    std::string text;
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        const int error = errno;
        ::close(fd);
        throw io_error(fmt::format("cannot read the edited file {}", m_path), error);
      }
      if (n == 0) {
        break;
      }
      text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
  }

  // Keeps the file after taskctl exits, as it is. Returns its path.
  const std::string& keep()
  {
    m_kept = true;
    return m_path;
  }

  // Keeps the file holding text (the user's edits without the comment lines,
  // so that `taskctl cas KEY PATH` can read it). Returns its path. A failure
  // to rewrite keeps the file as it is.
  const std::string& keep(std::string_view text)
  {
    m_kept = true;
    try {
      write(text);
    } catch (const CliError&) {
    }
    return m_path;
  }

private:
  std::string m_path;
  bool m_kept = false;
};

// Returns text with every control character (newlines included) replaced by
// a space, so that it stays on one "# " comment line.
std::string
one_line(std::string text)
{
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  return text;
}

// The header above the record: what is edited and the rules of the file.
std::string
edit_header(const Context& ctx, const std::string& key, std::uint64_t version)
{
  return fmt::format("# Editing {} (version {}) in {}.\n"
                     "# Lines starting with '#' are ignored; an empty file aborts the edit.\n"
                     "# Saving writes the record only if it is still at version {}.\n"
                     "#\n",
                     one_line(key), version, one_line(store_display(ctx)), version);
}

// Returns text without the lines whose first non-blank character is '#'
// (every other line kept byte for byte, its newline included).
std::string
strip_comments(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
    text.remove_prefix(line.size());
    const auto first = line.find_first_not_of(" \t\r\f\v");
    if (first != std::string_view::npos && line[first] == '#') {
      continue;
    }
    out.append(line);
  }
  return out;
}

bool
is_blank(std::string_view text)
{
  return text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

// --- the editor -------------------------------------------------------------------

// The editor command: $VISUAL, else $EDITOR (the first set and not empty), else vi.
std::string
editor_command()
{
  for (const char* name : {"VISUAL", "EDITOR"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') {
      return value;
    }
  }
  return "vi";
}

// Ignores SIGINT and SIGQUIT while it lives (the editor, which shares the
// terminal, handles them: Ctrl-C in an editor must not kill taskctl under
// it), then restores what was there.
class IgnoreTerminalSignals
{
public:
  IgnoreTerminalSignals()
  {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGINT, &ignore, &m_int);
    ::sigaction(SIGQUIT, &ignore, &m_quit);
  }
  ~IgnoreTerminalSignals()
  {
    ::sigaction(SIGINT, &m_int, nullptr);
    ::sigaction(SIGQUIT, &m_quit, nullptr);
  }
  IgnoreTerminalSignals(const IgnoreTerminalSignals&) = delete;
  IgnoreTerminalSignals& operator=(const IgnoreTerminalSignals&) = delete;

  // The signals the editor gets with their default action: those that were
  // not already ignored when taskctl started ignoring them.
  sigset_t editor_defaults() const
  {
    sigset_t set;
    sigemptyset(&set);
    if (m_int.sa_handler != SIG_IGN) {
      sigaddset(&set, SIGINT);
    }
    if (m_quit.sa_handler != SIG_IGN) {
      sigaddset(&set, SIGQUIT);
    }
    if (sigpipe_was_default()) {
      sigaddset(&set, SIGPIPE); // taskctl ignores it for itself only
    }
    return set;
  }

private:
  struct sigaction m_int {};
  struct sigaction m_quit {};
};

// Runs `/bin/sh -c '<editor> "$1"' sh path` with taskctl's standard streams
// and waits for it. Returns its wait status; throws CliError editor_failed
// (exit 1) when it cannot be started.
int
run_editor(const std::string& editor, const std::string& path)
{
  IgnoreTerminalSignals ignoring;
  posix_spawnattr_t attributes;
  ::posix_spawnattr_init(&attributes);
  const sigset_t defaults = ignoring.editor_defaults();
  ::posix_spawnattr_setsigdefault(&attributes, &defaults);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
  const std::string script = editor + " \"$1\"";
  const char* argv[] = {"sh", "-c", script.c_str(), "sh", path.c_str(), nullptr};
  flush_stdout_quietly();
  std::fflush(stderr);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, "/bin/sh", nullptr, &attributes, const_cast<char**>(argv), environ);
  ::posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    CliError error(exit_failure, "editor_failed",
                   fmt::format("cannot run the editor `{}` through /bin/sh: {}", editor, std::strerror(spawned)));
    error.extra["editor"] = editor;
    throw error;
  }
  int status = 0;
  // SIGTERM (or a SIGINT that came before) interrupts the wait: keep waiting
  // for the editor, which owns the terminal; the flag is looked at afterwards.
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw io_error("cannot wait for the editor", errno);
    }
  }
  return status;
}

// Runs the editor on file once. Throws Interrupted (the file kept, its path
// printed) when taskctl was interrupted meanwhile or the editor died of
// Ctrl-C; CliError editor_failed (exit 1) when it exited non-zero or was
// killed otherwise (the file is then removed with the EditFile).
void
edit_once(const Context& ctx, const std::string& editor, EditFile& file)
{
  const int status = run_editor(editor, file.path());
  const bool ctrl_c = WIFSIGNALED(status) && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGQUIT);
  if (interrupted() || ctrl_c) {
    warn(ctx, fmt::format("the edit was interrupted; nothing was written; the file is kept in {}", file.keep()));
    throw Interrupted();
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return;
  }
  const std::string how = WIFEXITED(status)
                            ? fmt::format("exited with status {}", WEXITSTATUS(status))
                            : fmt::format("was killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  CliError error(exit_failure, "editor_failed", fmt::format("the editor `{}` {}; nothing was written", editor, how));
  error.hint = "set VISUAL or EDITOR to an editor that waits until the file is closed "
               "(e.g. EDITOR=nano, VISUAL=\"code --wait\")";
  error.extra["editor"] = editor;
  if (WIFEXITED(status)) {
    error.extra["editor_exit"] = WEXITSTATUS(status);
  } else {
    error.extra["editor_signal"] = WTERMSIG(status);
  }
  throw error;
}

// --- the checks ---------------------------------------------------------------------

// Adds "your edits are kept in PATH" to error.
void
add_kept_path(CliError& error, const std::string& path)
{
  error.details.push_back(fmt::format("your edits are kept in {}", path));
  error.extra["path"] = path;
}

// What keeps an edited record from being saved, apart from a syntax error.
struct Problems
{
  const taskstore::PreparedRecord* prepared = nullptr;
  std::optional<CliError> transition; // the refusal of an illegal transition

  bool empty() const { return prepared->ok() && !transition; }

  // The problems, one line each.
  std::vector<std::string> lines() const
  {
    std::vector<std::string> out;
    for (const auto& v : prepared->violations) {
      out.push_back(format_violation(v));
    }
    if (prepared->total_violations > prepared->violations.size()) {
      out.push_back(fmt::format("... and {} more", prepared->total_violations - prepared->violations.size()));
    }
    if (transition) {
      out.push_back(transition->what());
      for (const auto& detail : transition->details) {
        out.push_back("  " + detail);
      }
      out.push_back("  " + transition->hint);
    }
    return out;
  }

  // The comment block above the user's content in the reopened file.
  std::string comment() const
  {
    std::string out = "# The edited record was not saved:\n";
    for (const auto& line : lines()) {
      out += "#   " + one_line(line) + "\n";
    }
    out += "# Fix it below and save. Saving it unchanged aborts the edit (your edits are kept);\n"
           "# an empty file aborts it too.\n"
           "#\n";
    return out;
  }

  // The error of an edit that was reopened and saved unchanged (exit 6).
  CliError error(const std::string& key, std::uint64_t version, const std::string& path) const
  {
    if (prepared->ok()) {
      CliError e = *transition;
      add_kept_path(e, path);
      e.hint = fmt::format("pass --force to write it anyway (`taskctl edit --force {}`), or store the kept "
                           "file with `taskctl cas --force --expect-version {} {} {}`",
                           key, version, key, path);
      return e;
    }
    const std::uint64_t total = prepared->total_violations;
    CliError e(exit_invalid, "validation_failed",
               fmt::format("invalid record for key {}: {} problem{}; nothing was written", key, total,
                           total == 1 ? "" : "s"));
    Json list = Json::array();
    for (const auto& v : prepared->violations) {
      list.push_back(violation_to_json(v));
    }
    e.details = lines();
    add_kept_path(e, path);
    e.hint = fmt::format("fix the file and store it with `taskctl cas --expect-version {} {} {}`, or run "
                         "`taskctl edit {}` again",
                         version, key, path, key);
    e.extra["key"] = key;
    e.extra["violations"] = std::move(list);
    e.extra["total_violations"] = total;
    return e;
  }
};

// The error of an edited record that is not JSON (exit 6): the parse error,
// whose position is in the kept file (it holds the edits without the comment lines).
CliError
syntax_error(const std::string& key, std::uint64_t version, const taskstore::PreparedRecord& prepared,
             const std::string& path)
{
  const std::string reason =
    prepared.violations.empty() ? std::string("malformed JSON") : format_violation(prepared.violations.front());
  CliError error(exit_invalid, "validation_failed",
                 fmt::format("the edited record for key {} is not valid JSON; nothing was written", key));
  error.details.push_back(reason);
  add_kept_path(error, path);
  error.hint = fmt::format("fix the JSON and store it with `taskctl cas --expect-version {} {} {}`, or run "
                           "`taskctl edit {}` again",
                           version, key, path, key);
  Json list = Json::array();
  for (const auto& v : prepared.violations) {
    list.push_back(violation_to_json(v));
  }
  error.extra["key"] = key;
  error.extra["violations"] = std::move(list);
  error.extra["total_violations"] = prepared.total_violations;
  error.extra["line"] = prepared.syntax_error_at->line;
  error.extra["column"] = prepared.syntax_error_at->column;
  return error;
}

// The error of a CAS that lost: the record changed (exit 4) or was removed
// (exit 3) after it was read.
CliError
changed_error(const std::string& key, std::uint64_t expected, std::uint64_t actual, const std::string& path)
{
  if (actual == 0) {
    CliError error(exit_not_found, "not_found",
                   fmt::format("{} was deleted while it was being edited; nothing was written", key));
    add_kept_path(error, path);
    error.hint = fmt::format("to create it again: `taskctl put --if-absent {} {}`", key, path);
    error.extra["key"] = key;
    error.extra["expected_version"] = expected;
    error.extra["current_version"] = 0;
    return error;
  }
  CliError error(exit_conflict, "version_conflict",
                 fmt::format("{} changed while it was being edited (version {} was read, the store now has "
                             "version {}); nothing was written",
                             key, expected, actual));
  add_kept_path(error, path);
  error.hint = fmt::format("compare them with `taskctl get {}`, then store them with "
                           "`taskctl cas --expect-version {} {} {}`",
                           key, actual, key, path);
  error.extra["key"] = key;
  error.extra["expected_version"] = expected;
  error.extra["current_version"] = actual;
  return error;
}

// The stored record under key; throws CliError not_found (exit 3).
taskstore::VersionedRecord
read_record(taskstore::StorageBackend& store, const std::string& key)
{
  try {
    return store.get(key);
  } catch (const taskstore::StorageError& e) {
    if (e.kind() != taskstore::StorageErrorKind::not_found) {
      throw;
    }
  }
  CliError error(exit_not_found, "not_found", fmt::format("key not found: {}", key));
  error.extra["key"] = key;
  error.hint = "create it with `taskctl put KEY FILE`";
  throw error;
}

// --- the command ----------------------------------------------------------------------

int
run_edit(Context& ctx, const EditOptions& options)
{
  ctx.resolve_format(Format::table);
  const std::string& key = options.key;
  check_key(key);
  const taskstore::StoreConfig limits = options.limits.config();

  // Read, then close the store: an edit may take long, and a connection
  // left idle meanwhile may be gone by the time of the write.
  taskstore::VersionedRecord stored;
  {
    auto store = open_store(ctx, options.dry_run ? StoreAccess::read : StoreAccess::modify);
    stored = read_record(*store, key);
  }
  const std::uint64_t version = stored.version;
  const taskstore::RecordSummary summary = taskstore::summarize_record(stored.data);
  const std::optional<TaskStatus> old_status = taskstore::parse_task_status(summary.status.value_or(""));
  const std::string presented = pretty_record(stored.data);
  const taskstore::PreparedRecord stored_prepared = taskstore::prepare_record(key, stored.data, limits);
  const std::string header = edit_header(ctx, key, version);

  RepairResult result;
  result.key = key;
  result.old_version = version;
  result.new_version = version;
  result.old_status = summary.status.value_or("");
  result.new_status = result.old_status;
  result.dry_run = options.dry_run;
  result.attempts = 1;

  EditFile file(header + presented);
  const std::string editor = editor_command();
  std::string content;
  taskstore::PreparedRecord prepared;
  std::optional<std::string> reopened; // the content of the reopened file, as written
  for (;;) {
    edit_once(ctx, editor, file);
    content = strip_comments(file.read());
    if (is_blank(content)) {
      throw CliError(exit_failure, "cancelled", "edit cancelled: the file is empty; nothing was written");
    }
    const bool same_text = content == presented;
    if (!same_text) {
      prepared = taskstore::prepare_record(key, content, limits);
    }
    if (same_text || (prepared.ok() && stored_prepared.ok() && prepared.bytes == stored_prepared.bytes)) {
      if (!same_text) {
        warn_unknown_fields(ctx, prepared.unknown_fields);
      }
      note(ctx, fmt::format("no changes: {} is still version {}; nothing was written", key, version));
      if (ctx.format != Format::table) {
        result.result = "unchanged";
        RepairPrinter printer(ctx, "edited", false);
        printer.result(result);
        printer.finish();
      }
      return exit_ok;
    }
    if (prepared.syntax_error_at) {
      throw syntax_error(key, version, prepared, file.keep(content));
    }
    Problems problems;
    problems.prepared = &prepared;
    if (prepared.ok() && old_status) {
      const TaskStatus to = prepared.record->task.status;
      if (to != *old_status && !taskstore::can_transition(*old_status, to) && !options.force) {
        problems.transition = transition_error(key, *old_status, to);
      }
    }
    if (problems.empty()) {
      break;
    }
    if (reopened && content == *reopened) {
      throw problems.error(key, version, file.keep(content));
    }
    file.write(problems.comment() + header + content);
    reopened = content;
  }

  // The record to write: lastUpdatedAt becomes now unless the user set it.
  taskstore::TaskRecord record = std::move(*prepared.record);
  std::string bytes = std::move(prepared.bytes);
  if (summary.last_updated_at && record.task.last_updated_at == *summary.last_updated_at) {
    record.task.last_updated_at = taskstore::format_millis(taskstore::now_utc());
    bytes = taskstore::serialize_record(record);
  }
  warn_unknown_fields(ctx, prepared.unknown_fields);
  result.new_status = std::string(taskstore::to_string(record.task.status));
  if (old_status && record.task.status != *old_status && !taskstore::can_transition(*old_status, record.task.status)) {
    result.forced = true;
  }

  try {
    check_interrupted();
    auto store = open_store(ctx, options.dry_run ? StoreAccess::read : StoreAccess::modify);
    if (options.dry_run) {
      // What the save would meet: the version still the one read.
      std::uint64_t current = 0;
      try {
        current = store->get(key).version;
      } catch (const taskstore::StorageError& e) {
        if (e.kind() != taskstore::StorageErrorKind::not_found) {
          throw;
        }
      }
      if (current != version) {
        throw changed_error(key, version, current, file.keep(pretty_record(bytes)));
      }
      result.result = "would_update";
      result.new_version = version + 1;
      result.old_pretty = presented;
      result.new_pretty = pretty_record(bytes);
    } else {
      try {
        result.new_version = store->put_if_version(key, bytes, version);
      } catch (const taskstore::StorageError& e) {
        if (e.kind() != taskstore::StorageErrorKind::version_conflict) {
          throw;
        }
        throw changed_error(key, version, e.actual(), file.keep(pretty_record(bytes)));
      }
      result.result = "updated";
    }
  } catch (CliError& e) {
    if (!e.extra.contains("path")) {
      add_kept_path(e, file.keep(content));
    }
    throw;
  } catch (...) {
    warn(ctx, fmt::format("nothing was written; your edits are kept in {}", file.keep(content)));
    throw;
  }

  if (result.forced) {
    warn_forced_transition(ctx, key, *old_status, record.task.status);
  }
  RepairPrinter printer(ctx, "edited", false);
  printer.result(result);
  printer.finish();
  return exit_ok;
}

} // namespace

Command
register_edit(CLI::App& root)
{
  auto options = std::make_shared<EditOptions>();
  CLI::App* app = root.add_subcommand("edit", "Edit a record in $VISUAL / $EDITOR, then write it back (CAS on the "
                                              "version read)");
  app->add_option("KEY", options->key, "Key (OWNER:TASK_ID) of the record to edit")->required();
  app->add_flag("-n,--dry-run", options->dry_run,
                "Edit, check and print the unified diff of what saving would write; write nothing");
  app->add_flag("--force", options->force,
                "Write even a status transition pmcp-tasks forbids (e.g. completed -> working); warns");
  options->limits.add_to(*app);
  app->footer(
    "The record is written as pretty JSON (2-space indent; a record that is not JSON as its bytes)\n"
    "to $TMPDIR/taskctl-edit-XXXXXX.json (mode 0600) under a '#' comment header, and the editor\n"
    "runs on it: $VISUAL, else $EDITOR, else vi, through /bin/sh (so it may hold arguments, e.g.\n"
    "VISUAL=\"code --wait\"). taskctl ignores Ctrl-C while the editor runs; the editor handles it.\n"
    "When the editor exits 0 the file is read back without its '#' lines and checked as put checks\n"
    "a record: JSON syntax, the TaskRecord schema, the limits, ownerId and task.taskId equal to KEY,\n"
    "and the status transition from the stored record along pmcp-tasks' table (unless --force).\n"
    "A record that fails is reopened with the problems in a comment on top; saving it unchanged\n"
    "gives up. lastUpdatedAt becomes now unless you changed it. The record is written only if it\n"
    "is still at the version read (one CAS; an edit is never re-applied to a newer version).\n"
    "When your edits cannot be written (invalid JSON, problems saved unchanged, a concurrent\n"
    "change, a store failure) the file is kept as the record alone (no '#' lines) and its path\n"
    "printed; after an interruption it is kept as it is. Otherwise it is removed.\n"
    "Exit status: 0 saved, or no changes; 1 aborted (the editor failed or the file was emptied);\n"
    "3 the key is missing (or was deleted meanwhile: file kept); 4 the record changed while it\n"
    "was edited (file kept; store it with `taskctl cas --expect-version N KEY FILE`); 6 not valid\n"
    "JSON, or problems saved unchanged (file kept); 130 interrupted (file kept).\n"
    "Output (default table): table \"edited KEY (version 3 -> 4, working -> completed) in STORE\"\n"
    "on stderr (a summary: -q silences it; no\n"
    "changes: a note on stderr only); json / jsonl the result object (see cancel), with\n"
    "\"result\":\"updated|unchanged|would_update\"; raw the new version. --dry-run prints the\n"
    "unified diff of what saving would write.\n"
    "\n"
    "Examples:\n"
    "  EDITOR=nano taskctl edit user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  VISUAL=\"code --wait\" taskctl edit user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  taskctl edit --dry-run user-123:786512e2-9e0d-44bd-8f29-789f320fe840");
  return {app, [options](Context& ctx) { return run_edit(ctx, *options); }};
}

} // namespace taskctl
