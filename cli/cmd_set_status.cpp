// taskctl set-status KEY STATUS [--message M | --clear-message] [--result JSON|@FILE]:
// pmcp-tasks' update_status, or with --result its complete_with_result.

#include "app.hpp"
#include "context.hpp"
#include "repair.hpp"
#include "store.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "values.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace taskctl {

namespace {

struct SetStatusOptions
{
  std::string key;
  std::string status;
  std::optional<std::string> message;
  bool clear_message = false;
  std::optional<std::string> result;
  RepairOptions repair;
};

int
run_set_status(Context& ctx, const SetStatusOptions& options)
{
  ctx.resolve_format(Format::table);
  check_key(options.key);
  const auto status = taskstore::parse_task_status(options.status).value(); // CLI11 checked it
  std::optional<Json> result;
  if (options.result) {
    result = read_json_value(ctx, *options.result, "--result");
  }
  auto store = open_store(ctx, options.repair.dry_run ? StoreAccess::read : StoreAccess::modify);
  Repair repair(ctx, *store, options.repair);
  RepairPrinter printer(ctx, "updated", false);
  printer.result(repair.apply(options.key, [&](taskstore::TaskRecord& record) {
    repair.transition(record, status);
    if (options.clear_message) {
      record.task.status_message.reset();
    } else if (options.message) {
      record.task.status_message = options.message;
    }
    if (result) {
      record.result = result;
    }
  }));
  printer.finish();
  return exit_ok;
}

} // namespace

Command
register_set_status(CLI::App& root)
{
  auto options = std::make_shared<SetStatusOptions>();
  CLI::App* app = root.add_subcommand(
    "set-status", "Move a task to another status, as pmcp-tasks' update_status (CAS, retried on conflict)");
  app->add_option("KEY", options->key, "Key (OWNER:TASK_ID) of the task")->required();
  app->add_option("STATUS", options->status, "working, input_required, completed, failed or cancelled")
    ->required()
    ->check(CLI::IsMember({"working", "input_required", "completed", "failed", "cancelled"}));
  auto* message = app->add_option("-m,--message", options->message, "Set this statusMessage")->type_name("TEXT");
  auto* clear = app->add_flag("--clear-message", options->clear_message, "Remove the statusMessage");
  message->excludes(clear);
  app->add_option("--result", options->result,
                  "Also set the result, in the same write (pmcp-tasks' complete_with_result): JSON text, "
                  "@FILE, or @- for stdin")
    ->type_name("JSON|@FILE");
  options->repair.add_to(*app, "Write a transition pmcp-tasks forbids (e.g. out of a terminal status), or "
                               "change an expired task (warns)");
  app->footer(
    "The status changes only along pmcp-tasks' table: working <-> input_required, and from either\n"
    "to completed, failed or cancelled; nothing leaves a terminal status and no status moves to\n"
    "itself. Anything else is refused (exit 6, naming the legal targets) unless --force. The\n"
    "statusMessage is kept unless --message or --clear-message says otherwise; lastUpdatedAt\n"
    "becomes now. The write is a CAS on the version read, retried on a conflict (--retries).\n"
    "Output (default table): table \"updated KEY (version 3 -> 4, working -> failed) in STORE\" on\n"
    "stderr (a summary: -q silences it); json / jsonl\n"
    "the result object (see cancel); raw the new version. --dry-run prints the unified diff.\n"
    "\n"
    "Examples:\n"
    "  taskctl set-status user-123:786512e2-9e0d-44bd-8f29-789f320fe840 failed -m \"worker lost; retry the call\"\n"
    "  taskctl set-status user-123:786512e2-9e0d-44bd-8f29-789f320fe840 completed --result '{\"answer\":42}'\n"
    "  taskctl set-status user-123:786512e2-9e0d-44bd-8f29-789f320fe840 completed --result @result.json --dry-run\n"
    "  taskctl set-status --force user-123:786512e2-9e0d-44bd-8f29-789f320fe840 working   # reopen a finished task (warns)");
  return {app, [options](Context& ctx) { return run_set_status(ctx, *options); }};
}

} // namespace taskctl
