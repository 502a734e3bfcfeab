// End-to-end tests of taskctl cas against temporary SQLite stores
// ([sqlite-cli]): conflicts and the get -o raw / edit / cas round trip.

#include "cli_support.hpp"

#include <catch2/catch.hpp>
using namespace clitest;

TEST_CASE("cas writes on the expected version; conflict exits 4 with the current version", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  store.seed("alice:t1", record_json("alice", "t1")); // version 2

  auto r = store.run({"cas", "--expect-version", "1", "alice:t1"}, with_input(record_json("alice", "t1", "failed")));
  INFO(describe(r));
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "current version is 2"));
  r = store.run({"-o", "jsonl", "cas", "-e", "1", "alice:t1"}, with_input(record_json("alice", "t1", "failed")));
  CHECK(r.exit_code == 4);
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "version_conflict");
  CHECK(error["exit"] == 4);
  CHECK(error["current_version"] == 2);
  CHECK(error["expected_version"] == 1);
  CHECK(error["key"] == "alice:t1");
  CHECK(store.lib().get("alice:t1").version == 2);

  r = store.run({"cas", "-e", "2", "alice:t1"}, with_input(record_json("alice", "t1", "failed")));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "stored alice:t1 (version 3) in " + store.uri));

  r = store.run({"cas", "-e", "1", "alice:missing"}, with_input(record_json("alice", "missing")));
  CHECK(r.exit_code == 3);
  r = store.run({"cas", "-e", "0", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 4);
  r = store.run({"cas", "-e", "0", "alice:t2"}, with_input(record_json("alice", "t2")));
  CHECK(r.exit_code == 0);
  r = store.run({"cas", "-e", "3", "alice:t1"}, with_input("{\"task\":"));
  CHECK(r.exit_code == 6);
  r = store.run({"cas", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 2); // --expect-version is required
  r = store.run({"cas", "-e", "3", "--dry-run", "alice:t1"}, with_input(record_json("alice", "t1", "failed")));
  CHECK(r.exit_code == 0);
  // failed -> working is a transition pmcp-tasks forbids: refused, also on a dry run.
  r = store.run({"cas", "-e", "3", "--dry-run", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 6);
  r = store.run({"cas", "-e", "2", "--dry-run", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 4);
  CHECK(store.lib().get("alice:t1").version == 3);
}

TEST_CASE("get -o raw > f; edit f; cas round-trips", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  TempDir dir;
  auto r = store.run({"get", "-o", "raw", "alice:t1"});
  REQUIRE(r.exit_code == 0);
  const auto version = parse_json(store.run({"get", "alice:t1"}).out)["version"].get<int>();
  std::string text = r.out;
  const auto pos = text.find("\"working\"");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 9, "\"completed\"");
  write_file(dir.file("t1.json"), text);

  r = store.run({"cas", "--expect-version", std::to_string(version), "alice:t1", dir.file("t1.json")});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const auto doc = parse_json(store.run({"get", "alice:t1"}).out);
  CHECK(doc["version"] == version + 1);
  CHECK(doc["record"]["task"]["status"] == "completed");
  CHECK(store.lib().get("alice:t1").data == text);

  // The same edit again is now a conflict.
  r = store.run({"cas", "--expect-version", std::to_string(version), "alice:t1", dir.file("t1.json")});
  CHECK(r.exit_code == 4);
}
