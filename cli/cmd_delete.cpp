// taskctl delete KEY... | delete --owner OWNER: remove records.

#include "app.hpp"
#include "context.hpp"
#include "input.hpp"
#include "output.hpp"
#include "store.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/key.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <optional>

namespace taskctl {

namespace {

struct DeleteOptions
{
  std::vector<std::string> keys;
  std::string owner;
  bool ignore_not_found = false;
  bool dry_run = false;
  bool yes = false;
  std::optional<std::uint64_t> expect_version;
  MaxDeleteOption max_delete;
};

std::string
plural(std::uint64_t n, const char* word)
{
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// delete KEY --expect-version N: one conditional delete (remove_if_version).
int
delete_if_version(Context& ctx, const DeleteOptions& options)
{
  const std::string& key = options.keys.front();
  check_key(key);
  const std::uint64_t expected = *options.expect_version;
  auto store = open_store(ctx, StoreAccess::read);
  ResultStream results(ctx, Json{{"dry_run", options.dry_run}});
  auto conflict = [&](std::uint64_t actual) {
    CliError error(exit_conflict, "version_conflict",
                   fmt::format("version conflict on key {}: expected {}, found {} (nothing was deleted)", key,
                               expected, actual));
    error.extra["key"] = key;
    error.extra["expected_version"] = expected;
    error.extra["current_version"] = actual;
    error.hint = fmt::format("someone changed it since you read it: `taskctl get {}` shows version {}", key, actual);
    return error;
  };
  auto missing = [&] {
    if (options.ignore_not_found) {
      results.result(key, "not_found", 0);
      results.finish(Json{{"deleted", 0}, {"not_found", 1}, {"dry_run", options.dry_run}}, "deleted 0 records, 1 not found");
      return exit_ok;
    }
    CliError error(exit_not_found, "not_found", fmt::format("key not found: {}", key));
    error.extra["key"] = key;
    error.extra["expected_version"] = expected;
    throw error;
  };
  std::uint64_t actual = expected;
  if (options.dry_run) {
    try {
      actual = store->get(key).version;
    } catch (const taskstore::StorageError& e) {
      if (e.kind() != taskstore::StorageErrorKind::not_found) {
        throw;
      }
      return missing();
    }
  } else {
    try {
      store->remove_if_version(key, expected);
    } catch (const taskstore::StorageError& e) {
      if (e.kind() != taskstore::StorageErrorKind::version_conflict) {
        throw;
      }
      actual = e.actual();
      if (actual == 0) {
        return missing();
      }
    }
  }
  if (actual != expected) {
    throw conflict(actual);
  }
  results.result(key, options.dry_run ? "would_delete" : "deleted", expected);
  results.finish(Json{{options.dry_run ? "would_delete" : "deleted", 1}, {"not_found", 0}, {"dry_run", options.dry_run}},
                 options.dry_run ? "would delete 1 record (dry run: nothing was deleted)" : "deleted 1 record");
  return exit_ok;
}

int
delete_keys(Context& ctx, const DeleteOptions& options)
{
  for (const auto& key : options.keys) {
    check_key(key);
  }
  auto store = open_store(ctx, StoreAccess::read);
  ResultStream results(ctx, Json{{"dry_run", options.dry_run}});
  std::vector<std::string> missing;
  std::uint64_t done = 0;
  for (const auto& key : options.keys) {
    check_interrupted();
    if (options.dry_run) {
      try {
        const auto record = store->get(key);
        results.result(key, "would_delete", record.version);
        ++done;
      } catch (const taskstore::StorageError& e) {
        if (e.kind() != taskstore::StorageErrorKind::not_found) {
          throw;
        }
        results.result(key, "not_found", 0);
        missing.push_back(key);
      }
    } else if (store->remove(key)) {
      results.result(key, "deleted", 0);
      ++done;
    } else {
      results.result(key, "not_found", 0);
      missing.push_back(key);
    }
  }
  const char* verb = options.dry_run ? "would delete" : "deleted";
  Json summary = {{options.dry_run ? "would_delete" : "deleted", done},
                  {"not_found", missing.size()},
                  {"dry_run", options.dry_run}};
  std::string text = fmt::format("{} {}", verb, plural(done, "record"));
  if (!missing.empty()) {
    text += fmt::format(", {} not found", missing.size());
  }
  if (options.dry_run) {
    text += " (dry run: nothing was deleted)";
  }
  results.finish(summary, text);
  if (!missing.empty() && !options.ignore_not_found) {
    std::string list;
    for (const auto& key : missing) {
      list += (list.empty() ? "" : ", ") + key;
    }
    CliError error(exit_not_found, "not_found",
                   missing.size() == 1 ? fmt::format("key not found: {}", list)
                                       : fmt::format("{} keys not found: {}", missing.size(), list));
    error.extra["keys"] = missing;
    if (missing.size() == 1) {
      error.extra["key"] = missing.front();
    }
    error.hint = "pass --ignore-not-found to treat missing keys as deleted";
    throw error;
  }
  return exit_ok;
}

int
delete_owner(Context& ctx, const DeleteOptions& options)
{
  const std::string prefix = taskstore::make_prefix(options.owner); // InvalidArgument for ':' -> exit 2
  const std::string action = fmt::format("delete every record of owner {}", options.owner);
  if (!options.dry_run) {
    require_yes_without_tty(ctx, options.yes, action);
  }
  auto store = open_store(ctx, StoreAccess::read);
  ResultStream results(ctx, Json{{"owner", options.owner}, {"dry_run", options.dry_run}});

  auto check_max = [&](std::uint64_t count) {
    options.max_delete.check(count, fmt::format("delete {} of owner {}", plural(count, "record"), options.owner),
                             "raise --max-delete, or narrow what you delete");
  };

  if (options.dry_run) {
    std::uint64_t count = 0;
    store->scan(
      prefix,
      [&](const std::string& key, const taskstore::VersionedRecord& record) {
        if (interrupted()) {
          return false;
        }
        results.result(key, "would_delete", record.version);
        ++count;
        return true;
      },
      [&](const taskstore::DamagedRecord& d) { // deleted like the others: the whole owner goes
        if (interrupted()) {
          return false;
        }
        results.result(d.key, "would_delete", 0);
        ++count;
        return true;
      });
    check_interrupted();
    results.finish(Json{{"would_delete", count}, {"dry_run", true}},
                   fmt::format("would delete {} of owner {} (dry run: nothing was deleted)", plural(count, "record"),
                               options.owner));
    check_max(count);
    return exit_ok;
  }

  // Count first: for --max-delete and the confirmation prompt.
  const std::uint64_t count = taskstore::count_prefix(*store, prefix, interrupted);
  check_interrupted();
  std::uint64_t deleted = 0;
  if (count > 0) {
    check_max(count);
    confirm(ctx, options.yes, action,
            fmt::format("Delete {} of owner {} from {}?", plural(count, "record"), options.owner,
                        store_display(ctx)));
    taskstore::RemovePrefixOptions remove;
    remove.max = options.max_delete.limit().value_or(UINT64_MAX);
    remove.should_stop = interrupted;
    remove.on_removed = [&](const std::string& key, std::uint64_t version) {
      results.result(key, "deleted", version);
    };
    FinishBatchOnSignal finish_batch;
    deleted = taskstore::remove_prefix(*store, prefix, remove);
  }
  // Stopped by SIGINT / SIGTERM between two removals: every one removed was
  // reported; the summary says so, then the exit is 130 / 143.
  Json summary = {{"deleted", deleted}, {"dry_run", false}};
  std::string text = fmt::format("deleted {} of owner {}", plural(deleted, "record"), options.owner);
  if (interrupted()) {
    summary["interrupted"] = true;
    text += " (interrupted: stopped early)";
  }
  results.finish(summary, text);
  check_interrupted();
  return exit_ok;
}

int
run_delete(Context& ctx, const DeleteOptions& options)
{
  ctx.resolve_format(Format::table);
  if (options.keys.empty() == options.owner.empty()) {
    CliError error(exit_usage, "usage", "give either KEY... or --owner OWNER");
    error.hint = "run `taskctl delete --help` for usage";
    throw error;
  }
  if (options.expect_version) {
    if (!options.owner.empty() || options.keys.size() != 1) {
      CliError error(exit_usage, "usage", "--expect-version goes with exactly one KEY");
      error.hint = "run `taskctl delete --help` for usage";
      throw error;
    }
    return delete_if_version(ctx, options);
  }
  return options.owner.empty() ? delete_keys(ctx, options) : delete_owner(ctx, options);
}

} // namespace

Command
register_delete(CLI::App& root)
{
  auto options = std::make_shared<DeleteOptions>();
  CLI::App* app = root.add_subcommand("delete", "Delete records by key, or every record of one owner");
  auto* keys = app->add_option("KEY", options->keys, "Keys (OWNER:TASK_ID) of the records to delete");
  auto* owner =
    app->add_option("--owner", options->owner, "Delete every record of this owner instead (asks first)")
      ->type_name("OWNER");
  require_owner_value(owner);
  keys->excludes(owner);
  app->add_flag("--ignore-not-found", options->ignore_not_found, "A named key that does not exist is not an error");
  app->add_flag("-n,--dry-run", options->dry_run, "Report what would be deleted; delete nothing");
  app->add_flag("-y,--yes", options->yes,
                "Do not ask for confirmation (required for --owner when stdin is not a terminal)");
  require_count_value(app->add_option("-e,--expect-version", options->expect_version,
                                      "Delete the one KEY only if its version is N (atomic; else exit 4)")
                        ->type_name("N"));
  options->max_delete.add_to(*app, "With --owner: refuse (exit 4, nothing deleted) when more than N records would go");
  app->footer(
    "Named keys are deleted at once; a key that does not exist is reported and exits 3 after\n"
    "the others are processed (unless --ignore-not-found). --owner counts the owner's records\n"
    "and asks \"Delete N records of owner O from STORE? [y/N]\" on the terminal; without a\n"
    "terminal it needs --yes (else exit 2). delete never creates the store.\n"
    "Output (default table): table one line per key (\"deleted KEY\", \"would delete KEY\n"
    "(version N)\", \"not found KEY\") then a summary; jsonl one object per key\n"
    "{\"key\",\"status\":\"deleted|would_delete|not_found\",\"version\"} then\n"
    "{\"summary\":{...}}; json one document {\"schema_version\":1,\"dry_run\",\"results\":[...],...};\n"
    "raw the keys, one per line. \"version\" is the version last read (null when not read).\n"
    "--expect-version N makes the delete of one KEY conditional, atomically: it happens only\n"
    "while the record's version is N (read with `taskctl get`), else exit 4 with the current\n"
    "version and nothing deleted.\n"
    "\n"
    "Examples:\n"
    "  taskctl delete user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  taskctl delete --ignore-not-found user-123:a user-123:b\n"
    "  taskctl delete --expect-version 4 user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  taskctl delete --owner user-123 --dry-run\n"
    "  taskctl delete --owner user-123 --yes --max-delete 1000 -o jsonl > deleted.jsonl");
  return {app, [options](Context& ctx) { return run_delete(ctx, *options); }};
}

} // namespace taskctl
