#include "write.hpp"

#include "context.hpp"
#include "input.hpp"
#include "output.hpp"
#include "repair.hpp"
#include "store.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/prepare.hpp"
#include "taskstore/status.hpp"
#include "taskstore/summary.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace taskctl {

// --- limits ------------------------------------------------------------------

void
LimitOptions::add_to(CLI::App& app)
{
  require_count_value(app.add_option("--max-depth", max_depth,
                 "Largest nesting depth of a variable's value (pmcp-tasks max_variable_depth)")
    ->capture_default_str()
    ->group("Limits"));
  require_count_value(app.add_option("--max-string-length", max_string_length,
                 "Largest UTF-8 byte length of a string value (pmcp-tasks max_string_length)")
    ->capture_default_str()
    ->group("Limits"));
  require_count_value(app.add_option("--max-size", max_size,
                 "Largest compact serialized size of the variables object, in bytes "
                 "(pmcp-tasks max_variable_size_bytes)")
    ->capture_default_str()
    ->group("Limits"));
}

void
LimitOptions::add_record_size_to(CLI::App& app)
{
  require_count_value(app.add_option("--max-record-size", max_record_size,
                 "Largest record read, in bytes: reading stops past it (exit 6)")
    ->capture_default_str()
    ->group("Limits"));
}

taskstore::StoreConfig
LimitOptions::config() const
{
  taskstore::StoreConfig config;
  config.max_variable_depth = max_depth;
  config.max_string_length = max_string_length;
  config.max_variable_size_bytes = max_size;
  return config;
}

// --- preparing ---------------------------------------------------------------

namespace {

// The CliError validation_failed for a record that prepare_record rejected.
CliError
validation_error(const std::string& key, const taskstore::PreparedRecord& prepared)
{
  const std::uint64_t total = prepared.total_violations;
  CliError error(exit_invalid, "validation_failed",
                 fmt::format("invalid record for key {}: {} problem{}", key, total, total == 1 ? "" : "s"));
  Json list = Json::array();
  for (const auto& v : prepared.violations) {
    error.details.push_back(format_violation(v));
    list.push_back(violation_to_json(v));
  }
  if (total > prepared.violations.size()) {
    error.details.push_back(fmt::format("... and {} more", total - prepared.violations.size()));
  }
  error.hint = "fix the record, or pass --no-validate to store the bytes as given";
  error.extra["key"] = key;
  error.extra["violations"] = std::move(list);
  error.extra["total_violations"] = total;
  return error;
}

} // namespace

std::string
prepare_for_write(const Context& ctx, const std::string& key, std::string_view data, const LimitOptions& limits)
{
  auto prepared = taskstore::prepare_record(key, data, limits.config());
  if (!prepared.ok()) {
    throw validation_error(key, prepared);
  }
  warn_unknown_fields(ctx, prepared.unknown_fields);
  return std::move(prepared.bytes);
}

// --- writing -----------------------------------------------------------------

namespace {

CliError
exists_error(const std::string& key, std::uint64_t version)
{
  CliError error(exit_conflict, "already_exists", fmt::format("key {} already exists (version {})", key, version));
  error.extra["key"] = key;
  error.extra["current_version"] = version;
  error.hint = fmt::format("use `taskctl cas --expect-version {} {} FILE` to replace it", version, key);
  return error;
}

CliError
missing_error(const std::string& key, std::uint64_t expected)
{
  CliError error(exit_not_found, "not_found", fmt::format("key not found: {}", key));
  error.extra["key"] = key;
  error.extra["expected_version"] = expected;
  error.extra["current_version"] = 0;
  error.hint = "use `taskctl put` (or --expect-version 0) to create it";
  return error;
}

CliError
conflict_error(const std::string& key, std::uint64_t expected, std::uint64_t actual)
{
  CliError error(exit_conflict, "version_conflict",
                 fmt::format("version conflict on key {}: expected {}, found {} (the current version is {})", key,
                             expected, actual, actual));
  error.extra["key"] = key;
  error.extra["expected_version"] = expected;
  error.extra["current_version"] = actual;
  error.hint = fmt::format("someone changed it since you read it: `taskctl get {}` shows version {}; "
                           "re-apply your change to that and retry",
                           key, actual);
  return error;
}

// The stored record of key: its version (0 = absent) and status ("" when
// absent or unreadable).
struct Stored
{
  std::uint64_t version = 0;
  std::string status;
};

Stored
read_stored(taskstore::StorageBackend& store, const std::string& key)
{
  try {
    const auto record = store.get(key);
    return {record.version, taskstore::summarize_record(record.data).status.value_or("")};
  } catch (const taskstore::StorageError& e) {
    if (e.kind() == taskstore::StorageErrorKind::not_found) {
      return {};
    }
    throw;
  }
}

// Checks the transition stored -> request.new_status: returns true when it
// is one pmcp-tasks forbids and --force allows it; throws transition_error
// without --force. A status that is unknown on either side, or unchanged,
// is no transition.
bool
check_transition(const WriteRequest& request, const Stored& stored)
{
  const auto from = taskstore::parse_task_status(stored.status);
  const auto to = taskstore::parse_task_status(request.new_status);
  if (!from || !to || *from == *to || taskstore::can_transition(*from, *to)) {
    return false;
  }
  if (!request.force) {
    throw transition_error(request.key, *from, *to);
  }
  return true;
}

// Checks the rules of request against the stored record: the version rule
// (if-absent, cas) and the transition. Returns the outcome the write would have.
WriteOutcome
plan_write(const WriteRequest& request, const Stored& stored, const std::string& bytes)
{
  const std::uint64_t current = stored.version;
  if (request.if_absent && current != 0) {
    throw exists_error(request.key, current);
  }
  if (request.expect_version && *request.expect_version != current) {
    if (current == 0) {
      throw missing_error(request.key, *request.expect_version);
    }
    if (*request.expect_version == 0) {
      throw exists_error(request.key, current);
    }
    throw conflict_error(request.key, *request.expect_version, current);
  }
  WriteOutcome outcome;
  outcome.key = request.key;
  outcome.version = current + 1;
  outcome.previous = current;
  outcome.dry_run = true;
  outcome.bytes = bytes.size();
  outcome.forced = check_transition(request, stored);
  outcome.old_status = stored.status;
  return outcome;
}

} // namespace

WriteOutcome
apply_write(taskstore::StorageBackend& store, const WriteRequest& request, const std::string& bytes)
{
  if (request.dry_run) {
    return plan_write(request, read_stored(store, request.key), bytes);
  }
  const bool is_cas = request.expect_version.has_value();
  if (!request.new_status.empty() && !request.if_absent && !(is_cas && *request.expect_version == 0)) {
    // Checked against the stored record, written only on the version checked.
    constexpr int k_attempts = 4;
    for (int attempt = 1;; ++attempt) {
      WriteOutcome outcome = plan_write(request, read_stored(store, request.key), bytes);
      outcome.dry_run = false;
      try {
        outcome.version = store.put_if_version(request.key, bytes, outcome.previous);
        return outcome;
      } catch (const taskstore::StorageError& e) {
        if (e.kind() != taskstore::StorageErrorKind::version_conflict) {
          throw;
        }
        if (is_cas) {
          if (e.actual() == 0) {
            throw missing_error(request.key, *request.expect_version);
          }
          throw conflict_error(request.key, *request.expect_version, e.actual());
        }
        if (attempt == k_attempts) {
          throw conflict_error(request.key, outcome.previous, e.actual());
        }
      }
    }
  }
  std::uint64_t version = 0;
  std::uint64_t previous = 0;
  if (request.if_absent || (is_cas && *request.expect_version == 0)) {
    // put_if_version(key, data, 0) is the store's atomic create-if-absent.
    try {
      version = store.put_if_version(request.key, bytes, 0);
    } catch (const taskstore::StorageError& e) {
      if (e.kind() == taskstore::StorageErrorKind::version_conflict) {
        throw exists_error(request.key, e.actual());
      }
      throw;
    }
  } else if (is_cas) {
    try {
      version = store.put_if_version(request.key, bytes, *request.expect_version);
      previous = *request.expect_version;
    } catch (const taskstore::StorageError& e) {
      if (e.kind() == taskstore::StorageErrorKind::version_conflict) {
        if (e.actual() == 0) {
          throw missing_error(request.key, *request.expect_version);
        }
        throw conflict_error(request.key, *request.expect_version, e.actual());
      }
      throw;
    }
  } else {
    version = store.put(request.key, bytes);
    previous = version - 1;
  }
  WriteOutcome outcome;
  outcome.key = request.key;
  outcome.version = version;
  outcome.previous = previous;
  outcome.bytes = bytes.size();
  return outcome;
}

void
print_write_outcome(const Context& ctx, const WriteOutcome& outcome)
{
  switch (ctx.format) {
  case Format::raw:
    write_stdout(fmt::format("{}\n", outcome.version));
    return;
  case Format::table: // a summary: on stderr, silenced by --quiet
    if (outcome.dry_run) {
      note(ctx, fmt::format("dry run: {} is valid; would write version {} ({}) in {}; nothing was written",
                            outcome.key, outcome.version,
                            outcome.previous == 0 ? std::string("a new key")
                                                  : fmt::format("replacing version {}", outcome.previous),
                            store_display(ctx)));
    } else {
      note(ctx, fmt::format("stored {} (version {}) in {}", outcome.key, outcome.version, store_display(ctx)));
    }
    return;
  case Format::json:
  case Format::jsonl:
  case Format::unset: {
    Json out = new_document(ctx);
    out["key"] = outcome.key;
    out["version"] = outcome.version;
    out["previous_version"] = outcome.previous;
    out["dry_run"] = outcome.dry_run;
    out["bytes"] = outcome.bytes;
    print_document(ctx, out);
    return;
  }
  }
}

int
run_write(Context& ctx, const WriteRequest& request)
{
  ctx.resolve_format(Format::table);
  check_key(request.key);
  const std::string data = read_input(ctx, request.input, request.limits.max_record_size);
  WriteRequest checked = request;
  const std::string bytes = request.no_validate ? data : prepare_for_write(ctx, request.key, data, request.limits);
  if (!request.no_validate) {
    checked.new_status = taskstore::summarize_record(bytes).status.value_or("");
  }
  // put creates the store; cas never does (there is nothing to compare with),
  // nor does a dry run.
  const bool creates = !request.dry_run && !request.expect_version;
  auto store = open_store(ctx, creates ? StoreAccess::write : request.dry_run ? StoreAccess::read : StoreAccess::modify);
  if (!request.dry_run) {
    check_interrupted();
  }
  const WriteOutcome outcome = apply_write(*store, checked, bytes);
  if (outcome.forced) {
    warn_forced_transition(ctx, request.key, *taskstore::parse_task_status(outcome.old_status),
                           *taskstore::parse_task_status(checked.new_status));
  }
  print_write_outcome(ctx, outcome);
  return exit_ok;
}

void
add_write_options(CLI::App& app, WriteRequest& request)
{
  app.add_option("KEY", request.key, "Record key OWNER:TASK_ID; must match the record's ownerId and task.taskId")
    ->required();
  app.add_option("FILE", request.input,
                 "The record (a TaskRecord JSON document): a file, or - for stdin; stdin when omitted "
                 "and not a terminal");
  app.add_flag("--no-validate", request.no_validate,
               "Store the input bytes exactly as given, without any check (for repairs of foreign data)");
  app.add_flag("-n,--dry-run", request.dry_run,
               "Validate, read the current version and report what would be written; write nothing");
  app.add_flag("--force", request.force,
               "Write even a status transition pmcp-tasks forbids (e.g. completed -> working); warns");
  request.limits.add_to(app);
  request.limits.add_record_size_to(app);
}

} // namespace taskctl
