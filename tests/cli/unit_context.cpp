// Unit tests of cli/context: format names and resolution, the -o prescan,
// the colour rules, and the signal flag.

#include "context.hpp"
#include "unit_support.hpp"

#include <catch2/catch.hpp>

#include <csignal>

using namespace taskctl;
using clitest::ScopedEnv;

TEST_CASE("format and colour names: the four formats and three modes, nothing else", "[unit]")
{
  CHECK(parse_format("json") == Format::json);
  CHECK(parse_format("jsonl") == Format::jsonl);
  CHECK(parse_format("table") == Format::table);
  CHECK(parse_format("raw") == Format::raw);
  CHECK_FALSE(parse_format(""));
  CHECK_FALSE(parse_format("JSON"));
  CHECK_FALSE(parse_format("unset"));

  CHECK(parse_color_mode("auto") == ColorMode::auto_);
  CHECK(parse_color_mode("always") == ColorMode::always);
  CHECK(parse_color_mode("never") == ColorMode::never);
  CHECK_FALSE(parse_color_mode("sometimes"));
  CHECK_FALSE(parse_color_mode(""));
}

TEST_CASE("resolve_format: -o wins over the subcommand's default; JSON errors only when chosen", "[unit]")
{
  Context ctx;
  ctx.resolve_format(Format::jsonl);
  CHECK(ctx.format == Format::jsonl);
  CHECK_FALSE(ctx.json_errors()); // the default is jsonl, but nobody asked for it

  ctx.global.output = Format::table;
  ctx.resolve_format(Format::json);
  CHECK(ctx.format == Format::table);
  CHECK_FALSE(ctx.json_errors());

  ctx.global.output = Format::json;
  ctx.resolve_format(Format::table);
  CHECK(ctx.format == Format::json);
  CHECK(ctx.json_errors());

  ctx.global.output = Format::jsonl;
  CHECK(ctx.json_errors());
  ctx.global.output = Format::raw;
  CHECK_FALSE(ctx.json_errors());
}

TEST_CASE("prescan_output finds a JSON -o in every spelling, or TASKCTL_OUTPUT", "[unit]")
{
  ScopedEnv env;
  env.set("TASKCTL_OUTPUT", std::nullopt);
  auto scan = [](std::vector<const char*> args) {
    args.insert(args.begin(), "taskctl");
    return prescan_output(static_cast<int>(args.size()), args.data());
  };
  CHECK(scan({"ls"}) == Format::unset);
  CHECK(scan({"-o", "json", "ls", "--bogus"}) == Format::json);
  CHECK(scan({"ls", "--output", "jsonl"}) == Format::jsonl);
  CHECK(scan({"--output=json", "ls"}) == Format::json);
  CHECK(scan({"-ojsonl", "ls"}) == Format::jsonl);
  CHECK(scan({"-o", "table", "ls"}) == Format::unset); // only JSON formats matter
  CHECK(scan({"-o", "json", "-o", "raw"}) == Format::unset); // the last one counts
  CHECK(scan({"ls", "--", "-o", "json"}) == Format::unset);  // after "--" is data
  CHECK(scan({"ls", "-o"}) == Format::unset);                // no value

  env.set("TASKCTL_OUTPUT", "json");
  CHECK(scan({"ls"}) == Format::json);
  CHECK(scan({"-o", "table", "ls"}) == Format::unset); // the flag overrides the environment
  env.set("TASKCTL_OUTPUT", "table");
  CHECK(scan({"ls"}) == Format::unset);
}

TEST_CASE("colour: always and never as said; auto only on a terminal, not with NO_COLOR or TERM=dumb", "[unit]")
{
  struct Case
  {
    ColorMode mode;
    bool out_tty;
    bool err_tty;
    std::optional<std::string> no_color;
    std::optional<std::string> term;
    bool color_out;
    bool color_err;
  };
  const std::optional<std::string> unset;
  const Case cases[] = {
    {ColorMode::always, false, false, unset, "xterm", true, true},
    {ColorMode::always, true, true, "1", "dumb", true, true}, // --color always beats NO_COLOR
    {ColorMode::never, true, true, unset, "xterm", false, false},
    {ColorMode::auto_, true, false, unset, "xterm", true, false},
    {ColorMode::auto_, false, true, unset, unset, false, true},
    {ColorMode::auto_, true, true, "", "xterm", true, true}, // NO_COLOR set but empty does not count
    {ColorMode::auto_, true, true, "1", "xterm", false, false},
    {ColorMode::auto_, true, true, unset, "dumb", false, false},
  };
  for (const auto& c : cases) {
    INFO("mode " << static_cast<int>(c.mode) << ", ttys " << c.out_tty << c.err_tty << ", NO_COLOR "
                 << c.no_color.value_or("(unset)") << ", TERM " << c.term.value_or("(unset)"));
    ScopedEnv env;
    env.set("NO_COLOR", c.no_color).set("TERM", c.term);
    CHECK(environment_allows_color() == (c.no_color.value_or("").empty() && c.term != "dumb"));
    Context ctx;
    ctx.global.color = c.mode;
    ctx.set_terminal(true, c.out_tty, c.err_tty);
    CHECK(ctx.stdin_tty);
    CHECK(ctx.stdout_tty == c.out_tty);
    CHECK(ctx.stderr_tty == c.err_tty);
    CHECK(ctx.color_stdout == c.color_out);
    CHECK(ctx.color_stderr == c.color_err);
  }
}

TEST_CASE("CliError carries its exit status, code and extra fields", "[unit]")
{
  CliError error(exit_conflict, "version_conflict", "version conflict");
  error.extra["key"] = "alice:t1";
  CHECK(error.exit_code() == 4);
  CHECK(error.code() == "version_conflict");
  CHECK(std::string(error.what()) == "version conflict");
  CHECK(error.extra.dump() == R"({"key":"alice:t1"})");
  CHECK(error.causes.empty());
  CHECK(error.details.empty());
  CHECK(error.hint.empty());
}

// Last: the flag, once set, stays set for the rest of this process.
TEST_CASE("signals: the first SIGTERM sets the flag that check_interrupted turns into Interrupted", "[unit]")
{
  CHECK_FALSE(interrupted());
  CHECK(interrupt_exit_code() == 130);
  CHECK_NOTHROW(check_interrupted());

  install_signal_handlers();
  REQUIRE(std::raise(SIGTERM) == 0); // handled: the process goes on
  CHECK(interrupted());
  CHECK(interrupt_exit_code() == 143);
  CHECK_THROWS_AS(check_interrupted(), Interrupted);
}
