// taskctl put KEY [FILE|-]: write a record (also the write path of cas).

#include "common.hpp"
#include "output.hpp"

#include "taskstore/error.hpp"

#include <fmt/format.h>

#include <memory>

namespace taskctl {

namespace {

// The current version of key, 0 when it does not exist.
std::uint64_t
current_version(taskstore::StorageBackend& store, const std::string& key)
{
  try {
    return store.get(key).version;
  } catch (const taskstore::StorageError& e) {
    if (e.kind() == taskstore::StorageErrorKind::not_found) {
      return 0;
    }
    throw;
  }
}

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

void
report(Context& ctx, const std::string& key, std::uint64_t version, std::uint64_t previous, bool dry_run,
       std::size_t bytes)
{
  switch (ctx.format) {
  case Format::raw:
    write_stdout(fmt::format("{}\n", version));
    return;
  case Format::table:
    if (dry_run) {
      write_stdout(fmt::format("dry run: {} is valid; would write version {} ({}); nothing was written\n", key,
                               version,
                               previous == 0 ? std::string("a new key") : fmt::format("replacing version {}", previous)));
    } else {
      write_stdout(fmt::format("stored {} (version {})\n", key, version));
    }
    return;
  case Format::json:
  case Format::jsonl:
  case Format::unset: {
    Json out = Json::object();
    if (ctx.format == Format::json) {
      out["schema_version"] = 1;
    }
    out["key"] = key;
    out["version"] = version;
    out["previous_version"] = previous;
    out["dry_run"] = dry_run;
    out["bytes"] = bytes;
    print_document(ctx, out);
    return;
  }
  }
}

struct PutOptions
{
  WriteRequest request;
};

} // namespace

int
run_write(Context& ctx, const WriteRequest& request)
{
  ctx.resolve_format(Format::table);
  check_key(request.key);
  const std::string data = read_input(ctx, request.input);
  const std::string bytes = request.no_validate ? data : prepare_record(ctx, request.key, data, request.limits);
  const bool is_cas = request.expect_version.has_value();

  if (request.dry_run) {
    auto store = open_store(ctx, StoreAccess::read);
    const std::uint64_t current = current_version(*store, request.key);
    if (request.if_absent && current != 0) {
      throw exists_error(request.key, current);
    }
    if (is_cas && *request.expect_version != current) {
      if (current == 0) {
        throw missing_error(request.key, *request.expect_version);
      }
      if (*request.expect_version == 0) {
        throw exists_error(request.key, current);
      }
      throw conflict_error(request.key, *request.expect_version, current);
    }
    report(ctx, request.key, current + 1, current, true, bytes.size());
    return exit_ok;
  }

  // put creates the store; cas never does (there is nothing to compare with).
  auto store = open_store(ctx, is_cas ? StoreAccess::read : StoreAccess::write);
  check_interrupted();
  std::uint64_t version = 0;
  std::uint64_t previous = 0;
  if (request.if_absent || (is_cas && *request.expect_version == 0)) {
    // put_if_version(key, data, 0) is the store's atomic create-if-absent.
    try {
      version = store->put_if_version(request.key, bytes, 0);
    } catch (const taskstore::StorageError& e) {
      if (e.kind() == taskstore::StorageErrorKind::version_conflict) {
        throw exists_error(request.key, e.actual());
      }
      throw;
    }
  } else if (is_cas) {
    try {
      version = store->put_if_version(request.key, bytes, *request.expect_version);
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
    version = store->put(request.key, bytes);
    previous = version - 1;
  }
  report(ctx, request.key, version, previous, false, bytes.size());
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
  request.limits.add_to(app);
}

Command
register_put(CLI::App& root)
{
  auto options = std::make_shared<PutOptions>();
  CLI::App* app = root.add_subcommand("put", "Write a record (validated against the TaskRecord schema and limits)");
  add_write_options(*app, options->request);
  app->add_flag("--if-absent", options->request.if_absent,
                "Create only: fail with exit 4 when the key exists (atomic)");
  app->footer(
    "Unless --no-validate, the input must be a valid TaskRecord (the JSON pmcp-tasks writes:\n"
    "task{taskId,status,createdAt,lastUpdatedAt,ttl,...}, ownerId, variables, result,\n"
    "requestMethod, expiresAt) whose variables are within the limits, and whose ownerId and\n"
    "task.taskId match KEY; otherwise nothing is written and taskctl exits 6 listing every\n"
    "problem as /json/pointer: message. A valid record is stored in the canonical compact form\n"
    "pmcp-tasks writes (unknown fields are dropped with a warning, as pmcp-tasks drops them).\n"
    "put is the only command that creates a store that does not exist yet.\n"
    "Output (default table): table \"stored KEY (version N)\"; json/jsonl\n"
    "{\"key\",\"version\",\"previous_version\",\"dry_run\",\"bytes\"}; raw: the new version alone.\n"
    "With --dry-run the store is only read (never created) and \"version\" is the one the write\n"
    "would get. Exit: 0 written, 2 bad key/usage, 4 --if-absent and the key exists, 6 invalid\n"
    "record, 1 unreadable input file.\n"
    "\n"
    "Examples:\n"
    "  taskctl put user-123:786512e2-9e0d-44bd-8f29-789f320fe840 task.json\n"
    "  generate-record | taskctl put --if-absent user-123:786512e2-9e0d-44bd-8f29-789f320fe840 -\n"
    "  taskctl put --dry-run -o json user-123:786512e2-9e0d-44bd-8f29-789f320fe840 task.json");
  return {app, [options](Context& ctx) { return run_write(ctx, options->request); }};
}

} // namespace taskctl
