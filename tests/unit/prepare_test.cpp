#include "taskstore/error.hpp"
#include "support/fixtures.hpp"
#include "taskstore/prepare.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace taskstore;
using namespace taskstore::testing;

namespace {

const std::string& k_pretty = k_completed_record_pretty;
const std::string& k_compact = k_completed_record;
const std::string k_key = "user-123:786512e2-9e0d-44bd-8f29-789f320fe840";

std::string
with(std::string text, const std::string& from, const std::string& to)
{
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

bool
has(const PreparedRecord& p, const std::string& pointer, Rule rule)
{
  return std::any_of(p.violations.begin(), p.violations.end(),
                     [&](const Violation& v) { return v.pointer == pointer && v.rule == rule; });
}

} // namespace

TEST_CASE("prepare_record: a valid record becomes the canonical bytes")
{
  const auto p = prepare_record(k_key, k_pretty, StoreConfig{});
  REQUIRE(p.ok());
  CHECK(p.bytes == k_compact);
  REQUIRE(p.record);
  CHECK(p.record->task.status == TaskStatus::completed);
  CHECK(p.record->owner_id == "user-123");
  CHECK(p.unknown_fields.empty());
  // Idempotent on its own output.
  CHECK(prepare_record(k_key, p.bytes, StoreConfig{}).bytes == k_compact);
}

TEST_CASE("prepare_record: unknown fields are warnings and are not stored")
{
  auto text = with(k_pretty, "\"ownerId\": \"user-123\",", "\"ownerId\": \"user-123\", \"version\": 7, \"extra\": {},");
  text = with(text, "\"ttl\": 3600000,", "\"ttl\": 3600000, \"color\": \"red\",");
  const auto p = prepare_record(k_key, text, StoreConfig{});
  REQUIRE(p.ok());
  CHECK(p.bytes == k_compact);
  CHECK(p.unknown_fields == std::vector<std::string>{"/version", "/extra", "/task/color"});
}

TEST_CASE("prepare_record: the record must match its key")
{
  const auto p = prepare_record("other:786512e2-9e0d-44bd-8f29-789f320fe840", k_pretty, StoreConfig{});
  CHECK_FALSE(p.ok());
  CHECK(p.total_violations == 1);
  REQUIRE(p.violations.size() == 1);
  CHECK(p.violations[0].pointer == "/ownerId");
  CHECK(p.violations[0].message == "ownerId \"user-123\" does not match the key's owner \"other\"");
  CHECK(p.bytes.empty());

  const auto q = prepare_record("other:t2", k_pretty, StoreConfig{});
  CHECK(q.total_violations == 2);
  CHECK(has(q, "/task/taskId", Rule::schema));

  CHECK_THROWS_AS(prepare_record("no-colon", k_pretty, StoreConfig{}), InvalidArgument);
}

TEST_CASE("prepare_record: every problem is reported with its pointer")
{
  SECTION("syntax")
  {
    const auto p = prepare_record(k_key, "{\"task\":", StoreConfig{});
    CHECK_FALSE(p.ok());
    REQUIRE(p.syntax_error_at);
    CHECK(p.violations.at(0).rule == Rule::syntax);
  }
  SECTION("schema")
  {
    const auto p = prepare_record(k_key, with(k_pretty, "\"completed\"", "\"done\""), StoreConfig{});
    CHECK_FALSE(p.ok());
    CHECK(has(p, "/task/status", Rule::schema));
  }
  SECTION("limits")
  {
    StoreConfig limits;
    limits.max_string_length = 4;
    const auto p = prepare_record(k_key, k_pretty, limits);
    CHECK_FALSE(p.ok());
    CHECK(has(p, "/variables/tool_name", Rule::string_length));
    CHECK(has(p, "/variables/arguments/path", Rule::string_length));
    CHECK(p.total_violations == 2);
  }
  SECTION("serde_json's recursion limit: a result may hold 126 nested arrays, not 127")
  {
    const auto fits = with(k_pretty, "{\"answer\": 42}", std::string(126, '[') + std::string(126, ']'));
    CHECK(prepare_record(k_key, fits, StoreConfig{}).ok());
    const auto deep = with(k_pretty, "{\"answer\": 42}", std::string(127, '[') + std::string(127, ']'));
    const auto p = prepare_record(k_key, deep, StoreConfig{});
    CHECK_FALSE(p.ok());
    REQUIRE(p.violations.size() == 1);
    CHECK(p.violations[0].rule == Rule::depth);
    CHECK(p.violations[0].actual == 128);
    CHECK(p.violations[0].limit == 127);
    CHECK(p.violations[0].pointer == "/result" + std::string("/0").append(std::string()).substr(0, 0) +
                                       [] { std::string s; for (int i = 0; i < 126; ++i) s += "/0"; return s; }());
  }
  SECTION("an unknown field is not read by serde, so not depth-limited (below taskctl's 512)")
  {
    auto deep = with(k_pretty, "\"ownerId\"", "\"zz\": " + std::string(300, '[') + std::string(300, ']') + ", \"ownerId\"");
    const auto p = prepare_record(k_key, deep, StoreConfig{});
    CHECK(p.ok());
    CHECK(p.bytes == k_compact);
    deep = with(k_pretty, "\"ownerId\"", "\"zz\": " + std::string(600, '[') + std::string(600, ']') + ", \"ownerId\"");
    const auto q = prepare_record(k_key, deep, StoreConfig{});
    CHECK_FALSE(q.ok());
    CHECK(q.violations.at(0).limit == 512);
  }
}

TEST_CASE("check_stored_record: the validator's report plus the key match")
{
  ValidateOptions options;
  CHECK(check_stored_record(k_key, k_compact, options).ok());
  const auto r = check_stored_record("user-9:786512e2-9e0d-44bd-8f29-789f320fe840", k_compact, options);
  CHECK_FALSE(r.ok());
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].pointer == "/ownerId");
  const auto broken = check_stored_record(k_key, "not json", options);
  CHECK(broken.syntax_error_at);
}
