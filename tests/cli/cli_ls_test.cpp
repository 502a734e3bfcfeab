// End-to-end tests of taskctl ls against temporary SQLite stores
// ([sqlite-cli]): filters, output formats and constant memory.

#include "cli_support.hpp"

#include <catch2/catch.hpp>
using namespace clitest;

TEST_CASE("ls streams records with filters and every output format", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1", "working"));
  store.seed("alice:t2", record_json("alice", "t2", "failed", k_past));
  store.seed("alice:t3", record_json("alice", "t3", "completed", ""));
  store.seed("bob:t1", record_json("bob", "t1", "cancelled", k_past));

  auto r = store.run({"ls"}); // piped: jsonl
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 4);
  for (const auto& line : lines) {
    for (const char* field : {"key", "version", "status", "createdAt", "expiresAt", "expired"}) {
      CHECK(line.contains(field));
    }
    if (line["key"] == "alice:t2") {
      CHECK(line["expired"] == true);
      CHECK(line["status"] == "failed");
    }
    if (line["key"] == "alice:t3") {
      CHECK(line["expiresAt"].is_null());
      CHECK(line["expired"] == false);
    }
  }

  r = store.run({"ls", "-o", "json", "--owner", "alice"});
  auto doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["count"] == 3);
  CHECK(doc["records"].size() == 3);

  r = store.run({"ls", "-o", "table"});
  CHECK(contains(r.out, "KEY"));
  CHECK(contains(r.out, "EXPIRED"));
  CHECK(contains(r.out, "bob:t1"));

  CHECK(store.run({"ls", "--count", "bob:"}).out == "1\n");
  CHECK(store.run({"ls", "--count", "--expired"}).out == "2\n");
  CHECK(store.run({"ls", "--count", "--live"}).out == "2\n");
  CHECK(store.run({"ls", "--count", "--status", "failed,cancelled"}).out == "2\n");
  CHECK(store.run({"ls", "--count", "--status", "working", "--status", "completed"}).out == "2\n");
  CHECK(store.run({"ls", "--count", "--owner", "alice", "--expired"}).out == "1\n");
  CHECK(parse_json(store.run({"ls", "--count", "-o", "json"}).out)["count"] == 4);
  CHECK(parse_jsonl(store.run({"ls", "--limit", "2"}).out).size() == 2);

  r = store.run({"ls", "--keys-only", "--owner", "bob"});
  CHECK(r.out == "bob:t1\n");
  r = store.run({"ls", "--keys-only", "-o", "json"});
  CHECK(parse_json(r.out)["keys"].size() == 4);

  r = store.run({"ls", "-o", "raw", "--owner", "bob"});
  CHECK(r.out == record_json("bob", "t1", "cancelled", k_past) + "\n");

  r = store.run({"ls", "--owner", "nobody"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  r = store.run({"ls", "-o", "json", "--owner", "nobody"});
  CHECK(parse_json(r.out)["count"] == 0);
}

TEST_CASE("ls streams in constant memory", "[sqlite-cli]")
{
  SqliteStore store;
  // 4,000 records of ~20 KB: 80 MB of data. The store scans in bounded batches
  // (a few MB), so taskctl's peak memory stays far below the data size.
  RecordSpec spec;
  spec.variables = Json{{"blob", std::string(20000, 'x')}}.dump();
  auto& lib = store.lib();
  for (int i = 0; i < 4000; ++i) {
    spec.task_id = "t" + std::to_string(i);
    lib.put("alice:" + spec.task_id, record_json(spec));
  }
  auto r = store.run({"ls", "--count"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "4000\n");
  r = store.run({"ls", "-o", "raw"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.size() > 80'000'000);
  INFO("peak RSS " << r.max_rss_kb << " KB");
  CHECK(r.max_rss_kb < 48 * 1024);
}
