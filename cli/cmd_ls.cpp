// taskctl ls [--owner OWNER | PREFIX]: stream records through the store's
// scan, filtered, in chosen columns, optionally sorted (bounded) or paged.

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
#include "taskstore/json/serde.hpp"
#include "taskstore/key.hpp"
#include "taskstore/summary.hpp"
#include "taskstore/time.hpp"
#include "taskstore/uri.hpp" // parse_duration_ms

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>

namespace taskctl {

namespace {

constexpr std::uint64_t k_default_sort_rows = 100000;

struct LsOptions
{
  std::string prefix;
  std::string owner;
  RecordFilter filter;
  std::uint64_t limit = 0;
  bool keys_only = false;
  bool count = false;
  std::vector<std::string> columns;
  std::string sort;
  bool desc = false;
  std::uint64_t sort_memory = k_default_sort_rows;
  std::string start_after;
  bool no_pager = false;
  bool owners = false;
  std::string within; // --within DURATION (only with --owners); "" = no bound
};

const std::vector<Column> k_table_columns = {Column::key,     Column::version, Column::status,  Column::created,
                                             Column::updated, Column::age,     Column::expires, Column::expired};
const std::vector<Column> k_json_columns = {Column::version, Column::status,  Column::created,
                                            Column::updated, Column::expires, Column::expired};

// A record held for sorting.
struct HeldRow
{
  std::string key;
  std::uint64_t version = 0;
  taskstore::RecordSummary summary;
  std::string data; // only for -o raw
  std::optional<taskstore::Timestamp> instant;
};

// Writes the listing's records in the chosen format; one line buffer reused.
class LsPrinter
{
public:
  LsPrinter(Context& ctx, const LsOptions& options, const std::string& prefix, taskstore::Timestamp now)
    : ctx_(ctx), options_(options), now_(now)
  {
    if (options.count) {
      return;
    }
    if (!options.columns.empty()) {
      columns_ = parse_columns(options.columns);
    } else {
      columns_ = ctx.format == Format::table ? k_table_columns : k_json_columns;
    }
    if (ctx.format == Format::table && !options.keys_only) {
      std::vector<std::string> headers;
      for (Column c : columns_) {
        headers.emplace_back(column_header(c));
      }
      table_.emplace(ctx, std::move(headers));
    } else if (ctx.format == Format::json) {
      json_.emplace(ctx, Json{{"prefix", prefix}}, options.keys_only ? "keys" : "records");
    }
    if (ctx.format != Format::table) {
      // jsonl and json always carry the key, the owner and the task id.
      std::erase_if(columns_, [](Column c) { return c == Column::key || c == Column::owner || c == Column::task; });
    }
  }

  void
  record(const std::string& key, std::uint64_t version, const taskstore::RecordSummary& summary,
         std::string_view data)
  {
    if (options_.keys_only) {
      switch (ctx_.format) {
      case Format::json:
        json_->item(Json(key));
        return;
      case Format::jsonl:
        line_.assign("{");
        append_column_json(line_, Column::key, ListedRecord{key, version, summary}, now_);
        line_.erase(1, 1); // the member's comma
        line_ += "}\n";
        write_stdout(line_);
        return;
      case Format::raw:
        line_.assign(key); // the bytes exactly
        line_ += '\n';
        write_stdout(line_);
        return;
      default:
        // A table: no terminal escape and no line break from the data
        // (printed ASCII, the common case, as it is).
        if (std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
          line_.assign(key);
        } else {
          line_.assign(printable(key));
        }
        line_ += '\n';
        write_stdout(line_);
        return;
      }
    }
    const ListedRecord r{key, version, summary};
    if (ctx_.format == Format::raw) {
      write_stdout(data);
      write_stdout("\n");
    } else if (table_) {
      std::vector<TableWriter::Cell> cells;
      cells.reserve(columns_.size());
      for (Column c : columns_) {
        TableWriter::Cell cell{column_cell(c, r, now_)};
        if (c == Column::status) {
          cell.color = status_color(cell.text);
        } else if (c == Column::expired && summary.expired) {
          cell.color = Color::red;
        }
        cells.push_back(std::move(cell));
      }
      table_->row(std::move(cells));
    } else {
      line_.assign("{");
      append_column_json(line_, Column::key, r, now_);
      append_column_json(line_, Column::owner, r, now_);
      append_column_json(line_, Column::task, r, now_);
      for (Column c : columns_) {
        append_column_json(line_, c, r, now_);
      }
      line_.erase(1, 1); // the first member's comma
      line_ += '}';
      if (json_) {
        json_->item_text(line_);
      } else {
        line_ += '\n';
        write_stdout(line_);
      }
    }
  }

  void
  damaged(const taskstore::DamagedRecord& d)
  {
    if (!options_.count && ctx_.format == Format::jsonl) {
      write_stdout(dump_json(damaged_json(d)) + "\n");
    } else if (!options_.count && json_) {
      json_->item(damaged_json(d));
    } else {
      warn_damaged(ctx_, d);
    }
  }

  // Ends the output: the json tail, the table, the hint of the next page.
  void
  finish(std::uint64_t matched, std::uint64_t damaged, const std::optional<std::string>& next)
  {
    if (json_) {
      Json tail = {{"count", matched}};
      if (damaged > 0) {
        tail["damaged"] = damaged;
      }
      if (options_.limit > 0 && options_.sort.empty()) {
        tail["next_start_after"] = next ? Json(*next) : Json(nullptr);
      }
      json_->finish(tail);
    }
    if (table_) {
      if (matched == 0) {
        note(ctx_, damaged == 0 ? "no records" : "no readable records");
      } else {
        table_->finish();
      }
    }
    if (next && ctx_.format == Format::table) {
      note(ctx_, fmt::format("more records may follow: --start-after {}", printable(*next)));
    }
  }

private:
  Context& ctx_;
  const LsOptions& options_;
  taskstore::Timestamp now_;
  std::vector<Column> columns_;
  std::optional<TableWriter> table_;
  std::optional<JsonStreamWriter> json_;
  std::string line_;
};

// The sort order: by instant (absent ones last) or key, then key; --desc
// reverses the first.
struct SortOrder
{
  SortKey key;
  bool desc;
  bool
  operator()(const HeldRow& a, const HeldRow& b) const
  {
    if (key != SortKey::key) {
      if (a.instant.has_value() != b.instant.has_value()) {
        return a.instant.has_value();
      }
      if (a.instant && *a.instant != *b.instant) {
        return desc ? *a.instant > *b.instant : *a.instant < *b.instant;
      }
      return a.key < b.key;
    }
    return desc ? a.key > b.key : a.key < b.key;
  }
};

[[noreturn]] void
throw_sort_too_big(std::uint64_t cap)
{
  CliError error(exit_usage, "usage",
                 fmt::format("--sort holds the records it sorts in memory, and more than {} match", cap));
  error.hint = fmt::format("add --limit N (N at most {}) to keep only the first N, or raise --sort-memory ROWS", cap);
  throw error;
}

// Returns --within as a duration (nullopt when not given); throws CliError
// usage (exit 2) for a malformed or zero one.
std::optional<std::chrono::milliseconds>
parse_within(const std::string& text)
{
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t ms = 0;
  try {
    ms = taskstore::parse_duration_ms(text);
  } catch (const taskstore::InvalidArgument& e) {
    throw CliError(exit_usage, "usage", fmt::format("--within: {}", e.what()));
  }
  if (ms == 0) {
    CliError error(exit_usage, "usage", "--within 0: the time bound must be positive");
    error.hint = "e.g. --within 1s";
    throw error;
  }
  return std::chrono::milliseconds(ms);
}

// ls --owners: the distinct owners of the records in scope
// (taskstore::list_owners), in key order, one per line (jsonl {"owner"},
// json {"owners":[...]}), or their number with --count; --within bounds the
// walk in time (then a warning says the list may be partial).
int
run_owners(Context& ctx, const LsOptions& options)
{
  ctx.resolve_format(Format::table);
  const std::string prefix = scope_prefix(options.prefix, options.owner);
  const auto within = parse_within(options.within);
  auto store = open_store(ctx, StoreAccess::read);
  const auto deadline = within ? std::chrono::steady_clock::now() + *within : std::chrono::steady_clock::time_point();
  bool timed_out = false;
  taskstore::OwnerListOptions walk;
  walk.limit = options.limit;
  walk.should_stop = [&] {
    if (interrupted()) {
      return true;
    }
    if (within && std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
    }
    return timed_out;
  };

  const Pager pager(ctx, !options.no_pager && !options.count && ctx.format == Format::table);
  std::optional<JsonStreamWriter> json;
  if (!options.count && ctx.format == Format::json) {
    json.emplace(ctx, Json{{"prefix", prefix}}, "owners");
  }
  std::uint64_t found = 0;
  std::string line;
  const auto result = taskstore::list_owners(
    *store, prefix,
    [&](const std::string& owner) {
      ++found;
      if (options.count) {
        return true;
      }
      switch (ctx.format) {
      case Format::json:
        json->item(Json(owner));
        break;
      case Format::jsonl:
        write_stdout(dump_json(Json{{"owner", owner}}) + "\n");
        break;
      default:
        line.assign(owner);
        line += '\n';
        write_stdout(line);
        break;
      }
      return true;
    },
    walk);
  check_interrupted();
  if (options.count) {
    switch (ctx.format) {
    case Format::json:
      print_document(ctx, Json{{"schema_version", 1}, {"prefix", prefix}, {"count", found}, {"partial", timed_out}});
      break;
    case Format::jsonl:
      print_document(ctx, Json{{"count", found}});
      break;
    default:
      write_stdout(fmt::format("{}\n", found));
      break;
    }
  } else if (json) {
    json->finish(Json{{"count", found}, {"partial", timed_out}});
  }
  if (timed_out) {
    warn(ctx, fmt::format("ls --owners: stopped by --within {} after {} owner{}; the list may be partial", options.within,
                          found, found == 1 ? "" : "s"));
  }
  if (result.keys_read == 0 && !timed_out) {
    warn_if_namespace_empty(ctx, *store); // a mistyped ?prefix= looks like an empty store
  }
  return exit_ok;
}

int
run_ls(Context& ctx, LsOptions& options)
{
  if (options.owners) {
    return run_owners(ctx, options);
  }

  // --count and --keys-only print bare values by default, even when piped.
  ctx.resolve_format(ctx.stdout_tty || options.count || options.keys_only ? Format::table : Format::jsonl);
  const std::string prefix = scope_prefix(options.prefix, options.owner);
  const taskstore::Timestamp now = taskstore::now_utc();
  options.filter.resolve(now);
  std::optional<SortOrder> order;
  if (!options.sort.empty()) {
    order = SortOrder{*parse_sort_key(options.sort), options.desc};
    if (options.limit > options.sort_memory) {
      throw_sort_too_big(options.sort_memory);
    }
  }
  if (!options.start_after.empty() && !taskstore::parse_key(options.start_after)) {
    CliError error(exit_usage, "usage",
                   fmt::format("--start-after: \"{}\" is not a key (OWNER:TASK_ID)", printable(options.start_after)));
    throw error;
  }
  auto store = open_store(ctx, StoreAccess::read);
  // -o raw, --keys-only and --count show nothing of the record's fields.
  const bool need_summary = options.filter.needs_summary() || order ||
                            !(options.keys_only || options.count || ctx.format == Format::raw);

  taskstore::ScanOptions scan;
  scan.prefix = prefix;
  scan.start_after = options.start_after;
  // A page that a later --start-after resumes: -o json with --limit (which
  // carries next_start_after), or a page asked for by --start-after. Only
  // then does Redis walk key order (a SCAN of every key per 5,000 records).
  const bool paged = !order && (!options.start_after.empty() || (options.limit > 0 && ctx.format == Format::json));
  scan.key_order = paged;
  scan.keys_only = !need_summary && ctx.format != Format::raw;

  const Pager pager(ctx, !options.no_pager && !options.count && ctx.format == Format::table);
  Progress progress(ctx, "ls");
  LsPrinter printer(ctx, options, prefix, now);

  std::uint64_t scanned = 0;
  std::uint64_t matched = 0;
  std::uint64_t damaged = 0;
  std::optional<std::string> next; // the key after which the next page starts
  std::vector<HeldRow> held;
  const std::uint64_t keep = options.limit > 0 ? options.limit : options.sort_memory;
  // A damaged record matches no filter and is not counted: it is reported
  // in place (jsonl / json: an item {"key","damaged"}; otherwise a warning).
  const auto on_damaged = [&](const taskstore::DamagedRecord& d) {
    if (interrupted()) {
      return false;
    }
    progress.tick(++scanned, matched);
    ++damaged;
    progress.before_output();
    printer.damaged(d);
    return true;
  };
  const taskstore::RecordSummary no_summary;
  taskstore::RecordSummary summary; // reused record after record: its strings keep their storage
  store->scan(scan, [&](const std::string& key, const taskstore::VersionedRecord& record) {
    if (interrupted()) {
      return false;
    }
    progress.tick(++scanned, matched);
    if (need_summary) {
      taskstore::summarize_record(record.data, now, summary);
      if (!options.filter.matches(summary)) {
        return true;
      }
    }
    ++matched;
    if (order) {
      HeldRow row{key, record.version, std::move(summary), ctx.format == Format::raw ? record.data : std::string(),
                  std::nullopt};
      row.instant = sort_instant(order->key, row.summary);
      held.push_back(std::move(row));
      if (options.limit > 0 && held.size() >= 2 * keep) {
        // Keep the first `keep` in order: memory stays within 2 * --limit rows.
        std::nth_element(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(keep), held.end(), *order);
        held.resize(keep);
      } else if (options.limit == 0 && held.size() > keep) {
        throw_sort_too_big(keep);
      }
      return true;
    }
    if (!options.count) {
      progress.before_output();
      printer.record(key, record.version, summary, record.data);
    }
    if (options.limit != 0 && matched >= options.limit) {
      if (paged) {
        next = key;
      }
      return false;
    }
    return true;
  }, on_damaged);
  progress.clear();
  check_interrupted();
  if (scanned == 0) {
    warn_if_namespace_empty(ctx, *store); // a mistyped ?prefix= looks like an empty store
  }

  if (order) {
    std::sort(held.begin(), held.end(), *order);
    if (options.limit > 0 && held.size() > options.limit) {
      held.resize(options.limit);
    }
    matched = held.size();
    if (!options.count) {
      for (const auto& row : held) {
        printer.record(row.key, row.version, row.summary, row.data);
      }
    }
  }
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
  printer.finish(matched, damaged, next);
  return damaged_exit(ctx, damaged);
}

} // namespace

Command
register_ls(CLI::App& root)
{
  auto options = std::make_shared<LsOptions>();
  CLI::App* app = root.add_subcommand("ls", "List records (streamed, constant memory), with filters");
  add_scope_options(app, options->prefix, options->owner);
  add_filter_options(app, options->filter);
  require_count_value(
    app->add_option("--limit", options->limit, "Stop after N matching records (0: no limit)")->type_name("N"));
  auto* keys_only = app->add_flag("--keys-only", options->keys_only, "Print only the keys");
  auto* count = app->add_flag("--count", options->count, "Print only the number of matching records");
  keys_only->excludes(count);
  auto* columns = app->add_option("--columns", options->columns,
                                  fmt::format("Columns of the table and fields of jsonl/json, comma-separated: {}",
                                              fmt::join(column_names(), ",")))
                    ->delimiter(',')
                    ->type_name("COLS");
  columns->excludes(keys_only);
  columns->excludes(count);
  auto* sort = app->add_option("--sort", options->sort,
                               "Sort by created, updated, expires or key (held in memory: see --sort-memory)")
                 ->check(CLI::IsMember({"created", "updated", "expires", "key"}))
                 ->type_name("FIELD");
  app->add_flag("--desc", options->desc, "With --sort: largest (newest, latest) first")->needs(sort);
  require_count_value(app->add_option("--sort-memory", options->sort_memory,
                                      fmt::format("Most records --sort may hold (default {}); with --limit N, "
                                                  "N may be at most this",
                                                  k_default_sort_rows))
                        ->type_name("ROWS")
                        ->needs(sort));
  auto* start_after = app->add_option("--start-after", options->start_after,
                                      "Resume a listing after this key (in the store's listing order)")
                        ->type_name("KEY");
  start_after->excludes(sort);
  count->excludes(sort);
  app->add_flag("--no-pager", options->no_pager, "Never send a table through $PAGER");
  auto* owners = app->add_flag("--owners", options->owners,
                               "List the distinct owners of the records in scope instead (PREFIX: the owners "
                               "whose name starts with it)");
  for (CLI::Option* other : {keys_only, columns, sort, start_after}) {
    owners->excludes(other);
  }
  for (const char* filter : {"--status", "--method", "--expired", "--live", "--created-before", "--created-after",
                             "--updated-before", "--updated-after"}) {
    owners->excludes(app->get_option(filter));
  }
  app->add_option("--within", options->within,
                  "With --owners: stop looking after DURATION (e.g. 1s), print the owners found and warn "
                  "that the list may be partial")
    ->type_name("DURATION")
    ->needs(owners);
  app->footer(
    "Records stream from the store as it yields them, so memory stays constant whatever the\n"
    "store size; a listing that matches nothing succeeds (exit 0). On a terminal, progress\n"
    "is shown on stderr about once a second during long scans, and a table goes through\n"
    "$TASKCTL_PAGER or $PAGER (default \"less -FRX\"; --no-pager, or PAGER=cat, for none).\n"
    "Filters combine (all must hold). WHEN is a duration ago (30m, 2h, 7d) or an RFC 3339\n"
    "time; a record without that timestamp never passes a time filter.\n"
    "Order: SQLite and memory give key order; DynamoDB one owner's records in task-id\n"
    "order and the whole table in its Scan order; Redis one owner's records in index order\n"
    "(createdAt) and the whole store in SCAN order, or key order when paging (one SCAN of\n"
    "the keys per 5,000 records). Paging: with --limit, -o json ends with\n"
    "\"next_start_after\" (null at the end); pass it to --start-after for the next page\n"
    "(with --start-after, a table prints it on stderr). Every record present for the whole\n"
    "walk is listed once across the pages; one written meanwhile at most once.\n"
    "--sort holds the matching records in memory: with --limit N it keeps the first N\n"
    "(N at most --sort-memory, default 100000); without --limit it stops with exit 2 once\n"
    "more than --sort-memory records match.\n"
    "Output (default: table on a terminal, jsonl otherwise): jsonl one object per record\n"
    "{\"key\",\"ownerId\",\"taskId\",\"version\",\"status\",\"createdAt\",\"lastUpdatedAt\",\"expiresAt\",\n"
    "\"expired\"} (null fields when the stored bytes are not a record); json one document\n"
    "{\"schema_version\":1,\"prefix\",\"records\":[...],\"count\"}; table KEY VERSION STATUS CREATED\n"
    "LAST UPDATED AGE EXPIRES EXPIRED (widths from the first 200 rows; on a terminal cut to\n"
    "its width, see --wide); raw the stored bytes of each record, one per line. --columns\n"
    "picks the table's columns and the fields of jsonl/json after key, ownerId and taskId\n"
    "(age: ageSeconds; size: bytes stored). --keys-only: keys one per line, escaped as in a\n"
    "table (-o raw: the bytes exactly; jsonl {\"key\"}, json \"keys\":[...]). --count: the number\n"
    "alone (json {\"schema_version\":1,\"prefix\",\"count\"}, jsonl {\"count\"}). Without a filter,\n"
    "--keys-only and --count read only the keys.\n"
    "A damaged record (a version or data the store cannot read) matches no filter: it is\n"
    "reported with its key and why, as {\"key\",\"damaged\"} in jsonl and json, else as a warning\n"
    "on stderr; the listing goes on and exits 6 at the end.\n"
    "--owners lists the distinct owners of the records under PREFIX (or --owner) instead: with\n"
    "PREFIX user-, every owner whose name starts with user-. Owners come in the order of their\n"
    "keys (OWNER: as bytes, so user-10 before user-1): one per line (jsonl {\"owner\"}, json\n"
    "{\"schema_version\":1,\"prefix\",\"owners\":[...],\"count\",\"partial\"}); --count prints their\n"
    "number, --limit N keeps the first N. SQLite and memory skip from one owner to the next\n"
    "(one index seek per owner, whatever the record count); Redis and DynamoDB read every key\n"
    "under PREFIX (keys only) and hold the owners in memory. --within DURATION bounds the walk:\n"
    "then it prints the owners found, warns that the list may be partial and exits 0.\n"
    "A read that finds nothing on a Redis store whose prefix holds no pmcp-tasks keys at all\n"
    "(a mistyped ?prefix=) warns and names the prefixes that do (a bounded SCAN).\n"
    "\n"
    "Examples:\n"
    "  taskctl ls\n"
    "  taskctl ls --owner user-123 --status failed,cancelled\n"
    "  taskctl ls --status working --updated-before 1h        # stuck for an hour\n"
    "  taskctl ls --sort updated --desc --limit 20 --columns key,status,updated,age\n"
    "  taskctl -o json ls --limit 1000 --start-after user-123:f3a9c2d1-7b4e-4f0a-8c6d-5e2b1a9d0c87\n"
    "  taskctl ls --expired --count\n"
    "  taskctl ls --owners user-                        # owners whose name starts with user-\n"
    "  taskctl ls --owners --count --within 2s\n"
    "  taskctl ls -o jsonl --live --limit 100 | jq -r .key\n"
    "  taskctl ls -o raw --owner user-123 > user-123-records.jsonl");
  return {app, [options](Context& ctx) { return run_ls(ctx, *options); }};
}

} // namespace taskctl
