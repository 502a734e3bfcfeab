// taskctl put KEY [FILE|-]: write a record (the write path is write.cpp's,
// shared with cas).

#include "app.hpp"
#include "write.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace taskctl {

namespace {

struct PutOptions
{
  WriteRequest request;
};

} // namespace

Command
register_put(CLI::App& root)
{
  auto options = std::make_shared<PutOptions>();
  CLI::App* app = root.add_subcommand("put", "Write a record (validated against the TaskRecord schema and limits)");
  add_write_options(*app, options->request);
  app->add_flag("--if-absent", options->request.if_absent,
                "Create only: fail with exit 4 when the key exists (atomic)");
  app->footer(
    "Unless --no-validate, the input must be a valid TaskRecord (the JSON pmcp-tasks writes:\n"
    "task{taskId,status,createdAt,lastUpdatedAt,ttl,...}, ownerId, variables, result,\n"
    "requestMethod, expiresAt) whose variables are within the limits, and whose ownerId and\n"
    "task.taskId match KEY; otherwise nothing is written and taskctl exits 6 listing every\n"
    "problem as /json/pointer: message. A valid record is stored in the canonical compact form\n"
    "pmcp-tasks writes (unknown fields are dropped with a warning, as pmcp-tasks drops them).\n"
    "When the key exists, the status transition from the stored record to the new one must be\n"
    "one pmcp-tasks makes (working <-> input_required; either -> completed, failed, cancelled),\n"
    "else exit 6 unless --force; the write is then conditional on the version checked (re-read\n"
    "and re-checked if the record changes meanwhile). --no-validate checks nothing.\n"
    "put (like import, and copy's target) creates a store that does not exist yet only with\n"
    "--create (or TASKCTL_CREATE=1); without it a missing store exits 7.\n"
    "Output (default table): table the summary \"stored KEY (version N) in STORE\" on stderr\n"
    "(silenced by -q); json/jsonl\n"
    "{\"key\",\"version\",\"previous_version\",\"dry_run\",\"bytes\"}; raw: the new version alone.\n"
    "With --dry-run the store is only read (never created) and \"version\" is the one the write\n"
    "would get. Exit: 0 written, 2 bad key/usage, 4 --if-absent and the key exists, 6 invalid\n"
    "record or forbidden transition, 1 unreadable input file.\n"
    "\n"
    "Examples:\n"
    "  taskctl put user-123:786512e2-9e0d-44bd-8f29-789f320fe840 task.json\n"
    "  generate-record | taskctl put --if-absent user-123:786512e2-9e0d-44bd-8f29-789f320fe840 -\n"
    "  taskctl put --dry-run -o json user-123:786512e2-9e0d-44bd-8f29-789f320fe840 task.json");
  return {app, [options](Context& ctx) { return run_write(ctx, options->request); }};
}

} // namespace taskctl
