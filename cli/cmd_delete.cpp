// taskctl delete KEY... | delete --owner OWNER: remove records.

#include "common.hpp"
#include "output.hpp"

#include "taskstore/error.hpp"
#include "taskstore/key.hpp"

#include <fmt/format.h>

#include <memory>

namespace taskctl {

namespace {

struct DeleteOptions
{
  std::vector<std::string> keys;
  std::string owner;
  bool ignore_not_found = false;
  bool dry_run = false;
  bool yes = false;
  std::optional<std::uint64_t> max_delete;
  std::uint64_t max_delete_value = 0;
  CLI::Option* max_delete_option = nullptr;
};

// Keys removed per scan round when deleting an owner's records: the store is
// scanned again after each batch, so memory stays bounded whatever the count.
constexpr std::size_t k_batch = 500;

std::string
plural(std::uint64_t n, const char* word)
{
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
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
    if (options.max_delete && count > *options.max_delete) {
      CliError error(exit_conflict, "max_delete_exceeded",
                     fmt::format("refusing to delete {} of owner {}: more than --max-delete {}",
                                 plural(count, "record"), options.owner, *options.max_delete));
      error.extra["count"] = count;
      error.extra["max_delete"] = *options.max_delete;
      error.hint = "raise --max-delete, or narrow what you delete";
      throw error;
    }
  };

  if (options.dry_run) {
    std::uint64_t count = 0;
    store->scan(prefix, [&](const std::string& key, const taskstore::VersionedRecord& record) {
      if (interrupted()) {
        return false;
      }
      results.result(key, "would_delete", record.version);
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
  std::uint64_t count = 0;
  store->scan(prefix, [&](const std::string&, const taskstore::VersionedRecord&) {
    ++count;
    return !interrupted();
  });
  check_interrupted();
  if (count > 0) {
    check_max(count);
    confirm(ctx, options.yes, action,
            fmt::format("Delete {} of owner {} from {}?", plural(count, "record"), options.owner,
                        store_display(ctx)));
  }

  const std::uint64_t cap = options.max_delete.value_or(UINT64_MAX);
  std::uint64_t deleted = 0;
  while (count > 0 && deleted < cap) {
    std::vector<std::pair<std::string, std::uint64_t>> batch;
    store->scan(prefix, [&](const std::string& key, const taskstore::VersionedRecord& record) {
      batch.emplace_back(key, record.version);
      return batch.size() < k_batch && !interrupted();
    });
    check_interrupted();
    std::uint64_t removed_now = 0;
    for (const auto& [key, version] : batch) {
      check_interrupted();
      if (deleted >= cap) {
        break;
      }
      if (store->remove(key)) {
        results.result(key, "deleted", version);
        ++deleted;
        ++removed_now;
      }
    }
    if (removed_now == 0) {
      break; // nothing left that we can remove (or only stale listings)
    }
  }
  results.finish(Json{{"deleted", deleted}, {"dry_run", false}},
                 fmt::format("deleted {} of owner {}", plural(deleted, "record"), options.owner));
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
  keys->excludes(owner);
  app->add_flag("--ignore-not-found", options->ignore_not_found, "A named key that does not exist is not an error");
  app->add_flag("-n,--dry-run", options->dry_run, "Report what would be deleted; delete nothing");
  app->add_flag("-y,--yes", options->yes,
                "Do not ask for confirmation (required for --owner when stdin is not a terminal)");
  options->max_delete_option = app->add_option("--max-delete", options->max_delete_value,
                  "With --owner: refuse (exit 4, nothing deleted) when more than N records would go")
    ->type_name("N");
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
    "\n"
    "Examples:\n"
    "  taskctl delete user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  taskctl delete --ignore-not-found user-123:a user-123:b\n"
    "  taskctl delete --owner user-123 --dry-run\n"
    "  taskctl delete --owner user-123 --yes --max-delete 1000 -o jsonl > deleted.jsonl");
  return {app, [options](Context& ctx) {
            if (options->max_delete_option->count() > 0) {
              options->max_delete = options->max_delete_value;
            }
            return run_delete(ctx, *options);
          }};
}

} // namespace taskctl
