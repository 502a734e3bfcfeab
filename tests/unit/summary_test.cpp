#include "taskstore/summary.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace taskstore;

namespace {

const std::string k_record =
  R"({"task":{"taskId":"t1","status":"working","statusMessage":"busy\n\"x\"","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:31:00.456Z","ttl":3600000,"pollInterval":500,"_meta":{"status":"not this"}},"ownerId":"u1","variables":{"status":"nor this","ownerId":"x"},"result":null,"requestMethod":"tools/call","expiresAt":"2025-11-25T11:30:00.123456789Z"})";

// 2025-11-25T11:30:00.123456789Z
const Timestamp k_expiry{1'764'070'200, 123'456'789};

} // namespace

TEST_CASE("summarize_record reads the listing fields of a record")
{
  const auto s = summarize_record(k_record, Timestamp{k_expiry.seconds - 1, 0});
  CHECK(s.json);
  CHECK(s.owner_id == "u1");
  CHECK(s.task_id == "t1");
  CHECK(s.status == "working");
  CHECK(s.status_message == "busy\n\"x\"");
  CHECK(s.created_at == "2025-11-25T10:30:00.123Z");
  CHECK(s.last_updated_at == "2025-11-25T10:31:00.456Z");
  CHECK(s.request_method == "tools/call");
  CHECK(s.expires_at == "2025-11-25T11:30:00.123456789Z");
  CHECK(s.expires == k_expiry);
  CHECK_FALSE(s.expired);
  CHECK(s.size == k_record.size());
}

TEST_CASE("summarize_record: expiry is strict at nanosecond precision")
{
  CHECK_FALSE(summarize_record(k_record, k_expiry).expired);
  CHECK(summarize_record(k_record, Timestamp{k_expiry.seconds, k_expiry.nanos + 1}).expired);
  const auto never = summarize_record(R"({"task":{"status":"working"},"ownerId":"u","expiresAt":null})");
  CHECK(never.json);
  CHECK_FALSE(never.expires_at);
  CHECK_FALSE(never.expired);
  const auto garbage = summarize_record(R"({"expiresAt":"yesterday"})");
  CHECK(garbage.expires_at == "yesterday");
  CHECK_FALSE(garbage.expires);
  CHECK_FALSE(garbage.expired);
}

TEST_CASE("summarize_record: the last occurrence of a field wins; non-strings are absent")
{
  const auto s = summarize_record(R"({"ownerId":"a","ownerId":"b","task":{"status":1},"task":{"status":"failed"}})");
  CHECK(s.owner_id == "b");
  CHECK(s.status == "failed");
  const auto t = summarize_record(R"({"ownerId":"a","ownerId":7,"task":{"status":"working","taskId":["x"]}})");
  CHECK_FALSE(t.owner_id);
  CHECK(t.status == "working");
  CHECK_FALSE(t.task_id);
}

TEST_CASE("summarize_record: bytes that are not a JSON object")
{
  for (const std::string& bytes :
       {std::string(""), std::string("not json"), std::string("[1,2]"), std::string("\"s\""),
        std::string(R"({"task":{"status":"working"})"), std::string(R"({"a":tru})"), std::string(R"({"a":01})"),
        std::string(R"({"a":1} x)"), std::string("\xff\xfe", 2), std::string(R"({"ownerId":"u",})")}) {
    INFO(bytes);
    const auto s = summarize_record(bytes);
    CHECK_FALSE(s.json);
    CHECK_FALSE(s.owner_id);
    CHECK_FALSE(s.status);
    CHECK(s.size == bytes.size());
  }
  CHECK(summarize_record(" {\"a\":[1,-2.5e3,true,false,null,{}]}\n").json);
}

TEST_CASE("summarize_record: a depth bomb is read without recursion")
{
  const std::string bomb = "{\"ownerId\":\"u\",\"result\":" + std::string(1'000'000, '[') +
                           std::string(1'000'000, ']') + ",\"task\":{\"status\":\"completed\"}}";
  const auto s = summarize_record(bomb);
  CHECK(s.json);
  CHECK(s.owner_id == "u");
  CHECK(s.status == "completed");
}

TEST_CASE("record_document: a tree for display, or nullopt")
{
  const auto doc = record_document(k_record);
  REQUIRE(doc);
  CHECK((*doc)["task"]["taskId"] == "t1");
  CHECK_FALSE(record_document("[1]"));
  CHECK_FALSE(record_document("{bad"));
  CHECK_FALSE(record_document("{\"a\":" + std::string(600, '[') + std::string(600, ']') + "}"));
  CHECK(record_document("{\"a\":" + std::string(600, '[') + std::string(600, ']') + "}", 1000));
}
