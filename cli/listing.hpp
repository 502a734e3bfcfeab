#pragma once
// What ls, stats, export and copy share about choosing and showing records:
// the record filter (status, method, expiry, created / updated bounds), the
// columns of a listing (table cells and JSON fields, written without a DOM),
// the sort keys, and the time bounds ("30m" ago or an RFC 3339 time).

#include "taskstore/summary.hpp"
#include "taskstore/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace taskctl {

// Returns the instant a time-bound option names: a duration ago from now
// ("30m", "2h", "7d", "90s", as --timeout takes them) or an RFC 3339 time
// ("2026-11-30T12:00:00Z"). Throws CliError usage (exit 2) naming option.
taskstore::Timestamp parse_time_bound(const std::string& text, taskstore::Timestamp now, const char* option);

// The filters of a listing. A record matches when it passes every one set.
struct RecordFilter
{
  std::vector<std::string> statuses; // task.status in these
  std::vector<std::string> methods;  // requestMethod in these
  bool expired = false;              // only expired
  bool live = false;                 // only not expired
  // Bounds as given on the command line (resolved by resolve()).
  std::string created_before_text, created_after_text, updated_before_text, updated_after_text;
  std::optional<taskstore::Timestamp> created_before, created_after, updated_before, updated_after;

  // Parses the time bounds against now; throws CliError usage.
  void resolve(taskstore::Timestamp now);
  // Whether any filter needs the record's summary (its bytes read).
  bool needs_summary() const;
  // Whether a record with this summary passes. A time bound is never met by
  // a record whose timestamp is absent or unparsable.
  bool matches(const taskstore::RecordSummary& s) const;
};

// Adds the scope of a walk to app: the PREFIX positional and --owner (not
// both; an empty --owner refused at parse time).
void add_scope_options(CLI::App* app, std::string& prefix, std::string& owner);
// The key prefix a scope names: make_prefix(owner) when given, else prefix.
std::string scope_prefix(const std::string& prefix, const std::string& owner);

// Adds --status, --method, --expired/--live and the four time bounds to app.
void add_filter_options(CLI::App* app, RecordFilter& filter);

// The columns a listing can show (table cells, jsonl / json fields).
enum class Column
{
  key,
  owner,
  task,
  version,
  status,
  message,
  method,
  created,
  updated,
  age,
  expires,
  expired,
  size,
};

// Every column's name as --columns takes it, in the order of the enum.
const std::vector<std::string>& column_names();
// The columns named in a --columns list; throws CliError usage naming the
// unknown one and listing the known ones.
std::vector<Column> parse_columns(const std::vector<std::string>& names);
// The table header of a column ("LAST UPDATED").
std::string_view column_header(Column c);

// One listed record, as the column writers read it.
struct ListedRecord
{
  const std::string& key;
  std::uint64_t version;
  const taskstore::RecordSummary& summary;
};

// The text of a column's table cell ("-" for what the record lacks; AGE as
// "3d4h", "12m", "45s").
std::string column_cell(Column c, const ListedRecord& r, taskstore::Timestamp now);
// Appends a column's JSON member ("\"status\":\"working\"", null for what
// the record lacks) to out, with its leading comma.
void append_column_json(std::string& out, Column c, const ListedRecord& r, taskstore::Timestamp now);

// "3d4h", "2h5m", "12m", "45s", "0s": the time from `from` to now (0 when
// from is later), in its two largest units.
std::string format_age(taskstore::Timestamp from, taskstore::Timestamp now);

// What ls --sort orders by.
enum class SortKey
{
  none,
  created,
  updated,
  expires,
  key,
};
std::optional<SortKey> parse_sort_key(std::string_view name);
// The instant a record sorts by (nullopt sorts after every instant).
std::optional<taskstore::Timestamp> sort_instant(SortKey k, const taskstore::RecordSummary& s);

} // namespace taskctl
