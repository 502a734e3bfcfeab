// taskctl cancel KEY... [--message M]: pmcp-tasks' cancel, one result per key.

#include "app.hpp"
#include "context.hpp"
#include "repair.hpp"
#include "store.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <optional>

namespace taskctl {

namespace {

struct CancelOptions
{
  std::vector<std::string> keys;
  std::optional<std::string> message;
  RepairOptions repair;
};

// The exit status of several keys: the worst (numerically largest) of them.
int
run_cancel(Context& ctx, const CancelOptions& options)
{
  ctx.resolve_format(Format::table);
  for (const auto& key : options.keys) {
    check_key(key);
  }
  auto store = open_store(ctx, options.repair.dry_run ? StoreAccess::read : StoreAccess::modify);
  Repair repair(ctx, *store, options.repair);
  const bool several = options.keys.size() > 1;
  RepairPrinter printer(ctx, "cancelled", several);
  int worst = exit_ok;
  for (const auto& key : options.keys) {
    check_interrupted();
    try {
      printer.result(repair.apply(key, [&](taskstore::TaskRecord& record) {
        repair.transition(record, taskstore::TaskStatus::cancelled);
        // The anchor's cancel clears the message; --message sets one instead.
        record.task.status_message = options.message;
      }));
    } catch (const std::exception&) {
      if (!several || interrupted()) {
        throw;
      }
      worst = std::max(worst, printer.failure(key, std::current_exception()));
    }
  }
  printer.finish();
  return worst;
}

} // namespace

Command
register_cancel(CLI::App& root)
{
  auto options = std::make_shared<CancelOptions>();
  CLI::App* app = root.add_subcommand("cancel", "Cancel tasks, as pmcp-tasks' cancel does (CAS, retried on conflict)");
  app->add_option("KEY", options->keys, "Keys (OWNER:TASK_ID) of the tasks to cancel")->required();
  app->add_option("-m,--message", options->message, "Set this statusMessage (the default clears it, as pmcp-tasks does)")
    ->type_name("TEXT");
  options->repair.add_to(*app, "Cancel even a task in a terminal status or an expired task (warns)");
  app->footer(
    "Each task moves to status cancelled and its statusMessage is cleared (or set to --message);\n"
    "lastUpdatedAt becomes now. The record is read, changed and written back only if its version\n"
    "is still the one read; when another writer got there first it is read again and the change\n"
    "re-applied and re-checked (--retries, default 3; then exit 4). A task that is already\n"
    "completed, failed or cancelled is refused (exit 6, naming the legal targets) unless --force;\n"
    "so is an expired one. With several keys every key gets a result and the exit status is the\n"
    "worst (largest) of them. cancel never creates the store.\n"
    "Output (default table): table \"cancelled KEY (version 3 -> 4, working -> cancelled) in STORE\"\n"
    "per key, on stderr (a summary: -q silences it);\n"
    "json {\"schema_version\":1,\"results\":[...]} with several keys, else the result object itself;\n"
    "jsonl one result object per key: {\"key\",\"result\":\"updated|unchanged|would_update|failed\",\n"
    "\"old_version\",\"new_version\",\"old_status\",\"new_status\",\"dry_run\",\"forced\",\"attempts\"\n"
    "[,\"diff\"][,\"error\"]}; raw the new version per key. --dry-run prints the unified diff.\n"
    "\n"
    "Examples:\n"
    "  taskctl cancel user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  taskctl cancel --dry-run user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  taskctl cancel -m \"stuck since the 3am deploy\" user-123:786512e2-9e0d-44bd-8f29-789f320fe840 user-123:0b1c6f0e-5d2a-4e8b-9c3f-2a7d1e4b6c90 -o jsonl");
  return {app, [options](Context& ctx) { return run_cancel(ctx, *options); }};
}

} // namespace taskctl
