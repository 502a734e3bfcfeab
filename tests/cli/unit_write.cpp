// Unit tests of cli/write: the limits options, preparing a record (the
// CliError shape of an invalid one, the unknown-field warnings), the version
// rules of put, put --if-absent and cas (and their dry runs) on a memory
// store, and how an outcome is printed.

#include "write.hpp"
#include "context.hpp"
#include "store.hpp"
#include "unit_support.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include <unistd.h>

using namespace taskctl;
using clitest::captured;
using clitest::cli_error;

namespace {

// A valid record for alice:t1 in the canonical compact form pmcp-tasks writes.
const std::string k_record =
  R"({"task":{"taskId":"t1","status":"working","createdAt":"2025-11-25T10:30:00.123Z",)"
  R"("lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":3600000,"pollInterval":500},)"
  R"("ownerId":"alice","variables":{"a":[1,2]},"result":null,"requestMethod":"tools/call",)"
  R"("expiresAt":"2099-01-01T00:00:00.123456789Z"})";

WriteRequest
request(std::string key)
{
  WriteRequest r;
  r.key = std::move(key);
  return r;
}

} // namespace

TEST_CASE("LimitOptions: the library's defaults, three options in the Limits group", "[unit]")
{
  LimitOptions limits;
  const taskstore::StoreConfig defaults;
  CHECK(limits.config().max_variable_depth == defaults.max_variable_depth);
  CHECK(limits.config().max_string_length == defaults.max_string_length);
  CHECK(limits.config().max_variable_size_bytes == defaults.max_variable_size_bytes);

  CLI::App app;
  WriteRequest r;
  add_write_options(app, r);
  app.parse("--max-depth 3 --max-string-length 7 --max-size 99 -n --no-validate alice:t1 rec.json", false);
  CHECK(r.key == "alice:t1");
  CHECK(r.input == "rec.json");
  CHECK(r.dry_run);
  CHECK(r.no_validate);
  const auto config = r.limits.config();
  CHECK(config.max_variable_depth == 3);
  CHECK(config.max_string_length == 7);
  CHECK(config.max_variable_size_bytes == 99);
  CHECK(config.default_ttl_ms == defaults.default_ttl_ms); // untouched
  CHECK(app.get_option("--max-depth")->get_group() == "Limits");
}

TEST_CASE("prepare_for_write returns the canonical compact bytes of a valid record", "[unit]")
{
  Context ctx;
  const std::string pretty = "{\n  \"task\": " + k_record.substr(8);
  std::string bytes;
  const auto err = captured(STDERR_FILENO, [&] { bytes = prepare_for_write(ctx, "alice:t1", pretty, {}); });
  CHECK(bytes == k_record);
  CHECK(err.empty());
}

TEST_CASE("prepare_for_write: an invalid record is one CliError validation_failed listing every problem",
          "[unit]")
{
  Context ctx;
  std::string record = k_record;
  record.replace(record.find("\"ownerId\":\"alice\""), 17, "\"ownerId\":\"bob\"");
  record.replace(record.find("\"a\":[1,2]"), 9, "\"a\":[[[[[[[[[[[1]]]]]]]]]]]");

  auto error = cli_error([&] { prepare_for_write(ctx, "alice:t1", record, {}); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_invalid);
  CHECK(error->code() == "validation_failed");
  CHECK(std::string(error->what()) == "invalid record for key alice:t1: 2 problems");
  REQUIRE(error->details.size() == 2);
  CHECK_THAT(error->details[0] + "\n" + error->details[1], Catch::Contains("(11 > 10)"));
  CHECK_THAT(error->details[0] + "\n" + error->details[1],
             Catch::Contains("/ownerId: ownerId \"bob\" does not match the key's owner \"alice\""));
  CHECK(error->hint == "fix the record, or pass --no-validate to store the bytes as given");
  CHECK(error->extra["key"] == "alice:t1");
  CHECK(error->extra["total_violations"] == 2);
  REQUIRE(error->extra["violations"].size() == 2);
  CHECK(error->extra["violations"][0].contains("pointer"));

  LimitOptions deep;
  deep.max_depth = 20;
  error = cli_error([&] { prepare_for_write(ctx, "alice:t1", record, deep); });
  REQUIRE(error);
  CHECK(std::string(error->what()) == "invalid record for key alice:t1: 1 problem");

  error = cli_error([&] { prepare_for_write(ctx, "alice:t1", "{\"task\":", {}); });
  REQUIRE(error);
  CHECK(error->extra["violations"][0]["rule"] == "syntax");

  CHECK_THROWS_AS(prepare_for_write(ctx, "nocolon", k_record, {}), taskstore::InvalidArgument);
}

TEST_CASE("prepare_for_write drops unknown fields with a warning, unless --quiet", "[unit]")
{
  Context ctx;
  std::string record = k_record;
  record.insert(record.size() - 1, ",\"extra\":1");
  record.insert(record.find("\"pollInterval\""), "\"colour\":\"red\",");
  std::string bytes;
  auto err = captured(STDERR_FILENO, [&] { bytes = prepare_for_write(ctx, "alice:t1", record, {}); });
  CHECK(bytes == k_record);
  CHECK_THAT(err, Catch::Contains("warning: unknown field /extra is not stored (pmcp-tasks ignores it too)"));
  CHECK_THAT(err, Catch::Contains("warning: unknown field /task/colour is not stored"));

  ctx.global.quiet = true;
  err = captured(STDERR_FILENO, [&] { bytes = prepare_for_write(ctx, "alice:t1", record, {}); });
  CHECK(bytes == k_record);
  CHECK(err.empty());
}

TEST_CASE("apply_write: put writes the next version; --if-absent only creates", "[unit]")
{
  auto store = taskstore::open_store("mem://");
  auto put = request("alice:t1");
  auto outcome = apply_write(*store, put, k_record);
  CHECK(outcome.key == "alice:t1");
  CHECK(outcome.version == 1);
  CHECK(outcome.previous == 0);
  CHECK_FALSE(outcome.dry_run);
  CHECK(outcome.bytes == k_record.size());
  outcome = apply_write(*store, put, "x");
  CHECK(outcome.version == 2);
  CHECK(outcome.previous == 1);
  CHECK(store->get("alice:t1").data == "x");

  auto create = request("alice:t1");
  create.if_absent = true;
  auto error = cli_error([&] { apply_write(*store, create, k_record); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_conflict);
  CHECK(error->code() == "already_exists");
  CHECK(std::string(error->what()) == "key alice:t1 already exists (version 2)");
  CHECK(error->extra["current_version"] == 2);
  CHECK(store->get("alice:t1").version == 2);

  create.key = "alice:t2";
  CHECK(apply_write(*store, create, k_record).version == 1);
}

TEST_CASE("apply_write: cas writes on the expected version only", "[unit]")
{
  auto store = taskstore::open_store("mem://");
  auto cas = request("alice:t1");
  cas.expect_version = 3;
  auto error = cli_error([&] { apply_write(*store, cas, k_record); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_not_found);
  CHECK(error->code() == "not_found");
  CHECK(error->extra["expected_version"] == 3);
  CHECK(error->extra["current_version"] == 0);

  cas.expect_version = 0; // create
  auto outcome = apply_write(*store, cas, k_record);
  CHECK(outcome.version == 1);
  CHECK(outcome.previous == 0);
  error = cli_error([&] { apply_write(*store, cas, k_record); });
  REQUIRE(error);
  CHECK(error->code() == "already_exists");

  cas.expect_version = 1;
  outcome = apply_write(*store, cas, "y");
  CHECK(outcome.version == 2);
  CHECK(outcome.previous == 1);
  error = cli_error([&] { apply_write(*store, cas, "z"); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_conflict);
  CHECK(error->code() == "version_conflict");
  CHECK(std::string(error->what()) ==
        "version conflict on key alice:t1: expected 1, found 2 (the current version is 2)");
  CHECK(error->extra["expected_version"] == 1);
  CHECK(error->extra["current_version"] == 2);
  CHECK_THAT(error->hint, Catch::Contains("`taskctl get alice:t1` shows version 2"));
  CHECK(store->get("alice:t1").data == "y");
}

TEST_CASE("apply_write --dry-run: the same rules, the version a write would get, nothing written", "[unit]")
{
  auto store = taskstore::open_store("mem://");
  auto dry = request("alice:t1");
  dry.dry_run = true;
  auto outcome = apply_write(*store, dry, k_record);
  CHECK(outcome.dry_run);
  CHECK(outcome.version == 1);
  CHECK(outcome.previous == 0);
  CHECK_THROWS_AS(store->get("alice:t1"), taskstore::StorageError);

  store->put("alice:t1", k_record);
  store->put("alice:t1", k_record);
  outcome = apply_write(*store, dry, k_record);
  CHECK(outcome.version == 3);
  CHECK(outcome.previous == 2);

  dry.if_absent = true;
  auto error = cli_error([&] { apply_write(*store, dry, k_record); });
  REQUIRE(error);
  CHECK(error->code() == "already_exists");
  dry.if_absent = false;
  dry.expect_version = 1;
  error = cli_error([&] { apply_write(*store, dry, k_record); });
  REQUIRE(error);
  CHECK(error->code() == "version_conflict");
  dry.expect_version = 0;
  error = cli_error([&] { apply_write(*store, dry, k_record); });
  REQUIRE(error);
  CHECK(error->code() == "already_exists");
  dry.key = "alice:t9";
  dry.expect_version = 4;
  error = cli_error([&] { apply_write(*store, dry, k_record); });
  REQUIRE(error);
  CHECK(error->code() == "not_found");
  dry.expect_version = 2;
  dry.key = "alice:t1";
  CHECK(apply_write(*store, dry, k_record).version == 3);
  CHECK(store->get("alice:t1").version == 2);
}

TEST_CASE("print_write_outcome: a sentence, the version alone, or one JSON object", "[unit]")
{
  Context ctx;
  ctx.format = Format::table;
  const WriteOutcome stored{"alice:t1", 4, 3, false, 120, "", false};
  const WriteOutcome planned{"alice:t2", 1, 0, true, 99, "", false};
  // Table: a summary on stderr (issue 12), naming the store; nothing on stdout.
  const std::string where = store_display(ctx);
  CHECK(captured(STDOUT_FILENO, [&] { print_write_outcome(ctx, stored); }).empty());
  CHECK(captured(STDERR_FILENO, [&] { print_write_outcome(ctx, stored); }) ==
        "stored alice:t1 (version 4) in " + where + "\n");
  CHECK(captured(STDERR_FILENO, [&] { print_write_outcome(ctx, planned); }) ==
        "dry run: alice:t2 is valid; would write version 1 (a new key) in " + where + "; nothing was written\n");
  CHECK(captured(STDERR_FILENO, [&] { print_write_outcome(ctx, WriteOutcome{"a:b", 5, 4, true, 1, "", false}); }) ==
        "dry run: a:b is valid; would write version 5 (replacing version 4) in " + where + "; nothing was written\n");
  ctx.global.quiet = true;
  CHECK(captured(STDERR_FILENO, [&] { print_write_outcome(ctx, stored); }).empty());
  ctx.global.quiet = false;
  ctx.format = Format::raw;
  CHECK(captured(STDOUT_FILENO, [&] { print_write_outcome(ctx, stored); }) == "4\n");
  ctx.format = Format::json;
  CHECK(captured(STDOUT_FILENO, [&] { print_write_outcome(ctx, stored); }) ==
        R"({"schema_version":1,"key":"alice:t1","version":4,"previous_version":3,"dry_run":false,"bytes":120})"
        "\n");
  ctx.format = Format::jsonl;
  CHECK(captured(STDOUT_FILENO, [&] { print_write_outcome(ctx, planned); }) ==
        R"({"key":"alice:t2","version":1,"previous_version":0,"dry_run":true,"bytes":99})"
        "\n");
}
