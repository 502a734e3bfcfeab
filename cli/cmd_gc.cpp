// taskctl gc: remove expired records (the store's cleanup_expired).

#include "app.hpp"
#include "context.hpp"
#include "damage.hpp"
#include "input.hpp"
#include "output.hpp"
#include "store.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/key.hpp"
#include "taskstore/time.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace taskctl {

namespace {

struct GcOptions
{
  std::string owner;
  bool dry_run = false;
  bool yes = false;
  bool include_damaged = false;
  MaxDeleteOption max_delete;
};

std::string
records(std::uint64_t n, const char* adjective)
{
  return fmt::format("{} {} record{}", n, adjective, n == 1 ? "" : "s");
}

int
run_gc(Context& ctx, const GcOptions& options)
{
  ctx.resolve_format(Format::table);
  const std::string prefix = options.owner.empty() ? std::string() : taskstore::make_prefix(options.owner);
  const std::string scope = options.owner.empty() ? std::string() : fmt::format(" of owner {}", options.owner);
  const std::string action = fmt::format("remove expired records{}", scope);
  if (!options.dry_run) {
    require_yes_without_tty(ctx, options.yes, action);
  }
  auto store = open_store(ctx, StoreAccess::read);

  // One instant for the count, the prompt and the removal: exactly the
  // records confirmed as expired go, none that expired while the user read.
  const taskstore::Timestamp now = taskstore::now_utc();
  Json head = {{"dry_run", options.dry_run}, {"now", taskstore::format_autosi(now)}};
  if (!options.owner.empty()) {
    head["owner"] = options.owner;
  }

  auto check_max = [&](std::uint64_t count) {
    options.max_delete.check(count, fmt::format("remove {}{}", records(count, "expired"), scope),
                             "raise --max-delete, or use --owner to clean one owner at a time");
  };

  // The walk stops between batches on SIGINT / SIGTERM (never in the middle
  // of reporting one), so every record removed is reported; then the summary
  // says what was done, and the exit is 130 / 143.
  taskstore::CleanupOptions cleanup;
  cleanup.prefix = prefix;
  cleanup.now = now;
  cleanup.should_stop = interrupted;
  cleanup.remove_damaged = options.include_damaged;
  std::uint64_t damaged_kept = 0;
  std::uint64_t damaged_removed = 0;
  // Damaged records met: reported (as results in jsonl / json, otherwise as
  // warnings), counted, and removed only with --include-damaged.
  const auto report_damaged = [&](ResultStream& results, const char* removed_status) {
    return [&, removed_status](const taskstore::DamagedRecord& d, bool removed) {
      Json line = damaged_json(d);
      line["status"] = removed ? removed_status : "kept";
      results.item(line);
      if (removed) {
        ++damaged_removed;
        if (ctx.format == Format::raw) {
          write_stdout(d.key + "\n");
        }
      } else {
        ++damaged_kept;
      }
      if (ctx.format != Format::json && ctx.format != Format::jsonl) {
        warn_damaged(ctx, d,
                     removed ? (cleanup.dry_run ? "would be removed (--include-damaged)" : "removed (--include-damaged)")
                             : "kept (--include-damaged removes it)");
      }
    };
  };
  const auto finish = [&](ResultStream& results, Json summary, std::string text) {
    const bool stopped = interrupted();
    if (damaged_kept + damaged_removed > 0) {
      summary["damaged_kept"] = damaged_kept;
      summary["damaged_removed"] = damaged_removed;
      text += fmt::format("; {} damaged record{} {}", damaged_kept + damaged_removed,
                          damaged_kept + damaged_removed == 1 ? "" : "s",
                          damaged_removed == 0 ? "kept" : (damaged_kept == 0 ? "removed" : "met"));
    }
    if (stopped) {
      summary["interrupted"] = true;
      text += " (interrupted: stopped early)";
    }
    results.finish(summary, text);
    check_interrupted();
    return damaged_exit(ctx, damaged_kept);
  };

  if (options.dry_run) {
    ResultStream results(ctx, head);
    cleanup.dry_run = true;
    cleanup.on_removed = [&](const std::string& key, std::uint64_t version, taskstore::Timestamp expires_at) {
      results.result(key, "would_delete", version, taskstore::format_autosi(expires_at));
    };
    cleanup.on_damaged = report_damaged(results, "would_delete");
    const auto count = store->cleanup_expired(cleanup);
    const int status =
      finish(results, Json{{"would_delete", count}, {"dry_run", true}},
             fmt::format("would remove {}{} (dry run: nothing was removed)", records(count, "expired"), scope));
    check_max(count);
    return status;
  }

  if (!options.yes || options.max_delete.limit()) {
    // The count for --max-delete and the prompt: a dry run (damaged records
    // are reported by the removal that follows, not twice).
    taskstore::CleanupOptions counting = cleanup;
    counting.dry_run = true;
    counting.on_removed = [](const std::string&, std::uint64_t, taskstore::Timestamp) {};
    std::uint64_t damaged_seen = 0;
    std::uint64_t damaged_to_remove = 0;
    counting.on_damaged = [&](const taskstore::DamagedRecord&, bool removed) {
      ++damaged_seen;
      damaged_to_remove += removed ? 1 : 0;
    };
    const auto count = store->cleanup_expired(counting) + damaged_to_remove;
    check_interrupted();
    if (count == 0 && damaged_seen == 0) {
      ResultStream results(ctx, head, false);
      results.finish(Json{{"deleted", 0}, {"dry_run", false}}, fmt::format("no expired records{}", scope));
      return exit_ok;
    }
    if (count > 0) {
      check_max(count);
      confirm(ctx, options.yes, action,
              fmt::format("Remove {}{} from {}?", records(count, damaged_to_remove > 0 ? "expired or damaged" : "expired"),
                          scope, store_display(ctx)));
    }
  }

  ResultStream results(ctx, head, false);
  cleanup.dry_run = false;
  cleanup.on_removed = [&](const std::string& key, std::uint64_t version, taskstore::Timestamp expires_at) {
    results.result(key, "deleted", version, taskstore::format_autosi(expires_at));
  };
  cleanup.on_damaged = report_damaged(results, "deleted");
  std::size_t removed = 0;
  {
    FinishBatchOnSignal finish_batch;
    removed = store->cleanup_expired(cleanup);
  }
  return finish(results, Json{{"deleted", removed}, {"dry_run", false}},
                fmt::format("removed {}{}", records(removed, "expired"), scope));
}

} // namespace

Command
register_gc(CLI::App& root)
{
  auto options = std::make_shared<GcOptions>();
  CLI::App* app = root.add_subcommand("gc", "Remove expired records (and backend debris such as stale index entries)");
  require_owner_value(app->add_option("--owner", options->owner, "Only this owner's records")->type_name("OWNER"));
  app->add_flag("-n,--dry-run", options->dry_run, "List what would be removed; remove nothing");
  app->add_flag("-y,--yes", options->yes, "Do not ask for confirmation (required when stdin is not a terminal)");
  app->add_flag("--include-damaged", options->include_damaged,
                "Also remove damaged records (a version or data the store cannot read), each only while still damaged");
  options->max_delete.add_to(*app, "Refuse (exit 4, nothing removed) when more than N records would be removed");
  app->footer(
    "A record is expired when its expiresAt is strictly earlier than now (the same rule on\n"
    "every backend). gc counts the expired records and asks \"Remove N expired records from\n"
    "STORE? [y/N]\" on the terminal; without a terminal it needs --yes (else exit 2). Only\n"
    "records expired at the moment of the count are removed, and a record rewritten meanwhile\n"
    "is kept. gc never creates the store. A damaged record (a version or data the store cannot\n"
    "read) is reported and kept (exit 6) unless --include-damaged. On SIGINT or SIGTERM gc stops\n"
    "between batches, reports every record it removed and the summary, then exits 130 / 143.\n"
    "Output (default table): table the count removed (--dry-run: one line per key that would\n"
    "go, then the count); jsonl one object per key {\"key\",\"status\":\"deleted|would_delete\",\n"
    "\"version\",\"expiresAt\"} then {\"summary\":{...}}; json one document\n"
    "{\"schema_version\":1,\"dry_run\",\"now\",\"results\":[...],\"deleted\"|\"would_delete\"};\n"
    "raw the keys, one per line.\n"
    "\n"
    "Examples:\n"
    "  taskctl gc --dry-run\n"
    "  taskctl gc --yes                       # from cron or CI\n"
    "  taskctl gc --owner user-123 --yes -o jsonl\n"
    "  taskctl -s redis://127.0.0.1:6379/0 gc --yes --max-delete 100000");
  return {app, [options](Context& ctx) { return run_gc(ctx, *options); }};
}

} // namespace taskctl
