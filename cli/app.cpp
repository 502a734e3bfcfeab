// taskctl as a whole: the CLI11 app with the global options and every
// subcommand, parsing, dispatch, and the one place where failures are printed.

#include "app.hpp"

#include "context.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "store.hpp"
#include "suggest.hpp"

#include "taskstore/registry.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <zlib.h>

#include <cstdlib>
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
  "  rediss://[USER[:PASS]@]HOST[:PORT][/DB][?cacert=FILE&cert=FILE&key=FILE&insecure=1]\n"
  "                                           Redis over TLS (the system CA store unless cacert)\n"
  "  redis+unix:///PATH.sock[?db=N]\n"
  "  dynamodb://TABLE[?region=R&endpoint=URL] (credentials: the standard AWS environment\n"
  "                                            variables or ~/.aws/credentials)\n"
  "  The default store is sqlite:$XDG_DATA_HOME/taskctl/tasks.db, or\n"
  "  sqlite:~/.local/share/taskctl/tasks.db when XDG_DATA_HOME is unset. A store that does\n"
  "  not exist is created only by a write given --create (or TASKCTL_CREATE=1): `put`,\n"
  "  `import` and `copy` (its target), with the default store's directory (mode 0700).\n"
  "  Any other run on a missing store fails with exit 7, so a typo in a path never\n"
  "  silently starts a new, empty store.\n"
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
  "  TASKCTL_STORE                 store URI (or @NAME) when --store is not given\n"
  "  TASKCTL_STORE_PASSWORD        store password (used when the URI has none)\n"
  "  TASKCTL_STORE_PASSWORD_FILE   file holding the store password (trailing newline ignored)\n"
  "  TASKCTL_OUTPUT, TASKCTL_TIMEOUT, TASKCTL_COLOR   defaults for -o, --timeout, --color\n"
  "  TASKCTL_CREATE                1: as --create (a write may create a missing store)\n"
  "  NO_COLOR                      when set and not empty, --color auto never colours\n"
  "  XDG_DATA_HOME, HOME           locate the default store\n"
  "  XDG_CONFIG_HOME               locates the config file (else ~/.config/taskctl/config.toml)\n"
  "  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,\n"
  "  AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE  DynamoDB credentials and region\n"
  "  Precedence: command-line flag, then environment, then the config file, then built-in default.\n"
  "\n"
  "Named stores: $XDG_CONFIG_HOME/taskctl/config.toml (else ~/.config/taskctl/config.toml)\n"
  "  holds `default = \"NAME\"` and [stores.NAME] entries (uri, password_file or password_env,\n"
  "  timeout, output, read_only = true); --store @NAME or TASKCTL_STORE=@NAME selects one.\n"
  "  A read_only entry refuses every write (exit 7) unless --allow-write. `taskctl stores` lists them.\n"
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
  "  # list one owner's records\n"
  "  taskctl -s sqlite:tasks.db ls --owner user-123\n"
  "  # fetch the stored bytes, then write them back only if nobody changed them meanwhile\n"
  "  taskctl get user-123:786512e2-9e0d-44bd-8f29-789f320fe840 -o raw > rec.json\n"
  "  taskctl cas user-123:786512e2-9e0d-44bd-8f29-789f320fe840 --expect-version 3 rec.json\n"
  "  # what cancelling would change; one variable, CAS and retried\n"
  "  taskctl cancel --dry-run user-123:786512e2-9e0d-44bd-8f29-789f320fe840\n"
  "  taskctl vars user-123:786512e2-9e0d-44bd-8f29-789f320fe840 set retries=3\n"
  "  # what gc would remove; the CI check (exit 6 if invalid)\n"
  "  taskctl -s redis://127.0.0.1:6379 gc --dry-run\n"
  "  taskctl validate vars/*.json\n"
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

// The libraries behind the backends (each at its run-time version where the
// library can tell) and zlib: name and version, version "" when not loadable.
std::vector<std::pair<std::string, std::string>>
library_versions()
{
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& backend : taskstore::available_backends()) {
    if (backend.library_version != nullptr) {
      out.emplace_back(std::string(backend.library), backend.library_version());
    }
  }
  out.emplace_back("zlib", zlibVersion());
  return out;
}

// `taskctl version`: the version, the backends and the libraries; -o json for a script.
int
print_version(const Context& ctx)
{
  const auto libraries = library_versions();
  if (ctx.global.output == Format::json || ctx.global.output == Format::jsonl) {
    Json doc = new_document(ctx);
    doc["version"] = TASKCTL_VERSION;
    doc["backends"] = Json::array();
    for (const auto& backend : taskstore::available_backends()) {
      doc["backends"].push_back(std::string(backend.name));
    }
    doc["libraries"] = Json::object();
    for (const auto& [name, version] : libraries) {
      doc["libraries"][name] = version.empty() ? Json(nullptr) : Json(version);
    }
    print_document(ctx, doc);
    return exit_ok;
  }
  std::string text = version_text() + "\nlibraries:";
  for (const auto& [name, version] : libraries) {
    text += fmt::format(" {} {}", name, version.empty() ? "(not found)" : version);
  }
  write_stdout(text + "\n");
  return exit_ok;
}

// Whether arg is one of the flags: FLAG, --LONG=VALUE, or -X with its value attached.
bool
is_flag(std::string_view arg, std::initializer_list<std::string_view> flags)
{
  for (const std::string_view flag : flags) {
    if (arg == flag || (flag.size() > 2 && arg.size() > flag.size() && arg.substr(0, flag.size()) == flag &&
                        arg[flag.size()] == '=') ||
        (flag.size() == 2 && arg.size() > 2 && arg[1] != '-' && arg.substr(0, 2) == flag)) {
      return true;
    }
  }
  return false;
}

// Whether one of the flags is among the arguments before "--".
bool
on_command_line(int argc, char** argv, std::initializer_list<std::string_view> flags)
{
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      break;
    }
    if (is_flag(arg, flags)) {
      return true;
    }
  }
  return false;
}

// The first argument that is neither a global option nor its value: the
// command the user asked for; "" when there is none, or when an unknown
// option comes first (its value may be the next word: CLI11 reports it).
std::string
command_word(int argc, char** argv)
{
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      return "";
    }
    if (arg.size() > 1 && arg[0] == '-') {
      if (arg == "-s" || arg == "--store" || arg == "-o" || arg == "--output" || arg == "--timeout" ||
          arg == "--color") {
        ++i; // its value
      } else if (arg.substr(0, 2) == "--" &&
                 !is_flag(arg, {"--store", "--output", "--timeout", "--color", "--quiet", "--create", "--allow-write", "--wide",
                                "--help", "--version"})) {
        return "";
      }
      continue;
    }
    return std::string(arg);
  }
  return "";
}

// A usage error (exit 2) with a hint; what every refusal before parsing prints.
int
usage_error(Context& ctx, int argc, char** argv, std::string message, std::string hint)
{
  ctx.global.output = prescan_output(argc, argv);
  ctx.detect_terminal();
  ErrorReport r;
  r.code = "usage";
  r.exit_code = exit_usage;
  r.message = std::move(message);
  r.hint = std::move(hint);
  print_error(ctx, r);
  return exit_usage;
}

// The values of TASKCTL_OUTPUT and TASKCTL_COLOR are CLI11's to check, but its
// message names the flag ("--output: yaml not in {...}"), which the user never
// typed: checked here first, naming the variable. nullopt when both are fine
// (or a flag on the command line overrides them).
std::optional<std::string>
bad_environment(int argc, char** argv)
{
  struct Variable
  {
    const char* name;
    std::initializer_list<std::string_view> flags;
    std::vector<std::string> allowed;
    const char* what;
  };
  const Variable variables[] = {
    {"TASKCTL_OUTPUT", {"-o", "--output"}, {"json", "jsonl", "table", "raw"}, "output format"},
    {"TASKCTL_COLOR", {"--color"}, {"auto", "always", "never"}, "colour mode"},
  };
  for (const Variable& v : variables) {
    const char* value = std::getenv(v.name);
    if (value == nullptr || on_command_line(argc, argv, v.flags) ||
        std::find(v.allowed.begin(), v.allowed.end(), value) != v.allowed.end()) {
      continue;
    }
    std::string allowed;
    for (const auto& a : v.allowed) {
      allowed += (allowed.empty() ? "" : ", ") + a;
    }
    return fmt::format("the environment variable {} is \"{}\", which is no {}: use one of {} (or unset it)",
                       v.name, printable(value), v.what, allowed);
  }
  return std::nullopt;
}

// The names of app's options (long and short, with their dashes).
void
option_names(const CLI::App& app, std::vector<std::string>& out)
{
  for (const CLI::Option* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) {
      out.push_back("--" + name);
    }
    for (const auto& name : option->get_snames()) {
      out.push_back("-" + name);
    }
  }
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
                 "Store URI, or @NAME: an entry of the config file (default: TASKCTL_STORE, else the "
                 "config file's default entry, else the SQLite file $XDG_DATA_HOME/taskctl/tasks.db, i.e. "
                 "~/.local/share/taskctl/tasks.db)")
    ->type_name("URI|@NAME");
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
  app.add_flag("--create", ctx.global.create,
               "Let a write (put, import, copy's target) create the store when it does not exist yet")
    ->envname("TASKCTL_CREATE");
  app.add_flag("--allow-write", ctx.global.allow_write,
               "Let a command write to a store whose config entry says read_only = true");
  app.add_flag("--wide", ctx.global.wide,
               "Never cut a table to the terminal's width (on a terminal, the widest columns shrink and "
               "longer cells end in \"…\"; piped, nothing is cut)");

  std::vector<Command> commands = {
    register_get(app),    register_put(app),        register_cas(app),  register_delete(app),
    register_ls(app),     register_gc(app),         register_validate(app),
    register_cancel(app), register_set_status(app), register_vars(app), register_expire(app),
    register_edit(app),   register_stats(app),      register_export(app), register_import(app),
    register_copy(app),   register_stores(app),     register_whoami(app)};
  for (auto& command : commands) {
    command.app->fallthrough();
    if (command.app->get_name() == "delete") {
      command.app->alias("rm");
    } else if (command.app->get_name() == "ls") {
      command.app->alias("list");
    }
  }
  std::string help_topic;
  CLI::App* help = app.add_subcommand("help", "Print the help of taskctl, or of one command");
  help->add_option("COMMAND", help_topic, "The command to explain (a name or an alias: rm, list)");
  help->fallthrough();
  help->footer("\nExamples:\n"
               "  taskctl help              # what taskctl --help prints\n"
               "  taskctl help ls           # what taskctl ls --help prints\n");
  CLI::App* version = app.add_subcommand("version", "Print the version, the backends and their libraries (-o json)");
  version->fallthrough();
  version->footer("\nExamples:\n"
                  "  taskctl version\n"
                  "  taskctl -o json version   # {\"version\":…,\"backends\":[…],\"libraries\":{\"sqlite\":…}}\n"
                  "\nA library that cannot be loaded (libcurl is loaded only for DynamoDB) shows as\n"
                  "\"(not found)\", or null in JSON.\n");

  std::vector<std::string> command_names = {"help", "version"};
  for (const auto& command : commands) {
    command_names.push_back(command.app->get_name());
    for (const auto& alias : command.app->get_aliases()) {
      command_names.push_back(alias);
    }
  }
  // The command a user typed, named when it is unknown (CLI11 would say only
  // "A subcommand is required"), with the closest one suggested.
  const auto unknown_command = [&](const std::string& word) {
    const auto guess = closest(word, command_names);
    return usage_error(ctx, argc, argv,
                       fmt::format("unknown command \"{}\"{}", printable(word),
                                   guess ? fmt::format("; did you mean \"{}\"?", *guess) : std::string()),
                       "run `taskctl --help` for the list of commands");
  };
  if (const std::string word = command_word(argc, argv);
      !word.empty() && std::find(command_names.begin(), command_names.end(), word) == command_names.end()) {
    return unknown_command(word);
  }
  if (const auto problem = bad_environment(argc, argv)) {
    return usage_error(ctx, argc, argv, *problem, "see ENVIRONMENT in `taskctl --help`");
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
    const CLI::App* parsed = nullptr;
    for (const auto& command : commands) {
      if (command.app->parsed()) {
        parsed = command.app;
      }
    }
    std::string message = e.what();
    std::string where = parsed != nullptr ? "taskctl " + parsed->get_name() : "taskctl";
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
      // CLI11 lists the leftovers last first ("never --colour"): name the
      // first unknown option instead, with the closest known one.
      const std::vector<std::string> left = app.remaining(true); // in the order given
      const auto option = std::find_if(left.begin(), left.end(), [](const std::string& a) {
        return a.size() > 1 && a[0] == '-';
      });
      if (option != left.end()) {
        const std::string flag = option->substr(0, option->find('='));
        std::vector<std::string> global_names;
        option_names(app, global_names);
        std::vector<std::string> names = global_names;
        if (parsed != nullptr) {
          option_names(*parsed, names);
        }
        const auto guess = closest(flag, names);
        message = fmt::format("unknown option \"{}\"{}", printable(flag),
                              guess ? fmt::format("; did you mean \"{}\"?", *guess) : std::string());
        if (guess && std::find(global_names.begin(), global_names.end(), *guess) != global_names.end()) {
          where = "taskctl"; // a global option: documented in taskctl --help
        }
      } else if (!left.empty()) {
        std::string args;
        for (const auto& a : left) {
          args += (args.empty() ? "" : " ") + printable(a);
        }
        message = fmt::format("unexpected argument{} {}", left.size() > 1 ? "s" : "", args);
      }
    }
    return usage_error(ctx, argc, argv, message, fmt::format("run `{} --help` for usage", where));
  }

  ctx.global.timeout_from_flag = on_command_line(argc, argv, {"--timeout"});
  // CLI11 checked both values (IsMember).
  ctx.global.output = parse_format(output_text).value_or(Format::unset);
  ctx.global.color = parse_color_mode(color_text).value_or(ColorMode::auto_);
  ctx.detect_terminal();
  if (help->parsed()) {
    if (help_topic.empty()) {
      // app.help() would describe the selected subcommand, help itself.
      write_stdout(app.get_formatter()->make_help(&app, "taskctl", CLI::AppFormatMode::Normal));
      flush_stdout();
      return exit_ok;
    }
    for (const auto& command : commands) {
      if (command.app->check_name(help_topic)) {
        write_stdout(command.app->help("taskctl"));
        flush_stdout();
        return exit_ok;
      }
    }
    if (help_topic == "help" || help_topic == "version") {
      write_stdout(app.get_subcommand(help_topic)->help("taskctl"));
      flush_stdout();
      return exit_ok;
    }
    return unknown_command(help_topic);
  }
  if (version->parsed()) {
    const int code = print_version(ctx);
    flush_stdout();
    return code;
  }
  for (auto& command : commands) {
    if (command.app->parsed()) {
      if (command.app->get_name() != "stores") {
        apply_entry_defaults(ctx); // `stores` lists every entry: no one entry's defaults
      }
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
