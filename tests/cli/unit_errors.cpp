// Unit tests of cli/errors: every failure mapped to its exit status, code,
// causes and hint (the exit status table of DESIGN.md).

#include "errors.hpp"
#include "context.hpp"

#include "taskstore/error.hpp"

#include <catch2/catch.hpp>

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace taskctl;

namespace {

// The report for what f throws.
template <class F>
ErrorReport
report_of(const Context& ctx, F&& f)
{
  try {
    f();
  } catch (...) {
    return failure_report(ctx, std::current_exception());
  }
  FAIL("nothing was thrown");
  return {};
}

// Every test runs against mem://, the store the hints name.
Context
memory_context()
{
  Context ctx;
  ctx.global.store = "mem://";
  ctx.global.timeout = "2s";
  return ctx;
}

} // namespace

TEST_CASE("a CliError keeps its status, code, details, hint and extra; its causes come first", "[unit]")
{
  const Context ctx = memory_context();
  const auto r = report_of(ctx, [] {
    try {
      throw std::runtime_error("disk on fire");
    } catch (...) {
      CliError error(exit_invalid, "validation_failed", "invalid record");
      error.causes = {"own cause"};
      error.details = {"/a: bad"};
      error.hint = "fix it";
      error.extra["key"] = "a:1";
      std::throw_with_nested(error);
    }
  });
  CHECK(r.exit_code == 6);
  CHECK(r.code == "validation_failed");
  CHECK(r.message == "invalid record");
  CHECK(r.causes == std::vector<std::string>{"own cause", "disk on fire"});
  CHECK(r.details == std::vector<std::string>{"/a: bad"});
  CHECK(r.hint == "fix it");
  CHECK(r.extra.dump() == R"({"key":"a:1"})");
}

TEST_CASE("every library error gets its exit status, code and hint", "[unit]")
{
  struct Case
  {
    std::function<void()> fail;
    int exit_code;
    std::string code;
    std::string message;
    std::string hint;
    std::string extra;
  };
  const Case cases[] = {
    {[] { throw taskstore::StorageError::not_found("alice:t1"); }, 3, "not_found", "key not found: alice:t1", "",
     R"({"key":"alice:t1"})"},
    {[] { throw taskstore::StorageError::version_conflict("alice:t1", 2, 5); }, 4, "version_conflict",
     "version conflict on key alice:t1: expected 2, found 5",
     "the current version is 5; read it with `taskctl get alice:t1` and retry",
     R"({"key":"alice:t1","expected_version":2,"current_version":5})"},
    {[] { throw taskstore::StorageError::backend("connect failed", true); }, 5, "unavailable",
     "backend error: connect failed", "is the store reachable? store: mem://; --timeout 2s (raise it to wait longer)",
     "{}"},
    {[] { throw taskstore::StorageError::backend("bad reply"); }, 1, "backend", "backend error: bad reply",
     "store: mem://", "{}"},
    {[] { throw taskstore::StorageError::capacity_exceeded("full"); }, 4, "capacity_exceeded",
     "capacity exceeded: full", "", "{}"},
    {[] { throw taskstore::InvalidArgument("invalid key format (missing ':'): x"); }, 2, "invalid_argument",
     "invalid key format (missing ':'): x", "", "{}"},
    {[] { throw taskstore::ConfigError("no credentials"); }, 7, "config", "no credentials", "store: mem://", "{}"},
    {[] { throw taskstore::TaskError::not_found("t1"); }, 3, "not_found", taskstore::TaskError::not_found("t1").what(),
     "", "{}"},
    {[] { throw taskstore::TaskError::concurrent_modification("t1", 1, 2); }, 4, "version_conflict",
     taskstore::TaskError::concurrent_modification("t1", 1, 2).what(), "", "{}"},
    {[] { throw taskstore::TaskError::invalid_transition("t1", "completed", "working", std::nullopt); }, 6,
     "task_error", "invalid transition from completed to working for task t1", "", "{}"},
    {[] { throw taskstore::TaskError::resource_exhausted(std::nullopt); }, 1, "task_error", "resource exhausted", "",
     "{}"},
    {[] { throw std::logic_error("bug"); }, 1, "internal", "bug", "", "{}"},
  };
  const Context ctx = memory_context();
  for (const auto& c : cases) {
    const auto r = report_of(ctx, c.fail);
    INFO(r.message);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.code == c.code);
    CHECK(r.message == c.message);
    CHECK(r.hint == c.hint);
    CHECK(r.extra.dump() == c.extra);
    CHECK(r.causes.empty());
  }
}

TEST_CASE("the messages of nested exceptions become causes, outermost first", "[unit]")
{
  const Context ctx = memory_context();
  const auto r = report_of(ctx, [] {
    try {
      try {
        throw std::out_of_range("innermost");
      } catch (...) {
        std::throw_with_nested(taskstore::StorageError::backend("middle", true));
      }
    } catch (...) {
      std::throw_with_nested(std::runtime_error("outer"));
    }
  });
  CHECK(r.exit_code == 1);
  CHECK(r.code == "internal");
  CHECK(r.message == "outer");
  CHECK(r.causes == std::vector<std::string>{"backend error: middle", "innermost"});
}

TEST_CASE("Interrupted is reported as interrupted with exit 130", "[unit]")
{
  const Context ctx = memory_context();
  const auto r = report_of(ctx, [] { throw Interrupted(); });
  CHECK(r.exit_code == 130);
  CHECK(r.code == "interrupted");
  CHECK(r.message == "interrupted");
  CHECK(r.causes.empty());
}
