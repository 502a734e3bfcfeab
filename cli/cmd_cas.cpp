// taskctl cas KEY --expect-version N [FILE|-]: conditional write.

#include "app.hpp"
#include "input.hpp"
#include "write.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace taskctl {

namespace {

struct CasOptions
{
  WriteRequest request;
  std::uint64_t expect_version = 0;
};

} // namespace

Command
register_cas(CLI::App& root)
{
  auto options = std::make_shared<CasOptions>();
  CLI::App* app =
    root.add_subcommand("cas", "Write a record only if its current version is the one expected (compare-and-swap)");
  add_write_options(*app, options->request);
  require_count_value(app->add_option("-e,--expect-version", options->expect_version,
                                      "The version the record must have now (0: the key must not exist)")
                        ->required()
                        ->type_name("N"));
  app->footer(
    "The write happens only if the record's current version is N, atomically; it then gets\n"
    "version N+1. The input is validated exactly as by put (--no-validate skips it). On a\n"
    "conflict nothing is written, taskctl exits 4 and reports the current version (in JSON:\n"
    "\"current_version\"); a missing key exits 3. A status transition pmcp-tasks forbids (e.g.\n"
    "completed -> working) is refused with exit 6 unless --force. cas never creates the store.\n"
    "Output (default table): as put.\n"
    "\n"
    "Repairing a record by hand (the escape hatch; cancel, set-status, vars, expire and edit\n"
    "do the common repairs in one command):\n"
    "  taskctl get -o json user-123:786512e2-9e0d-44bd-8f29-789f320fe840 | jq .version   # e.g. 3\n"
    "  taskctl get -o raw user-123:786512e2-9e0d-44bd-8f29-789f320fe840 > task.json\n"
    "  $EDITOR task.json\n"
    "  taskctl cas --expect-version 3 user-123:786512e2-9e0d-44bd-8f29-789f320fe840 task.json\n"
    "\n"
    "Examples:\n"
    "  taskctl cas -e 3 user-123:786512e2-9e0d-44bd-8f29-789f320fe840 task.json\n"
    "  taskctl cas -e 3 --dry-run user-123:786512e2-9e0d-44bd-8f29-789f320fe840 - < task.json");
  return {app, [options](Context& ctx) {
            options->request.expect_version = options->expect_version;
            return run_write(ctx, options->request);
          }};
}

} // namespace taskctl
