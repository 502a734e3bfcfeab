// taskctl stores [--check]: the named stores of the config file (name,
// redacted URI, read_only, the default, where the password comes from:
// never the password); --check opens each and reports whether it answers.

#include "app.hpp"
#include "config.hpp"
#include "context.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "store.hpp"
#include "table.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/uri.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace taskctl {

namespace {

struct StoresOptions
{
  bool check = false;
};

// Returns "" when the store entry names answers a read, else the error's
// message (scrubbed) and, in exit, its exit status.
std::string
check_entry(Context& ctx, const StoreEntry& entry, int& exit)
{
  try {
    auto store = open_store_at(ctx, "@" + entry.name, StoreAccess::read);
    try {
      store->get("taskctl-stores-check:probe");
    } catch (const taskstore::StorageError& e) {
      if (e.kind() != taskstore::StorageErrorKind::not_found) {
        throw;
      }
    }
    return "";
  } catch (const Interrupted&) {
    throw;
  } catch (const std::exception&) {
    const ErrorReport report = failure_report(ctx, std::current_exception());
    exit = report.exit_code;
    std::string message = report.message;
    for (const auto& cause : report.causes) {
      message += ": " + cause;
    }
    return scrub_secrets(message);
  }
}

int
run_stores(Context& ctx, const StoresOptions& options)
{
  ctx.resolve_format(Format::table);
  const ConfigFile& config = run_config();
  if (config.permission_warning && !ctx.global.quiet) {
    warn(ctx, *config.permission_warning);
  }
  if (ctx.format == Format::raw) {
    for (const auto& entry : config.stores) {
      write_stdout("@" + entry.name + "\n"); // for completions: the names alone, never checked
    }
    return exit_ok;
  }
  int status = exit_ok;
  Json rows = Json::array();
  for (const auto& entry : config.stores) {
    check_interrupted();
    Json row;
    row["name"] = entry.name;
    row["uri"] = taskstore::StoreUri::redact_text(entry.uri);
    row["default"] = entry.name == config.default_store;
    row["read_only"] = entry.read_only;
    // "none": TASKCTL_STORE_PASSWORD[_FILE] may still give one at run time.
    row["password"] = password_origin(!taskstore::StoreUri::secrets_in(entry.uri).empty(), &entry, false);
    row["timeout"] = entry.timeout ? Json(*entry.timeout) : Json(nullptr);
    row["output"] = entry.output ? Json(*entry.output) : Json(nullptr);
    if (options.check) {
      int exit = exit_ok;
      const std::string error = check_entry(ctx, entry, exit);
      row["reachable"] = error.empty();
      row["error"] = error.empty() ? Json(nullptr) : Json(error);
      if (!error.empty()) {
        status = exit_unavailable;
      }
    }
    rows.push_back(std::move(row));
  }
  switch (ctx.format) {
  case Format::jsonl:
    for (const auto& row : rows) {
      write_stdout(dump_json(row) + "\n");
    }
    break;
  case Format::json: {
    Json doc = new_document(ctx);
    doc["config"] = config.path;
    doc["exists"] = config.exists;
    doc["default"] = config.default_store.empty() ? Json(nullptr) : Json(config.default_store);
    doc["stores"] = rows;
    print_document(ctx, doc);
    break;
  }
  default: {
    std::vector<std::string> headers = {"NAME", "DEFAULT", "READ_ONLY", "URI", "PASSWORD"};
    if (options.check) {
      headers.insert(headers.end(), {"STATUS", "ERROR"});
    }
    TableWriter table(ctx, headers);
    for (const auto& row : rows) {
      std::vector<TableWriter::Cell> cells = {
        {"@" + row["name"].get<std::string>()},
        {row["default"].get<bool>() ? "*" : ""},
        {row["read_only"].get<bool>() ? "yes" : "no"},
        {row["uri"].get<std::string>()},
        {row["password"].get<std::string>()}};
      if (options.check) {
        const bool ok = row["reachable"].get<bool>();
        cells.push_back({ok ? "reachable" : "unreachable", ok ? Color::none : Color::red});
        cells.push_back({ok ? "" : row["error"].get<std::string>()});
      }
      table.row(std::move(cells));
    }
    table.finish();
    if (rows.empty() && !ctx.global.quiet) {
      note(ctx, config.exists ? fmt::format("{} has no [stores.NAME] entry", config.path)
                              : fmt::format("no config file {}", config.path));
    }
    break;
  }
  }
  return status;
}

} // namespace

Command
register_stores(CLI::App& root)
{
  auto options = std::make_shared<StoresOptions>();
  CLI::App* app = root.add_subcommand("stores", "List the named stores of the config file (--check: can each be reached)");
  app->add_flag("--check", options->check,
                "Open each store and read from it: reachable or unreachable with the error (exit 5 if any is "
                "unreachable)");
  app->footer(
    "The config file is $XDG_CONFIG_HOME/taskctl/config.toml, else ~/.config/taskctl/config.toml:\n"
    "`default = \"NAME\"` and [stores.NAME] entries with uri, password_file or password_env, timeout,\n"
    "output and read_only. --store @NAME (or TASKCTL_STORE=@NAME) selects an entry. URIs are shown\n"
    "with their passwords replaced by ********; PASSWORD says where the password comes from\n"
    "(password_file PATH, password_env NAME, uri, none), never what it is.\n"
    "Output (default table): table NAME DEFAULT READ_ONLY URI PASSWORD [STATUS ERROR]; jsonl one\n"
    "object per store {\"name\",\"uri\",\"default\",\"read_only\",\"password\",\"timeout\",\"output\"\n"
    "[,\"reachable\",\"error\"]}; json one document {\"schema_version\":1,\"config\",\"exists\",\"default\",\n"
    "\"stores\":[...]}; raw the names alone (@NAME), one per line.\n"
    "\n"
    "Examples:\n"
    "  taskctl stores\n"
    "  taskctl stores --check\n"
    "  taskctl -o json stores\n"
    "  taskctl -s @prod ls --owner user-123\n");
  return {app, [options](Context& ctx) { return run_stores(ctx, *options); }};
}

} // namespace taskctl
