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

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace taskctl {

namespace {

struct GcOptions
{
  std::string owner;
  bool dry_run = false;
  bool yes = false;
  bool include_damaged = false;
  MaxDeleteOption max_delete;
  BatchOption batch;
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
  auto store = open_store(ctx, options.dry_run ? StoreAccess::read : StoreAccess::modify);
  const std::string where = store_display(ctx);
  const std::uint64_t batch = options.batch.limit().value_or(UINT64_MAX);

  // One instant for the count, the prompt and the removal: exactly the
  // records confirmed as expired go, none that expired while the user read.
  const taskstore::Timestamp now = taskstore::now_utc();
  Json head = {{"dry_run", options.dry_run}, {"now", taskstore::format_autosi(now)}};
  if (!options.owner.empty()) {
    head["owner"] = options.owner;
  }

  auto check_max = [&](std::uint64_t count) {
    options.max_delete.check(count, fmt::format("remove {}{}", records(count, "expired"), scope),
                             "raise --max-delete, use --owner to clean one owner at a time, or --batch N");
  };

  // The walk stops between batches on SIGINT / SIGTERM (never in the middle
  // of reporting one), so every record removed is reported; then the summary
  // says what was done, and the exit is 130 / 143.
  taskstore::CleanupOptions cleanup;
  cleanup.prefix = prefix;
  cleanup.now = now;
  cleanup.should_stop = interrupted;
  cleanup.remove_damaged = options.include_damaged;
  cleanup.max = batch;
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
    const int status = finish(results, Json{{"would_delete", count}, {"dry_run", true}},
                              fmt::format("would remove {}{} from {} (dry run: nothing was removed)",
                                          records(count, "expired"), scope, where));
    check_max(count);
    return status;
  }

  // Count first, unless told to go ahead unwatched (--yes, no --max-delete,
  // no terminal to show progress on: a cron job walks the store once).
  // Nothing to do is then a success, even without a terminal or --yes.
  std::optional<std::uint64_t> expired_count; // known when counted
  if (!options.yes || options.max_delete.limit() || (ctx.stderr_tty && !ctx.global.quiet)) {
    taskstore::CleanupOptions counting = cleanup;
    counting.dry_run = true;
    Progress progress(ctx, "counting", "counted", "expired");
    std::uint64_t seen = 0;
    std::vector<std::string> samples;
    counting.on_removed = [&](const std::string& key, std::uint64_t, taskstore::Timestamp) {
      if (samples.size() < k_prompt_samples) {
        samples.push_back(key);
      }
      ++seen;
      progress.tick(seen, seen);
    };
    std::uint64_t damaged_seen = 0;
    std::uint64_t damaged_to_remove = 0;
    counting.on_damaged = [&](const taskstore::DamagedRecord& d, bool removed) {
      ++damaged_seen;
      if (removed) {
        ++damaged_to_remove;
        if (samples.size() < k_prompt_samples) {
          samples.push_back(d.key);
        }
      }
    };
    counting.max = UINT64_MAX; // the whole count, for the prompt and what is left
    const std::uint64_t expired = store->cleanup_expired(counting);
    progress.clear();
    check_interrupted();
    if (expired == 0 && damaged_seen == 0) {
      ResultStream results(ctx, head, false);
      results.finish(Json{{"deleted", 0}, {"dry_run", false}},
                     fmt::format("no expired records{} in {}: nothing to remove", scope, where));
      return exit_ok;
    }
    expired_count = expired;
    const std::uint64_t planned = std::min(expired, batch) + damaged_to_remove;
    if (planned > 0) {
      require_yes_without_tty(ctx, options.yes, action);
      check_max(planned);
      const char* what = damaged_to_remove > 0 ? "expired or damaged" : "expired";
      const std::uint64_t count = expired + damaged_to_remove;
      confirm(ctx, options.yes, action,
              question_with_samples(
                planned == count
                  ? fmt::format("Remove {}{} from {}?", records(count, what), scope, where)
                  : fmt::format("Remove {} of the {}{} from {} (--batch {})?", planned, records(count, what), scope,
                                where, batch),
                samples, count));
    }
  }

  ResultStream results(ctx, head, false);
  Progress progress(ctx, "removing", "removed");
  if (expired_count) {
    progress.set_total(std::min(*expired_count, batch));
  }
  cleanup.dry_run = false;
  std::uint64_t reported = 0;
  cleanup.on_removed = [&](const std::string& key, std::uint64_t version, taskstore::Timestamp expires_at) {
    results.result(key, "deleted", version, taskstore::format_autosi(expires_at));
    ++reported;
    progress.tick(reported, reported);
  };
  cleanup.on_damaged = report_damaged(results, "deleted");
  std::size_t removed = 0;
  {
    FinishBatchOnSignal finish_batch;
    removed = store->cleanup_expired(cleanup);
  }
  progress.clear();
  Json summary = {{"deleted", removed}, {"dry_run", false}};
  std::string text = fmt::format("removed {}{} from {}", records(removed, "expired"), scope, where);
  if (expired_count) {
    const std::uint64_t left = *expired_count > removed ? *expired_count - removed : 0;
    summary["remaining"] = left;
    if (left > 0 && !interrupted()) {
      text += fmt::format("; {} left (--batch {}: run again for the rest)", left, batch);
    } else if (left > 0) {
      text += fmt::format("; {} left", left);
    }
  } else if (options.batch.limit() && removed >= batch) {
    text += fmt::format("; more may be left (--batch {}: run again for the rest)", batch);
  }
  return finish(results, summary, text);
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
  options->batch.add_to(*app, "Remove at most N expired records in this run and leave the rest for the next");
  app->footer(
    "A record is expired when its expiresAt is strictly earlier than now (the same rule on\n"
    "every backend). gc counts the expired records first (nothing expired is success, exit 0,\n"
    "even without a terminal), then asks \"Remove N expired records from STORE?\" on the\n"
    "terminal, showing up to 5 of the keys; without a terminal it needs --yes (else exit 2).\n"
    "With --yes and no terminal nor --max-delete it does not count first: one walk of the\n"
    "store. Only records expired at the moment of the count are removed, and a record\n"
    "rewritten meanwhile is kept. --max-delete N refuses the whole run when more would go;\n"
    "--batch N removes at most N and leaves the rest for the next run. On a terminal, progress\n"
    "shows N of M removed, the rate and the time left. gc never creates the store. A damaged\n"
    "record (a version or data the store cannot read) is reported and kept (exit 6) unless\n"
    "--include-damaged. On SIGINT or SIGTERM gc stops between batches, reports every record it\n"
    "removed and the summary, then exits 130 / 143.\n"
    "Output (default table): table nothing on stdout (--dry-run: one line per key that would\n"
    "go) and the summary, naming the store, on stderr (silenced by -q); jsonl one object per\n"
    "key {\"key\",\"status\":\"deleted|would_delete\",\"version\",\"expiresAt\"} then\n"
    "{\"summary\":{...}}; json one document {\"schema_version\":1,\"dry_run\",\"now\",\"results\":[...],\n"
    "\"deleted\"|\"would_delete\"}; raw the keys, one per line.\n"
    "\n"
    "Examples:\n"
    "  taskctl gc --dry-run\n"
    "  taskctl gc --yes                       # from cron or CI\n"
    "  taskctl gc --yes --batch 10000         # at most 10000 a run\n"
    "  taskctl gc --owner user-123 --yes -o jsonl\n"
    "  taskctl -s redis://127.0.0.1:6379/0 gc --yes --max-delete 100000");
  return {app, [options](Context& ctx) { return run_gc(ctx, *options); }};
}

} // namespace taskctl
