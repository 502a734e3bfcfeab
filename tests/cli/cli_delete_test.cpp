// End-to-end tests of taskctl delete against temporary SQLite stores
// ([sqlite-cli]): named keys, --owner, --yes, --dry-run and the prompt.

#include "cli_support.hpp"

#include <catch2/catch.hpp>
using namespace clitest;

TEST_CASE("delete named keys; missing keys exit 3 unless --ignore-not-found", "[sqlite-cli]")
{
  SqliteStore store;
  for (const char* t : {"t1", "t2", "t3"}) {
    store.seed(std::string("alice:") + t, record_json("alice", t));
  }
  auto r = store.run({"delete", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "deleted alice:t1"));

  r = store.run({"-o", "jsonl", "delete", "alice:t2", "alice:nope"});
  INFO(describe(r));
  CHECK(r.exit_code == 3);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["key"] == "alice:t2");
  CHECK(lines[0]["status"] == "deleted");
  CHECK(lines[1]["key"] == "alice:nope");
  CHECK(lines[1]["status"] == "not_found");
  CHECK(lines[2]["summary"]["deleted"] == 1);
  CHECK(lines[2]["summary"]["not_found"] == 1);
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "not_found");
  CHECK(error["exit"] == 3);

  r = store.run({"delete", "--ignore-not-found", "alice:nope"});
  CHECK(r.exit_code == 0);

  r = store.run({"delete", "-n", "-o", "json", "alice:t3"});
  CHECK(r.exit_code == 0);
  auto doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["results"][0]["status"] == "would_delete");
  CHECK(doc["results"][0]["version"] == 1);
  CHECK(store.lib().get("alice:t3").version == 1);

  r = store.run({"delete"});
  CHECK(r.exit_code == 2);
  r = store.run({"delete", "--owner", "alice", "alice:t3"});
  CHECK(r.exit_code == 2);
}

TEST_CASE("delete --owner: --yes required without a terminal; dry run changes nothing", "[sqlite-cli]")
{
  SqliteStore store;
  for (const char* t : {"t1", "t2", "t3"}) {
    store.seed(std::string("alice:") + t, record_json("alice", t));
  }
  store.seed("bob:t1", record_json("bob", "t1"));
  const auto before = snapshot(store.lib());

  auto r = store.run({"delete", "--owner", "alice"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--yes"));
  CHECK(contains(r.err, "--dry-run"));
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "jsonl", "delete", "--owner", "alice", "--dry-run"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 4);
  for (int i = 0; i < 3; ++i) {
    CHECK(lines[i]["status"] == "would_delete");
    CHECK(lines[i]["key"].get<std::string>().rfind("alice:", 0) == 0);
  }
  CHECK(lines[3]["summary"]["would_delete"] == 3);
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"delete", "--owner", "alice", "--yes", "--max-delete", "2"});
  INFO(describe(r));
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "--max-delete"));
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "jsonl", "delete", "--owner", "alice", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0]["status"] == "deleted");
  CHECK(lines[3]["summary"]["deleted"] == 3);
  const auto after = snapshot(store.lib());
  REQUIRE(after.size() == 1);
  CHECK(after[0].first == "bob:t1");
}

TEST_CASE("delete --owner asks on the terminal: no aborts, yes deletes", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  store.seed("alice:t2", record_json("alice", "t2"));
  const auto before = snapshot(store.lib());

  RunOptions no;
  no.tty_stdin = true;
  no.tty_input = "n\n";
  auto r = store.run({"delete", "--owner", "alice"}, no);
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.tty, "Delete 2 records of owner alice from sqlite://"));
  CHECK(contains(r.tty, "[y/N]"));
  CHECK(contains(r.err, "aborted"));
  CHECK(snapshot(store.lib()) == before);

  RunOptions yes = no;
  yes.tty_input = "y\n";
  r = store.run({"delete", "--owner", "alice"}, yes);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(snapshot(store.lib()).empty());
}
