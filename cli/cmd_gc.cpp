// taskctl gc: remove expired records (the store's cleanup_expired).

#include "app.hpp"
#include "context.hpp"
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

  taskstore::CleanupOptions cleanup;
  cleanup.prefix = prefix;
  cleanup.now = now;

  if (options.dry_run) {
    ResultStream results(ctx, head);
    cleanup.dry_run = true;
    cleanup.on_removed = [&](const std::string& key, std::uint64_t version, taskstore::Timestamp expires_at) {
      check_interrupted();
      results.result(key, "would_delete", version, taskstore::format_autosi(expires_at));
    };
    const auto count = store->cleanup_expired(cleanup);
    check_interrupted();
    results.finish(Json{{"would_delete", count}, {"dry_run", true}},
                   fmt::format("would remove {}{} (dry run: nothing was removed)", records(count, "expired"), scope));
    check_max(count);
    return exit_ok;
  }

  if (!options.yes || options.max_delete.limit()) {
    cleanup.dry_run = true;
    cleanup.on_removed = [&](const std::string&, std::uint64_t, taskstore::Timestamp) { check_interrupted(); };
    const auto count = store->cleanup_expired(cleanup);
    check_interrupted();
    if (count == 0) {
      ResultStream results(ctx, head, false);
      results.finish(Json{{"deleted", 0}, {"dry_run", false}}, fmt::format("no expired records{}", scope));
      return exit_ok;
    }
    check_max(count);
    confirm(ctx, options.yes, action,
            fmt::format("Remove {}{} from {}?", records(count, "expired"), scope, store_display(ctx)));
  }

  ResultStream results(ctx, head, false);
  cleanup.dry_run = false;
  cleanup.on_removed = [&](const std::string& key, std::uint64_t version, taskstore::Timestamp expires_at) {
    results.result(key, "deleted", version, taskstore::format_autosi(expires_at));
    check_interrupted();
  };
  const auto removed = store->cleanup_expired(cleanup);
  check_interrupted();
  results.finish(Json{{"deleted", removed}, {"dry_run", false}},
                 fmt::format("removed {}{}", records(removed, "expired"), scope));
  return exit_ok;
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
  options->max_delete.add_to(*app, "Refuse (exit 4, nothing removed) when more than N records would be removed");
  app->footer(
    "A record is expired when its expiresAt is strictly earlier than now (the same rule on\n"
    "every backend). gc counts the expired records and asks \"Remove N expired records from\n"
    "STORE? [y/N]\" on the terminal; without a terminal it needs --yes (else exit 2). Only\n"
    "records expired at the moment of the count are removed, and a record rewritten meanwhile\n"
    "is kept. gc never creates the store.\n"
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
