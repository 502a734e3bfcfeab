// End-to-end tests of taskctl gc against temporary SQLite stores
// ([sqlite-cli]): only expired records go; --dry-run, --yes and the prompt.

#include "cli_support.hpp"

#include <catch2/catch.hpp>
using namespace clitest;

TEST_CASE("gc removes only expired records; dry run and --yes rules", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:live", record_json("alice", "live"));
  store.seed("alice:old1", record_json("alice", "old1", "completed", k_past));
  store.seed("alice:old2", record_json("alice", "old2", "failed", k_past));
  store.seed("bob:old", record_json("bob", "old", "completed", k_past));
  store.seed("bob:forever", record_json("bob", "forever", "working", ""));
  const auto before = snapshot(store.lib());

  auto r = store.run({"gc"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--yes"));
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"gc", "--dry-run"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "would delete alice:old1"));
  CHECK(contains(r.out, "would remove 3 expired records"));
  CHECK_FALSE(contains(r.out, "alice:live"));
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "json", "gc", "-n"});
  auto doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["dry_run"] == true);
  CHECK(doc["would_delete"] == 3);
  CHECK(doc["results"].size() == 3);
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"gc", "--yes", "--max-delete", "2"});
  CHECK(r.exit_code == 4);
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "jsonl", "gc", "--yes", "--owner", "bob"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["key"] == "bob:old");
  CHECK(lines[0]["status"] == "deleted");
  CHECK(lines[0].contains("expiresAt"));
  CHECK(lines[1]["summary"]["deleted"] == 1);

  r = store.run({"gc", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "removed 2 expired records\n");
  const auto after = snapshot(store.lib());
  REQUIRE(after.size() == 2);
  CHECK(after[0].first == "alice:live");
  CHECK(after[1].first == "bob:forever");

  r = store.run({"gc", "--yes"});
  CHECK(r.out == "removed 0 expired records\n");
}

TEST_CASE("gc asks on the terminal", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:old", record_json("alice", "old", "completed", k_past));
  RunOptions yes;
  yes.tty_stdin = true;
  yes.tty_input = "yes\n";
  auto r = store.run({"gc"}, yes);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.tty, "Remove 1 expired record from"));
  CHECK(snapshot(store.lib()).empty());
}
