// taskctl validate [FILE...|-] | validate --stored: check variables and
// records against the pmcp-tasks limits, streaming (no file is loaded whole).

#include "app.hpp"
#include "context.hpp"
#include "input.hpp"
#include "output.hpp"
#include "store.hpp"
#include "write.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/prepare.hpp"
#include "taskstore/validate.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstring>
#include <istream>
#include <memory>

namespace taskctl {

namespace {

struct ValidateCliOptions
{
  std::vector<std::string> files;
  bool record = false;
  bool variables = false;
  bool stored = false;
  bool as_stored = false;
  std::string owner;
  std::size_t max_violations = 1000;
  LimitOptions limits;
};

taskstore::ValidateOptions
library_options(const ValidateCliOptions& options)
{
  taskstore::ValidateOptions out;
  out.limits = options.limits.config();
  out.kind = options.record      ? taskstore::DocumentKind::record
             : options.variables ? taskstore::DocumentKind::variables
                                 : taskstore::DocumentKind::detect;
  out.max_reported = options.max_violations;
  out.size_as_stored = options.as_stored;
  return out;
}

// The per-document output: violation lines (table/raw) or one JSON object
// (json item / jsonl line).
class Reporter
{
public:
  Reporter(Context& ctx, const Json& head, const char* array_name) : ctx_(ctx)
  {
    if (ctx.format == Format::json) {
      json_.emplace(ctx, head, array_name);
    }
  }

  void document(const std::string& name_field, const std::string& name, const taskstore::ValidationReport& report,
                const Json& extra = Json::object())
  {
    if (ctx_.format == Format::json || ctx_.format == Format::jsonl) {
      Json j = {{name_field, name},
                {"valid", report.ok()},
                {"kind", report.is_record ? "record" : "variables"}};
      for (const auto& [k, v] : extra.items()) {
        j[k] = v;
      }
      Json list = Json::array();
      for (const auto& v : report.violations) {
        list.push_back(violation_to_json(v));
      }
      j["violations"] = std::move(list);
      j["total_violations"] = report.total_violations;
      if (report.syntax_error_at) {
        j["syntax_error_at"] = {{"byte_offset", report.syntax_error_at->byte_offset},
                                {"line", report.syntax_error_at->line},
                                {"column", report.syntax_error_at->column}};
      }
      emit(j);
      return;
    }
    std::string text;
    for (const auto& v : report.violations) {
      text += fmt::format("{}: {}\n", printable(name), abbreviate_long_words(printable(format_violation(v))));
    }
    if (report.total_violations > report.violations.size()) {
      text += fmt::format("{}: ... and {} more violations (raise --max-violations to see them)\n", printable(name),
                          report.total_violations - report.violations.size());
    }
    write_stdout(text);
  }

  // A stored record whose version or data the store cannot read: invalid.
  void damaged(const std::string& key, const std::string& reason)
  {
    if (ctx_.format == Format::json || ctx_.format == Format::jsonl) {
      emit(Json{{"key", key}, {"version", nullptr}, {"valid", false}, {"damaged", reason}});
      return;
    }
    write_stdout(fmt::format("{}: damaged: {}\n", abbreviate_long_words(printable(key)), printable(reason)));
  }

  // A document that could not be read at all.
  void failure(const std::string& name_field, const std::string& name, const std::string& message)
  {
    if (ctx_.format == Format::json || ctx_.format == Format::jsonl) {
      emit(Json{{name_field, name}, {"valid", false}, {"error", message}});
    }
    ErrorReport r;
    r.code = "io_error";
    r.exit_code = exit_failure;
    r.message = message;
    if (!ctx_.json_errors()) {
      print_error(ctx_, r);
    }
  }

  void finish(const Json& tail)
  {
    if (json_) {
      json_->finish(tail);
    }
  }

private:
  void emit(const Json& j)
  {
    if (json_) {
      json_->item(j);
    } else {
      write_stdout(dump_json(j) + "\n");
    }
  }

  Context& ctx_;
  std::optional<JsonStreamWriter> json_;
};

int
validate_files(Context& ctx, const ValidateCliOptions& options)
{
  std::vector<std::string> files = options.files;
  if (files.empty()) {
    if (ctx.stdin_tty) {
      CliError error(exit_usage, "usage", "no input: give FILE arguments, or - to read standard input");
      error.hint = "run `taskctl validate --help` for usage";
      throw error;
    }
    files.emplace_back("-");
  }
  const auto lib_options = library_options(options);
  Reporter reporter(ctx, Json::object(), "files");
  std::uint64_t invalid = 0;
  std::uint64_t unreadable = 0;
  for (const auto& file : files) {
    check_interrupted();
    const std::string name = file == "-" ? "<stdin>" : file;
    taskstore::ValidationReport report;
    try {
      if (file == "-") {
        FdStreamBuf buffer(0);
        std::istream in(&buffer);
        report = taskstore::validate_stream(in, lib_options);
        check_interrupted();
        if (buffer.failed()) {
          ++unreadable;
          reporter.failure("file", name, fmt::format("cannot read {}: {}", name, std::strerror(buffer.error())));
          continue;
        }
      } else {
        report = taskstore::validate_file(file, lib_options);
      }
    } catch (const taskstore::InvalidArgument& e) {
      check_interrupted();
      ++unreadable;
      reporter.failure("file", name, taskstore::describe(e));
      continue;
    }
    if (!report.ok()) {
      ++invalid;
    }
    reporter.document("file", name, report);
  }
  const std::uint64_t checked = files.size() - unreadable;
  reporter.finish(Json{{"valid", invalid == 0 && unreadable == 0},
                       {"files_checked", checked},
                       {"invalid", invalid},
                       {"unreadable", unreadable}});
  std::string summary = fmt::format("validate: {} file{} checked, {} valid, {} invalid", checked,
                                    checked == 1 ? "" : "s", checked - invalid, invalid);
  if (unreadable > 0) {
    summary += fmt::format(", {} unreadable", unreadable);
  }
  note(ctx, summary);
  if (unreadable > 0) {
    return exit_failure;
  }
  return invalid > 0 ? exit_invalid : exit_ok;
}

int
validate_stored(Context& ctx, const ValidateCliOptions& options)
{
  const std::string prefix = options.owner.empty() ? std::string() : taskstore::make_prefix(options.owner);
  auto store = open_store(ctx, StoreAccess::read);
  auto lib_options = library_options(options);
  lib_options.kind = taskstore::DocumentKind::record;
  Reporter reporter(ctx, Json{{"store", store_display(ctx)}, {"prefix", prefix}}, "records");
  Progress progress(ctx, "validate");
  std::uint64_t checked = 0;
  std::uint64_t invalid = 0;
  store->scan(prefix, [&](const std::string& key, const taskstore::VersionedRecord& record) {
    if (interrupted()) {
      return false;
    }
    progress.tick(++checked, invalid);
    const auto report = taskstore::check_stored_record(key, record.data, lib_options);
    if (!report.ok()) {
      ++invalid;
      progress.before_output();
      reporter.document("key", key, report, Json{{"version", record.version}});
    }
    return true;
  }, [&](const taskstore::DamagedRecord& d) {
    if (interrupted()) {
      return false;
    }
    progress.tick(++checked, ++invalid);
    progress.before_output();
    reporter.damaged(d.key, d.reason);
    return true;
  });
  progress.clear();
  check_interrupted();
  reporter.finish(Json{{"valid", invalid == 0}, {"checked", checked}, {"invalid", invalid}});
  note(ctx, fmt::format("validate: {} record{} checked in {}, {} invalid", checked, checked == 1 ? "" : "s",
                        store_display(ctx), invalid));
  return invalid > 0 ? exit_invalid : exit_ok;
}

int
run_validate(Context& ctx, const ValidateCliOptions& options)
{
  ctx.resolve_format(Format::table);
  if (options.stored) {
    if (!options.files.empty()) {
      throw CliError(exit_usage, "usage", "--stored checks the store: give no FILE arguments");
    }
    return validate_stored(ctx, options);
  }
  if (!options.owner.empty()) {
    throw CliError(exit_usage, "usage", "--owner needs --stored");
  }
  return validate_files(ctx, options);
}

} // namespace

Command
register_validate(CLI::App& root)
{
  auto options = std::make_shared<ValidateCliOptions>();
  CLI::App* app =
    root.add_subcommand("validate", "Check variable JSON files (or records, or the whole store) against the limits");
  app->add_option("FILE", options->files,
                  "JSON files to check; - for stdin (the default when stdin is not a terminal)");
  auto* record = app->add_flag("--record", options->record, "Every file is a whole TaskRecord");
  auto* variables = app->add_flag("--variables", options->variables, "Every file is a variables object");
  record->excludes(variables);
  app->add_flag("--stored", options->stored, "Check every record in the store instead of files");
  app->add_flag("--as-stored", options->as_stored,
                "Measure a variables file's size as the bytes are given (default: as set_variables measures its "
                "input, null-valued variables dropped)");
  require_owner_value(
    app->add_option("--owner", options->owner, "With --stored: only this owner's records")->type_name("OWNER"));
  require_count_value(app->add_option("--max-violations", options->max_violations,
                                      "Report at most N violations per document"))
    ->capture_default_str()
    ->type_name("N");
  options->limits.add_to(*app);
  app->footer(
    "A file is a variables object (the \"variables\" of a record) or a whole TaskRecord: with\n"
    "neither --record nor --variables, a root object with any TaskRecord field (\"task\",\n"
    "\"ownerId\", \"requestMethod\", \"expiresAt\") is taken as a record, and what it lacks is\n"
    "reported. Variables are checked for nesting depth, string length and total compact size;\n"
    "records also for the schema (required fields, types, status, timestamps). Every file is\n"
    "read streaming: a 1 GB file or a 1,000,000-deep array is checked in small constant memory.\n"
    "Each violation is printed as FILE: /json/pointer: what (actual > limit). --stored checks\n"
    "every record of the store (schema, limits, and that ownerId/taskId match the key); it\n"
    "reads only and never creates the store.\n"
    "Output (default table): table/raw the violation lines on stdout and a summary on stderr;\n"
    "jsonl one object per file {\"file\",\"valid\",\"kind\":\"variables|record\",\"violations\":\n"
    "[{\"pointer\",\"rule\",\"message\",\"limit\",\"actual\"}],\"total_violations\"}; json one report\n"
    "{\"schema_version\":1,\"files\":[...],\"valid\",\"files_checked\",\"invalid\",\"unreadable\"}.\n"
    "With --stored the objects carry \"key\" and \"version\" instead of \"file\", only invalid\n"
    "records are listed, and the json report is {..,\"records\":[...],\"valid\",\"checked\",\"invalid\"}.\n"
    "Exit: 0 all valid; 6 something is invalid; 1 a file could not be read (the other files\n"
    "are still checked; this wins over 6); 2 usage.\n"
    "\n"
    "Examples:\n"
    "  taskctl validate vars/*.json\n"
    "  taskctl validate --record -o json exported-task.json\n"
    "  generate-vars | taskctl validate --max-depth 8 -\n"
    "  taskctl -s sqlite:///var/lib/app/tasks.db validate --stored --owner user-123");
  return {app, [options](Context& ctx) { return run_validate(ctx, *options); }};
}

} // namespace taskctl
