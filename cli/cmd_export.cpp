// taskctl export [--owner OWNER | PREFIX] [-f FILE]: every record as one
// JSON line (taskstore/transfer.hpp), to stdout or a file (gzip for *.gz).

#include "app.hpp"
#include "context.hpp"
#include "damage.hpp"
#include "listing.hpp"
#include "namespaces.hpp"
#include "output.hpp"
#include "store.hpp"
#include "transfer.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/key.hpp"
#include "taskstore/summary.hpp"
#include "taskstore/transfer.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <memory>

namespace taskctl {

namespace {

struct ExportOptions
{
  std::string prefix;
  std::string owner;
  std::string file = "-";
  RecordFilter filter;
};

int
run_export(Context& ctx, ExportOptions& options)
{
  ctx.resolve_format(Format::table);
  const std::string prefix = scope_prefix(options.prefix, options.owner);
  const taskstore::Timestamp now = taskstore::now_utc();
  options.filter.resolve(now);
  auto store = open_store(ctx, StoreAccess::read);
  OutputFile out(options.file);
  const auto started = std::chrono::steady_clock::now();
  Progress progress(ctx, "export", "read", "written");
  std::uint64_t scanned = 0, written = 0, damaged = 0;
  std::string line;
  const bool filtered = options.filter.needs_summary();
  taskstore::RecordSummary summary; // reused record after record
  store->scan(
    prefix,
    [&](const std::string& key, const taskstore::VersionedRecord& record) {
      if (interrupted()) {
        return false;
      }
      progress.tick(++scanned, written);
      if (filtered) {
        taskstore::summarize_record(record.data, now, summary);
        if (!options.filter.matches(summary)) {
          return true;
        }
      }
      line.clear();
      taskstore::append_export_line(line, key, record);
      line += '\n';
      if (options.file == "-") {
        progress.before_output();
      }
      out.write(line);
      ++written;
      return true;
    },
    [&](const taskstore::DamagedRecord& d) {
      progress.tick(++scanned, written);
      ++damaged;
      warn_damaged(ctx, d, "not exported");
      return !interrupted();
    });
  progress.clear();
  out.close();
  if (scanned == 0 && !interrupted()) {
    warn_if_namespace_empty(ctx, *store); // a mistyped ?prefix= looks like an empty store
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  note(ctx, fmt::format("export: {} records written to {} in {:.1f} s ({:.0f} records/s){}", written,
                        options.file == "-" ? "standard output" : printable(options.file), seconds,
                        seconds > 0 ? static_cast<double>(written) / seconds : 0.0,
                        interrupted() ? "; interrupted" : ""));
  if (interrupted()) {
    return interrupt_exit_code();
  }
  return damaged_exit(ctx, damaged);
}

} // namespace

Command
register_export(CLI::App& root)
{
  auto options = std::make_shared<ExportOptions>();
  CLI::App* app = root.add_subcommand("export", "Write records as JSON lines (a backup, or the input of import)");
  add_scope_options(app, options->prefix, options->owner);
  app->add_option("-f,--file", options->file, "Write to FILE (gzip-compressed when it ends in .gz; created 0600); "
                                              "default -: standard output")
    ->type_name("FILE");
  add_filter_options(app, options->filter);
  app->footer(
    "One line per record, streamed in constant memory, in the store's listing order:\n"
    "  {\"key\":\"OWNER:TASK\",\"version\":N,\"record\":<the stored JSON, byte for byte>}\n"
    "or, when the stored bytes cannot stand inline (not JSON, not UTF-8, a line break in\n"
    "them, or nested deeper than 100 levels), {\"key\",\"version\",\"data_b64\":\"...\"} with\n"
    "them in base64. Expired records are exported too (their expiresAt is in the record;\n"
    "--live leaves them out). The version is informative: import cannot carry it into\n"
    "another store, where each write gives the target's own next version. Damaged\n"
    "records are warned about and not exported (exit 6). Progress on a terminal, a\n"
    "summary on stderr; Ctrl-C stops after the line being written (exit 130).\n"
    "\n"
    "Examples:\n"
    "  taskctl -s redis://127.0.0.1:6379/0?prefix=pmcp export -f backup.jsonl.gz\n"
    "  taskctl export --owner user-123 | jq -c .record");
  return {app, [options](Context& ctx) { return run_export(ctx, *options); }};
}

} // namespace taskctl
