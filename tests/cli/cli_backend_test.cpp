// The store-agnostic end-to-end tests, registered once per backend
// (cli.<backend>): the real taskctl on a fresh store from make_test_store().
// Tests tagged [persistent] need the store to outlive one taskctl run, which
// mem:// does not; cli.memory runs the others.

#include "backend_store.hpp"

#include "contract/stores.hpp"

#include <catch2/catch.hpp>

using namespace clitest;

namespace {


} // namespace

TEST_CASE("backend: a fresh store is empty; missing keys exit 3", "[backend]")
{
  BackendStore s;
  auto r = s.run({"ls", "--count"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "0\n");
  r = s.run({"-o", "json", "get", "alice:nope"});
  INFO(describe(r));
  CHECK(r.exit_code == 3);
  CHECK(parse_json(r.err)["error"]["code"] == "not_found");
  r = s.run({"delete", "alice:nope"});
  CHECK(r.exit_code == 3);
  r = s.run({"cas", "-e", "1", "alice:nope"}, record_json("alice", "nope"));
  CHECK(r.exit_code == 3);
  r = s.run({"-o", "json", "gc", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["deleted"] == 0);
  r = s.run({"-o", "json", "validate", "--stored"});
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["checked"] == 0);
}

TEST_CASE("backend: put validates and reports the new version", "[backend]")
{
  BackendStore s;
  auto r = s.run({"-o", "json", "put", "alice:t1"}, record_json("alice", "t1"));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out)["version"] == 1);
  r = s.run({"put", "alice:t1"}, record_json("bob", "t1"));
  CHECK(r.exit_code == 6);
  r = s.run({"put", "alice:t1"}, "{oops");
  CHECK(r.exit_code == 6);
  r = s.run({"put", "--if-absent", "alice:t2"}, record_json("alice", "t2"));
  CHECK(r.exit_code == 0);
  r = s.run({"put", "nocolon"}, record_json("alice", "t2"));
  CHECK(r.exit_code == 2);
}

TEST_CASE("backend: put, get, cas, conflict, delete", "[backend][persistent]")
{
  BackendStore s;
  const std::string record = record_json("alice", "t1");
  REQUIRE(s.run({"put", "alice:t1", "-"}, record).exit_code == 0);
  auto r = s.run({"get", "-o", "raw", "alice:t1"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == record);
  auto doc = parse_json(s.run({"get", "alice:t1"}).out);
  CHECK(doc["version"] == 1);
  CHECK(doc["expired"] == false);

  std::string edited = r.out;
  edited.replace(edited.find("\"working\""), 9, "\"completed\"");
  r = s.run({"cas", "-e", "1", "alice:t1"}, edited);
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty()); // a summary: on stderr
  CHECK(contains(r.err, "stored alice:t1 (version 2) in "));
  r = s.run({"-o", "json", "cas", "-e", "1", "alice:t1"}, edited);
  CHECK(r.exit_code == 4);
  CHECK(parse_json(r.err)["error"]["current_version"] == 2);
  r = s.run({"put", "--if-absent", "alice:t1"}, record);
  CHECK(r.exit_code == 4);
  CHECK(parse_json(s.run({"get", "alice:t1"}).out)["record"]["task"]["status"] == "completed");

  r = s.run({"-o", "jsonl", "delete", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(parse_jsonl(r.out)[0]["status"] == "deleted");
  CHECK(s.run({"get", "alice:t1"}).exit_code == 3);
}

TEST_CASE("backend: ls, gc and delete --owner over a few owners", "[backend][persistent]")
{
  BackendStore s;
  auto& lib = *s.store.backend;
  lib.put("alice:live", record_json("alice", "live"));
  lib.put("alice:old", record_json("alice", "old", "completed", k_past));
  lib.put("bob:old", record_json("bob", "old", "failed", k_past));
  lib.put("bob:live", record_json("bob", "live", "input_required"));
  lib.put("carol:t1", record_json("carol", "t1"));

  auto r = s.run({"ls"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(parse_jsonl(r.out).size() == 5);
  CHECK(s.run({"ls", "--count", "--owner", "bob"}).out == "2\n");
  CHECK(s.run({"ls", "--count", "--expired"}).out == "2\n");
  CHECK(s.run({"ls", "--count", "--status", "input_required"}).out == "1\n");
  auto doc = parse_json(s.run({"ls", "-o", "json", "--owner", "alice"}).out);
  CHECK(doc["count"] == 2);

  const auto before = snapshot(lib);
  r = s.run({"gc", "--dry-run", "-o", "json"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["would_delete"] == 2);
  CHECK(s.run({"gc"}).exit_code == 2);
  CHECK(s.run({"delete", "--owner", "carol"}).exit_code == 2);
  CHECK(s.run({"delete", "--owner", "carol", "--dry-run"}).exit_code == 0);
  CHECK(snapshot(lib) == before);

  r = s.run({"-o", "jsonl", "gc", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  auto lines = parse_jsonl(r.out);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back()["summary"]["deleted"] == 2);
  CHECK(s.run({"ls", "--count"}).out == "3\n");

  r = s.run({"delete", "--owner", "carol", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(s.run({"ls", "--count"}).out == "2\n");
  CHECK(s.run({"ls", "--count", "--owner", "carol"}).out == "0\n");
}

TEST_CASE("backend: validate --stored finds records that break the rules", "[backend][persistent]")
{
  BackendStore s;
  auto& lib = *s.store.backend;
  lib.put("alice:t1", record_json("alice", "t1"));
  CHECK(s.run({"validate", "--stored"}).exit_code == 0);
  lib.put("alice:t2", record_json("alice", "other"));
  auto r = s.run({"validate", "--stored"});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.out, "alice:t2: /task/taskId"));
}

TEST_CASE("backend: an empty --owner or key part is a usage error, never every owner", "[backend][persistent]")
{
  BackendStore s;
  // Expired records of two owners: an empty owner must remove neither.
  for (const char* owner : {"alice", "bob"}) {
    s.store.backend->put(std::string(owner) + ":old",
                         record_json(owner, "old", "working", "2000-01-01T00:00:00Z"));
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"gc", "--owner", "", "--yes"}, {"ls", "--owner", "", "--count"},
        {"delete", "--owner", "", "--yes"}, {"validate", "--stored", "--owner", ""}, {"get", ":old"},
        {"get", "alice:"}, {"delete", ":old"}}) {
    const auto r = s.run(args);
    INFO(describe(r));
    CHECK(r.exit_code == 2);
  }
  const auto r = s.run({"put", ":e1"}, record_json("", "e1"));
  CHECK(r.exit_code == 2);
  // Nothing was removed.
  CHECK(s.run({"ls", "--count"}).out == "2\n");
}

// Issue 14 #3: one damaged record (a version the store cannot read) no longer
// blocks a listing. Each command reports it with its key and why, goes on,
// and exits 6; gc keeps it unless --include-damaged.
TEST_CASE("backend: a damaged record is reported, never blocks ls, gc, validate or delete --owner",
          "[backend][persistent]")
{
  BackendStore s;
  if (!s.store.seed_bad_version) {
    REQUIRE(taskstore::testing::current_backend() == "memory");
    return;
  }
  REQUIRE(s.run({"put", "alice:good"}, record_json("alice", "good")).exit_code == 0);
  REQUIRE(s.run({"put", "alice:old"}, record_json("alice", "old", "completed", k_past)).exit_code == 0);
  s.store.seed_bad_version("alice:bad", "abc");

  auto r = s.run({"-o", "jsonl", "ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 3);
  std::size_t damaged = 0;
  for (const auto& line : lines) {
    if (line.contains("damaged")) {
      ++damaged;
      CHECK(line["key"] == "alice:bad");
      CHECK(contains(line["damaged"].get<std::string>(), "abc"));
    } else {
      CHECK(line["version"] == 1);
    }
  }
  CHECK(damaged == 1);
  CHECK(contains(r.err, "1 damaged record"));

  // --keys-only reads only the keys (none of the records): the damaged
  // record is listed like any other, and found with a filter.
  r = s.run({"ls", "--keys-only"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "alice:good"));
  CHECK(contains(r.out, "alice:bad"));
  r = s.run({"ls", "--keys-only", "--status", "working,input_required,completed,failed,cancelled"});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "damaged record alice:bad"));

  r = s.run({"-o", "json", "validate", "--stored"});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  auto doc = parse_json(r.out);
  CHECK(doc["checked"] == 3);
  CHECK(doc["invalid"] == 1);

  // gc removes the expired record and keeps the damaged one: exit 6 where
  // its walk meets it (every record on Redis and DynamoDB; SQLite's walks
  // only the expiry index, where this row, without expiry columns, is not).
  r = s.run({"-o", "jsonl", "gc", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == (taskstore::testing::current_backend() == "sqlite" ? 0 : 6));
  CHECK(contains(r.out, "\"key\":\"alice:old\""));
  CHECK(s.run({"get", "alice:old"}).exit_code == 3);
  CHECK(s.run({"ls", "--count", "--live"}).exit_code == 6);

  // --include-damaged removes it (a dry run first keeps it).
  r = s.run({"-o", "jsonl", "gc", "--dry-run", "--include-damaged"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "\"status\":\"would_delete\""));
  r = s.run({"-o", "jsonl", "gc", "--yes", "--include-damaged"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["key"] == "alice:bad");
  CHECK(lines[0]["status"] == "deleted");
  CHECK(lines[1]["summary"]["damaged_removed"] == 1);
  r = s.run({"ls", "--count"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "1\n");

  // delete --owner takes damaged records with the rest.
  s.store.seed_bad_version("alice:bad2", "12x");
  r = s.run({"-o", "json", "delete", "--owner", "alice", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["deleted"] == 2);
  CHECK(s.run({"ls", "--count"}).out == "0\n");
}
