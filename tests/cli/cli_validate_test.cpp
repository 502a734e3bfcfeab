// End-to-end tests of taskctl validate against temporary SQLite stores
// ([sqlite-cli]): files, records, stdin, depth bombs, large files, --stored.

#include "cli_support.hpp"

#include <catch2/catch.hpp>
using namespace clitest;

TEST_CASE("validate files: violations as FILE: /pointer: what (actual > limit)", "[sqlite-cli]")
{
  TempDir dir;
  write_file(dir.file("ok.json"), R"({"a":1,"b":[1,2,{"c":"d"}]})");
  write_file(dir.file("deep.json"), R"({"x":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":1}}}}}}}}}}}})");
  write_file(dir.file("long.json"), Json{{"s", std::string(70000, 'y')}}.dump());
  write_file(dir.file("bad.json"), "{\"a\": [1, 2,");

  auto r = taskctl({"validate", dir.file("ok.json")});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());

  r = taskctl({"validate", dir.file("ok.json"), dir.file("deep.json"), dir.file("long.json")});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.out, dir.file("deep.json") + ": /x/a/b/c/d/e/f/g/h/i/j/k: "));
  CHECK(contains(r.out, "(11 > 10)"));
  CHECK(contains(r.out, dir.file("long.json") + ": /s: "));
  CHECK(contains(r.out, "(70000 > 65536)"));
  CHECK(contains(r.err, "3 files checked"));

  r = taskctl({"validate", "--max-depth", "20", "--max-string-length", "100000", dir.file("deep.json"),
               dir.file("long.json")});
  CHECK(r.exit_code == 0);
  r = taskctl({"validate", "--max-size", "10", dir.file("ok.json")});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.out, "> 10)"));

  r = taskctl({"validate", dir.file("bad.json")});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.out, "malformed JSON"));

  r = taskctl({"validate", "-o", "json", dir.file("ok.json"), dir.file("deep.json"), dir.file("bad.json")});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  auto doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["valid"] == false);
  REQUIRE(doc["files"].size() == 3);
  CHECK(doc["files"][0]["valid"] == true);
  CHECK(doc["files"][0]["kind"] == "variables");
  const auto& v = doc["files"][1]["violations"][0];
  CHECK(v["rule"] == "depth");
  CHECK(v["limit"] == 10);
  CHECK(v["actual"] == 11);
  CHECK(v["pointer"] == "/x/a/b/c/d/e/f/g/h/i/j/k");
  CHECK(doc["files"][2]["violations"][0]["rule"] == "syntax");

  r = taskctl({"validate", "-o", "jsonl", dir.file("ok.json"), dir.file("deep.json")});
  CHECK(parse_jsonl(r.out).size() == 2);
}

TEST_CASE("validate: missing and unreadable files exit 1, the others are still checked", "[sqlite-cli]")
{
  TempDir dir;
  write_file(dir.file("deep.json"), R"({"x":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":1}}}}}}}}}}}})");
  auto r = taskctl({"validate", dir.file("missing.json"), dir.file("deep.json"), dir.path()});
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "missing.json"));
  CHECK(contains(r.out, "(11 > 10)"));
  r = taskctl({"validate", "-o", "json", dir.file("missing.json")});
  CHECK(r.exit_code == 1);
  auto doc = parse_json(r.out);
  CHECK(doc["files"][0]["valid"] == false);
  CHECK(doc["files"][0].contains("error"));
}

TEST_CASE("validate records: detected or --record; schema, status and timestamps", "[sqlite-cli]")
{
  TempDir dir;
  write_file(dir.file("good.json"), record_json("alice", "t1"));
  auto bad = Json::parse(record_json("alice", "t1", "Working"));
  bad["task"]["createdAt"] = "yesterday";
  write_file(dir.file("bad.json"), bad.dump());

  auto r = taskctl({"validate", "-o", "json", dir.file("good.json"), dir.file("bad.json")});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  auto doc = parse_json(r.out);
  CHECK(doc["files"][0]["kind"] == "record");
  CHECK(doc["files"][0]["valid"] == true);
  CHECK(doc["files"][1]["kind"] == "record");
  std::string pointers;
  for (const auto& v : doc["files"][1]["violations"]) {
    pointers += v["pointer"].get<std::string>() + " ";
  }
  CHECK(contains(pointers, "/task/status"));
  CHECK(contains(pointers, "/task/createdAt"));

  write_file(dir.file("vars.json"), R"({"a":1})");
  r = taskctl({"validate", "--record", dir.file("vars.json")});
  CHECK(r.exit_code == 6);
  r = taskctl({"validate", "--variables", dir.file("good.json")});
  CHECK(r.exit_code == 0);

  // Any TaskRecord field makes a record: one missing "ownerId" or "task" is
  // reported, not passed as a variables object (--variables reads it so).
  auto no_owner = Json::parse(record_json("alice", "t1"));
  no_owner.erase("ownerId");
  write_file(dir.file("no-owner.json"), no_owner.dump());
  auto no_task = Json::parse(record_json("alice", "t1"));
  no_task.erase("task");
  write_file(dir.file("no-task.json"), no_task.dump());
  write_file(dir.file("method-only.json"), R"({"requestMethod":"tools/call","variables":{}})");
  for (const char* name : {"no-owner.json", "no-task.json", "method-only.json"}) {
    r = taskctl({"validate", "-o", "json", dir.file(name)});
    INFO(name << ": " << describe(r));
    CHECK(r.exit_code == 6);
    doc = parse_json(r.out);
    CHECK(doc["files"][0]["kind"] == "record");
    CHECK(contains(doc["files"][0]["violations"].dump(), "missing required field"));
    r = taskctl({"validate", "--variables", dir.file(name)});
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("validate reads stdin", "[sqlite-cli]")
{
  auto r = taskctl({"validate"}, with_input(R"({"a":"b"})"));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  r = taskctl({"validate", "-"}, with_input(R"({"a":[[[[[[[[[[[1]]]]]]]]]]]})"));
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.out, "<stdin>: /a/0/0/0/0/0/0/0/0/0/0"));
}

TEST_CASE("validate survives a depth bomb of a million nested arrays", "[sqlite-cli]")
{
  TempDir dir;
  const std::size_t n = 1'000'000;
  std::string bomb = "{\"bomb\":" + std::string(n, '[') + std::string(n, ']') + "}";
  write_file(dir.file("bomb.json"), bomb);
  write_file(dir.file("bare.json"), std::string(n, '[') + std::string(n, ']'));
  auto r = taskctl({"validate", dir.file("bomb.json"), dir.file("bare.json")});
  INFO(describe(r).substr(0, 4000));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.out, dir.file("bomb.json") + ": /bomb/0/0/0/0/0/0/0/0/0/0"));
  CHECK(contains(r.out, "nesting depth 999999 exceeds maximum 10 (999999 > 10)"));
  CHECK(contains(r.out, dir.file("bare.json") + ": "));

  // put of a record whose variables are a depth bomb: rejected, no crash.
  SqliteStore store;
  RecordSpec spec;
  auto record = Json::parse(record_json(spec)).dump();
  record.replace(record.find("\"variables\":{}"), 14, "\"variables\":{\"v\":" + std::string(n, '[') + std::string(n, ']') + "}");
  r = store.run({"put", "alice:t1"}, with_input(record));
  INFO(describe(r).substr(0, 4000));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "/variables/v/0/0/0/0/0/0/0/0/0/0/0: nesting depth 999999 exceeds maximum 10"));
  CHECK(snapshot(store.lib()).empty());
}

TEST_CASE("validate streams a large file in small memory", "[sqlite-cli]")
{
  TempDir dir;
  {
    // ~48 MB of variables: one large array of strings.
    std::string data = "{\"big\":[";
    const std::string item = "\"" + std::string(90, 'z') + "\"";
    for (int i = 0; i < 500'000; ++i) {
      data += (i == 0 ? "" : ",") + item;
    }
    data += "]}";
    write_file(dir.file("big.json"), data);
  }
  auto r = taskctl({"validate", "-o", "json", dir.file("big.json")});
  INFO(describe(r));
  CHECK(r.exit_code == 6); // far over the 1 MiB size limit
  auto doc = parse_json(r.out);
  CHECK(doc["files"][0]["violations"][0]["rule"] == "size");
  INFO("peak RSS " << r.max_rss_kb << " KB");
  CHECK(r.max_rss_kb < 32 * 1024);
}

TEST_CASE("validate --stored checks every record in the store", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  store.seed("bob:t1", record_json("bob", "t1"));
  auto r = store.run({"validate", "--stored"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "2 records checked"));

  store.seed("alice:junk", "not json");
  store.seed("alice:t2", record_json("mallory", "t2"));
  r = store.run({"validate", "--stored"});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.out, "alice:junk: "));
  CHECK(contains(r.out, "alice:t2: /ownerId"));

  r = store.run({"validate", "--stored", "--owner", "bob"});
  CHECK(r.exit_code == 0);

  r = store.run({"-o", "json", "validate", "--stored", "--owner", "alice"});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  auto doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["checked"] == 3);
  CHECK(doc["invalid"] == 2);
  CHECK(doc["records"].size() == 2);
  CHECK(doc["records"][0].contains("version"));

  r = store.run({"validate", "--owner", "bob"});
  CHECK(r.exit_code == 2);
}

// Issue 14 #15: a truncated million-deep array gave a 2 MB pointer line. Past
// 256 levels a pointer keeps its first and last 128 and says how many it skipped.
TEST_CASE("validate abbreviates the pointer into a very deep document", "[sqlite-cli]")
{
  TempDir dir;
  const std::string file = dir.write("deep.json", std::string(1000000, '['));
  auto r = taskctl({"validate", "--variables", file});
  INFO(describe(r).substr(0, 3000));
  CHECK(r.exit_code == 6);
  CHECK(r.out.size() < 4000);
  CHECK(contains(r.out, "more levels)"));
  r = taskctl({"-o", "json", "validate", "--variables", file});
  CHECK(r.exit_code == 6);
  CHECK(r.out.size() < 4000);
}
