// End-to-end tests of what taskctl accepts and writes, against pmcp-tasks'
// serde reading (docs/compatibility.md) ([sqlite-cli]).

#include "cli_support.hpp"

#include <catch2/catch.hpp>

using namespace clitest;

namespace {

std::string
replaced(std::string text, const std::string& from, const std::string& to)
{
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

} // namespace

TEST_CASE("put refuses what serde_json cannot read, with exit 6 and nothing written", "[sqlite-cli]")
{
  SqliteStore store;
  TempDir dir;
  const std::string record = record_json("alice", "t1");
  store.seed("alice:other", record_json("alice", "other")); // the store exists
  const std::pair<const char*, std::string> bad[] = {
    {"a byte order mark", "\xEF\xBB\xBF" + record},
    {"a trailing NUL", record + std::string(1, '\0')},
    {"garbage after a NUL", record + std::string("\0{{{garbage", 11)},
    {"ownerId twice", replaced(record, "\"ownerId\":\"alice\"", "\"ownerId\":\"alice\",\"ownerId\":\"alice\"")},
    {"a result 127 arrays deep", replaced(record, "\"result\":null", "\"result\":" + std::string(127, '[') + std::string(127, ']'))},
    {"a number serde refuses", replaced(record, "\"variables\":{}", "\"variables\":{\"n\":1.7976931348623158e308}")},
    {"an expiresAt beyond chrono's range", replaced(record, "2099-01-01T00:00:00.123456789Z", "+262143-12-31T23:59:59Z")},
  };
  for (const auto& [what, input] : bad) {
    INFO(what);
    write_file(dir.file("in.json"), input);
    const auto r = store.run({"put", "alice:t1", dir.file("in.json")});
    INFO(describe(r));
    CHECK(r.exit_code == 6);
    CHECK(store.run({"get", "alice:t1"}).exit_code == 3);
  }
}

TEST_CASE("put stores what serde would write back: expiresAt in chrono's UTC form, the last of a repeated key",
          "[sqlite-cli]")
{
  SqliteStore store;
  TempDir dir;
  std::string record = replaced(record_json("alice", "t1"), "2099-01-01T00:00:00.123456789Z", "2099-01-01T05:30:00+0530");
  record = replaced(record, "\"variables\":{}", "\"variables\":{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]],\"a\":1}");
  write_file(dir.file("in.json"), record);
  auto r = store.run({"put", "alice:t1", dir.file("in.json")});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  r = store.run({"get", "-o", "raw", "alice:t1"});
  CHECK(contains(r.out, "\"expiresAt\":\"2099-01-01T00:00:00Z\""));
  CHECK(contains(r.out, "\"variables\":{\"a\":1}"));
}

TEST_CASE("get -o json shows floats as they are stored", "[sqlite-cli]")
{
  SqliteStore store;
  TempDir dir;
  const std::string record =
    replaced(record_json("alice", "t1"), "\"variables\":{}", "\"variables\":{\"f\":[1000000000000000.0,1e-7,1e+21]}");
  store.seed("alice:t1", record);
  const auto r = store.run({"get", "-o", "json", "alice:t1"});
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "1000000000000000.0"));
  CHECK(contains(r.out, "1e-7"));
  CHECK(contains(r.out, "1e+21"));
  CHECK_FALSE(contains(r.out, "1e+15"));
  CHECK_FALSE(contains(r.out, "1e-07"));
}

TEST_CASE("validate measures a variables file as set_variables does; --as-stored as given", "[sqlite-cli]")
{
  SqliteStore store;
  TempDir dir;
  std::string doc = R"({"s":")" + std::string(65'536, 'x') + "\"";
  for (int i = 0; i < 10; ++i) {
    doc += ",\"n" + std::to_string(i) + "\":null";
  }
  doc += "}";
  write_file(dir.file("vars.json"), doc);
  auto r = store.run({"validate", "--max-size", "65600", dir.file("vars.json")});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  r = store.run({"validate", "--as-stored", "--max-size", "65600", "-o", "json", dir.file("vars.json")});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.out, "65644"));
}
