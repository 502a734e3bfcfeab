#include "support/fixtures.hpp"
#include "taskstore/json/peek.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace taskstore;
using namespace taskstore::testing;

TEST_CASE("extract_expires_at")
{
  const std::string record =
    R"({"task":{"taskId":"t","status":"working","createdAt":"2025-11-25T10:30:00.123Z",)"
    R"("lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":3600000},"ownerId":"o",)"
    R"("variables":{"expiresAt":"1999-01-01T00:00:00Z","x":{"expiresAt":"1998-01-01T00:00:00Z"}},)"
    R"("result":null,"requestMethod":"tools/call","expiresAt":"2025-11-25T11:30:00.123456789Z"})";
  CHECK(extract_expires_at(record) == at(k_t0 + 3600, 123'456'789));

  SECTION("only the top-level key counts")
  {
    CHECK_FALSE(extract_expires_at(R"({"variables":{"expiresAt":"2025-11-25T10:30:00Z"}})"));
    CHECK_FALSE(extract_expires_at(R"({"a":["expiresAt","2025-11-25T10:30:00Z"]})"));
    CHECK_FALSE(extract_expires_at(R"({"a":"\"expiresAt\":\"2025-11-25T10:30:00Z\""})"));
    CHECK_FALSE(extract_expires_at(R"({"a":{"b":[{"expiresAt":"2025-11-25T10:30:00Z"}]}})"));
    CHECK(extract_expires_at(R"({"a":{"expiresAt":"1999-01-01T00:00:00Z"},"expiresAt":"2025-11-25T10:30:00Z"})") ==
          at(k_t0));
  }

  SECTION("tricky but valid JSON around it")
  {
    CHECK(extract_expires_at(" \n{ \"a\" : \"x\\\\\" , \"b\":\"}\\\"{[\" ,\t\"expiresAt\" :\r\n\"2025-11-25T10:30:00Z\" } ") ==
          at(k_t0));
    CHECK(extract_expires_at(R"({"expires\u0041t":"2025-11-25T10:30:00Z"})") == at(k_t0));
    CHECK(extract_expires_at(R"({"expiresAt":"2025-11-25T10:30:00\u005a"})") == at(k_t0));
    CHECK(extract_expires_at(R"({"e":[[],{},[{}],-1.5e3,true,false,null],"expiresAt":"2025-11-25T11:30:00+01:00"})") ==
          at(k_t0));
    CHECK(extract_expires_at(R"({"expiresAt":"1999-01-01T00:00:00Z","expiresAt":"2025-11-25T10:30:00Z"})") ==
          at(k_t0)); // the last one, as a DOM parse keeps it
  }

  SECTION("absent, null, unparsable, not an object: nullopt")
  {
    CHECK_FALSE(extract_expires_at(R"({"expiresAt":null})"));
    CHECK_FALSE(extract_expires_at(R"({})"));
    CHECK_FALSE(extract_expires_at(R"({"expiresAt":"tomorrow"})"));
    CHECK_FALSE(extract_expires_at(R"({"expiresAt":1764066600})"));
    CHECK_FALSE(extract_expires_at(R"(["expiresAt","2025-11-25T10:30:00Z"])"));
    CHECK_FALSE(extract_expires_at(R"("2025-11-25T10:30:00Z")"));
    CHECK_FALSE(extract_expires_at(""));
    CHECK_FALSE(extract_expires_at("{"));
    CHECK_FALSE(extract_expires_at(R"({"expiresAt":"2025-11-25T10:30:00Z")"));
    CHECK_FALSE(extract_expires_at(R"({"expiresAt":"2025-11-25T10:30:00Z)"));
  }

  SECTION("never throws or crashes on garbage")
  {
    std::mt19937 rng(7);
    const std::string alphabet = "{}[]\":,\\ ueA0t-";
    for (int i = 0; i < 20000; ++i) {
      std::string s;
      const int n = static_cast<int>(rng() % 40);
      for (int k = 0; k < n; ++k) {
        s.push_back(alphabet[rng() % alphabet.size()]);
      }
      CHECK_NOTHROW(extract_expires_at(s));
      CHECK_NOTHROW(extract_created_at(s));
    }
    // Prefixes of a valid record end early without reading past the end.
    for (std::size_t n = 0; n < record.size(); ++n) {
      CHECK_FALSE(extract_expires_at(std::string_view(record).substr(0, n)));
    }
  }
}

TEST_CASE("extract_created_at")
{
  CHECK(extract_created_at(R"({"task":{"taskId":"t","createdAt":"2025-11-25T10:30:00.123Z"},"ownerId":"o"})") ==
        at(k_t0, 123'000'000));
  CHECK(extract_created_at(R"({"variables":{"task":{"createdAt":"1999-01-01T00:00:00Z"}},)"
                           R"("task":{"meta":{"createdAt":"1998-01-01T00:00:00Z"},"createdAt":"2025-11-25T10:30:00Z"}})") ==
        at(k_t0));
  CHECK_FALSE(extract_created_at(R"({"createdAt":"2025-11-25T10:30:00Z"})"));
  CHECK_FALSE(extract_created_at(R"({"task":{"_meta":{"createdAt":"2025-11-25T10:30:00Z"}}})"));
  CHECK_FALSE(extract_created_at(R"({"task":"2025-11-25T10:30:00Z"})"));
  CHECK_FALSE(extract_created_at(R"({"task":{"createdAt":null}})"));
  CHECK_FALSE(extract_created_at(R"([{"task":{"createdAt":"2025-11-25T10:30:00Z"}}])"));
}


TEST_CASE("peek_record_fields reads top-level and task fields in one pass")
{
  const auto f = peek_record_fields(
    R"({"variables":{"ownerId":"no"},"task":{"_meta":{"status":"no"},"status":"input_required","taskId":"t\u00e9","createdAt":"c","lastUpdatedAt":"l","statusMessage":"m"},"ownerId":"o","requestMethod":"tools/call","expiresAt":null})");
  CHECK(f.object);
  CHECK(f.owner_id == "o");
  CHECK(f.task_id == "t\xc3\xa9");
  CHECK(f.status == "input_required");
  CHECK(f.created_at == "c");
  CHECK(f.last_updated_at == "l");
  CHECK(f.status_message == "m");
  CHECK(f.request_method == "tools/call");
  CHECK_FALSE(f.expires_at);
  CHECK_FALSE(peek_record_fields("{\"a\":1").object);
  CHECK_FALSE(peek_record_fields("{\"a\":nul}").object);
  CHECK_FALSE(peek_record_fields("{\"a\":-}").object);
  CHECK(peek_record_fields("{}").object);
}

TEST_CASE("peek_nesting_depth skips strings")
{
  CHECK(peek_nesting_depth("1") == 0);
  CHECK(peek_nesting_depth("{\"a\":[[1],{}]}") == 3);
  CHECK(peek_nesting_depth(R"({"a":"[[[[\"{{{"})") == 1);
  CHECK(peek_nesting_depth(std::string(100'000, '[') + std::string(100'000, ']')) == 100'000);
}
