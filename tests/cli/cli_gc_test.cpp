// End-to-end tests of taskctl gc against temporary SQLite stores
// ([sqlite-cli]): only expired records go; --dry-run, --yes and the prompt.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <thread>
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
  CHECK(contains(r.err, "would remove 3 expired records"));
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
  CHECK(r.out.empty());
  CHECK(contains(r.err, "removed 2 expired records from " + store.uri));
  const auto after = snapshot(store.lib());
  REQUIRE(after.size() == 2);
  CHECK(after[0].first == "alice:live");
  CHECK(after[1].first == "bob:forever");

  r = store.run({"gc", "--yes"});
  CHECK(r.out.empty());
  CHECK(contains(r.err, "removed 0 expired records from " + store.uri)); // --yes, no terminal: one walk, no count
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

// Issue 14 #4: SIGINT during `gc --yes -o jsonl` used to lose the report of
// records already removed (SQLite deleted 8000 but reported 7001). gc now
// stops between batches: every record removed is reported, then the summary
// ("interrupted"), then exit 130.
TEST_CASE("an interrupted gc reports every record it removed, then exits 130", "[sqlite-cli]")
{
  SqliteStore store;
  constexpr int k_records = 30000;
  {
    // Seeded in one transaction through the sqlite3 CLI: fast.
    std::string sql = "BEGIN;";
    const std::string data = record_json("g", "x", "completed", k_past);
    for (int i = 0; i < k_records; ++i) {
      sql += "INSERT INTO tasks(key, owner, version, data, expires_s, expires_ns) VALUES('g:t" + std::to_string(i) +
             "', 'g', 1, CAST('" + data + "' AS BLOB), 1577836800, 0);";
    }
    sql += "COMMIT;";
    store.lib(); // creates the schema
    store.handle.reset();
    const std::string script = store.dir.write("seed.sql", sql);
    REQUIRE(run("/bin/sh", {"-c", "sqlite3 '" + store.path + "' < '" + script + "'"}).exit_code == 0);
  }
  RunOptions options;
  options.on_start = [](pid_t pid) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    ::kill(pid, SIGINT);
  };
  auto r = store.run({"-o", "jsonl", "gc", "--yes"}, options);
  INFO(describe(r).substr(0, 2000));
  CHECK(r.term_signal == 0);
  REQUIRE((r.exit_code == 130 || r.exit_code == 0));
  const auto lines = parse_jsonl(r.out);
  REQUIRE_FALSE(lines.empty());
  const Json& summary = lines.back()["summary"];
  const std::size_t reported = lines.size() - 1;
  CHECK(summary["deleted"] == reported);
  const auto left = snapshot(store.lib()).size();
  CHECK(left + reported == static_cast<std::size_t>(k_records));
  if (r.exit_code == 130) {
    CHECK(summary["interrupted"] == true);
    CHECK(left > 0);
  } else {
    WARN("gc finished before the signal arrived; the interrupted path was not exercised this run");
  }
}
