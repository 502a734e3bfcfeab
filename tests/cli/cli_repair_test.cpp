// End-to-end tests of the repair commands (cancel, set-status, vars, expire,
// delete --expect-version, and the transition check of put/cas), on every
// backend ([backend]; those that need the store to outlive one run are
// [persistent]). A write landing between a command's read and its CAS is
// injected through TASKCTL_FAILPOINT_BEFORE_WRITE, which runs a real
// taskctl against the same store.

#include "cli_support.hpp"

#include "contract/stores.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

using namespace clitest;

namespace {

struct Store
{
  taskstore::testing::ScopedTestStore scoped{
    taskstore::testing::make_test_store(taskstore::testing::current_backend())};
  taskstore::StorageBackend& lib() { return scoped.db(); }
  const std::string& uri() const { return scoped.store.uri; }

  RunResult run(std::vector<std::string> args, RunOptions options = {})
  {
    args.insert(args.begin(), {"-s", uri()});
    return taskctl(args, std::move(options));
  }
  Json record(const std::string& key) { return parse_json(lib().get(key).data); }
  std::uint64_t version(const std::string& key) { return lib().get(key).version; }
};

// The shell command a failpoint runs: taskctl (without the failpoint, so it
// does not recurse) setting the variable "injected" on the key being written
// to the attempt number.
std::string
concurrent_write(const std::string& uri)
{
  return std::string("env -u TASKCTL_FAILPOINT_BEFORE_WRITE '") + TASKCTL_BIN + "' -q -s '" + uri +
         "' vars \"$TASKCTL_FAILPOINT_KEY\" set --string injected=\"$TASKCTL_FAILPOINT_ATTEMPT\" >/dev/null";
}

// RunOptions whose failpoint writes the key concurrently before the
// command's CAS: on the first attempt only, or on every attempt.
RunOptions
inject_conflict(const Store& s, bool every_attempt)
{
  const std::string write = concurrent_write(s.uri());
  RunOptions options;
  options.env["TASKCTL_FAILPOINT_BEFORE_WRITE"] =
    every_attempt ? write : "[ \"$TASKCTL_FAILPOINT_ATTEMPT\" != 1 ] || { " + write + "; }";
  return options;
}

} // namespace

TEST_CASE("repair commands: a missing key exits 3 and writes nothing", "[backend]")
{
  Store s;
  const std::vector<std::vector<std::string>> commands = {
    {"cancel", "alice:nope"},
    {"set-status", "alice:nope", "failed"},
    {"vars", "alice:nope"},
    {"vars", "alice:nope", "set", "a=1"},
    {"vars", "alice:nope", "unset", "a"},
    {"expire", "alice:nope", "--in", "1h"},
    {"delete", "--expect-version", "1", "alice:nope"},
    {"cancel", "--dry-run", "alice:nope"},
  };
  for (const auto& args : commands) {
    auto r = s.run(args);
    INFO(describe(r));
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "not found: alice:nope"));
    std::vector<std::string> json_args = args;
    json_args.insert(json_args.begin(), {"-o", "json"});
    r = s.run(json_args);
    CHECK(r.exit_code == 3);
    CHECK(parse_json(r.err)["error"]["code"] == "not_found");
  }
  CHECK(snapshot(s.lib()).empty());
}

TEST_CASE("repair commands: bad arguments exit 2 before the store is read", "[backend]")
{
  Store s;
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"cancel"},
         {"cancel", "nocolon"},
         {"set-status", "alice:t1", "done"},
         {"set-status", "alice:t1", "failed", "-m", "x", "--clear-message"},
         {"vars", "alice:t1", "frob", "a=1"},
         {"vars", "alice:t1", "set"},
         {"vars", "alice:t1", "set", "=1"},
         {"vars", "alice:t1", "set", "novalue"},
         {"vars", "alice:t1", "set", "a=1", "a=2"},
         {"vars", "alice:t1", "unset", "a", "--string", "b=c"},
         {"expire", "alice:t1"},
         {"expire", "alice:t1", "--in", "1h", "--never"},
         {"expire", "alice:t1", "--in", "soon"},
         {"expire", "alice:t1", "--at", "yesterday"},
         {"cancel", "--retries", "-1", "alice:t1"},
         {"delete", "--expect-version", "1", "alice:a", "alice:b"},
         {"delete", "--expect-version", "x", "alice:a"},
       }) {
    const auto r = s.run(args);
    INFO(describe(r));
    CHECK(r.exit_code == 2);
  }
}

TEST_CASE("cancel: the anchor's cancel, refusals, --force, --message, several keys", "[backend][persistent]")
{
  Store s;
  RecordSpec spec;
  s.lib().put("alice:t1", record_json(spec));
  auto r = s.run({"cancel", "alice:t1"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty()); // a summary: on stderr
  CHECK(contains(r.err, "cancelled alice:t1 (version 1 -> 2, working -> cancelled) in "));
  auto stored = s.record("alice:t1");
  CHECK(stored["task"]["status"] == "cancelled");
  CHECK_FALSE(stored["task"].contains("statusMessage"));
  CHECK(stored["task"]["lastUpdatedAt"] != "2025-11-25T10:30:00.123Z");
  CHECK(stored["task"]["lastUpdatedAt"].get<std::string>().size() == 24);

  // A terminal task: refused with the legal targets, exit 6, nothing written.
  r = s.run({"-o", "json", "cancel", "alice:t1"});
  CHECK(r.exit_code == 6);
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "invalid_transition");
  CHECK(error["from"] == "cancelled");
  CHECK(error["legal_targets"] == Json::array());
  CHECK(s.version("alice:t1") == 2);

  // --force writes it, warns, and says so in the result.
  spec.task_id = "t2";
  spec.status = "completed";
  s.lib().put("alice:t2", record_json(spec));
  r = s.run({"-o", "json", "cancel", "--force", "-m", "ops: cleaning up", "alice:t2"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  auto result = parse_json(r.out);
  CHECK(result["result"] == "updated");
  CHECK(result["forced"] == true);
  CHECK(result["old_status"] == "completed");
  CHECK(result["new_status"] == "cancelled");
  CHECK(result["old_version"] == 1);
  CHECK(result["new_version"] == 2);
  CHECK(contains(r.err, "warning: alice:t2: forcing the transition completed -> cancelled"));
  CHECK(s.record("alice:t2")["task"]["statusMessage"] == "ops: cleaning up");

  // Several keys: one result each; the exit status is the worst.
  spec.task_id = "t3";
  spec.status = "input_required";
  s.lib().put("alice:t3", record_json(spec));
  r = s.run({"-o", "jsonl", "cancel", "alice:t3", "alice:t1", "alice:missing"});
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  const auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["result"] == "updated");
  CHECK(lines[1]["result"] == "failed");
  CHECK(lines[1]["error"]["exit"] == 6);
  CHECK(lines[2]["error"]["exit"] == 3);
  CHECK(s.record("alice:t3")["task"]["status"] == "cancelled");
}

TEST_CASE("set-status: update_status and complete_with_result; messages kept, set or cleared", "[backend][persistent]")
{
  Store s;
  s.lib().put("alice:t1", record_json("alice", "t1"));
  auto r = s.run({"set-status", "alice:t1", "input_required", "-m", "need a token"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty()); // a summary: on stderr
  CHECK(contains(r.err, "updated alice:t1 (version 1 -> 2, working -> input_required) in "));
  CHECK(s.record("alice:t1")["task"]["statusMessage"] == "need a token");

  // The message is kept unless told; --result sets status, message and result in one write.
  r = s.run({"-o", "json", "set-status", "alice:t1", "completed", "--result", R"({"answer":42})"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out)["new_version"] == 3);
  auto stored = s.record("alice:t1");
  CHECK(stored["task"]["status"] == "completed");
  CHECK(stored["task"]["statusMessage"] == "need a token");
  CHECK(stored["result"] == Json{{"answer", 42}});

  // Out of a terminal status: refused (exit 6) naming the status; --force writes it.
  r = s.run({"set-status", "alice:t1", "working"});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "pmcp-tasks forbids the transition completed -> working"));
  CHECK(contains(r.err, "--force"));
  CHECK(s.version("alice:t1") == 3);
  r = s.run({"set-status", "--force", "--clear-message", "alice:t1", "working"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.err, "forcing the transition completed -> working"));
  stored = s.record("alice:t1");
  CHECK(stored["task"]["status"] == "working");
  CHECK_FALSE(stored["task"].contains("statusMessage"));

  // A self-transition is refused too, naming the legal targets.
  r = s.run({"-o", "json", "set-status", "alice:t1", "working"});
  CHECK(r.exit_code == 6);
  CHECK(parse_json(r.err)["error"]["legal_targets"] ==
        Json::array({"input_required", "completed", "failed", "cancelled"}));

  // --result from a file and from stdin; bad JSON is exit 6 with nothing written.
  TempDir dir;
  write_file(dir.file("result.json"), R"({"rows":[1,2,3]})");
  r = s.run({"set-status", "alice:t1", "failed", "--result", "@" + dir.file("result.json")});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(s.record("alice:t1")["result"] == Json{{"rows", {1, 2, 3}}});
  const auto version = s.version("alice:t1");
  r = s.run({"set-status", "--force", "alice:t1", "completed", "--result", "{oops"});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "--result is not one JSON value"));
  CHECK(s.version("alice:t1") == version);
  CHECK(s.record("alice:t1")["task"]["status"] == "failed");
}

TEST_CASE("vars: print, set, unset, --string, limits", "[backend][persistent]")
{
  Store s;
  RecordSpec spec;
  spec.variables = R"({"tool_name":"analyze","n":1})";
  s.lib().put("alice:t1", record_json(spec));

  auto r = s.run({"vars", "alice:t1"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "NAME       VALUE\ntool_name  \"analyze\"\nn          1\n");
  r = s.run({"-o", "raw", "vars", "alice:t1"});
  CHECK(r.out == "{\"tool_name\":\"analyze\",\"n\":1}\n");

  r = s.run({"vars", "alice:t1", "set", "n=2", R"(arguments={"path":"/data/x"})", "--string", "note=checked by ops"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty()); // a summary: on stderr
  CHECK(contains(r.err, "updated alice:t1 (version 1 -> 2) in "));
  CHECK(s.record("alice:t1")["variables"] ==
        Json{{"tool_name", "analyze"}, {"n", 2}, {"arguments", {{"path", "/data/x"}}}, {"note", "checked by ops"}});

  // One NAME=TEXT per --string: what follows it is NAME=JSON again.
  r = s.run({"vars", "alice:t1", "set", "--string", "note=text", R"(arguments={"path":"/data/y"})"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(s.record("alice:t1")["variables"]["note"] == "text");
  CHECK(s.record("alice:t1")["variables"]["arguments"] == Json{{"path", "/data/y"}});
  r = s.run({"vars", "alice:t1", "unset", "tool_name", "arguments"});
  REQUIRE(r.exit_code == 0);
  CHECK(s.record("alice:t1")["variables"] == Json{{"n", 2}, {"note", "text"}});

  // Nothing to change: no write.
  r = s.run({"-o", "json", "vars", "alice:t1", "unset", "never-set"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["result"] == "unchanged");
  CHECK(s.version("alice:t1") == 4);

  // A value that is not JSON: exit 6, with the --string hint.
  r = s.run({"vars", "alice:t1", "set", "note=hello"});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "--string note=hello"));

  // The limits: the new values (with pointers), then the merged size; nothing written.
  Json bomb = 1;
  for (int i = 0; i < 11; ++i) {
    bomb = Json{{"d", bomb}};
  }
  r = s.run({"-o", "json", "vars", "alice:t1", "set", "bomb=" + bomb.dump(), "s=\"" + std::string(70'000, 'x') + "\""});
  CHECK(r.exit_code == 6);
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "validation_failed");
  REQUIRE(error["violations"].size() == 2);
  CHECK(error["violations"][0]["rule"] == "depth");
  CHECK(error["violations"][1]["pointer"] == "/s");
  r = s.run({"-o", "json", "vars", "--max-size", "100", "alice:t1", "set", "big=\"" + std::string(200, 'y') + "\""});
  CHECK(r.exit_code == 6);
  error = parse_json(r.err)["error"];
  CHECK(error["rule"] == "size");
  CHECK(error["limit"] == 100);
  CHECK(s.version("alice:t1") == 4);

  // An expired task is refused unless --force.
  spec.task_id = "old";
  spec.expires_at = k_past;
  s.lib().put("alice:old", record_json(spec));
  r = s.run({"-o", "json", "vars", "alice:old", "set", "a=1"});
  CHECK(r.exit_code == 6);
  CHECK(parse_json(r.err)["error"]["code"] == "expired");
  r = s.run({"vars", "--force", "alice:old", "set", "a=1"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "expired"));
  CHECK(s.record("alice:old")["variables"]["a"] == 1);
}

TEST_CASE("expire: --extend, --in, --at, --never keep ttl and expiresAt consistent", "[backend][persistent]")
{
  Store s;
  // pmcp-tasks' shape: createdAt = now truncated to ms, expiresAt = now + ttl.
  RecordSpec spec;
  spec.expires_at = "2025-11-25T11:30:00.123456789Z"; // createdAt 10:30:00.123 + 1 h
  s.lib().put("alice:t1", record_json(spec));

  auto r = s.run({"expire", "alice:t1", "--extend", "2h"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0); // an expired task (2025) can be extended
  auto stored = s.record("alice:t1");
  CHECK(stored["expiresAt"] == "2025-11-25T13:30:00.123456789Z");
  CHECK(stored["task"]["ttl"] == 3 * 3'600'000);
  CHECK(contains(r.err, "has already passed"));

  r = s.run({"expire", "alice:t1", "--at", "2099-01-01T00:00:00Z"});
  REQUIRE(r.exit_code == 0);
  stored = s.record("alice:t1");
  CHECK(stored["expiresAt"] == "2099-01-01T00:00:00Z");
  // 2025-11-25T10:30:00.123Z -> 2099-01-01T00:00:00Z in whole ms.
  CHECK(stored["task"]["ttl"] == (4'070'908'800LL - 1'764'066'600LL) * 1000 - 123);

  r = s.run({"-o", "json", "expire", "alice:t1", "--in", "1h"});
  REQUIRE(r.exit_code == 0);
  stored = s.record("alice:t1");
  CHECK(parse_json(s.run({"get", "alice:t1"}).out)["expired"] == false);

  r = s.run({"expire", "alice:t1", "--never"});
  REQUIRE(r.exit_code == 0);
  stored = s.record("alice:t1");
  CHECK(stored["expiresAt"].is_null());
  CHECK(stored["task"]["ttl"].is_null());
  r = s.run({"-o", "json", "expire", "alice:t1", "--never"});
  CHECK(parse_json(r.out)["result"] == "unchanged");

  // Nothing to extend, and a time before creation: exit 6, nothing written.
  const auto version = s.version("alice:t1");
  r = s.run({"expire", "alice:t1", "--extend", "1h"});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "never expires"));
  r = s.run({"expire", "alice:t1", "--at", "2020-01-01T00:00:00Z"});
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "before the task was created"));
  CHECK(s.version("alice:t1") == version);
}

TEST_CASE("--dry-run prints a unified diff and writes nothing, for every repair command", "[backend][persistent]")
{
  Store s;
  s.lib().put("alice:t1", record_json("alice", "t1"));
  const auto before = s.lib().get("alice:t1");
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"cancel", "--dry-run", "alice:t1"},
         {"set-status", "-n", "alice:t1", "failed", "-m", "boom"},
         {"vars", "alice:t1", "set", "-n", "a=1"},
         {"expire", "-n", "alice:t1", "--never"},
       }) {
    auto r = s.run(args);
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "--- alice:t1 (version 1)\n+++ alice:t1 (version 2, dry run)\n@@ "));
    CHECK(contains(r.out, "\n-    \"lastUpdatedAt\": \"2025-11-25T10:30:00.123Z\",\n"));
    CHECK(contains(r.err, "nothing was written"));
    std::vector<std::string> json_args = args;
    json_args.insert(json_args.begin(), {"-o", "json"});
    r = s.run(json_args);
    const auto result = parse_json(r.out);
    CHECK(result["result"] == "would_update");
    CHECK(result["dry_run"] == true);
    CHECK(contains(result["diff"].get<std::string>(), "+++ alice:t1 (version 2, dry run)"));
  }
  auto r = s.run({"cancel", "--dry-run", "alice:t1"});
  CHECK(contains(r.out, "\n-    \"status\": \"working\",\n+    \"status\": \"cancelled\",\n"));
  r = s.run({"delete", "--dry-run", "--expect-version", "1", "alice:t1"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "would delete alice:t1"));
  CHECK(s.lib().get("alice:t1") == before);
}

TEST_CASE("a write between the read and the CAS is retried, then exit 4 once retries are exhausted",
          "[backend][persistent]")
{
  Store s;
  const std::vector<std::vector<std::string>> commands = {
    {"cancel", "KEY"},
    {"set-status", "KEY", "failed", "-m", "boom"},
    {"vars", "KEY", "set", "mine=1"},
    {"vars", "KEY", "unset", "seed"},
    {"expire", "KEY", "--in", "2h"},
  };
  int n = 0;
  for (auto args : commands) {
    const std::string key = "alice:t" + std::to_string(++n);
    RecordSpec spec;
    spec.task_id = "t" + std::to_string(n);
    spec.variables = R"({"seed":true})";
    s.lib().put(key, record_json(spec));
    std::replace(args.begin(), args.end(), std::string("KEY"), key);
    INFO(args[0] << " " << key);

    // Once: retried on a fresh read; both changes survive.
    auto json_args = args;
    json_args.insert(json_args.begin(), {"-o", "json"});
    auto r = s.run(json_args, inject_conflict(s, false));
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    const auto result = parse_json(r.out);
    CHECK(result["attempts"] == 2);
    CHECK(result["old_version"] == 2); // the injected write's version
    CHECK(result["new_version"] == 3);
    CHECK(s.record(key)["variables"]["injected"] == "1");

    // Every time: exit 4 after 1 + --retries attempts, the concurrent writes kept.
    s.lib().put(key, record_json(spec)); // back to the seed record
    const auto version = s.version(key);
    auto exhaust = json_args;
    exhaust.insert(exhaust.begin() + 3, {"--retries", "2"});
    r = s.run(exhaust, inject_conflict(s, true));
    INFO(describe(r));
    CHECK(r.exit_code == 4);
    const auto error = parse_json(r.err)["error"];
    CHECK(error["code"] == "version_conflict");
    CHECK(error["attempts"] == 3);
    CHECK(error["current_version"] == version + 3);
    CHECK(s.version(key) == version + 3);
    CHECK(s.record(key)["variables"]["injected"] == "3");
    CHECK(s.record(key)["variables"]["seed"] == true);
    CHECK(s.record(key)["task"]["status"] == "working");
  }
}

TEST_CASE("delete --expect-version removes only the version read", "[backend][persistent]")
{
  Store s;
  s.lib().put("alice:t1", record_json("alice", "t1"));
  s.lib().put("alice:t1", record_json("alice", "t1"));
  auto r = s.run({"-o", "json", "delete", "--expect-version", "1", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 4);
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "version_conflict");
  CHECK(error["current_version"] == 2);
  CHECK(s.version("alice:t1") == 2);
  r = s.run({"-o", "jsonl", "delete", "-e", "2", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(parse_jsonl(r.out)[0]["status"] == "deleted");
  CHECK(snapshot(s.lib()).empty());
  r = s.run({"delete", "-e", "2", "--ignore-not-found", "alice:t1"});
  CHECK(r.exit_code == 0);
}

TEST_CASE("put and cas refuse a transition pmcp-tasks forbids unless --force", "[backend][persistent]")
{
  Store s;
  s.lib().put("alice:t1", record_json("alice", "t1", "completed"));
  // The issue's case: completed -> working through a raw cas.
  auto r = s.run({"cas", "-e", "1", "alice:t1"}, with_input(record_json("alice", "t1", "working")));
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "completed -> working"));
  r = s.run({"put", "alice:t1"}, with_input(record_json("alice", "t1", "working")));
  CHECK(r.exit_code == 6);
  r = s.run({"put", "--dry-run", "alice:t1"}, with_input(record_json("alice", "t1", "working")));
  CHECK(r.exit_code == 6);
  CHECK(s.version("alice:t1") == 1);
  // The same status is no transition; --force and --no-validate write anyway.
  r = s.run({"put", "alice:t1"}, with_input(record_json("alice", "t1", "completed")));
  CHECK(r.exit_code == 0);
  r = s.run({"cas", "-e", "2", "--force", "alice:t1"}, with_input(record_json("alice", "t1", "working")));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "forcing the transition completed -> working"));
  r = s.run({"put", "alice:t1"}, with_input(record_json("alice", "t1", "failed")));
  CHECK(r.exit_code == 0); // working -> failed is legal
  r = s.run({"put", "--no-validate", "alice:t1"}, with_input(record_json("alice", "t1", "working")));
  CHECK(r.exit_code == 0);
  CHECK(s.version("alice:t1") == 5);
}

TEST_CASE("8 processes setting their own variable 25 times each lose nothing", "[backend][persistent]")
{
  Store s;
  s.lib().put("alice:race", record_json("alice", "race"));
  constexpr int k_processes = 8;
  constexpr int k_rounds = 25;
  std::vector<pid_t> children;
  for (int i = 0; i < k_processes; ++i) {
    const std::string script = std::string("for k in $(seq 1 ") + std::to_string(k_rounds) + "); do '" +
                               TASKCTL_BIN + "' -q -s '" + s.uri() + "' vars alice:race set --retries 100 p" +
                               std::to_string(i) + "=$k >/dev/null || exit 1; done";
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  const auto final_record = s.lib().get("alice:race");
  CHECK(final_record.version == 1 + k_processes * k_rounds);
  const auto variables = parse_json(final_record.data)["variables"];
  for (int i = 0; i < k_processes; ++i) {
    CHECK(variables["p" + std::to_string(i)] == k_rounds);
  }
}
