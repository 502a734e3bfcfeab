// taskctl vars KEY [set NAME=JSON... | unset NAME...]: print a task's
// variables, or change them with pmcp-tasks' set_variables merge and limits.

#include "app.hpp"
#include "context.hpp"
#include "output.hpp"
#include "repair.hpp"
#include "store.hpp"
#include "table.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "values.hpp"

#include "taskstore/json/serde.hpp"
#include "taskstore/task_store.hpp"
#include "taskstore/validate.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <set>

namespace taskctl {

namespace {

struct VarsOptions
{
  std::string key;
  std::string action; // "", "set", "unset"
  std::vector<std::string> args;
  std::vector<std::string> strings; // --string NAME=TEXT
  RepairOptions repair;
};

int
print_variables(Context& ctx, const VarsOptions& options)
{
  ctx.resolve_format(Format::table);
  const auto parts = check_key(options.key);
  auto store = open_store(ctx, StoreAccess::read);
  taskstore::TaskStore tasks(*store);
  taskstore::TaskRecord record;
  try {
    record = tasks.get(parts.owner_id, parts.task_id);
  } catch (const taskstore::TaskError& e) {
    throw repair_error(options.key, e, 1);
  }
  switch (ctx.format) {
  case Format::raw:
    write_stdout(taskstore::to_serde_json(record.variables) + "\n");
    break;
  case Format::table: {
    TableWriter table(ctx, {"NAME", "VALUE"});
    for (const auto& [name, value] : record.variables.items()) {
      table.row({{name}, {taskstore::to_display_json(value)}});
    }
    table.finish();
    break;
  }
  default: {
    Json out = new_document(ctx);
    out["key"] = options.key;
    out["version"] = record.version;
    out["variables"] = record.variables;
    print_document(ctx, out);
    break;
  }
  }
  return exit_ok;
}

// The incoming map of a set or unset: NAME=JSON values, --string NAME=TEXT
// values, or NAME: null (a removal, as pmcp-tasks' merge does).
Json
incoming_variables(const Context& ctx, const VarsOptions& options)
{
  Json incoming = Json::object();
  std::set<std::string> seen;
  auto add = [&](const std::string& name, Json value) {
    if (!seen.insert(name).second) {
      CliError error(exit_usage, "usage", fmt::format("variable {} is named twice", name));
      error.hint = "name each variable once";
      throw error;
    }
    incoming[name] = std::move(value);
  };
  if (options.action == "unset") {
    for (const auto& name : options.args) {
      add(name, nullptr);
    }
    return incoming;
  }
  for (const auto& assignment : options.args) {
    auto [name, text] = split_assignment(assignment);
    add(name, read_json_value(ctx, text, fmt::format("the value of {}", name),
                              fmt::format("the value is parsed as JSON: to store text, use --string {}={} "
                                          "(or quote it: {}='\"{}\"')",
                                          name, text, name, text)));
  }
  for (const auto& assignment : options.strings) {
    auto [name, text] = split_assignment(assignment);
    add(name, Json(text));
  }
  return incoming;
}

// Checks the incoming values against the limits (every violation, with its
// pointer), before anything is read: exit 6.
void
check_incoming(const VarsOptions& options, const Json& incoming)
{
  const auto report = taskstore::validate_variables(incoming, options.repair.limits.config());
  CliError error(exit_invalid, "validation_failed", fmt::format("invalid variables for key {}", options.key));
  Json list = Json::array();
  for (const auto& v : report.violations) {
    if (v.rule == taskstore::Rule::size) {
      continue; // the merged map's size is checked against the record
    }
    error.details.push_back(format_violation(v));
    list.push_back(violation_to_json(v));
  }
  if (list.empty()) {
    return;
  }
  error.extra["key"] = options.key;
  error.extra["violations"] = std::move(list);
  error.hint = "shrink the values, or raise --max-depth / --max-string-length if the server's limits are higher";
  throw error;
}

int
run_vars(Context& ctx, const VarsOptions& options)
{
  if (options.action.empty()) {
    if (!options.args.empty() || !options.strings.empty()) {
      CliError error(exit_usage, "usage", "give an action: set NAME=JSON... or unset NAME...");
      error.hint = "run `taskctl vars --help` for usage";
      throw error;
    }
    return print_variables(ctx, options);
  }
  ctx.resolve_format(Format::table);
  if (options.action == "unset" && !options.strings.empty()) {
    CliError error(exit_usage, "usage", "--string goes with set, not unset");
    throw error;
  }
  if (options.args.empty() && options.strings.empty()) {
    CliError error(exit_usage, "usage", fmt::format("{} needs at least one variable", options.action));
    error.hint = options.action == "set" ? "e.g. `taskctl vars KEY set retries=3`" : "e.g. `taskctl vars KEY unset retries`";
    throw error;
  }
  check_key(options.key);
  const Json incoming = incoming_variables(ctx, options);
  check_incoming(options, incoming);
  auto store = open_store(ctx, options.repair.dry_run ? StoreAccess::read : StoreAccess::modify);
  Repair repair(ctx, *store, options.repair);
  RepairPrinter printer(ctx, "updated", false);
  const auto limits = options.repair.limits.config();
  printer.result(repair.apply(options.key, [&](taskstore::TaskRecord& record) {
    taskstore::merge_variables(record, incoming, limits);
  }));
  printer.finish();
  return exit_ok;
}

} // namespace

Command
register_vars(CLI::App& root)
{
  auto options = std::make_shared<VarsOptions>();
  CLI::App* app = root.add_subcommand(
    "vars", "Print a task's variables, or set and unset them as pmcp-tasks' set_variables does");
  app->add_option("KEY", options->key, "Key (OWNER:TASK_ID) of the task")->required();
  app->add_option("ACTION", options->action, "set or unset (none: print the variables)")
    ->check(CLI::IsMember({"set", "unset"}));
  app->add_option("ARGS", options->args, "set: NAME=JSON (the value is parsed as JSON); unset: NAME");
  app->add_option("--string", options->strings, "set: NAME=TEXT, stored as a JSON string as is (repeatable)")
    ->type_name("NAME=TEXT")
    ->allow_extra_args(false); // one NAME=TEXT per --string: what follows is NAME=JSON again
  options->repair.add_to(*app, "Change the variables of an expired task (warns)");
  app->footer(
    "Without an action, prints the variables (table NAME VALUE; json {\"schema_version\":1,\"key\",\n"
    "\"version\",\"variables\"}; raw the compact variables object).\n"
    "set and unset apply pmcp-tasks' merge: each named variable is replaced whole (a shallow,\n"
    "top-level merge; NAME=null removes NAME, as in pmcp-tasks), the others are kept. The new\n"
    "values are checked first (--max-depth, --max-string-length: exit 6, nothing read or\n"
    "written), then the merged variables' size (--max-size). The write is a CAS on the version\n"
    "read, re-applied on a conflict (--retries), so two operators setting different variables\n"
    "at the same time never lose each other's change. An expired task is refused unless --force.\n"
    "Output of set/unset (default table): \"updated KEY (version 3 -> 4)\"; json / jsonl the\n"
    "result object (see cancel); raw the new version. --dry-run prints the unified diff.\n"
    "\n"
    "Examples:\n"
    "  taskctl vars user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
    "  taskctl vars user-123:786512e2-9e0d-44bd-8f29-789f320fe840 set retries=3 'arguments={\"path\":\"/data/x\"}'\n"
    "  taskctl vars user-123:786512e2-9e0d-44bd-8f29-789f320fe840 set --string note='checked by ops'\n"
    "  taskctl vars user-123:786512e2-9e0d-44bd-8f29-789f320fe840 unset progress_token --dry-run");
  return {app, [options](Context& ctx) { return run_vars(ctx, *options); }};
}

} // namespace taskctl
