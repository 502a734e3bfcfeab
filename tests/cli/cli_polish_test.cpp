// End-to-end tests of issue 12's "Output that scripts and people can trust"
// and "Writes that cannot surprise" ([sqlite-cli]): whole JSON documents,
// summaries on stderr, -q, closed pipes, --create, bulk removals that count
// first, --batch, the prompt's sample keys and progress.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace clitest;
using taskstore::count_prefix;

namespace {

// How many times part occurs in text.
std::size_t
occurrences(const std::string& text, const std::string& part)
{
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

void
seed_owner(SqliteStore& store, const std::string& owner, int n, const std::string& expires_at = "")
{
  for (int i = 0; i < n; ++i) {
    const std::string task = "t" + std::to_string(i);
    RecordSpec spec;
    spec.owner = owner;
    spec.task_id = task;
    if (!expires_at.empty()) {
      spec.expires_at = expires_at;
    }
    store.seed(owner + ":" + task, record_json(spec));
  }
}

} // namespace

TEST_CASE("-o json: an error before the first result leaves stdout empty, not half a document", "[sqlite-cli]")
{
  SqliteStore store;
  seed_owner(store, "user-5", 5);
  const auto r = store.run({"-o", "json", "delete", "--owner", "user-5", "--yes", "--max-delete", "3"});
  INFO(describe(r));
  CHECK(r.exit_code == 4);
  CHECK(r.out.empty());
  CHECK(parse_json(r.err)["error"]["code"] == "max_delete_exceeded");
  CHECK(count_prefix(store.lib(), "user-5:") == 5);
}

TEST_CASE("-o json: dry runs name dry_run once", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1", "working", k_past));
  auto r = store.run({"-o", "json", "delete", "--dry-run", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(occurrences(r.out, "\"dry_run\"") == 1);
  CHECK(parse_json(r.out)["would_delete"] == 1);

  r = store.run({"gc", "--dry-run", "-o", "json"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(occurrences(r.out, "\"dry_run\"") == 1);
  CHECK(parse_json(r.out)["would_delete"] == 1);

  r = store.run({"-o", "json", "delete", "--owner", "alice", "--dry-run"});
  INFO(describe(r));
  CHECK(occurrences(r.out, "\"dry_run\"") == 1);
}

TEST_CASE("summaries go to stderr, name the store, and -q silences them", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("user-123:a", record_json("user-123", "a"));
  store.seed("user-123:old", record_json("user-123", "old", "working", k_past));

  auto r = store.run({"-q", "delete", "user-123:nope"});
  INFO(describe(r));
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());
  CHECK_FALSE(contains(r.err, "not found user-123:nope"));
  CHECK_FALSE(contains(r.err, "deleted 0 records"));
  CHECK(contains(r.err, "key not found: user-123:nope")); // the error itself stays

  r = store.run({"delete", "--ignore-not-found", "user-123:nope"});
  INFO(describe(r));
  CHECK(r.out.empty());
  CHECK(contains(r.err, "not found user-123:nope"));
  CHECK(contains(r.err, "deleted 0 records from " + store.uri + ", 1 not found"));

  r = store.run({"gc", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "removed 1 expired record from " + store.uri));
  r = store.run({"-q", "gc", "--yes"});
  CHECK(r.out.empty());
  CHECK(r.err.empty());

  r = store.run({"put", "user-123:b"}, with_input(record_json("user-123", "b")));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "stored user-123:b (version 1) in " + store.uri));
  r = store.run({"-q", "put", "user-123:b"}, with_input(record_json("user-123", "b")));
  CHECK(r.out.empty());
  CHECK(r.err.empty());

  r = store.run({"cancel", "user-123:b"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "cancelled user-123:b (version 2 -> 3, working -> cancelled) in " + store.uri));

  // Named deletes print what went on stdout (the table format's data).
  r = store.run({"delete", "user-123:a"});
  INFO(describe(r));
  CHECK(r.out == "deleted user-123:a (version 1)\n");
  CHECK(contains(r.err, "deleted 1 record from " + store.uri));
}

TEST_CASE("delete -o jsonl reports the version that was deleted", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  store.seed("alice:t1", record_json("alice", "t1"));
  store.seed("alice:t1", record_json("alice", "t1"));
  const auto r = store.run({"-o", "jsonl", "delete", "alice:t1"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["status"] == "deleted");
  CHECK(lines[0]["version"] == 3);
}

TEST_CASE("get -o raw ends with a newline on a terminal only", "[sqlite-cli]")
{
  SqliteStore store;
  const std::string data = record_json("alice", "t1");
  store.seed("alice:t1", data);
  auto r = store.run({"-o", "raw", "get", "alice:t1"});
  CHECK(r.out == data);
  RunOptions tty;
  tty.tty_stdout = true;
  r = store.run({"-o", "raw", "get", "alice:t1"}, tty);
  INFO(describe(r));
  CHECK(contains(r.tty, data + "\r\n")); // the terminal turns \n into \r\n
}

TEST_CASE("a closed stdout pipe (ls | head) is a quiet, successful end", "[sqlite-cli]")
{
  SqliteStore store;
  seed_owner(store, "alice", 3000); // far more than a pipe buffer holds
  store.handle.reset();
  const std::string script = "'" + std::string(TASKCTL_BIN) + "' -s '" + store.uri +
                             "' ls -o jsonl | head -3 >/dev/null; echo \"status=${PIPESTATUS[0]}\" >&2";
  RunOptions options;
  options.env["HOME"] = test_home();
  const auto r = run("/bin/bash", {"-c", script}, options);
  INFO(describe(r));
  CHECK(contains(r.err, "status=0"));
  CHECK_FALSE(contains(r.err, "taskctl:"));
}

TEST_CASE("a write creates a store only with --create or TASKCTL_CREATE=1", "[sqlite-cli]")
{
  TempDir dir;
  const std::string path = dir.file("taks.db");
  const std::string uri = "sqlite://" + path;
  const std::string data = record_json("alice", "t1");

  auto r = taskctl({"-s", uri, "put", "alice:t1"}, with_input(data));
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "does not exist"));
  CHECK(contains(r.err, "--create"));
  CHECK_FALSE(std::filesystem::exists(path));

  r = taskctl({"-s", uri, "import", "-"}, with_input(""));
  CHECK(r.exit_code == 7);
  CHECK_FALSE(std::filesystem::exists(path));
  r = taskctl({"copy", "mem://", uri});
  CHECK(r.exit_code == 7);
  CHECK_FALSE(std::filesystem::exists(path));

  r = taskctl({"-s", uri, "--create", "put", "alice:t1"}, with_input(data));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::exists(path));
  CHECK(contains(r.err, "stored alice:t1 (version 1) in " + uri));

  const std::string other = "sqlite://" + dir.file("env.db");
  RunOptions env = with_input(data);
  env.env["TASKCTL_CREATE"] = "1";
  r = taskctl({"-s", other, "put", "alice:t1"}, env);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::exists(dir.file("env.db")));

  // The default store too.
  TempDir data_home;
  RunOptions defaults = with_input(data);
  defaults.env["XDG_DATA_HOME"] = data_home.path();
  r = taskctl({"put", "alice:t1"}, defaults);
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "--create"));
  r = taskctl({"--create", "put", "alice:t1"}, defaults);
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::exists(data_home.path() + "/taskctl/tasks.db"));
}

TEST_CASE("gc and delete --owner with nothing to do succeed without a terminal or --yes", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:live", record_json("alice", "live"));
  auto r = store.run({"gc"}); // stdin is a pipe: no terminal
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "no expired records in " + store.uri));
  r = store.run({"delete", "--owner", "bob"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "no records of owner bob"));

  // With something to remove, --yes is still required.
  store.seed("alice:old", record_json("alice", "old", "working", k_past));
  r = store.run({"gc"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--yes"));
  r = store.run({"delete", "--owner", "alice"});
  CHECK(r.exit_code == 2);
  CHECK(count_prefix(store.lib(), "alice:") == 2);
}

TEST_CASE("--batch N removes at most N per run and says what is left", "[sqlite-cli]")
{
  SqliteStore store;
  seed_owner(store, "old", 5, k_past);
  seed_owner(store, "user-5", 5);

  auto r = store.run({"-o", "json", "gc", "--yes", "--batch", "2"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["deleted"] == 2);
  CHECK(count_prefix(store.lib(), "old:") == 3);
  r = store.run({"gc", "--yes", "--batch", "2"});
  CHECK(r.exit_code == 0);
  CHECK(count_prefix(store.lib(), "old:") == 1);
  r = store.run({"gc", "--yes", "--batch", "2"});
  CHECK(count_prefix(store.lib(), "old:") == 0);

  r = store.run({"-o", "json", "delete", "--owner", "user-5", "--yes", "--batch", "2"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  const auto doc = parse_json(r.out);
  CHECK(doc["deleted"] == 2);
  CHECK(doc["remaining"] == 3);
  CHECK(doc["results"].size() == 2);
  CHECK(count_prefix(store.lib(), "user-5:") == 3);
  r = store.run({"delete", "--owner", "user-5", "--yes", "--batch", "2"});
  CHECK(contains(r.err, "deleted 2 records of owner user-5 from " + store.uri + "; 1 left"));
  // --max-delete judges what this run would remove.
  r = store.run({"delete", "--owner", "user-5", "--yes", "--batch", "1", "--max-delete", "1"});
  CHECK(r.exit_code == 0);
  CHECK(count_prefix(store.lib(), "user-5:") == 0);

  CHECK(store.run({"gc", "--yes", "--batch", "0"}).exit_code == 2);
  CHECK(store.run({"delete", "--batch", "2", "user-5:t1"}).exit_code == 2);
}

TEST_CASE("the confirmation shows up to 5 of the keys, then how many more", "[sqlite-cli]")
{
  SqliteStore store;
  seed_owner(store, "user-7", 7);
  RunOptions no;
  no.tty_stdin = true;
  no.tty_input = "n\n";
  auto r = store.run({"delete", "--owner", "user-7"}, no);
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.tty, "Delete 7 records of owner user-7 from " + store.uri + "?"));
  CHECK(occurrences(r.tty, "\n  user-7:t") == 5);
  CHECK(contains(r.tty, "… and 2 more"));
  CHECK(count_prefix(store.lib(), "user-7:") == 7);

  seed_owner(store, "gone", 2, k_past);
  r = store.run({"gc"}, no);
  INFO(describe(r));
  CHECK(contains(r.tty, "Remove 2 expired records from " + store.uri + "?"));
  CHECK(contains(r.tty, "  gone:t0"));
  CHECK(contains(r.tty, "  gone:t1"));
  CHECK_FALSE(contains(r.tty, "more"));
}

TEST_CASE("delete --owner and gc show N of M progress on a terminal", "[sqlite-cli]")
{
  SqliteStore store;
  seed_owner(store, "user-9", 6);
  seed_owner(store, "old", 4, k_past);
  RunOptions tty;
  tty.tty_stderr = true;
  auto r = store.run({"delete", "--owner", "user-9", "--yes"}, tty);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.tty, "deleting: 0 of 6 records deleted"));
  CHECK(contains(r.tty, "deleted 6 records of owner user-9"));
  r = store.run({"gc", "--yes"}, tty);
  INFO(describe(r));
  CHECK(contains(r.tty, "removing: 0 of 4 records removed"));
  CHECK(contains(r.tty, "removed 4 expired records"));
  // -q: no progress either.
  seed_owner(store, "user-9", 2);
  r = store.run({"-q", "delete", "--owner", "user-9", "--yes"}, tty);
  CHECK_FALSE(contains(r.tty, "deleting:"));
}
