// taskctl as a whole: the CLI11 app with the global options and every
// subcommand, parsing, dispatch, and the one place where failures are printed.

#include "app.hpp"

#include "context.hpp"
#include "errors.hpp"
#include "output.hpp"

#include "taskstore/registry.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <string>
#include <vector>

#ifndef TASKCTL_VERSION
#define TASKCTL_VERSION "0.0.0"
#endif

namespace taskctl {

namespace {

const char* const k_description =
  "taskctl - inspect, repair, clean and validate MCP task-record stores\n"
  "\n"
  "taskctl reads and writes the versioned task records that MCP servers built on the Rust\n"
  "crate pmcp-tasks keep in a key-value store, byte-compatible with what pmcp-tasks writes.\n"
  "Keys are OWNER:TASK_ID (split at the first ':'); every record has a version (1 on\n"
  "creation, +1 on every write) and may have an expiry (its expiresAt).\n";

const char* const k_footer =
  "Store URIs (-s/--store, else TASKCTL_STORE, else the default store):\n"
  "  mem://                                   in-process memory (empty on every run; for trying things)\n"
  "  sqlite:PATH, sqlite:///ABS/PATH          a SQLite file (the embedded default)\n"
  "  redis://[USER[:PASS]@]HOST[:PORT][/DB][?prefix=pmcp&timeout=2s]\n"
  "  redis+unix:///PATH.sock[?db=N]\n"
  "  dynamodb://TABLE[?region=R&endpoint=URL] (credentials: the standard AWS environment\n"
  "                                            variables or ~/.aws/credentials)\n"
  "  The default store is sqlite:$XDG_DATA_HOME/taskctl/tasks.db, or\n"
  "  sqlite:~/.local/share/taskctl/tasks.db when XDG_DATA_HOME is unset. Only `put`,\n"
  "  `import` and `copy` (its target) create a store (and the default store's directory,\n"
  "  mode 0700); every other command fails with exit 7 when the store does not exist.\n"
  "  Unknown URI parameters are an error.\n"
  "  URIs are always printed with passwords replaced by ********.\n"
  "\n"
  "Output (-o): json (pretty on a terminal, compact otherwise), jsonl (one object per line,\n"
  "  streamed), table (aligned, for people), raw (stored bytes exactly). Data goes to\n"
  "  stdout; errors, warnings, summaries and progress go to stderr. With -o json or jsonl,\n"
  "  errors are one JSON object on stderr: {\"error\":{\"code\",\"exit\",\"message\",\"causes\",...}}.\n"
  "  Single JSON documents carry \"schema_version\": 1.\n"
  "\n"
  "Environment:\n"
  "  TASKCTL_STORE                 store URI when --store is not given\n"
  "  TASKCTL_STORE_PASSWORD        store password (used when the URI has none)\n"
  "  TASKCTL_STORE_PASSWORD_FILE   file holding the store password (trailing newline ignored)\n"
  "  TASKCTL_OUTPUT, TASKCTL_TIMEOUT, TASKCTL_COLOR   defaults for -o, --timeout, --color\n"
  "  NO_COLOR                      when set and not empty, --color auto never colours\n"
  "  XDG_DATA_HOME, HOME           locate the default store\n"
  "  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,\n"
  "  AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE  DynamoDB credentials and region\n"
  "  Precedence: command-line flag, then environment, then built-in default.\n"
  "\n"
  "Exit status:\n"
  "  0    success (an ls that matches nothing is success)\n"
  "  1    unexpected failure (also: an input file that cannot be read, a declined prompt)\n"
  "  2    usage error: bad flag, bad URI, unknown scheme, bad key, --yes needed\n"
  "  3    key not found\n"
  "  4    version conflict / precondition failed (cas, put --if-absent, --max-delete,\n"
  "       delete --expect-version, a repair whose --retries ran out, an overtaken edit,\n"
  "       a record at the backend's maximum version)\n"
  "  5    backend unavailable or timed out (a retry may succeed)\n"
  "  6    validation failed (validate found violations, or put/cas input is invalid), or a\n"
  "       change pmcp-tasks would refuse (a forbidden status transition, an expired task)\n"
  "  7    configuration or credential error (e.g. the store does not exist)\n"
  "  130  interrupted (Ctrl-C; nothing is left half-written)\n"
  "  Any other status also means failure.\n"
  "\n"
  "Examples:\n"
  "  taskctl -s sqlite:tasks.db ls --owner user-123             list one owner's records\n"
  "  taskctl get user-123:786512e2 -o raw > rec.json            fetch the stored bytes\n"
  "  taskctl cas user-123:786512e2 --expect-version 3 rec.json  write back if unchanged\n"
  "  taskctl cancel --dry-run user-123:786512e2                 what cancelling would change\n"
  "  taskctl vars user-123:786512e2 set retries=3               one variable, CAS and retried\n"
  "  taskctl -s redis://127.0.0.1:6379 gc --dry-run             what gc would remove\n"
  "  taskctl validate vars/*.json                               the CI check (exit 6 if invalid)\n"
  "\n"
  "Global options may come before or after the subcommand. Run `taskctl SUBCOMMAND --help`\n"
  "for the options, output formats and examples of each subcommand.";

std::string
version_text()
{
  std::string text = fmt::format("taskctl {}\nbackends:", TASKCTL_VERSION);
  for (const auto& backend : taskstore::available_backends()) {
    text += fmt::format(" {}", backend.name);
  }
  return text;
}

// Whether --timeout (or --timeout=...) is among the arguments before "--".
bool
timeout_on_command_line(int argc, char** argv)
{
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      break;
    }
    if (arg == "--timeout" || arg.substr(0, 10) == "--timeout=") {
      return true;
    }
  }
  return false;
}

int
run(int argc, char** argv, Context& ctx)
{
  CLI::App app{k_description, "taskctl"};
  app.footer(k_footer);
  app.get_formatter()->column_width(34);
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", version_text, "Print the version and the compiled-in backends, then exit");

  std::string output_text;
  std::string color_text = "auto";
  app.add_option("-s,--store", ctx.global.store,
                 "Store URI (default: TASKCTL_STORE, else the SQLite file "
                 "$XDG_DATA_HOME/taskctl/tasks.db, i.e. ~/.local/share/taskctl/tasks.db)")
    ->type_name("URI");
  app.add_option("-o,--output", output_text,
                 "Output format: json, jsonl, table or raw (each subcommand documents its default)")
    ->check(CLI::IsMember({"json", "jsonl", "table", "raw"}))
    ->type_name("FORMAT")
    ->envname("TASKCTL_OUTPUT");
  app.add_option("--timeout", ctx.global.timeout,
                 "Deadline of one network operation, retries included; SQLite busy timeout "
                 "(e.g. 500ms, 5s, 1m)")
    ->capture_default_str()
    ->type_name("DURATION")
    ->envname("TASKCTL_TIMEOUT");
  app.add_option("--color", color_text,
                 "Colour: auto (only on a terminal, and not when NO_COLOR is set), always or never")
    ->check(CLI::IsMember({"auto", "always", "never"}))
    ->capture_default_str()
    ->type_name("WHEN")
    ->envname("TASKCTL_COLOR");
  app.add_flag("-q,--quiet", ctx.global.quiet, "Suppress warnings, summaries and progress on stderr (not errors)");

  std::vector<Command> commands = {
    register_get(app),    register_put(app),        register_cas(app),  register_delete(app),
    register_ls(app),     register_gc(app),         register_validate(app),
    register_cancel(app), register_set_status(app), register_vars(app), register_expire(app),
    register_edit(app),   register_stats(app),      register_export(app), register_import(app),
    register_copy(app)};
  for (auto& command : commands) {
    command.app->fallthrough();
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    ctx.global.output = prescan_output(argc, argv);
    ctx.detect_terminal();
    ErrorReport r;
    r.code = "usage";
    r.exit_code = exit_usage;
    r.message = e.what();
    std::string where = "taskctl";
    for (const auto& command : commands) {
      if (command.app->parsed()) {
        where += " " + command.app->get_name();
      }
    }
    r.hint = fmt::format("run `{} --help` for usage", where);
    print_error(ctx, r);
    return exit_usage;
  }

  ctx.global.timeout_from_flag = timeout_on_command_line(argc, argv);
  // CLI11 checked both values (IsMember).
  ctx.global.output = parse_format(output_text).value_or(Format::unset);
  ctx.global.color = parse_color_mode(color_text).value_or(ColorMode::auto_);
  ctx.detect_terminal();
  for (auto& command : commands) {
    if (command.app->parsed()) {
      const int code = command.run(ctx);
      flush_stdout();
      return code;
    }
  }
  return exit_usage; // unreachable: require_subcommand(1)
}

} // namespace

int
run_taskctl(int argc, char** argv)
{
  install_signal_handlers();
  Context ctx;
  try {
    return run(argc, argv, ctx);
  } catch (const std::exception&) {
    const ErrorReport report = failure_report(ctx, std::current_exception());
    print_error(ctx, report);
    return report.exit_code;
  }
}

} // namespace taskctl
