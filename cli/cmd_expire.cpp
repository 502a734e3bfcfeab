// taskctl expire KEY (--extend DURATION | --in DURATION | --at TIME | --never):
// change when a task expires, keeping task.ttl and expiresAt consistent.

#include "app.hpp"
#include "context.hpp"
#include "output.hpp"
#include "repair.hpp"
#include "store.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"

#include "taskstore/error.hpp"
#include "taskstore/time.hpp"
#include "taskstore/uri.hpp" // parse_duration_ms

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <optional>

namespace taskctl {

namespace {

struct ExpireOptions
{
  std::string key;
  std::optional<std::string> extend;
  std::optional<std::string> in;
  std::optional<std::string> at;
  bool never = false;
  RepairOptions repair;
};

std::uint64_t
duration_ms(const std::string& text, const char* option)
{
  try {
    return taskstore::parse_duration_ms(text);
  } catch (const taskstore::InvalidArgument& e) {
    CliError error(exit_usage, "usage", fmt::format("{}: {}", option, e.what()));
    throw error;
  }
}

CliError
expiry_error(const std::string& key, const std::string& message, const std::string& hint)
{
  CliError error(exit_invalid, "invalid_expiry", fmt::format("{}: {}", key, message));
  error.hint = hint;
  error.extra["key"] = key;
  return error;
}

// Whole milliseconds from `from` to `to`, rounded down (pmcp-tasks:
// expiresAt = now + ttl, createdAt = now truncated to the millisecond, so
// ttl = floor(expiresAt - createdAt)); nullopt when to is before from.
std::optional<std::uint64_t>
millis_between(taskstore::Timestamp from, taskstore::Timestamp to)
{
  if (to < from) {
    return std::nullopt;
  }
  const std::int64_t nanos = static_cast<std::int64_t>(to.nanos) - static_cast<std::int64_t>(from.nanos);
  std::int64_t ms = (to.seconds - from.seconds) * 1000;
  ms += nanos >= 0 ? nanos / 1'000'000 : -((-nanos + 999'999) / 1'000'000);
  return static_cast<std::uint64_t>(ms);
}

int
run_expire(Context& ctx, const ExpireOptions& options)
{
  ctx.resolve_format(Format::table);
  check_key(options.key);
  const int chosen = (options.extend ? 1 : 0) + (options.in ? 1 : 0) + (options.at ? 1 : 0) + (options.never ? 1 : 0);
  if (chosen != 1) {
    CliError error(exit_usage, "usage", "give exactly one of --extend, --in, --at or --never");
    error.hint = "run `taskctl expire --help` for usage";
    throw error;
  }
  std::optional<std::uint64_t> extend_ms;
  std::optional<std::uint64_t> in_ms;
  std::optional<taskstore::Timestamp> at;
  if (options.extend) {
    extend_ms = duration_ms(*options.extend, "--extend");
  }
  if (options.in) {
    in_ms = duration_ms(*options.in, "--in");
  }
  if (options.at) {
    at = taskstore::parse_rfc3339(*options.at);
    if (!at) {
      CliError error(exit_usage, "usage", fmt::format("--at: '{}' is not an RFC 3339 time", *options.at));
      error.hint = "e.g. --at 2026-12-31T23:59:59Z";
      throw error;
    }
  }
  const auto now = taskstore::now_utc();
  auto store = open_store(ctx, options.repair.dry_run ? StoreAccess::read : StoreAccess::modify);
  Repair repair(ctx, *store, options.repair);
  RepairPrinter printer(ctx, "updated", false);
  std::optional<taskstore::Timestamp> new_expiry;
  const auto result = repair.apply(
    options.key,
    [&](taskstore::TaskRecord& record) {
      if (options.never) {
        record.expires_at.reset();
        record.task.ttl.reset();
        new_expiry.reset();
        return;
      }
      const auto created = taskstore::parse_rfc3339(record.task.created_at);
      if (!created) {
        throw expiry_error(options.key, "its task.createdAt is not a timestamp, so no ttl can be computed",
                           "repair createdAt first (`taskctl edit`)");
      }
      std::optional<taskstore::Timestamp> expiry;
      if (at) {
        expiry = at;
      } else if (in_ms) {
        expiry = taskstore::add_millis(now, *in_ms);
      } else if (!record.expires_at) {
        throw expiry_error(options.key, "the task never expires, so there is nothing to extend",
                           "use --in DURATION (from now) or --at TIME");
      } else {
        expiry = taskstore::add_millis(*record.expires_at, *extend_ms);
      }
      if (!expiry) {
        throw expiry_error(options.key, "the new expiry is out of range", "choose a nearer time");
      }
      const auto ttl = millis_between(*created, *expiry);
      if (!ttl) {
        throw expiry_error(options.key,
                           fmt::format("{} is before the task was created ({})", taskstore::format_autosi(*expiry),
                                       record.task.created_at),
                           "choose a later time");
      }
      record.expires_at = expiry;
      record.task.ttl = ttl;
      new_expiry = expiry;
    },
    false);
  if (new_expiry && result.result != "unchanged" && taskstore::is_expired_at(new_expiry, now)) {
    warn(ctx, fmt::format("{}: the new expiry {} has already passed: the task stays expired and gc removes it",
                          options.key, taskstore::format_autosi(*new_expiry)));
  }
  printer.result(result);
  printer.finish();
  return exit_ok;
}

} // namespace

Command
register_expire(CLI::App& root)
{
  auto options = std::make_shared<ExpireOptions>();
  CLI::App* app =
    root.add_subcommand("expire", "Change when a task expires, keeping task.ttl and expiresAt consistent");
  app->add_option("KEY", options->key, "Key (OWNER:TASK_ID) of the task")->required();
  auto* extend = app->add_option("--extend", options->extend, "Move the expiry this much later (e.g. 30m, 2h, 7d)")
                   ->type_name("DURATION");
  auto* in = app->add_option("--in", options->in, "Expire this long from now (also revives an expired task)")
               ->type_name("DURATION");
  auto* at = app->add_option("--at", options->at, "Expire at this RFC 3339 time (e.g. 2026-12-31T23:59:59Z)")
               ->type_name("TIME");
  auto* never = app->add_flag("--never", options->never, "Never expire (ttl and expiresAt null)");
  extend->excludes(in)->excludes(at)->excludes(never);
  in->excludes(at)->excludes(never);
  at->excludes(never);
  options->repair.add_to(*app, "Accepted for symmetry: expire already works on expired tasks");
  app->footer(
    "pmcp-tasks sets expiresAt = creation time + task.ttl (ms) once, at creation, and never\n"
    "extends it; expire rewrites both so that they stay consistent: expiresAt is the new time\n"
    "exactly, task.ttl the whole milliseconds from task.createdAt to it. It works on an expired\n"
    "task that gc has not removed yet (--in revives it); a time before the task's creation is\n"
    "refused (exit 6). The write is a CAS on the version read, retried on a conflict (--retries);\n"
    "lastUpdatedAt becomes now. On Redis the key's own EXPIREAT moves with it.\n"
    "Output (default table): \"updated KEY (version 3 -> 4) in STORE\" on stderr (a summary: -q\n"
    "silences it); json / jsonl the result object (see\n"
    "cancel); raw the new version. --dry-run prints the unified diff.\n"
    "\n"
    "Examples:\n"
    "  taskctl expire user-123:786512e2-9e0d-44bd-8f29-789f320fe840 --extend 2h\n"
    "  taskctl expire user-123:786512e2-9e0d-44bd-8f29-789f320fe840 --in 24h --dry-run\n"
    "  taskctl expire user-123:786512e2-9e0d-44bd-8f29-789f320fe840 --at 2026-12-31T23:59:59Z\n"
    "  taskctl expire user-123:786512e2-9e0d-44bd-8f29-789f320fe840 --never");
  return {app, [options](Context& ctx) { return run_expire(ctx, *options); }};
}

} // namespace taskctl
