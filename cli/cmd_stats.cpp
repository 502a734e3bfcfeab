// taskctl stats [--owner OWNER | PREFIX] [--by owner|status|method|day]:
// one streaming pass that counts, measures and dates the records.

#include "app.hpp"
#include "context.hpp"
#include "damage.hpp"
#include "input.hpp"
#include "listing.hpp"
#include "namespaces.hpp"
#include "output.hpp"
#include "store.hpp"
#include "table.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/key.hpp"
#include "taskstore/summary.hpp"
#include "taskstore/time.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>

namespace taskctl {

namespace {

struct StatsOptions
{
  std::string prefix;
  std::string owner;
  RecordFilter filter;
  std::string by;
};

// A record without a task.status (its bytes are not a record) is counted
// under this name.
constexpr const char* k_no_status = "(none)";

struct StatusCount
{
  std::uint64_t live = 0;
  std::uint64_t expired = 0;
};

struct Stats
{
  std::uint64_t records = 0;
  std::uint64_t expired = 0;
  std::uint64_t damaged = 0;
  std::uint64_t expiring_next_hour = 0;
  std::uint64_t bytes = 0;
  std::uint64_t largest = 0;
  std::string largest_key;
  std::vector<std::uint32_t> sizes; // for the percentiles (4 bytes a record)
  std::optional<taskstore::Timestamp> oldest, newest;
  std::string oldest_text, newest_text;
  std::map<std::string, StatusCount> by_status;
  std::map<std::string, std::uint64_t> groups; // --by
};

// The size below which fraction of the records lie (nearest rank); 0 when none.
std::uint64_t
percentile(std::vector<std::uint32_t>& sizes, double fraction)
{
  if (sizes.empty()) {
    return 0;
  }
  auto rank = static_cast<std::size_t>(fraction * static_cast<double>(sizes.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sizes.size()) - 1;
  std::nth_element(sizes.begin(), sizes.begin() + static_cast<std::ptrdiff_t>(rank), sizes.end());
  return sizes[rank];
}

// The --by group of a record ("-" for what it lacks).
std::string
group_of(const std::string& by, const std::string& key, const taskstore::RecordSummary& s)
{
  if (by == "owner") {
    return key.substr(0, key.find(':'));
  }
  if (by == "status") {
    return s.status.value_or(k_no_status);
  }
  if (by == "method") {
    return s.request_method.value_or("-");
  }
  // day: the UTC date of task.createdAt
  if (s.created_at) {
    if (auto t = taskstore::parse_rfc3339(*s.created_at)) {
      return taskstore::format_millis(*t).substr(0, 10);
    }
  }
  return "-";
}

std::string
human_bytes(std::uint64_t n)
{
  if (n < 1024) {
    return fmt::format("{} B", n);
  }
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n) / 1024;
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

int
run_stats(Context& ctx, StatsOptions& options)
{
  ctx.resolve_format(Format::table);
  const std::string prefix = scope_prefix(options.prefix, options.owner);
  const taskstore::Timestamp now = taskstore::now_utc();
  const taskstore::Timestamp hour_on{now.seconds + 3600, now.nanos};
  options.filter.resolve(now);
  auto store = open_store(ctx, StoreAccess::read);

  Stats st;
  Progress progress(ctx, "stats");
  std::uint64_t scanned = 0;
  taskstore::RecordSummary s; // reused record after record
  store->scan(
    prefix,
    [&](const std::string& key, const taskstore::VersionedRecord& record) {
      if (interrupted()) {
        return false;
      }
      progress.tick(++scanned, st.records);
      taskstore::summarize_record(record.data, now, s);
      if (!options.filter.matches(s)) {
        return true;
      }
      ++st.records;
      st.bytes += s.size;
      st.sizes.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(s.size, UINT32_MAX)));
      if (s.size > st.largest || st.largest_key.empty()) {
        st.largest = s.size;
        st.largest_key = key;
      }
      auto& count = st.by_status[s.status.value_or(k_no_status)];
      if (s.expired) {
        ++st.expired;
        ++count.expired;
      } else {
        ++count.live;
        if (s.expires && *s.expires <= hour_on) {
          ++st.expiring_next_hour;
        }
      }
      if (s.created_at) {
        if (auto t = taskstore::parse_rfc3339(*s.created_at)) {
          if (!st.oldest || *t < *st.oldest) {
            st.oldest = t;
            st.oldest_text = *s.created_at;
          }
          if (!st.newest || *t > *st.newest) {
            st.newest = t;
            st.newest_text = *s.created_at;
          }
        }
      }
      if (!options.by.empty()) {
        ++st.groups[group_of(options.by, key, s)];
      }
      return true;
    },
    [&](const taskstore::DamagedRecord& d) {
      if (interrupted()) {
        return false;
      }
      progress.tick(++scanned, st.records);
      ++st.damaged;
      warn_damaged(ctx, d);
      return true;
    });
  progress.clear();
  check_interrupted();
  if (scanned == 0) {
    warn_if_namespace_empty(ctx, *store); // a mistyped ?prefix= looks like an empty store
  }

  const std::uint64_t p50 = percentile(st.sizes, 0.50);
  const std::uint64_t p99 = percentile(st.sizes, 0.99);
  if (ctx.format == Format::json || ctx.format == Format::jsonl) {
    Json statuses = Json::object();
    for (const auto& [name, c] : st.by_status) {
      statuses[name] = Json{{"live", c.live}, {"expired", c.expired}, {"total", c.live + c.expired}};
    }
    Json doc = new_document(ctx);
    doc["prefix"] = prefix;
    doc["records"] = st.records;
    doc["expired"] = st.expired;
    doc["damaged"] = st.damaged;
    doc["by_status"] = std::move(statuses);
    doc["bytes"] = Json{{"total", st.bytes},
                        {"largest", st.largest},
                        {"largest_key", st.largest_key.empty() ? Json(nullptr) : Json(st.largest_key)},
                        {"p50", p50},
                        {"p99", p99}};
    doc["created"] = Json{{"oldest", st.oldest ? Json(st.oldest_text) : Json(nullptr)},
                          {"newest", st.newest ? Json(st.newest_text) : Json(nullptr)}};
    doc["expiring_next_hour"] = st.expiring_next_hour;
    if (!options.by.empty()) {
      Json groups = Json::object();
      for (const auto& [name, n] : st.groups) {
        groups[name] = n;
      }
      doc["by"] = options.by;
      doc["groups"] = std::move(groups);
    }
    print_document(ctx, doc);
    return damaged_exit(ctx, st.damaged);
  }

  std::string text = fmt::format("records    {} ({} live, {} expired{})\n", st.records, st.records - st.expired,
                                 st.expired, st.damaged > 0 ? fmt::format(", {} damaged", st.damaged) : "");
  text += fmt::format("bytes      {} in all; per record p50 {}, p99 {}, largest {}{}\n", human_bytes(st.bytes),
                      human_bytes(p50), human_bytes(p99), human_bytes(st.largest),
                      st.largest_key.empty() ? "" : fmt::format(" ({})", printable(st.largest_key)));
  text += fmt::format("created    oldest {}, newest {}\n", st.oldest ? printable(st.oldest_text) : "-",
                      st.newest ? printable(st.newest_text) : "-");
  text += fmt::format("expiring   {} in the next hour\n", st.expiring_next_hour);
  write_stdout(text);
  if (!st.by_status.empty()) {
    write_stdout("\n");
    TableWriter table(ctx, {"STATUS", "LIVE", "EXPIRED", "TOTAL"});
    for (const auto& [name, c] : st.by_status) {
      table.row({{name, status_color(name)},
                 {std::to_string(c.live)},
                 {std::to_string(c.expired)},
                 {std::to_string(c.live + c.expired)}});
    }
    table.finish();
  }
  if (!options.by.empty() && !st.groups.empty()) {
    write_stdout("\n");
    std::string header = options.by;
    std::transform(header.begin(), header.end(), header.begin(), [](unsigned char c) { return std::toupper(c); });
    TableWriter table(ctx, {header, "RECORDS"});
    for (const auto& [name, n] : st.groups) {
      table.row({{name}, {std::to_string(n)}});
    }
    table.finish();
  }
  return damaged_exit(ctx, st.damaged);
}

} // namespace

Command
register_stats(CLI::App& root)
{
  auto options = std::make_shared<StatsOptions>();
  CLI::App* app = root.add_subcommand("stats", "Count, size and date the records in one streaming pass");
  add_scope_options(app, options->prefix, options->owner);
  add_filter_options(app, options->filter);
  app->add_option("--by", options->by, "Also count the records per owner, status, method or day (of createdAt, UTC)")
    ->check(CLI::IsMember({"owner", "status", "method", "day"}))
    ->type_name("GROUP");
  app->footer(
    "One pass over the records (as ls reads them; memory: 4 bytes a record for the size\n"
    "percentiles, plus one counter per --by group). The filters are ls's.\n"
    "Output (default table): the counts by status and expiry, bytes stored (total, p50,\n"
    "p99, largest and its key), the oldest and newest task.createdAt, the live records\n"
    "expiring within the next hour, and the --by counts. json / jsonl: one document\n"
    "{\"schema_version\":1 (json only),\"prefix\",\"records\",\"expired\",\"damaged\",\n"
    "\"by_status\":{STATUS:{\"live\",\"expired\",\"total\"}},\"bytes\":{\"total\",\"largest\",\n"
    "\"largest_key\",\"p50\",\"p99\"},\"created\":{\"oldest\",\"newest\"},\"expiring_next_hour\"\n"
    "[,\"by\",\"groups\":{GROUP:COUNT}]}. Bytes that are not a record count under status\n"
    "\"(none)\". Damaged records are warned about, not counted; exit 6 then.\n"
    "\n"
    "Examples:\n"
    "  taskctl stats\n"
    "  taskctl stats --by owner -o json | jq '.groups | to_entries | sort_by(-.value) | .[:10]'\n"
    "  taskctl stats --owner user-123 --by day");
  return {app, [options](Context& ctx) { return run_stats(ctx, *options); }};
}

} // namespace taskctl
