// export, import and copy end to end with the real taskctl:
//   [transfer]    (cli.transfer) export -> import and copy between every ordered
//                 pair of the persistent backends built (SQLite, Redis, DynamoDB),
//                 every record identical in bytes and expiry;
//   [sqlite-cli]  import of malformed, duplicate and oversized lines; a copy
//                 interrupted by SIGINT and finished with --if-absent.

#include "cli_support.hpp"

#include "contract/stores.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace clitest;

namespace {

// The persistent backends this build tests (TASKCTL_TEST_TRANSFER_BACKENDS,
// comma-separated, set by CMake).
std::vector<std::string>
transfer_backends()
{
  const char* list = std::getenv("TASKCTL_TEST_TRANSFER_BACKENDS");
  REQUIRE(list != nullptr);
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string b; std::getline(in, b, ',');) {
    if (!b.empty()) {
      out.push_back(b);
    }
  }
  return out;
}

struct Store
{
  taskstore::testing::TestStore s;
  explicit Store(const std::string& backend) : s(taskstore::testing::make_test_store(backend)) {}
  ~Store()
  {
    s.backend.reset();
    if (s.cleanup) {
      s.cleanup();
    }
  }
  RunResult run(std::vector<std::string> args, RunOptions options = {})
  {
    args.insert(args.begin(), {"-s", s.uri});
    return taskctl(args, std::move(options));
  }
};

// Seeds a source store with the records a round trip must carry exactly:
// plain ones of three owners, an expired one, one that never expires, one
// whose bytes hold line breaks (exported base64), one with \u escapes, and
// on SQLite one whose bytes are not UTF-8 (base64 too; only SQLite takes it).
std::map<std::string, std::string>
seed_source(taskstore::StorageBackend& db, bool with_binary)
{
  std::map<std::string, std::string> records;
  const auto put = [&](const std::string& key, const std::string& data) {
    db.put(key, data);
    records[key] = data;
  };
  for (int i = 0; i < 30; ++i) {
    const std::string owner = "tr" + std::to_string(i % 3);
    put(owner + ":t" + std::to_string(i), record_json(owner, "t" + std::to_string(i)));
  }
  put("tr0:gone", record_json("tr0", "gone", "completed", k_past));
  put("tr1:forever", record_json("tr1", "forever", "working", ""));
  put("tr2:pretty", "{\n  \"task\": {\"taskId\": \"pretty\", \"status\": \"working\", \"createdAt\": "
                    "\"2025-11-25T10:30:00.123Z\", \"lastUpdatedAt\": \"2025-11-25T10:30:00.123Z\", \"ttl\": null},\n"
                    "  \"ownerId\": \"tr2\", \"variables\": {}, \"result\": null, \"requestMethod\": \"tools/call\",\n"
                    "  \"expiresAt\": \"2099-01-01T00:00:00Z\"\n}");
  RecordSpec escaped;
  escaped.owner = "tr2";
  escaped.task_id = "escaped";
  escaped.variables = R"({"name":"caf\u00e9 \"quoted\" \\ tab\t"})";
  put("tr2:escaped", record_json(escaped));
  if (with_binary) {
    put("tr0:binary", std::string("\xff\xfe not UTF-8 \x01"));
  }
  return records;
}

// Every record of a store: key -> data, and the keys its own expiry index
// would remove (gc --dry-run), which shows the expiry was written with it.
std::map<std::string, std::string>
contents(taskstore::StorageBackend& db)
{
  std::map<std::string, std::string> out;
  for (auto& [key, record] : snapshot(db)) {
    out[key] = record.data;
  }
  return out;
}

std::set<std::string>
would_expire(Store& store)
{
  auto r = store.run({"-o", "jsonl", "gc", "--dry-run"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  std::set<std::string> keys;
  for (const auto& line : parse_jsonl(r.out)) {
    if (line.contains("key")) {
      keys.insert(line["key"].get<std::string>());
    }
  }
  return keys;
}

} // namespace

TEST_CASE("export -> import and copy between every pair of backends keep every record's bytes and expiry",
          "[transfer]")
{
  const auto backends = transfer_backends();
  REQUIRE(backends.size() >= 2);
  TempDir dir;
  for (const auto& from : backends) {
    for (const auto& to : backends) {
      INFO("from " << from << " to " << to);
      Store source(from);
      const auto seeded = seed_source(*source.s.backend, from == "sqlite" && to == "sqlite");
      REQUIRE(contents(*source.s.backend) == seeded);
      const std::set<std::string> expired = {"tr0:gone"};

      // export -> import, through a gzip file.
      const std::string file = dir.file(from + "-" + to + ".jsonl.gz");
      auto r = source.run({"export", "-f", file});
      INFO(describe(r));
      REQUIRE(r.exit_code == 0);
      CHECK(contains(r.err, std::to_string(seeded.size()) + " records written"));
      Store imported(to);
      r = imported.run({"-o", "jsonl", "import", "--no-validate", file});
      INFO(describe(r));
      REQUIRE(r.exit_code == 0);
      const auto lines = parse_jsonl(r.out);
      REQUIRE(lines.size() == seeded.size() + 1);
      CHECK(lines.back()["summary"]["created"] == seeded.size());
      for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        CHECK(lines[i]["status"] == "created");
        CHECK(lines[i]["version"] == 1); // versions are the target's own
      }
      CHECK(contents(*imported.s.backend) == seeded);
      CHECK(would_expire(imported) == expired);

      // copy straight from one store into the other (the expired one left out,
      // then carried with --include-expired).
      Store copied(to);
      r = taskctl({"-o", "json", "copy", source.s.uri, copied.s.uri});
      INFO(describe(r));
      REQUIRE(r.exit_code == 0);
      const Json doc = parse_json(r.out);
      CHECK(doc["created"] == seeded.size() - 1);
      CHECK(doc["expired_left_out"] == 1);
      auto without_expired = seeded;
      without_expired.erase("tr0:gone");
      CHECK(contents(*copied.s.backend) == without_expired);
      r = taskctl({"copy", "--include-expired", "--if-absent", source.s.uri, copied.s.uri});
      INFO(describe(r));
      REQUIRE(r.exit_code == 0);
      CHECK(contents(*copied.s.backend) == seeded);
      CHECK(would_expire(copied) == expired);
    }
  }
}

TEST_CASE("import reports malformed, duplicate, invalid and oversized lines by number and writes only the good ones",
          "[sqlite-cli]")
{
  SqliteStore store;
  TempDir dir;
  const std::string good = record_json("im", "a");
  const std::string big = record_json(RecordSpec{"im", "big", "working", "2099-01-01T00:00:00Z",
                                                 "{\"pad\":\"" + std::string(5000, 'x') + "\"}"});
  const std::string lines[] = {
    R"({"key":"im:a","version":7,"record":)" + good + "}", // 1 created
    "this is not json",                                    // 2 invalid
    R"({"key":"im:a","version":8,"record":)" + good + "}", // 3 exists (a duplicate key)
    R"({"key":"im:big","record":)" + big + "}",            // 4 invalid: larger than --max-record-size
    R"({"key":"im:other","record":)" + good + "}",         // 5 invalid: ownerId/taskId do not match the key
    R"({"record":)" + good + "}",                          // 6 invalid: no key
    "",                                                    // 7 blank: ignored
    R"({"key":"im:b","data_b64":"not base64!"})",          // 8 invalid
    R"({"key":"im:c","data_b64":")" + std::string("eyJ4IjoxfQ==") + "\"}", // 9 invalid: {"x":1} is no record
  };
  std::string text;
  for (const auto& l : lines) {
    text += l + "\n";
  }
  const std::string file = dir.write("in.jsonl", text);

  store.lib(); // the store exists (a dry run never creates one)
  auto r = store.run({"-o", "jsonl", "import", "--dry-run", "--max-record-size", "2000", file});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(snapshot(store.lib()).empty());

  r = store.run({"-o", "jsonl", "import", "--max-record-size", "2000", file});
  INFO(describe(r));
  CHECK(r.exit_code == 6); // invalid lines win over the existing key (4)
  const auto out = parse_jsonl(r.out);
  std::map<std::uint64_t, std::string> status;
  for (const auto& line : out) {
    if (line.contains("line")) {
      status[line["line"].get<std::uint64_t>()] = line["status"].get<std::string>();
    }
  }
  const std::map<std::uint64_t, std::string> expected = {{1, "created"}, {2, "invalid"}, {3, "exists"},
                                                         {4, "invalid"}, {5, "invalid"}, {6, "invalid"},
                                                         {8, "invalid"}, {9, "invalid"}};
  CHECK(status == expected);
  const auto& summary = out.back()["summary"];
  CHECK(summary["created"] == 1);
  CHECK(summary["exists"] == 1);
  CHECK(summary["invalid"] == 6);
  const auto snap = snapshot(store.lib());
  REQUIRE(snap.size() == 1);
  CHECK(snap[0].first == "im:a");
  CHECK(snap[0].second.data == good);
  CHECK(snap[0].second.version == 1); // the exported version is not carried

  // A line far longer than any record is cut off, not read whole.
  const std::string huge = dir.write("huge.jsonl", R"({"key":"im:h","record":")" + std::string(4u << 20, 'y') + "\"}\n" +
                                                     R"({"key":"im:z","record":)" + record_json("im", "z") + "}\n");
  r = store.run({"-o", "jsonl", "import", "--max-record-size", "1000", huge});
  INFO(describe(r).substr(0, 3000));
  CHECK(r.exit_code == 6);
  const auto huge_out = parse_jsonl(r.out);
  REQUIRE(huge_out.size() == 3);
  CHECK(huge_out[0]["line"] == 1);
  CHECK(huge_out[0]["status"] == "invalid");
  CHECK(contains(huge_out[0]["error"].get<std::string>(), "longer than"));
  CHECK(huge_out[1]["status"] == "created");

  // --if-absent skips the key now present; --overwrite replaces it (version 2).
  const std::string one = dir.write("one.jsonl", lines[0] + "\n");
  r = store.run({"-o", "jsonl", "import", "--if-absent", one});
  CHECK(r.exit_code == 0);
  CHECK(parse_jsonl(r.out)[0]["status"] == "skipped");
  r = store.run({"-o", "jsonl", "import", "--overwrite", one}, with_input(""));
  CHECK(r.exit_code == 0);
  CHECK(parse_jsonl(r.out)[0]["status"] == "overwritten");
  CHECK(parse_jsonl(r.out)[0]["version"] == 2);
  // From stdin.
  r = store.run({"import", "--if-absent", "-"}, with_input(lines[0] + "\n"));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "1 skipped"));
  // A file that cannot be opened: exit 7, nothing opened.
  r = store.run({"import", dir.file("missing.jsonl")});
  CHECK(r.exit_code == 7);
}

TEST_CASE("a copy interrupted by SIGINT stops cleanly and finishes with --if-absent, every record present once",
          "[sqlite-cli]")
{
  SqliteStore source;
  SqliteStore target;
  constexpr int k_records = 60000;
  {
    std::string sql = "BEGIN;";
    for (int i = 0; i < k_records; ++i) {
      const std::string task = "t" + std::to_string(i);
      sql += "INSERT INTO tasks(key, owner, version, data, expires_s, expires_ns) VALUES('c:" + task + "', 'c', 1, CAST('" +
             record_json("c", task) + "' AS BLOB), 4070908800, 123456789);";
    }
    sql += "COMMIT;";
    source.lib();
    source.handle.reset();
    const std::string script = source.dir.write("seed.sql", sql);
    REQUIRE(run("/bin/sh", {"-c", "sqlite3 '" + source.path + "' < '" + script + "'"}).exit_code == 0);
  }
  RunOptions options;
  options.on_start = [](pid_t pid) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(pid, SIGINT);
  };
  auto r = taskctl({"-o", "json", "--create", "copy", source.uri, target.uri}, options);
  INFO(describe(r).substr(0, 3000));
  CHECK(r.term_signal == 0);
  REQUIRE((r.exit_code == 130 || r.exit_code == 0));
  const Json doc = parse_json(r.out); // a whole document even when interrupted
  const auto after_first = snapshot(target.lib()).size();
  CHECK(doc["created"] == after_first);
  if (r.exit_code == 130) {
    CHECK(doc["interrupted"] == true);
    CHECK(after_first < static_cast<std::size_t>(k_records));
  } else {
    WARN("the copy finished before the signal arrived; the interrupted path was not exercised this run");
  }
  target.handle.reset();
  r = taskctl({"-o", "json", "copy", "--if-absent", source.uri, target.uri});
  INFO(describe(r).substr(0, 3000));
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out)["skipped"] == after_first);
  CHECK(parse_json(r.out)["created"] == k_records - after_first);
  const auto src = snapshot(source.lib());
  const auto dst = snapshot(target.lib());
  REQUIRE(dst.size() == src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    CHECK(dst[i].first == src[i].first);
    CHECK(dst[i].second.data == src[i].second.data);
  }
}
