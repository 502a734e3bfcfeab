// taskctl import [FILE|-]: write the records of an export file, in batches.

#include "app.hpp"
#include "context.hpp"
#include "output.hpp"
#include "store.hpp"
#include "transfer.hpp"
#include "write.hpp" // LimitOptions

#include "taskstore/backend.hpp"
#include "taskstore/prepare.hpp"
#include "taskstore/text.hpp"
#include "taskstore/transfer.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace taskctl {

namespace {

struct ImportOptions
{
  std::string file = "-";
  bool if_absent = false;
  bool overwrite = false;
  bool dry_run = false;
  bool no_validate = false;
  LimitOptions limits;
};

// Why data may not be written under key (the record checks of put, unless
// --no-validate, and what the target itself refuses); "" when it may.
std::string
problem_of(const ImportOptions& options, const taskstore::StorageBackend& target,
           const taskstore::ExportedRecord& r)
{
  if (r.data.size() > options.limits.max_record_size) {
    return fmt::format("the record is {} bytes, more than --max-record-size {}", r.data.size(),
                       options.limits.max_record_size);
  }
  if (target.name() != "sqlite" && target.name() != "memory") {
    if (auto fault = taskstore::check_utf8(r.data)) {
      return fmt::format("the record is not UTF-8, which {} cannot store", target.name());
    }
  }
  if (options.no_validate) {
    // Stored as it is, but a line's "record" must still be JSON (a
    // data_b64 line carries any bytes).
    return r.inline_record && !taskstore::is_json_text(r.data) ? "\"record\" is not JSON" : std::string();
  }
  taskstore::ValidateOptions v;
  v.limits = options.limits.config();
  v.kind = taskstore::DocumentKind::record;
  v.max_reported = 3;
  const auto report = taskstore::check_stored_record(r.key, r.data, v);
  if (report.ok()) {
    return {};
  }
  std::string text = "not a valid record:";
  for (const auto& violation : report.violations) {
    text += " " + format_violation(violation) + ";";
  }
  if (report.total_violations > report.violations.size()) {
    text += fmt::format(" and {} more", report.total_violations - report.violations.size());
  } else {
    text.pop_back();
  }
  return text + " (--no-validate imports it as it is)";
}

int
run_import(Context& ctx, ImportOptions& options)
{
  ctx.resolve_format(Format::table);
  LineReader in(options.file);
  auto store = open_store(ctx, options.dry_run ? StoreAccess::read : StoreAccess::write);
  Loader loader(ctx, *store, on_existing(options.if_absent, options.overwrite), options.dry_run, "import");
  // A line holds the record inline or in base64 (4/3 of it), plus its key.
  const std::size_t max_line = options.limits.max_record_size / 3 * 4 + (64u << 10);
  std::string line;
  bool too_long = false;
  while (!interrupted() && in.next(line, too_long, max_line)) {
    const std::uint64_t number = in.line_number();
    if (too_long) {
      loader.reject(number, "", fmt::format("the line is longer than {} bytes (--max-record-size {})", max_line,
                                            options.limits.max_record_size));
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) {
      continue; // a blank line
    }
    auto parsed = taskstore::parse_export_line(line);
    if (!parsed.record) {
      loader.reject(number, "", parsed.error);
      continue;
    }
    if (auto problem = problem_of(options, *store, *parsed.record); !problem.empty()) {
      loader.reject(number, parsed.record->key, problem);
      continue;
    }
    loader.add(std::move(parsed.record->key), std::move(parsed.record->data), number);
  }
  return loader.finish(interrupted());
}

} // namespace

Command
register_import(CLI::App& root)
{
  auto options = std::make_shared<ImportOptions>();
  CLI::App* app = root.add_subcommand("import", "Write the records of an export file into the store, in batches");
  app->add_option("FILE", options->file, "The export file (plain or gzip, whatever its name); default -: stdin")
    ->type_name("FILE");
  add_existing_options(app, options->if_absent, options->overwrite);
  app->add_flag("-n,--dry-run", options->dry_run,
                "Check every line as the import would (the line, the record, what the target refuses); "
                "write nothing (keys that exist are not looked up)");
  app->add_flag("--no-validate", options->no_validate, "Import records that are not valid TaskRecords as they are");
  options->limits.add_to(*app);
  options->limits.add_record_size_to(*app);
  app->footer(
    "Reads the lines export writes ({\"key\",\"version\",\"record\"|\"data_b64\"}) and stores each\n"
    "record's bytes exactly, with its expiry (in the record). Versions cannot be carried:\n"
    "each write gives the record the target's own next version (1 for a new key).\n"
    "A key that exists is refused by default (reported \"exists\", exit 4): --if-absent\n"
    "skips it, --overwrite replaces it. Each record must pass put's checks (the TaskRecord\n"
    "schema, the variable limits, ownerId and taskId matching the key) unless\n"
    "--no-validate. A malformed, oversized or invalid line is reported with its line\n"
    "number and nothing is written for it; the others go on (exit 6 at the end).\n"
    "Writes go in batches each backend is fast at: one SQLite transaction per 4,000\n"
    "records, one Redis pipeline per 1,000, DynamoDB 16 writes in flight; each write is\n"
    "atomic, a batch is not. Output: -o jsonl one line per record {\"line\",\"key\",\"status\"\n"
    "(created, overwritten, skipped, exists, invalid, failed, would_write),\"version\",\n"
    "\"error\"} then {\"summary\":{...}}; -o json one document with \"results\"; otherwise\n"
    "problems as warnings and a summary on stderr. Progress on a terminal. Ctrl-C stops\n"
    "before the next batch, with what was written in the summary (exit 130); run again\n"
    "with --if-absent to finish.\n"
    "\n"
    "Examples:\n"
    "  taskctl -s sqlite:///tmp/restore.db import backup.jsonl.gz\n"
    "  taskctl import --dry-run -o jsonl backup.jsonl | jq -c 'select(.status == \"invalid\")'");
  return {app, [options](Context& ctx) { return run_import(ctx, *options); }};
}

} // namespace taskctl
