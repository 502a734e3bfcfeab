#include "repair.hpp"

#include "context.hpp"
#include "diff.hpp"
#include "errors.hpp"
#include "input.hpp"
#include "output.hpp"
#include "store.hpp"

#include "taskstore/error.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/summary.hpp"
#include "taskstore/task_store.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>

extern char** environ;

namespace taskctl {

using taskstore::TaskStatus;

void
RepairOptions::add_to(CLI::App& app, const std::string& force_help)
{
  require_count_value(app.add_option("--retries", retries,
                                     "Re-read and re-apply the change this many times when the record changes "
                                     "between the read and the write (then exit 4)")
                        ->capture_default_str()
                        ->type_name("N"));
  app.add_flag("-n,--dry-run", dry_run, "Print a unified diff of the record, before and after; write nothing");
  app.add_flag("--force", force, force_help);
  limits.add_to(app);
}

// --- errors -------------------------------------------------------------------

CliError
transition_error(const std::string& key, TaskStatus from, TaskStatus to)
{
  CliError error(exit_invalid, "invalid_transition",
                 fmt::format("{}: pmcp-tasks forbids the transition {} -> {}", key, taskstore::to_string(from),
                             taskstore::to_string(to)));
  const auto targets = taskstore::legal_targets(from);
  Json legal = Json::array();
  std::string list;
  for (const auto target : targets) {
    legal.push_back(std::string(taskstore::to_string(target)));
    list += (list.empty() ? "" : ", ") + std::string(taskstore::to_string(target));
  }
  if (targets.empty()) {
    error.details.push_back(
      fmt::format("{} is a terminal status: no transition leaves it", taskstore::to_string(from)));
  } else {
    error.details.push_back(fmt::format("legal targets from {}: {}", taskstore::to_string(from), list));
  }
  error.hint = "pass --force to write it anyway (pmcp-tasks itself never makes this transition)";
  error.extra["key"] = key;
  error.extra["from"] = std::string(taskstore::to_string(from));
  error.extra["to"] = std::string(taskstore::to_string(to));
  error.extra["legal_targets"] = std::move(legal);
  return error;
}

void
warn_forced_transition(const Context& ctx, const std::string& key, TaskStatus from, TaskStatus to)
{
  warn(ctx, fmt::format("{}: forcing the transition {} -> {}, which pmcp-tasks forbids (--force)", key,
                        taskstore::to_string(from), taskstore::to_string(to)));
}

CliError
repair_error(const std::string& key, const taskstore::TaskError& e, unsigned attempts)
{
  using taskstore::TaskErrorKind;
  switch (e.kind()) {
  case TaskErrorKind::not_found: {
    CliError error(exit_not_found, "not_found", fmt::format("key not found: {}", key));
    error.extra["key"] = key;
    return error;
  }
  case TaskErrorKind::invalid_transition:
    return transition_error(key, taskstore::parse_task_status(e.from()).value_or(TaskStatus::working),
                            taskstore::parse_task_status(e.to()).value_or(TaskStatus::working));
  case TaskErrorKind::expired: {
    CliError error(exit_invalid, "expired",
                   fmt::format("{} expired at {}: pmcp-tasks refuses to change an expired task", key,
                               e.expired_at().value_or("an unknown time")));
    error.hint = fmt::format("extend its life first (`taskctl expire {} --in 1h`), or pass --force", key);
    error.extra["key"] = key;
    error.extra["expired_at"] = e.expired_at().value_or("");
    return error;
  }
  case TaskErrorKind::concurrent_modification: {
    CliError error(exit_conflict, "version_conflict",
                   fmt::format("{} kept changing while it was being updated: gave up after {} attempt{} "
                               "(expected version {}, found {})",
                               key, attempts, attempts == 1 ? "" : "s", e.expected(), e.actual()));
    error.hint = "run it again, or raise --retries";
    error.extra["key"] = key;
    error.extra["expected_version"] = e.expected();
    error.extra["current_version"] = e.actual();
    error.extra["attempts"] = attempts;
    return error;
  }
  case TaskErrorKind::variable_size_exceeded: {
    CliError error(exit_invalid, "validation_failed", fmt::format("invalid variables for key {}: {}", key, e.what()));
    error.extra["key"] = key;
    error.extra["rule"] = "size";
    error.extra["limit"] = e.expected();
    error.extra["actual"] = e.actual();
    error.hint = "remove or shrink variables, or raise --max-size if the server's limit is higher";
    return error;
  }
  case TaskErrorKind::store_error:
    try {
      std::rethrow_if_nested(e);
    } catch (const taskstore::StorageError&) {
      throw; // a backend failure keeps its own exit status
    } catch (const taskstore::InvalidArgument& damaged) {
      CliError error(exit_invalid, "damaged_record",
                     fmt::format("the record stored under {} is not a TaskRecord pmcp-tasks can read", key));
      error.causes.push_back(damaged.what());
      error.hint = fmt::format("inspect it with `taskctl get -o raw {}`; replace it with "
                               "`taskctl put {} FILE` (or `taskctl edit {}`)",
                               key, key, key);
      error.extra["key"] = key;
      return error;
    } catch (...) {
    }
    {
      CliError error(exit_invalid, "validation_failed", fmt::format("{}: {}", key, e.what()));
      error.extra["key"] = key;
      return error;
    }
  case TaskErrorKind::storage_full: {
    // The store's capacity_exceeded (a record at the maximum version, a
    // full disk): exit 4, as put reports it.
    CliError error(exit_conflict, "capacity_exceeded", fmt::format("{}: {}", key, e.what()));
    error.extra["key"] = key;
    return error;
  }
  default: {
    CliError error(exit_failure, "task_error", fmt::format("{}: {}", key, e.what()));
    error.extra["key"] = key;
    return error;
  }
  }
}

// --- applying -----------------------------------------------------------------

std::string
pretty_record(std::string_view bytes)
{
  const auto document = taskstore::record_document(bytes);
  if (!document) {
    std::string text(bytes);
    if (text.empty() || text.back() != '\n') {
      text += '\n';
    }
    return text;
  }
  return taskstore::to_display_json(*document, true) + "\n";
}

void
run_failpoint(const std::string& key, unsigned attempt)
{
  const char* command = std::getenv("TASKCTL_FAILPOINT_BEFORE_WRITE");
  if (command == nullptr || *command == '\0') {
    return;
  }
  ::setenv("TASKCTL_FAILPOINT_KEY", key.c_str(), 1);
  ::setenv("TASKCTL_FAILPOINT_ATTEMPT", std::to_string(attempt).c_str(), 1);
  const char* argv[] = {"sh", "-c", command, nullptr};
  pid_t pid = 0;
  if (::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    throw std::runtime_error("cannot run TASKCTL_FAILPOINT_BEFORE_WRITE");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("the TASKCTL_FAILPOINT_BEFORE_WRITE command failed");
  }
}

Repair::Repair(const Context& ctx, taskstore::StorageBackend& store, const RepairOptions& options)
  : m_ctx(ctx), m_store(store), m_options(options)
{
}

void
Repair::transition(taskstore::TaskRecord& record, TaskStatus status)
{
  if (!taskstore::can_transition(record.task.status, status)) {
    if (!m_options.force) {
      taskstore::validate_transition(record.task.task_id, record.task.status, status);
    }
    m_forced = true;
  }
  record.task.status = status;
}

RepairResult
Repair::apply(const std::string& key, const Change& change, bool check_expiry)
{
  const auto parts = check_key(key);
  taskstore::TaskStore tasks(m_store, m_options.limits.config());
  taskstore::UpdateOptions update;
  update.retry = taskstore::RetryPolicy::with_retries(m_options.retries);
  update.check_expiry = check_expiry && !m_options.force;
  update.dry_run = m_options.dry_run;
  update.skip_unchanged = true;
  update.encode = [&](const taskstore::TaskRecord& after) {
    return prepare_for_write(m_ctx, key, taskstore::serialize_record(after), m_options.limits);
  };
  update.before_write = [&](unsigned attempt) {
    check_interrupted();
    run_failpoint(key, attempt);
  };
  taskstore::UpdateOutcome outcome;
  try {
    outcome = tasks.modify(
      parts.owner_id, parts.task_id,
      [&](taskstore::TaskRecord& record) {
        m_forced = false;
        change(record);
      },
      update);
  } catch (const taskstore::TaskError& e) {
    throw repair_error(key, e, m_options.retries + 1);
  }

  RepairResult result;
  result.key = key;
  result.old_version = outcome.before.version;
  result.new_version = outcome.changed ? outcome.after.version : outcome.before.version;
  result.old_status = taskstore::to_string(outcome.before.task.status);
  result.new_status = taskstore::to_string(outcome.after.task.status);
  result.dry_run = m_options.dry_run;
  result.attempts = outcome.attempts;
  result.result = outcome.written ? "updated" : (outcome.changed ? "would_update" : "unchanged");
  if (m_options.dry_run && outcome.changed) {
    result.old_pretty = pretty_record(outcome.before_bytes);
    result.new_pretty = pretty_record(outcome.after_bytes);
  }
  if (m_forced && outcome.changed) {
    result.forced = true;
    warn_forced_transition(m_ctx, key, outcome.before.task.status, outcome.after.task.status);
  }
  if (check_expiry && m_options.force && outcome.changed && outcome.before.is_expired()) {
    result.forced = true;
    warn(m_ctx, fmt::format("{}: the task has expired; changing it anyway (--force)", key));
  }
  return result;
}

// --- printing -----------------------------------------------------------------

Json
repair_result_json(const RepairResult& r, bool with_diff)
{
  Json out = Json::object();
  out["key"] = r.key;
  out["result"] = r.result;
  out["old_version"] = r.old_version;
  out["new_version"] = r.new_version;
  out["old_status"] = r.old_status;
  out["new_status"] = r.new_status;
  out["dry_run"] = r.dry_run;
  out["forced"] = r.forced;
  out["attempts"] = r.attempts;
  if (with_diff && r.dry_run) {
    out["diff"] = unified_diff(r.old_pretty, r.new_pretty, fmt::format("{} (version {})", r.key, r.old_version),
                               fmt::format("{} (version {}, dry run)", r.key, r.new_version));
  }
  return out;
}

RepairPrinter::RepairPrinter(const Context& ctx, std::string verb, bool several)
  : m_ctx(ctx), m_verb(std::move(verb)), m_several(several)
{
}

void
RepairPrinter::result(const RepairResult& r)
{
  switch (m_ctx.format) {
  case Format::raw:
    write_stdout(fmt::format("{}\n", r.new_version));
    return;
  case Format::jsonl:
    print_document(m_ctx, repair_result_json(r, true));
    return;
  case Format::json:
  case Format::unset:
    if (m_several) {
      m_results.push_back(repair_result_json(r, true));
    } else {
      Json out = new_document(m_ctx);
      out.update(repair_result_json(r, true));
      print_document(m_ctx, out);
    }
    return;
  case Format::table:
    break;
  }
  const std::string statuses =
    r.old_status == r.new_status ? std::string()
                                 : fmt::format(", {} -> {}", printable(r.old_status), printable(r.new_status));
  if (r.result == "unchanged") {
    write_stdout(fmt::format("unchanged {} (version {}): nothing to write\n", printable(r.key), r.old_version));
  } else if (r.result == "would_update") {
    DiffOptions options;
    options.color = m_ctx.color_stdout;
    write_stdout(unified_diff(r.old_pretty, r.new_pretty, fmt::format("{} (version {})", printable(r.key), r.old_version),
                              fmt::format("{} (version {}, dry run)", printable(r.key), r.new_version), options));
    note(m_ctx, fmt::format("dry run: would write {} version {}{}; nothing was written", r.key, r.new_version,
                            statuses));
  } else {
    write_stdout(
      fmt::format("{} {} (version {} -> {}{})\n", m_verb, printable(r.key), r.old_version, r.new_version, statuses));
  }
}

int
RepairPrinter::failure(const std::string& key, const std::exception_ptr& error)
{
  const ErrorReport report = failure_report(m_ctx, error);
  print_error(m_ctx, report);
  if (m_ctx.format != Format::json && m_ctx.format != Format::jsonl) {
    return report.exit_code;
  }
  Json out = Json::object();
  out["key"] = key;
  out["result"] = "failed";
  out["error"] = Json{{"code", report.code}, {"exit", report.exit_code}, {"message", report.message}};
  if (m_ctx.format == Format::jsonl) {
    print_document(m_ctx, out);
  } else {
    m_results.push_back(std::move(out));
  }
  return report.exit_code;
}

void
RepairPrinter::finish()
{
  if (m_several && m_ctx.format == Format::json) {
    Json out = new_document(m_ctx);
    out["results"] = std::move(m_results);
    print_document(m_ctx, out);
  }
}

} // namespace taskctl
