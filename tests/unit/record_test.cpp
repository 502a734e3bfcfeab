#include "support/fixtures.hpp"
#include "taskstore/error.hpp"
#include "taskstore/json/parse.hpp"
#include "taskstore/record.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <regex>
#include <set>
#include <string>

using namespace taskstore;
using namespace taskstore::testing;

namespace {

std::vector<SchemaProblem>
problems_of(const std::string& text)
{
  TaskRecord r;
  return record_from_json(Json::parse(text), r);
}

bool
has_problem(const std::vector<SchemaProblem>& problems, const std::string& pointer,
            const std::string& fragment)
{
  return std::any_of(problems.begin(), problems.end(), [&](const SchemaProblem& p) {
    return p.pointer == pointer && p.message.find(fragment) != std::string::npos;
  });
}

TaskRecord
minimal()
{
  TaskRecord r;
  r.task.task_id = "t1";
  r.task.created_at = "2025-11-25T10:30:00.123Z";
  r.task.last_updated_at = "2025-11-25T10:30:00.123Z";
  r.owner_id = "o";
  r.request_method = "tools/call";
  return r;
}

} // namespace

TEST_CASE("serialize_record: the examples of facts §2.5 byte for byte")
{
  SECTION("a fresh task")
  {
    const TaskRecord r = parse_record(k_fresh_record);
    CHECK(serialize_record(r) == k_fresh_record);
    CHECK(to_serde_json(record_to_json(r)) == k_fresh_record);
    CHECK(r.task.status == TaskStatus::working);
    CHECK(r.task.ttl == 3'600'000U);
    CHECK(r.task.poll_interval == 500U);
    CHECK_FALSE(r.task.status_message);
    CHECK_FALSE(r.result);
    CHECK(r.variables == Json::object());
    REQUIRE(r.expires_at);
    CHECK(r.expires_at->nanos == 123'456'789U);
    CHECK(r.version == 0);
  }
  SECTION("the completed task, compacted")
  {
    const TaskRecord r = parse_record(k_completed_record_pretty);
    CHECK(serialize_record(r) == k_completed_record);
    CHECK(serialize_record(parse_record(k_completed_record)) == k_completed_record);
    CHECK(r.task.status_message == "All done");
    CHECK(r.result == Json::parse(R"({"answer":42})"));
  }
  SECTION("built field by field")
  {
    TaskRecord r;
    r.task.task_id = "786512e2-9e0d-44bd-8f29-789f320fe840";
    r.task.status = TaskStatus::completed;
    r.task.status_message = "All done";
    r.task.created_at = "2025-11-25T10:30:00.123Z";
    r.task.last_updated_at = "2025-11-25T10:31:05.456Z";
    r.task.ttl = 3'600'000;
    r.task.poll_interval = 500;
    r.owner_id = "user-123";
    r.variables["tool_name"] = "analyze";
    r.variables["arguments"] = Json{{"path", "/data/x"}};
    r.result = Json{{"answer", 42}};
    r.request_method = "tools/call";
    r.expires_at = parse_rfc3339("2025-11-25T11:30:00.123456789Z");
    r.version = 9;
    CHECK(serialize_record(r) == k_completed_record);
    TaskRecord back = parse_record(serialize_record(r));
    CHECK(back.version == 0);
    back.version = 9;
    CHECK(back == r);
  }
}

TEST_CASE("record_to_json: omitted and null fields")
{
  const TaskRecord r = minimal();
  CHECK(serialize_record(r) ==
        R"({"task":{"taskId":"t1","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":null},"ownerId":"o","variables":{},"result":null,"requestMethod":"tools/call","expiresAt":null})");
  const Json j = record_to_json(r);
  CHECK_FALSE(j["task"].contains("statusMessage"));
  CHECK_FALSE(j["task"].contains("pollInterval"));
  CHECK_FALSE(j["task"].contains("_meta"));
  CHECK(j["task"]["ttl"].is_null());
  CHECK(j["result"].is_null());
  CHECK(j["expiresAt"].is_null());
  CHECK(j["variables"] == Json::object());
  CHECK_FALSE(j.contains("version"));

  SECTION("_meta, statusMessage and pollInterval when present, in field order")
  {
    TaskRecord m = minimal();
    m.task.status_message = "hi";
    m.task.poll_interval = 0;
    m.task.ttl = 0;
    m.task.meta = Json::parse(R"({"z":1,"a":{"y":2,"b":3}})");
    CHECK(to_serde_json(task_to_json(m.task)) ==
          R"({"taskId":"t1","status":"working","statusMessage":"hi","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":0,"pollInterval":0,"_meta":{"z":1,"a":{"y":2,"b":3}}})");
  }
}

TEST_CASE("parse_record: reading rules")
{
  SECTION("version is never read nor written")
  {
    std::string with_version = k_fresh_record;
    with_version.insert(1, R"("version":7,)");
    const TaskRecord r = parse_record(with_version);
    CHECK(r.version == 0);
    CHECK(serialize_record(r) == k_fresh_record);
    TaskRecord v = r;
    v.version = 5;
    CHECK(serialize_record(v).find("version") == std::string::npos);
  }
  SECTION("unknown keys are ignored, at the top level and in task")
  {
    Json j = Json::parse(k_fresh_record);
    j["extra"] = Json::array({1, 2});
    j["task"]["somethingNew"] = "x";
    TaskRecord r;
    CHECK(record_from_json(j, r).empty());
    CHECK(serialize_record(r) == k_fresh_record);
  }
  SECTION("missing or null optional fields")
  {
    const TaskRecord r = parse_record(
      R"({"task":{"taskId":"t","status":"failed","statusMessage":null,"createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","pollInterval":null,"_meta":null},"ownerId":"o","variables":{},"requestMethod":"m"})");
    CHECK_FALSE(r.task.status_message);
    CHECK_FALSE(r.task.ttl);
    CHECK_FALSE(r.task.poll_interval);
    CHECK_FALSE(r.task.meta);
    CHECK_FALSE(r.result);
    CHECK_FALSE(r.expires_at);
  }
  SECTION("a JSON-null result reads as absent (Some(null) is lost, as in the anchor)")
  {
    TaskRecord r = minimal();
    r.result = Json(nullptr);
    const std::string bytes = serialize_record(r);
    CHECK(bytes.find(R"("result":null)") != std::string::npos);
    CHECK_FALSE(parse_record(bytes).result);
  }
  SECTION("expiresAt with any offset is converted to UTC and written with Z")
  {
    Json j = Json::parse(k_fresh_record);
    j["expiresAt"] = "2025-11-25T12:30:00.5+01:00";
    TaskRecord r;
    REQUIRE(record_from_json(j, r).empty());
    CHECK(record_to_json(r)["expiresAt"] == "2025-11-25T11:30:00.500Z");
    j["expiresAt"] = "2025-11-25T11:30:00.000000000Z";
    REQUIRE(record_from_json(j, r).empty());
    CHECK(record_to_json(r)["expiresAt"] == "2025-11-25T11:30:00Z");
  }
  SECTION("createdAt and lastUpdatedAt are kept as written")
  {
    Json j = Json::parse(k_fresh_record);
    j["task"]["createdAt"] = "2025-11-25T11:30:00+01:00";
    TaskRecord r;
    REQUIRE(record_from_json(j, r).empty());
    CHECK(r.task.created_at == "2025-11-25T11:30:00+01:00");
  }
  SECTION("ttl: the largest u64 is fine")
  {
    Json j = Json::parse(k_fresh_record);
    j["task"]["ttl"] = 18'446'744'073'709'551'615ULL;
    TaskRecord r;
    REQUIRE(record_from_json(j, r).empty());
    CHECK(r.task.ttl == 18'446'744'073'709'551'615ULL);
    CHECK(serialize_record(r).find(R"("ttl":18446744073709551615)") != std::string::npos);
  }
  SECTION("key order of variables, _meta and result is kept")
  {
    const std::string text =
      R"({"task":{"taskId":"t","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":null,"_meta":{"z":1,"a":2,"m":{"y":1,"b":2}}},"ownerId":"o","variables":{"zz":1,"aa":{"q":1,"c":2},"mm":[3,{"k":1,"b":2}]},"result":{"z":[1],"a":{"y":null,"b":true}},"requestMethod":"m","expiresAt":null})";
    CHECK(serialize_record(parse_record(text)) == text);
  }
}

TEST_CASE("record_from_json: every problem, with its pointer")
{
  SECTION("a root that is not an object")
  {
    const auto p = problems_of("[1,2]");
    REQUIRE(p.size() == 1);
    CHECK(p[0].pointer.empty());
    CHECK_THAT(p[0].message, Catch::Contains("an array"));
  }
  SECTION("missing fields")
  {
    const auto p = problems_of("{}");
    CHECK(p.size() == 4);
    CHECK(has_problem(p, "/task", "missing required field \"task\""));
    CHECK(has_problem(p, "/ownerId", "missing"));
    CHECK(has_problem(p, "/variables", "missing"));
    CHECK(has_problem(p, "/requestMethod", "missing"));
    const auto q = problems_of(R"({"task":{},"ownerId":"o","variables":{},"requestMethod":"m"})");
    CHECK(q.size() == 4);
    CHECK(has_problem(q, "/task/taskId", "missing"));
    CHECK(has_problem(q, "/task/status", "missing"));
    CHECK(has_problem(q, "/task/createdAt", "missing"));
    CHECK(has_problem(q, "/task/lastUpdatedAt", "missing"));
  }
  SECTION("wrong types and bad values, all at once")
  {
    const auto p = problems_of(
      R"({"task":{"taskId":7,"status":"Working","statusMessage":3,"createdAt":"yesterday","lastUpdatedAt":"2025-02-30T00:00:00Z","ttl":-1,"pollInterval":1.5,"_meta":[]},"ownerId":null,"variables":null,"result":5,"requestMethod":["m"],"expiresAt":"soon"})");
    CHECK(has_problem(p, "/task/taskId", "expected a string, found integer 7"));
    CHECK(has_problem(p, "/task/status", "unknown status \"Working\""));
    CHECK(has_problem(p, "/task/statusMessage", "expected a string or null"));
    CHECK(has_problem(p, "/task/createdAt", "invalid RFC 3339 timestamp \"yesterday\""));
    CHECK(has_problem(p, "/task/lastUpdatedAt", "invalid RFC 3339 timestamp"));
    CHECK(has_problem(p, "/task/ttl", "non-negative integer"));
    CHECK(has_problem(p, "/task/ttl", "-1"));
    CHECK(has_problem(p, "/task/pollInterval", "1.5"));
    CHECK(has_problem(p, "/task/_meta", "expected an object or null, found an array"));
    CHECK(has_problem(p, "/ownerId", "found null"));
    CHECK(has_problem(p, "/variables", "expected an object, found null"));
    CHECK(has_problem(p, "/requestMethod", "found an array"));
    CHECK(has_problem(p, "/expiresAt", "invalid RFC 3339 timestamp \"soon\""));
    CHECK(p.size() == 12);
  }
  SECTION("ttl must fit a u64 and be an integer")
  {
    for (const char* ttl : {"1.0", "1e3", "18446744073709551616", "-0.5", "\"100\"", "true"}) {
      INFO(ttl);
      const auto p = problems_of(std::string(R"({"task":{"taskId":"t","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":)") +
                                 ttl + R"(},"ownerId":"o","variables":{},"requestMethod":"m"})");
      REQUIRE(p.size() == 1);
      CHECK(p[0].pointer == "/task/ttl");
    }
  }
  SECTION("expiresAt of the wrong type; task of the wrong type")
  {
    const auto p = problems_of(R"({"task":"x","ownerId":"o","variables":[],"requestMethod":"m","expiresAt":1764066600})");
    CHECK(has_problem(p, "/task", "expected an object, found a string"));
    CHECK(has_problem(p, "/variables", "found an array"));
    CHECK(has_problem(p, "/expiresAt", "found integer 1764066600"));
    CHECK(p.size() == 3);
  }
}

TEST_CASE("parse_record: errors")
{
  SECTION("every problem in one InvalidArgument")
  {
    try {
      parse_record(R"({"task":{"taskId":"t","status":"done","createdAt":"x","lastUpdatedAt":"2025-11-25T10:30:00Z"},"ownerId":"o","requestMethod":"m"})");
      FAIL("no exception");
    } catch (const InvalidArgument& e) {
      const std::string what = e.what();
      CHECK_THAT(what, Catch::StartsWith("invalid task record: "));
      CHECK_THAT(what, Catch::Contains("/task/status: unknown status \"done\""));
      CHECK_THAT(what, Catch::Contains("/task/createdAt: invalid RFC 3339 timestamp \"x\""));
      CHECK_THAT(what, Catch::Contains("/variables: missing required field \"variables\""));
    }
  }
  SECTION("malformed JSON: byte offset, line and column")
  {
    try {
      parse_record("{\"task\":\n  {\"taskId\": tru}}");
      FAIL("no exception");
    } catch (const InvalidArgument& e) {
      const std::string what = e.what();
      CHECK(what == "malformed task record JSON at line 2, column 17 (byte offset 25): syntax error while "
                    "parsing value - invalid literal; last read: '\"taskId\": tru}'");
      CHECK_THAT(describe(e), Catch::Contains("json.exception.parse_error"));
    }
    CHECK_THROWS_AS(parse_record(""), InvalidArgument);
    CHECK_THROWS_AS(parse_record(k_fresh_record.substr(0, k_fresh_record.size() - 1)), InvalidArgument);
    CHECK_THROWS_AS(parse_record(k_fresh_record + "x"), InvalidArgument);
  }
}

TEST_CASE("parse_record and serialize_record: any nesting depth")
{
  // nlohmann copies recursively; these must neither copy nor recurse.
  const std::size_t n = 300'000;
  const std::string deep = std::string(n, '[') + std::string(n, ']');
  std::string text = k_fresh_record;
  text.replace(text.find(R"("variables":{})"), 14, R"("variables":{"v":)" + deep + "}");
  text.replace(text.find(R"("result":null)"), 13, R"("result":)" + deep);
  text.replace(text.find(R"("pollInterval":500})"), 19, R"("pollInterval":500,"_meta":{"m":)" + deep + "}}");
  const TaskRecord r = parse_record(text);
  CHECK(r.task.meta);
  CHECK(serialize_record(r) == text);
}

TEST_CASE("TaskRecord::create")
{
  const Timestamp now{1'764'066'600, 123'456'789};
  const TaskRecord r = TaskRecord::create("user-123", "tools/call", 3'600'000, now);
  CHECK(std::regex_match(r.task.task_id,
                         std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(r.task.status == TaskStatus::working);
  CHECK(r.task.created_at == "2025-11-25T10:30:00.123Z");
  CHECK(r.task.last_updated_at == r.task.created_at);
  CHECK(r.task.ttl == 3'600'000U);
  CHECK_FALSE(r.task.status_message);
  CHECK_FALSE(r.task.poll_interval);
  CHECK_FALSE(r.task.meta);
  CHECK(r.owner_id == "user-123");
  CHECK(r.request_method == "tools/call");
  CHECK(r.variables == Json::object());
  CHECK_FALSE(r.result);
  CHECK(r.version == 0);
  REQUIRE(r.expires_at);
  CHECK(format_autosi(*r.expires_at) == "2025-11-25T11:30:00.123456789Z");
  CHECK_FALSE(r.is_expired(now));

  SECTION("fresh ids")
  {
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i) {
      ids.insert(TaskRecord::create("o", "m", std::nullopt).task.task_id);
    }
    CHECK(ids.size() == 1000);
  }
  SECTION("no ttl, ttl 0, a huge ttl")
  {
    const TaskRecord none = TaskRecord::create("o", "m", std::nullopt, now);
    CHECK_FALSE(none.task.ttl);
    CHECK_FALSE(none.expires_at);
    CHECK_FALSE(none.is_expired(Timestamp{now.seconds + 1'000'000'000, 0}));
    CHECK(serialize_record(none).find(R"("ttl":null)") != std::string::npos);
    CHECK(serialize_record(none).find(R"("expiresAt":null)") != std::string::npos);

    // ttl 0: expires 1 ns after creation (strictly later).
    const TaskRecord zero = TaskRecord::create("o", "m", 0, now);
    CHECK(zero.expires_at == now);
    CHECK_FALSE(zero.is_expired(now));
    CHECK(zero.is_expired(Timestamp{now.seconds, now.nanos + 1}));

    const TaskRecord huge = TaskRecord::create("o", "m", 18'446'744'073'709'551'615ULL, now);
    CHECK(huge.task.ttl == 18'446'744'073'709'551'615ULL);
    CHECK_FALSE(huge.expires_at); // overflow: never expires, as in the anchor
  }
  SECTION("defaults to the current time")
  {
    const Timestamp before = now_utc();
    const TaskRecord c = TaskRecord::create("o", "m", 1000);
    const Timestamp after = now_utc();
    REQUIRE(c.expires_at);
    CHECK(*c.expires_at >= *add_millis(before, 1000));
    CHECK(*c.expires_at <= *add_millis(after, 1000));
    CHECK(parse_record(serialize_record(c)) == c);
  }
}
