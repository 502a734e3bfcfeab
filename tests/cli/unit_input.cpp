// Unit tests of cli/input: read_input from files and pipes, FdStreamBuf, the
// confirmation rules (what counts as yes, when --yes is required) and
// --max-delete.

#include "input.hpp"
#include "unit_support.hpp"

#include "support/temp_dir.hpp"

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include <cerrno>
#include <istream>
#include <iterator>

#include <unistd.h>

using namespace taskctl;
using taskstore::testing::TempDir;

namespace {

// Bytes of every value 0..255, repeated to more than one 64 KiB read.
std::string
binary_data(std::size_t size)
{
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    data[i] = static_cast<char>(i * 7 % 256);
  }
  return data;
}

} // namespace

TEST_CASE("read_input reads a file whole, every byte as it is", "[unit]")
{
  TempDir dir;
  const std::string data = binary_data(200'000);
  const std::string path = dir.write("in.json", data);
  Context ctx;
  CHECK(read_input(ctx, path) == data);
  CHECK(read_input(ctx, dir.write("empty", "")).empty());
}

TEST_CASE("read_input: an unreadable file is io_error (exit 1) naming the file", "[unit]")
{
  TempDir dir;
  Context ctx;
  auto error = clitest::cli_error([&] { read_input(ctx, dir.file("missing.json")); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_failure);
  CHECK(error->code() == "io_error");
  CHECK(std::string(error->what()) == "cannot read " + dir.file("missing.json") + ": No such file or directory");

  error = clitest::cli_error([&] { read_input(ctx, dir.path()); }); // a directory opens, but read fails
  REQUIRE(error);
  CHECK(error->code() == "io_error");
  CHECK_THAT(error->what(), Catch::Contains("Is a directory"));
}

TEST_CASE("read_input reads standard input for - and, when it is not a terminal, for no FILE", "[unit]")
{
  const std::string data = binary_data(150'000); // more than a pipe holds
  Context ctx;
  std::string got;
  clitest::with_stdin(data, [&] { got = read_input(ctx, "-"); });
  CHECK(got == data);
  clitest::with_stdin("{}", [&] { got = read_input(ctx, ""); });
  CHECK(got == "{}");

  ctx.stdin_tty = true; // "-" still reads it; no FILE is a usage error
  clitest::with_stdin("x", [&] { got = read_input(ctx, "-"); });
  CHECK(got == "x");
  auto error = clitest::cli_error([&] { read_input(ctx, ""); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_usage);
  CHECK(std::string(error->what()) == "no input: standard input is a terminal");
  CHECK_THAT(error->hint, Catch::Contains("FILE argument"));
}

TEST_CASE("FdStreamBuf streams a descriptor to EOF; a failed read is reported with its errno", "[unit]")
{
  const std::string data = binary_data(100'000);
  std::string got;
  bool failed = true;
  clitest::with_stdin(data, [&] {
    FdStreamBuf buffer(STDIN_FILENO);
    std::istream in(&buffer);
    got.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    failed = buffer.failed();
  });
  CHECK(got == data);
  CHECK_FALSE(failed);

  FdStreamBuf closed(-1); // no such descriptor
  std::istream in(&closed);
  CHECK(in.get() == std::char_traits<char>::eof());
  CHECK(closed.failed());
  CHECK(closed.error() == EBADF);
}

TEST_CASE("answer_is_yes: y or yes in any case, blanks around them allowed", "[unit]")
{
  for (const char* yes : {"y", "Y", "yes", "YES", "Yes", "  y", "yes\t", " \tYeS  "}) {
    INFO(yes);
    CHECK(answer_is_yes(yes));
  }
  for (const char* no : {"", " ", "n", "no", "yess", "ye", "y es", "oui", "1"}) {
    INFO(no);
    CHECK_FALSE(answer_is_yes(no));
  }
}

TEST_CASE("confirmation: --yes or a terminal, else confirmation_required (exit 2) naming the action", "[unit]")
{
  Context ctx;
  CHECK_NOTHROW(require_yes_without_tty(ctx, true, "delete everything"));
  CHECK_NOTHROW(confirm(ctx, true, "delete everything", "Really?")); // --yes: no prompt at all

  auto error = clitest::cli_error([&] { require_yes_without_tty(ctx, false, "delete everything"); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_usage);
  CHECK(error->code() == "confirmation_required");
  CHECK(std::string(error->what()) ==
        "refusing to delete everything without confirmation: standard input is not a terminal");
  CHECK(error->hint == "pass --yes to go ahead, or --dry-run to see what would be done");

  // confirm applies the same rule before it opens /dev/tty.
  error = clitest::cli_error([&] { confirm(ctx, false, "delete everything", "Really?"); });
  REQUIRE(error);
  CHECK(error->code() == "confirmation_required");

  ctx.stdin_tty = true;
  CHECK_NOTHROW(require_yes_without_tty(ctx, false, "delete everything"));
}

TEST_CASE("--max-delete: no limit unless given; more than N is max_delete_exceeded (exit 4)", "[unit]")
{
  CLI::App app;
  MaxDeleteOption max_delete;
  max_delete.add_to(app, "Refuse when more than N would go");
  app.parse("", false);
  CHECK_FALSE(max_delete.limit());
  CHECK_NOTHROW(max_delete.check(1'000'000, "remove everything", "hint"));

  app.parse("--max-delete 0", false);
  REQUIRE(max_delete.limit() == std::optional<std::uint64_t>(0));
  CHECK_NOTHROW(max_delete.check(0, "remove nothing", "hint"));
  app.parse("--max-delete 2", false);
  CHECK(max_delete.limit() == std::optional<std::uint64_t>(2));
  CHECK_NOTHROW(max_delete.check(2, "remove 2 records", "hint"));
  auto error = clitest::cli_error([&] { max_delete.check(3, "remove 3 records", "raise --max-delete"); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_conflict);
  CHECK(error->code() == "max_delete_exceeded");
  CHECK(std::string(error->what()) == "refusing to remove 3 records: more than --max-delete 2");
  CHECK(error->hint == "raise --max-delete");
  CHECK(error->extra.dump() == R"({"count":3,"max_delete":2})");
  CHECK(app.get_option("--max-delete")->get_type_name() == "N");
}
