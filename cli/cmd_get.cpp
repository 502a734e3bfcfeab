// taskctl get KEY: one record, its version and whether it is expired.

#include "app.hpp"
#include "context.hpp"
#include "namespaces.hpp"
#include "output.hpp"
#include "store.hpp"
#include "table.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/summary.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace taskctl {

namespace {

struct GetOptions
{
  std::string key;
};

std::string
text_of(const Json* value)
{
  if (value == nullptr || value->is_null()) {
    return "-";
  }
  if (value->is_string()) {
    return value->get<std::string>();
  }
  return dump_json(*value);
}

const Json*
member(const Json& object, const char* name)
{
  if (!object.is_object()) {
    return nullptr;
  }
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

void
print_table(const Context& ctx, const std::string& key, const taskstore::VersionedRecord& record,
            const taskstore::RecordSummary& summary, const std::optional<Json>& doc)
{
  std::vector<std::pair<std::string, TableWriter::Cell>> rows;
  rows.push_back({"key", {key}});
  rows.push_back({"version", {std::to_string(record.version)}});
  if (!doc || !doc->is_object()) {
    rows.push_back({"expired", {"-"}});
    rows.push_back({"data", {dump_json(Json(record.data))}});
  } else {
    const Json& r = *doc;
    const Json* task = member(r, "task");
    const Json empty = Json::object();
    const Json& t = task != nullptr ? *task : empty;
    const std::string status = text_of(member(t, "status"));
    rows.push_back({"status", {status, status_color(status)}});
    if (const Json* message = member(t, "statusMessage")) {
      rows.push_back({"status message", {text_of(message)}});
    }
    rows.push_back({"owner", {text_of(member(r, "ownerId"))}});
    rows.push_back({"task id", {text_of(member(t, "taskId"))}});
    rows.push_back({"request method", {text_of(member(r, "requestMethod"))}});
    rows.push_back({"created", {text_of(member(t, "createdAt"))}});
    rows.push_back({"last updated", {text_of(member(t, "lastUpdatedAt"))}});
    const Json* ttl = member(t, "ttl");
    rows.push_back({"ttl", {ttl != nullptr && ttl->is_number() ? dump_json(*ttl) + " ms" : "-"}});
    if (const Json* poll = member(t, "pollInterval")) {
      rows.push_back({"poll interval", {dump_json(*poll) + " ms"}});
    }
    std::string expires = summary.expires_at ? *summary.expires_at : "never";
    rows.push_back({"expires", {expires}});
    rows.push_back({"expired", {summary.expired ? "yes" : "no", summary.expired ? Color::red : Color::none}});
    rows.push_back({"variables", {text_of(member(r, "variables"))}});
    rows.push_back({"result", {text_of(member(r, "result"))}});
    if (const Json* meta = member(t, "_meta")) {
      rows.push_back({"_meta", {text_of(meta)}});
    }
  }
  std::size_t width = 0;
  for (const auto& row : rows) {
    width = std::max(width, row.first.size());
  }
  std::string out;
  for (const auto& [name, cell] : rows) {
    out += paint(name, Color::bold, ctx.color_stdout);
    out.append(width - name.size() + 2, ' ');
    // Stored text (a statusMessage, an id) reaches the terminal only escaped.
    out += paint(printable(cell.text), cell.color, ctx.color_stdout);
    out += '\n';
  }
  write_stdout(out);
}

int
run_get(Context& ctx, const GetOptions& options)
{
  ctx.resolve_format(Format::json);
  check_key(options.key);
  auto store = open_store(ctx, StoreAccess::read);
  const auto record = [&] {
    try {
      return store->get(options.key);
    } catch (const taskstore::StorageError& e) {
      // A mistyped ?prefix= looks like a missing key: say so, as a warning,
      // or with JSON errors as the error's hint (stderr stays one object).
      if (e.kind() == taskstore::StorageErrorKind::not_found) {
        if (!ctx.json_errors()) {
          warn_if_namespace_empty(ctx, *store);
        } else if (std::string advice = namespace_advice(ctx, *store); !advice.empty()) {
          CliError error(exit_not_found, "not_found", e.what());
          error.extra["key"] = e.key();
          error.hint = std::move(advice);
          throw error;
        }
      }
      throw;
    }
  }();
  const auto summary = taskstore::summarize_record(record.data);

  if (ctx.format == Format::raw) {
    write_stdout(record.data);
    if (ctx.stdout_tty && (record.data.empty() || record.data.back() != '\n')) {
      write_stdout("\n"); // for the prompt's sake; a pipe gets the stored bytes exactly
    }
    if (ctx.stderr_tty) {
      note(ctx, fmt::format("taskctl: {} version {}", options.key, record.version));
    }
    return exit_ok;
  }
  // The record as a document when it is a JSON object shallow enough to
  // build one for; else it is shown as a string.
  const auto doc = summary.json ? taskstore::record_document(record.data) : std::nullopt;
  if (ctx.format == Format::table) {
    print_table(ctx, options.key, record, summary, doc);
    return exit_ok;
  }
  Json out = new_document(ctx);
  out["key"] = options.key;
  out["version"] = record.version;
  out["expired"] = summary.expired;
  out["expiresAt"] = summary.expires_at ? Json(*summary.expires_at) : Json(nullptr);
  if (doc) {
    out["record"] = *doc;
  } else {
    out["data"] = record.data;
  }
  print_document(ctx, out);
  return exit_ok;
}

} // namespace

Command
register_get(CLI::App& root)
{
  auto options = std::make_shared<GetOptions>();
  CLI::App* app = root.add_subcommand("get", "Print one record, its version and whether it is expired");
  app->add_option("KEY", options->key, "Record key OWNER:TASK_ID")->required();
  app->footer("Reads only; never creates the store. A missing key exits 3.\n"
              "Output (default json): json/jsonl {\"key\",\"version\",\"expired\",\"expiresAt\",\"record\"}\n"
              "(\"data\", a string, instead of \"record\" when the stored bytes are not JSON); table: one\n"
              "field per line; raw: exactly the stored bytes, nothing added when piped or redirected\n"
              "(on a terminal a newline ends them, and the version goes to stderr when it is one), so\n"
              "`get -o raw > f`, edit f, `cas --expect-version N KEY f` round-trips.\n"
              "\n"
              "Examples:\n"
              "  taskctl get user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
              "  taskctl -s redis://127.0.0.1:6379/0 get -o table user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
              "  taskctl get -o raw user-123:786512e2-9e0d-44bd-8f29-789f320fe840 > task.json");
  return {app, [options](Context& ctx) { return run_get(ctx, *options); }};
}

} // namespace taskctl
