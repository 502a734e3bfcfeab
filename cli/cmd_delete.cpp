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
  BatchOption batch;
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
  auto store = open_store(ctx, options.dry_run ? StoreAccess::read : StoreAccess::modify);
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
      results.finish(Json{{"deleted", 0}, {"not_found", 1}, {"dry_run", options.dry_run}},
                     fmt::format("deleted 0 records from {}, 1 not found", store_display(ctx)));
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
                 options.dry_run
                   ? fmt::format("would delete 1 record from {} (dry run: nothing was deleted)", store_display(ctx))
                   : fmt::format("deleted 1 record from {}", store_display(ctx)));
  return exit_ok;
}

// Removes key and returns the version removed (0 when it could not be read:
// a damaged record, or one rewritten on every try), or nullopt when the key
// does not exist. The version is read first and the removal made
// conditional on it, so the version reported is the one that went.
std::optional<std::uint64_t>
remove_reporting_version(taskstore::StorageBackend& store, const std::string& key)
{
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::uint64_t version = 0;
    try {
      version = store.get(key).version;
    } catch (const taskstore::StorageError& e) {
      if (e.kind() == taskstore::StorageErrorKind::not_found) {
        return std::nullopt;
      }
      if (e.kind() != taskstore::StorageErrorKind::backend) {
        throw;
      }
      break; // damaged (unreadable) or a failing store: the plain removal says which
    }
    try {
      store.remove_if_version(key, version);
      return version;
    } catch (const taskstore::StorageError& e) {
      if (e.kind() != taskstore::StorageErrorKind::version_conflict) {
        throw;
      }
      if (e.actual() == 0) {
        return std::nullopt; // removed by someone else meanwhile
      }
    }
  }
  return store.remove(key) ? std::optional<std::uint64_t>(0) : std::nullopt;
}

int
delete_keys(Context& ctx, const DeleteOptions& options)
{
  for (const auto& key : options.keys) {
    check_key(key);
  }
  auto store = open_store(ctx, options.dry_run ? StoreAccess::read : StoreAccess::modify);
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
    } else if (const auto version = remove_reporting_version(*store, key)) {
      results.result(key, "deleted", *version);
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
  std::string text = fmt::format("{} {} from {}", verb, plural(done, "record"), store_display(ctx));
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

// The records under a prefix (damaged ones included: the whole owner goes)
// and the first keys met, for the confirmation prompt.
struct Census
{
  std::uint64_t count = 0;
  std::vector<std::string> samples;
};

// Counts the keys under prefix (a keys-only scan), with progress on a
// terminal; stops early on SIGINT / SIGTERM (the caller checks).
Census
take_census(const Context& ctx, taskstore::StorageBackend& store, const std::string& prefix)
{
  Census census;
  Progress progress(ctx, "counting", "counted", "matched");
  taskstore::ScanOptions scan;
  scan.prefix = prefix;
  scan.keys_only = true;
  const auto visit = [&](const std::string& key) {
    if (interrupted()) {
      return false;
    }
    if (census.samples.size() < k_prompt_samples) {
      census.samples.push_back(key);
    }
    ++census.count;
    progress.tick(census.count, census.count);
    return true;
  };
  store.scan(
    scan, [&](const std::string& key, const taskstore::VersionedRecord&) { return visit(key); },
    [&](const taskstore::DamagedRecord& d) { return visit(d.key); });
  return census;
}

int
delete_owner(Context& ctx, const DeleteOptions& options)
{
  const std::string prefix = taskstore::make_prefix(options.owner); // InvalidArgument for ':' -> exit 2
  const std::string action = fmt::format("delete every record of owner {}", options.owner);
  auto store = open_store(ctx, options.dry_run ? StoreAccess::read : StoreAccess::modify);
  const std::string where = store_display(ctx);
  ResultStream results(ctx, Json{{"owner", options.owner}, {"dry_run", options.dry_run}});
  const std::uint64_t batch = options.batch.limit().value_or(UINT64_MAX);

  auto check_max = [&](std::uint64_t count) {
    options.max_delete.check(count, fmt::format("delete {} of owner {}", plural(count, "record"), options.owner),
                             "raise --max-delete, narrow what you delete, or remove them in runs of --batch N");
  };

  if (options.dry_run) {
    std::uint64_t count = 0;
    const auto would_delete = [&](const std::string& key, std::uint64_t version) {
      if (interrupted() || count >= batch) {
        return false;
      }
      results.result(key, "would_delete", version);
      ++count;
      return true;
    };
    store->scan(
      prefix,
      [&](const std::string& key, const taskstore::VersionedRecord& record) {
        return would_delete(key, record.version);
      },
      [&](const taskstore::DamagedRecord& d) { return would_delete(d.key, 0); }); // deleted like the others
    check_interrupted();
    results.finish(Json{{"would_delete", count}, {"dry_run", true}},
                   fmt::format("would delete {} of owner {} from {} (dry run: nothing was deleted)",
                               plural(count, "record"), options.owner, where));
    check_max(count);
    return exit_ok;
  }

  // Count first: nothing to do is a success (even without a terminal or
  // --yes); otherwise the count feeds --max-delete, the prompt and the progress.
  const Census census = take_census(ctx, *store, prefix);
  check_interrupted();
  if (census.count == 0) {
    results.finish(Json{{"deleted", 0}, {"dry_run", false}},
                   fmt::format("no records of owner {} in {}: nothing to delete", options.owner, where));
    return exit_ok;
  }
  const std::uint64_t planned = std::min(census.count, batch);
  require_yes_without_tty(ctx, options.yes, action);
  check_max(planned);
  confirm(ctx, options.yes, action,
          question_with_samples(planned == census.count
                                  ? fmt::format("Delete {} of owner {} from {}?", plural(census.count, "record"),
                                                options.owner, where)
                                  : fmt::format("Delete {} of the {} of owner {} from {} (--batch {})?", planned,
                                                plural(census.count, "record"), options.owner, where, batch),
                                census.samples, census.count));

  Progress progress(ctx, "deleting", "deleted");
  progress.set_total(planned);
  taskstore::RemovePrefixOptions remove;
  remove.max = planned;
  remove.should_stop = interrupted;
  std::uint64_t reported = 0;
  remove.on_removed = [&](const std::string& key, std::uint64_t version) {
    progress.before_output();
    results.result(key, "deleted", version);
    ++reported;
    progress.tick(reported, reported);
  };
  std::uint64_t deleted = 0;
  {
    FinishBatchOnSignal finish_batch;
    deleted = taskstore::remove_prefix(*store, prefix, remove);
  }
  progress.clear();
  // Stopped by SIGINT / SIGTERM between two removals: every one removed was
  // reported; the summary says how many, then the exit is 130 / 143.
  const std::uint64_t remaining = census.count > deleted ? census.count - deleted : 0;
  Json summary = {{"deleted", deleted}, {"remaining", remaining}, {"dry_run", false}};
  std::string text = fmt::format("deleted {} of owner {} from {}", plural(deleted, "record"), options.owner, where);
  if (interrupted()) {
    summary["interrupted"] = true;
    text += fmt::format(" (interrupted: stopped early; {} left)", remaining);
  } else if (remaining > 0) {
    text += fmt::format("; {} left (--batch {}: run again for the rest)", remaining, batch);
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
  if ((options.batch.limit() || options.max_delete.limit()) && options.owner.empty()) {
    CliError error(exit_usage, "usage",
                   fmt::format("{} goes with --owner", options.batch.limit() ? "--batch" : "--max-delete"));
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
  options->batch.add_to(*app, "With --owner: delete at most N records in this run and leave the rest for the next");
  app->footer(
    "Named keys are deleted at once; a key that does not exist is reported and exits 3 after\n"
    "the others are processed (unless --ignore-not-found). --owner counts the owner's records\n"
    "first (nothing to delete is success, exit 0), then asks \"Delete N records of owner O from\n"
    "STORE?\" on the terminal, showing up to 5 of the keys; without a terminal it needs --yes\n"
    "(else exit 2). On a terminal, progress shows N of M deleted, the rate and the time left.\n"
    "--max-delete N refuses the whole run when more would go; --batch N deletes at most N and\n"
    "leaves the rest for the next run (for cron jobs that must stay short). Ctrl-C stops\n"
    "between two deletes and says how many were deleted. delete never creates the store.\n"
    "Output (default table): table one line per key deleted on stdout (\"deleted KEY (version\n"
    "N)\", \"would delete KEY (version N)\"), while \"not found KEY\" and the summary, which names\n"
    "the store, go to stderr (silenced by -q); jsonl one object per key\n"
    "{\"key\",\"status\":\"deleted|would_delete|not_found\",\"version\"} then {\"summary\":{...}};\n"
    "json one document {\"schema_version\":1,\"dry_run\",\"results\":[...],...}; raw the keys, one\n"
    "per line. \"version\" is the version deleted (null when it could not be read).\n"
    "--expect-version N makes the delete of one KEY conditional, atomically: it happens only\n"
    "while the record's version is N (read with `taskctl get`), else exit 4 with the current\n"
    "version and nothing deleted.\n"
    "\n"
    "Examples:\n"
    "  taskctl delete user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  taskctl delete --ignore-not-found user-123:786512e2-9e0d-44bd-8f29-789f320fe840 user-123:0b1c6f0e-5d2a-4e8b-9c3f-2a7d1e4b6c90\n"
    "  taskctl delete --expect-version 4 user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  taskctl delete --owner user-123 --dry-run\n"
    "  taskctl delete --owner user-123 --yes --max-delete 1000 -o jsonl > deleted.jsonl\n"
    "  taskctl delete --owner user-123 --yes --batch 5000        # from cron: at most 5000 a run");
  return {app, [options](Context& ctx) { return run_delete(ctx, *options); }};
}

} // namespace taskctl
