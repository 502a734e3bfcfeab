// End-to-end tests of taskctl put against temporary SQLite stores
// ([sqlite-cli]): output formats, stdin, the canonical form, validation,
// unreadable input, --no-validate, --if-absent and --dry-run.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include <sys/stat.h>

using namespace clitest;
namespace fs = std::filesystem;

TEST_CASE("put then get: every output format parses back", "[sqlite-cli]")
{
  SqliteStore store;
  TempDir dir;
  const std::string record = record_json("alice", "t1");
  write_file(dir.file("t1.json"), record);

  auto r = store.run({"put", "alice:t1", dir.file("t1.json")});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty()); // the summary is a note on stderr
  CHECK(contains(r.err, "stored alice:t1 (version 1) in " + store.uri));

  r = store.run({"put", "-o", "json", "alice:t1", dir.file("t1.json")});
  REQUIRE(r.exit_code == 0);
  auto doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["key"] == "alice:t1");
  CHECK(doc["version"] == 2);
  CHECK(doc["previous_version"] == 1);
  CHECK(doc["dry_run"] == false);

  r = store.run({"put", "-o", "raw", "alice:t1", dir.file("t1.json")});
  CHECK(r.out == "3\n");

  r = store.run({"get", "alice:t1"}); // default json
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["key"] == "alice:t1");
  CHECK(doc["version"] == 3);
  CHECK(doc["expired"] == false);
  CHECK(doc["expiresAt"] == "2099-01-01T00:00:00.123456789Z");
  CHECK(doc["record"]["task"]["status"] == "working");
  CHECK(doc["record"]["ownerId"] == "alice");

  r = store.run({"get", "-o", "jsonl", "alice:t1"});
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["version"] == 3);

  r = store.run({"get", "-o", "table", "alice:t1"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "status"));
  CHECK(contains(r.out, "working"));
  CHECK(contains(r.out, "expired         no"));

  // raw: exactly the stored bytes, which are the canonical pmcp-tasks form.
  r = store.run({"get", "-o", "raw", "alice:t1"});
  CHECK(r.out == record);
  CHECK(store.lib().get("alice:t1").data == record);
}

TEST_CASE("put reads stdin when the file is - or omitted", "[sqlite-cli]")
{
  SqliteStore store;
  auto r = store.run({"put", "alice:t1", "-"}, with_input(record_json("alice", "t1")));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  r = store.run({"put", "alice:t2"}, with_input(record_json("alice", "t2")));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(store.lib().get("alice:t2").version == 1);
}

TEST_CASE("put stores the canonical form and warns about unknown fields", "[sqlite-cli]")
{
  SqliteStore store;
  auto pretty = Json::parse(record_json("alice", "t1"));
  pretty["extra"] = 1;
  auto r = store.run({"put", "alice:t1"}, with_input(pretty.dump(2)));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.err, "/extra"));
  CHECK(store.lib().get("alice:t1").data == record_json("alice", "t1"));
}

TEST_CASE("put rejects invalid records with exit 6, every problem listed, nothing written", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("other:x", record_json("other", "x"));
  const auto before = snapshot(store.lib());

  auto bad = Json::parse(record_json("bob", "t9", "running"));
  bad["variables"] = {{"deep", Json::parse("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":1}}}}}}}}}}}")}};
  auto r = store.run({"put", "alice:t1"}, with_input(bad.dump()));
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "/task/status"));
  CHECK(contains(r.err, "/ownerId"));
  CHECK(contains(r.err, "/task/taskId"));
  CHECK(contains(r.err, "/variables/deep/a/b/c/d/e/f/g/h/i/j/k"));
  CHECK(contains(r.err, "(11 > 10)"));
  CHECK(r.out.empty());

  r = store.run({"-o", "json", "put", "alice:t1"}, with_input(bad.dump()));
  CHECK(r.exit_code == 6);
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "validation_failed");
  CHECK(error["exit"] == 6);
  CHECK(error["key"] == "alice:t1");
  CHECK(error["violations"].size() >= 4);

  // Malformed JSON.
  r = store.run({"put", "alice:t1"}, with_input("{\"task\": {"));
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "malformed JSON"));

  // A variable string over the limit, and a limit override that accepts it.
  RecordSpec spec;
  spec.variables = Json{{"s", std::string(100, 'x')}}.dump();
  r = store.run({"put", "--max-string-length", "50", "alice:t1"}, with_input(record_json(spec)));
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "/variables/s"));
  CHECK(contains(r.err, "(100 > 50)"));

  CHECK(snapshot(store.lib()) == before);
}

TEST_CASE("put: missing or unreadable input files exit 1", "[sqlite-cli]")
{
  SqliteStore store;
  TempDir dir;
  auto r = store.run({"put", "alice:t1", dir.file("missing.json")});
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "cannot read"));
  CHECK(contains(r.err, "missing.json"));

  // A directory cannot be read as a file (chmod 000 would not stop root).
  r = store.run({"put", "alice:t1", dir.path()});
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "cannot read"));

  if (::geteuid() != 0) {
    write_file(dir.file("secret.json"), record_json("alice", "t1"));
    ::chmod(dir.file("secret.json").c_str(), 0);
    r = store.run({"put", "alice:t1", dir.file("secret.json")});
    CHECK(r.exit_code == 1);
  }
}

TEST_CASE("put --no-validate stores the bytes as given; get shows them as data", "[sqlite-cli]")
{
  SqliteStore store;
  auto r = store.run({"put", "--no-validate", "alice:junk"}, with_input("not json at all"));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  r = store.run({"get", "-o", "raw", "alice:junk"});
  CHECK(r.out == "not json at all");
  r = store.run({"get", "alice:junk"});
  auto doc = parse_json(r.out);
  CHECK(doc["data"] == "not json at all");
  CHECK(doc["expired"] == false);
  CHECK_FALSE(doc.contains("record"));
}

TEST_CASE("put --if-absent creates only; an existing key exits 4", "[sqlite-cli]")
{
  SqliteStore store;
  auto r = store.run({"put", "--if-absent", "alice:t1"}, with_input(record_json("alice", "t1")));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  r = store.run({"-o", "json", "put", "--if-absent", "alice:t1"}, with_input(record_json("alice", "t1")));
  INFO(describe(r));
  CHECK(r.exit_code == 4);
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "already_exists");
  CHECK(error["current_version"] == 1);
  CHECK(store.lib().get("alice:t1").version == 1);
}

TEST_CASE("put --dry-run validates and reports, and changes nothing", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  const auto before = snapshot(store.lib());

  auto r = store.run({"put", "--dry-run", "alice:t1"}, with_input(record_json("alice", "t1", "completed")));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.err, "dry run"));
  r = store.run({"put", "-n", "-o", "json", "alice:t2"}, with_input(record_json("alice", "t2")));
  auto doc = parse_json(r.out);
  CHECK(doc["dry_run"] == true);
  CHECK(doc["version"] == 1);
  CHECK(doc["previous_version"] == 0);
  r = store.run({"put", "-n", "--if-absent", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 4);
  r = store.run({"put", "-n", "alice:t1"}, with_input("{}"));
  CHECK(r.exit_code == 6);
  CHECK(snapshot(store.lib()) == before);

  // A dry run never creates a store.
  TempDir dir;
  const std::string uri = "sqlite://" + dir.file("new.db");
  r = taskctl({"-s", uri, "put", "-n", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 7);
  CHECK_FALSE(fs::exists(dir.file("new.db")));
}

// Issue 14 #6: `put KEY /dev/zero` grew to 16.8 GB and no signal stopped the
// read. Input is now bounded by --max-record-size (16 MiB by default): the
// read stops past it (exit 6, nothing written), and a signal stops any read.
TEST_CASE("put stops reading past --max-record-size; a signal stops a read", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  const auto before = snapshot(store.lib());

  auto r = store.run({"put", "alice:t1", "/dev/zero"});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "larger than the maximum record size of 16777216 bytes"));
  INFO("peak RSS " << r.max_rss_kb << " KB");
  CHECK(r.max_rss_kb < 200 * 1024);
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "json", "cas", "-e", "1", "--max-record-size", "100", "alice:t1"},
                with_input(record_json("alice", "t1", "completed")));
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(parse_json(r.err)["error"]["code"] == "record_too_large");
  CHECK(snapshot(store.lib()) == before);

  CHECK(store.run({"put", "--max-record-size", "-1", "alice:t1"}, with_input("{}")).exit_code == 2);

  // A record within a raised limit is written.
  RecordSpec big;
  big.task_id = "big";
  big.variables = R"({"pad":")" + std::string(60000, 'x') + R"("})";
  r = store.run({"put", "--max-record-size", "70000", "alice:big"}, with_input(record_json(big)));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  const auto with_big = snapshot(store.lib());

  // SIGTERM during an endless fast read (no EINTR ever: /dev/zero never
  // blocks) stops it at once, with the limit raised out of the way.
  RunOptions options;
  options.on_start = [](pid_t pid) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::kill(pid, SIGTERM);
  };
  r = store.run({"put", "--max-record-size", "100000000000", "alice:t1", "/dev/zero"}, options);
  INFO(describe(r));
  CHECK(r.exit_code == 143);
  CHECK_FALSE(r.timed_out);
  CHECK(snapshot(store.lib()) == with_big);
}
