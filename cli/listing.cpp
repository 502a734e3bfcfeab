#include "listing.hpp"

#include "context.hpp"
#include "store.hpp" // require_owner_value

#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/uri.hpp" // parse_duration_ms

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace taskctl {

using taskstore::Timestamp;

Timestamp
parse_time_bound(const std::string& text, Timestamp now, const char* option)
{
  if (auto t = taskstore::parse_rfc3339(text)) {
    return *t;
  }
  std::uint64_t ms = 0;
  try {
    ms = taskstore::parse_duration_ms(text);
  } catch (const taskstore::InvalidArgument&) {
    CliError error(exit_usage, "usage",
                   fmt::format("{}: \"{}\" is neither a duration ago (30m, 2h, 7d) nor an RFC 3339 time "
                               "(2026-11-30T12:00:00Z)",
                               option, text));
    throw error;
  }
  const std::int64_t seconds = static_cast<std::int64_t>(std::min<std::uint64_t>(ms / 1000, INT64_MAX / 2));
  const auto nanos = static_cast<std::int64_t>(ms % 1000) * 1'000'000;
  Timestamp t{now.seconds - seconds, now.nanos};
  if (static_cast<std::int64_t>(t.nanos) < nanos) {
    t.seconds -= 1;
    t.nanos = static_cast<std::uint32_t>(t.nanos + 1'000'000'000 - nanos);
  } else {
    t.nanos = static_cast<std::uint32_t>(t.nanos - nanos);
  }
  return t;
}

void
RecordFilter::resolve(Timestamp now)
{
  const auto bound = [&](const std::string& text, const char* option) -> std::optional<Timestamp> {
    if (text.empty()) {
      return std::nullopt;
    }
    return parse_time_bound(text, now, option);
  };
  created_before = bound(created_before_text, "--created-before");
  created_after = bound(created_after_text, "--created-after");
  updated_before = bound(updated_before_text, "--updated-before");
  updated_after = bound(updated_after_text, "--updated-after");
}

bool
RecordFilter::needs_summary() const
{
  return !statuses.empty() || !methods.empty() || expired || live || created_before || created_after ||
         updated_before || updated_after;
}

namespace {

bool
member_of(const std::optional<std::string>& value, const std::vector<std::string>& set)
{
  return value && std::find(set.begin(), set.end(), *value) != set.end();
}

// Whether text's instant lies within (after, before) (each bound optional).
bool
within(const std::optional<std::string>& text, const std::optional<Timestamp>& before,
       const std::optional<Timestamp>& after)
{
  if (!before && !after) {
    return true;
  }
  if (!text) {
    return false;
  }
  const auto t = taskstore::parse_rfc3339(*text);
  return t && (!before || *t < *before) && (!after || *t > *after);
}

} // namespace

bool
RecordFilter::matches(const taskstore::RecordSummary& s) const
{
  if (!statuses.empty() && !member_of(s.status, statuses)) {
    return false;
  }
  if (!methods.empty() && !member_of(s.request_method, methods)) {
    return false;
  }
  if ((expired && !s.expired) || (live && s.expired)) {
    return false;
  }
  return within(s.created_at, created_before, created_after) &&
         within(s.last_updated_at, updated_before, updated_after);
}

void
add_scope_options(CLI::App* app, std::string& prefix, std::string& owner)
{
  auto* positional = app->add_option("PREFIX", prefix,
                                     "Only keys starting with this text (e.g. \"user-123:\"); default: every record");
  auto* by_owner = app->add_option("--owner", owner, "Only this owner's records (the prefix OWNER:)")->type_name("OWNER");
  require_owner_value(by_owner);
  positional->excludes(by_owner);
}

std::string
scope_prefix(const std::string& prefix, const std::string& owner)
{
  return owner.empty() ? prefix : taskstore::make_prefix(owner);
}

void
add_filter_options(CLI::App* app, RecordFilter& filter)
{
  app->add_option("--status", filter.statuses,
                  "Only records in these states (repeat or comma-separate): working, input_required, "
                  "completed, failed, cancelled")
    ->delimiter(',')
    ->check(CLI::IsMember({"working", "input_required", "completed", "failed", "cancelled"}))
    ->type_name("STATUS");
  app->add_option("--method", filter.methods,
                  "Only records whose requestMethod is one of these (repeat or comma-separate), e.g. tools/call")
    ->delimiter(',')
    ->type_name("METHOD");
  auto* expired = app->add_flag("--expired", filter.expired, "Only expired records (expiresAt has passed)");
  auto* live = app->add_flag("--live", filter.live, "Only records that are not expired");
  expired->excludes(live);
  const char* when = "a duration ago (30m, 2h, 7d) or an RFC 3339 time";
  app->add_option("--created-before", filter.created_before_text,
                  fmt::format("Only records whose task.createdAt is before WHEN: {}", when))
    ->type_name("WHEN");
  app->add_option("--created-after", filter.created_after_text,
                  fmt::format("Only records whose task.createdAt is after WHEN"))
    ->type_name("WHEN");
  app->add_option("--updated-before", filter.updated_before_text,
                  fmt::format("Only records whose task.lastUpdatedAt is before WHEN (e.g. 1h: not updated for an hour)"))
    ->type_name("WHEN");
  app->add_option("--updated-after", filter.updated_after_text,
                  fmt::format("Only records whose task.lastUpdatedAt is after WHEN"))
    ->type_name("WHEN");
}

// ---------------------------------------------------------------- columns

namespace {

struct ColumnInfo
{
  std::string_view name;   // --columns
  std::string_view header; // table
  std::string_view member; // the start of its JSON member, with the comma before it
};

constexpr std::array<ColumnInfo, 13> k_columns = {{
  {"key", "KEY", ",\"key\":"},
  {"owner", "OWNER", ",\"ownerId\":"},
  {"task", "TASK", ",\"taskId\":"},
  {"version", "VERSION", ",\"version\":"},
  {"status", "STATUS", ",\"status\":"},
  {"message", "MESSAGE", ",\"statusMessage\":"},
  {"method", "METHOD", ",\"requestMethod\":"},
  {"created", "CREATED", ",\"createdAt\":"},
  {"updated", "LAST UPDATED", ",\"lastUpdatedAt\":"},
  {"age", "AGE", ",\"ageSeconds\":"},
  {"expires", "EXPIRES", ",\"expiresAt\":"},
  {"expired", "EXPIRED", ",\"expired\":"},
  {"size", "SIZE", ",\"size\":"},
}};

const ColumnInfo&
info(Column c)
{
  return k_columns[static_cast<std::size_t>(c)];
}

std::string_view
owner_of(const std::string& key)
{
  return std::string_view(key).substr(0, std::min(key.find(':'), key.size()));
}

std::string_view
task_of(const std::string& key)
{
  const auto colon = key.find(':');
  return colon == std::string::npos ? std::string_view() : std::string_view(key).substr(colon + 1);
}

// Appends text as a JSON string: as stored when it is UTF-8, else (a key
// or field that --no-validate let in) with each invalid byte replaced, as
// every JSON output of taskctl writes it.
void
append_text(std::string& out, std::string_view text)
{
  taskstore::append_display_string(out, text);
}

void
append_optional(std::string& out, const std::optional<std::string>& value)
{
  if (value) {
    append_text(out, *value);
  } else {
    out += "null";
  }
}

} // namespace

const std::vector<std::string>&
column_names()
{
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& c : k_columns) {
      n.emplace_back(c.name);
    }
    return n;
  }();
  return names;
}

std::vector<Column>
parse_columns(const std::vector<std::string>& names)
{
  std::vector<Column> out;
  for (const auto& name : names) {
    const auto& all = column_names();
    const auto it = std::find(all.begin(), all.end(), name);
    if (it == all.end()) {
      CliError error(exit_usage, "usage", fmt::format("--columns: unknown column \"{}\"", name));
      error.hint = fmt::format("the columns are {}", fmt::join(all, ","));
      throw error;
    }
    out.push_back(static_cast<Column>(it - all.begin()));
  }
  return out;
}

std::string_view
column_header(Column c)
{
  return info(c).header;
}

std::string
format_age(Timestamp from, Timestamp now)
{
  std::int64_t s = now.seconds - from.seconds - (now.nanos < from.nanos ? 1 : 0);
  if (s <= 0) {
    return "0s";
  }
  const std::int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
  if (d > 0) {
    return h > 0 ? fmt::format("{}d{}h", d, h) : fmt::format("{}d", d);
  }
  if (h > 0) {
    return m > 0 ? fmt::format("{}h{}m", h, m) : fmt::format("{}h", h);
  }
  if (m > 0) {
    return sec > 0 ? fmt::format("{}m{}s", m, sec) : fmt::format("{}m", m);
  }
  return fmt::format("{}s", sec);
}

namespace {

std::optional<Timestamp>
created_instant(const taskstore::RecordSummary& s)
{
  return s.created_at ? taskstore::parse_rfc3339(*s.created_at) : std::nullopt;
}

} // namespace

std::string
column_cell(Column c, const ListedRecord& r, Timestamp now)
{
  const auto& s = r.summary;
  switch (c) {
  case Column::key:
    return r.key;
  case Column::owner:
    return std::string(owner_of(r.key));
  case Column::task:
    return std::string(task_of(r.key));
  case Column::version:
    return std::to_string(r.version);
  case Column::status:
    return s.status.value_or("-");
  case Column::message:
    return s.status_message.value_or("-");
  case Column::method:
    return s.request_method.value_or("-");
  case Column::created:
    return s.created_at.value_or("-");
  case Column::updated:
    return s.last_updated_at.value_or("-");
  case Column::age: {
    const auto created = created_instant(s);
    return created ? format_age(*created, now) : "-";
  }
  case Column::expires:
    return s.expires_at.value_or(s.json ? "never" : "-");
  case Column::expired:
    return s.expired ? "yes" : "no";
  case Column::size:
    return std::to_string(s.size);
  }
  return "-";
}

void
append_column_json(std::string& out, Column c, const ListedRecord& r, Timestamp now)
{
  const auto& s = r.summary;
  out += info(c).member;
  switch (c) {
  case Column::key:
    append_text(out, r.key);
    return;
  case Column::owner:
    append_text(out, owner_of(r.key));
    return;
  case Column::task:
    append_text(out, task_of(r.key));
    return;
  case Column::version:
    out += std::to_string(r.version);
    return;
  case Column::status:
    return append_optional(out, s.status);
  case Column::message:
    return append_optional(out, s.status_message);
  case Column::method:
    return append_optional(out, s.request_method);
  case Column::created:
    return append_optional(out, s.created_at);
  case Column::updated:
    return append_optional(out, s.last_updated_at);
  case Column::age: {
    const auto created = created_instant(s);
    if (!created) {
      out += "null";
    } else {
      out += std::to_string(std::max<std::int64_t>(0, now.seconds - created->seconds -
                                                          (now.nanos < created->nanos ? 1 : 0)));
    }
    return;
  }
  case Column::expires:
    return append_optional(out, s.expires_at);
  case Column::expired:
    out += s.expired ? "true" : "false";
    return;
  case Column::size:
    out += std::to_string(s.size);
    return;
  }
}

// ---------------------------------------------------------------- sorting

std::optional<SortKey>
parse_sort_key(std::string_view name)
{
  if (name == "created") {
    return SortKey::created;
  }
  if (name == "updated") {
    return SortKey::updated;
  }
  if (name == "expires") {
    return SortKey::expires;
  }
  if (name == "key") {
    return SortKey::key;
  }
  return std::nullopt;
}

std::optional<Timestamp>
sort_instant(SortKey k, const taskstore::RecordSummary& s)
{
  switch (k) {
  case SortKey::created:
    return created_instant(s);
  case SortKey::updated:
    return s.last_updated_at ? taskstore::parse_rfc3339(*s.last_updated_at) : std::nullopt;
  case SortKey::expires:
    return s.expires;
  default:
    return std::nullopt;
  }
}

} // namespace taskctl
