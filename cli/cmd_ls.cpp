// taskctl ls [--owner OWNER | PREFIX]: stream records through the store's scan.

#include "app.hpp"
#include "damage.hpp"
#include "input.hpp"
#include "context.hpp"
#include "output.hpp"
#include "store.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/key.hpp"
#include "taskstore/summary.hpp"
#include "taskstore/time.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace taskctl {

namespace {

struct LsOptions
{
  std::string prefix;
  std::string owner;
  std::vector<std::string> statuses;
  bool expired = false;
  bool live = false;
  std::uint64_t limit = 0;
  bool keys_only = false;
  bool count = false;
};

Json
opt_string(const std::optional<std::string>& s)
{
  return s ? Json(*s) : Json(nullptr);
}

int
run_ls(Context& ctx, const LsOptions& options)
{
  // --count and --keys-only print bare values by default, even when piped.
  ctx.resolve_format(ctx.stdout_tty || options.count || options.keys_only ? Format::table : Format::jsonl);
  const std::string prefix = options.owner.empty() ? options.prefix : taskstore::make_prefix(options.owner);
  auto store = open_store(ctx, StoreAccess::read);
  const taskstore::Timestamp now = taskstore::now_utc();
  const bool need_summary =
    !options.statuses.empty() || options.expired || options.live || !(options.keys_only || options.count);

  Progress progress(ctx, "ls");
  std::optional<TableWriter> table;
  std::optional<JsonStreamWriter> json;
  if (!options.count) {
    if (ctx.format == Format::table && !options.keys_only) {
      table.emplace(ctx, std::vector<std::string>{"KEY", "VERSION", "STATUS", "CREATED", "EXPIRES", "EXPIRED"});
    } else if (ctx.format == Format::json) {
      json.emplace(ctx, Json{{"prefix", prefix}}, options.keys_only ? "keys" : "records");
    }
  }

  std::uint64_t scanned = 0;
  std::uint64_t matched = 0;
  std::uint64_t damaged = 0;
  // A damaged record matches no filter and is not counted: it is reported
  // in place (jsonl / json: an item {"key","damaged"}; otherwise a warning).
  const auto on_damaged = [&](const taskstore::DamagedRecord& d) {
    if (interrupted()) {
      return false;
    }
    progress.tick(++scanned, matched);
    ++damaged;
    progress.before_output();
    if (!options.count && ctx.format == Format::jsonl) {
      write_stdout(dump_json(damaged_json(d)) + "\n");
    } else if (!options.count && json) {
      json->item(damaged_json(d));
    } else {
      warn_damaged(ctx, d);
    }
    return true;
  };
  store->scan(prefix, [&](const std::string& key, const taskstore::VersionedRecord& record) {
    if (interrupted()) {
      return false;
    }
    progress.tick(++scanned, matched);
    taskstore::RecordSummary summary;
    if (need_summary) {
      summary = taskstore::summarize_record(record.data, now);
      if (!options.statuses.empty() &&
          (!summary.status ||
           std::find(options.statuses.begin(), options.statuses.end(), *summary.status) == options.statuses.end())) {
        return true;
      }
      if ((options.expired && !summary.expired) || (options.live && summary.expired)) {
        return true;
      }
    }
    ++matched;
    if (!options.count) {
      progress.before_output();
      if (options.keys_only) {
        switch (ctx.format) {
        case Format::json:
          json->item(Json(key));
          break;
        case Format::jsonl:
          write_stdout(dump_json(Json{{"key", key}}) + "\n");
          break;
        default:
          write_stdout(key + "\n");
          break;
        }
      } else if (ctx.format == Format::raw) {
        write_stdout(record.data);
        write_stdout("\n");
      } else if (table) {
        const std::string status = summary.status.value_or("-");
        table->row({{key},
                    {std::to_string(record.version)},
                    {status, status_color(status)},
                    {summary.created_at.value_or("-")},
                    {summary.expires_at.value_or(summary.json ? "never" : "-")},
                    {summary.expired ? "yes" : "no", summary.expired ? Color::red : Color::none}});
      } else {
        Json row = {{"key", key},
                    {"version", record.version},
                    {"status", opt_string(summary.status)},
                    {"createdAt", opt_string(summary.created_at)},
                    {"expiresAt", opt_string(summary.expires_at)},
                    {"expired", summary.expired}};
        if (json) {
          json->item(row);
        } else {
          write_stdout(dump_json(row) + "\n");
        }
      }
    }
    return options.limit == 0 || matched < options.limit;
  }, on_damaged);
  progress.clear();
  check_interrupted();

  if (options.count) {
    switch (ctx.format) {
    case Format::json:
      print_document(ctx, Json{{"schema_version", 1}, {"prefix", prefix}, {"count", matched}});
      break;
    case Format::jsonl:
      print_document(ctx, Json{{"count", matched}});
      break;
    default:
      write_stdout(fmt::format("{}\n", matched));
      break;
    }
    return damaged_exit(ctx, damaged);
  }
  if (json) {
    Json tail = {{"count", matched}};
    if (damaged > 0) {
      tail["damaged"] = damaged;
    }
    json->finish(tail);
  }
  if (table) {
    if (matched == 0) {
      note(ctx, damaged == 0 ? "no records" : "no readable records");
    } else {
      table->finish();
    }
  }
  return damaged_exit(ctx, damaged);
}

} // namespace

Command
register_ls(CLI::App& root)
{
  auto options = std::make_shared<LsOptions>();
  CLI::App* app = root.add_subcommand("ls", "List records (streamed, constant memory), with filters");
  auto* prefix = app->add_option("PREFIX", options->prefix,
                                 "Only keys starting with this text (e.g. \"user-123:\"); default: every record");
  auto* owner = app->add_option("--owner", options->owner, "Only this owner's records (the prefix OWNER:)")
                  ->type_name("OWNER");
  require_owner_value(owner);
  prefix->excludes(owner);
  app->add_option("--status", options->statuses,
                  "Only records in these states (repeat or comma-separate): working, input_required, "
                  "completed, failed, cancelled")
    ->delimiter(',')
    ->check(CLI::IsMember({"working", "input_required", "completed", "failed", "cancelled"}))
    ->type_name("STATUS");
  auto* expired = app->add_flag("--expired", options->expired, "Only expired records (expiresAt has passed)");
  auto* live = app->add_flag("--live", options->live, "Only records that are not expired");
  expired->excludes(live);
  require_count_value(
    app->add_option("--limit", options->limit, "Stop after N matching records (0: no limit)")->type_name("N"));
  auto* keys_only = app->add_flag("--keys-only", options->keys_only, "Print only the keys");
  auto* count = app->add_flag("--count", options->count, "Print only the number of matching records");
  keys_only->excludes(count);
  app->footer(
    "Records stream from the store as it yields them (order: the backend's), so memory stays\n"
    "constant whatever the store size; a listing that matches nothing succeeds (exit 0). On\n"
    "a terminal, progress is shown on stderr about once a second during long scans.\n"
    "Output (default: table on a terminal, jsonl otherwise): jsonl one object per record\n"
    "{\"key\",\"version\",\"status\",\"createdAt\",\"expiresAt\",\"expired\"} (null fields when the\n"
    "stored bytes are not a record); json one document {\"schema_version\":1,\"prefix\",\n"
    "\"records\":[...],\"count\"}; table aligned columns KEY VERSION STATUS CREATED EXPIRES\n"
    "EXPIRED (widths from the first 200 rows); raw the stored bytes of each record, one per\n"
    "line. --keys-only: keys one per line (jsonl {\"key\"}, json \"keys\":[...]). --count: the\n"
    "number alone (json {\"schema_version\":1,\"prefix\",\"count\"}, jsonl {\"count\"}).\n"
    "A damaged record (a version or data the store cannot read) matches no filter: it is\n"
    "reported with its key and why, as {\"key\",\"damaged\"} in jsonl and json, else as a warning\n"
    "on stderr; the listing goes on and exits 6 at the end.\n"
    "\n"
    "Examples:\n"
    "  taskctl ls\n"
    "  taskctl ls --owner user-123 --status failed,cancelled\n"
    "  taskctl ls --expired --count\n"
    "  taskctl ls -o jsonl --live --limit 100 | jq -r .key\n"
    "  taskctl ls -o raw --owner user-123 > user-123-records.jsonl");
  return {app, [options](Context& ctx) { return run_ls(ctx, *options); }};
}

} // namespace taskctl
