// End-to-end tests of taskctl edit: the real binary against every backend
// ([backend]; the ones that seed a record first need a store that outlives
// one run, [persistent]), with editors that are small shell scripts (sh, sed
// and perl only) run through $EDITOR / $VISUAL; the signal cases against
// SQLite only ([sqlite-cli]).

#include "backend_store.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#ifndef TASKCTL_BIN
#error "TASKCTL_BIN must name the taskctl binary"
#endif

using namespace clitest;

namespace {

namespace fs = std::filesystem;

const std::string k_key = "alice:t1";
const std::string k_stored_updated_at = "2025-11-25T10:30:00.123Z"; // record_json's lastUpdatedAt

// The shared BackendStore, with the record under test at hand.
struct EditStore : BackendStore
{
  // The stored record under key, parsed.
  Json record(const std::string& key = k_key) { return parse_json(lib().get(key).data); }
  std::uint64_t version(const std::string& key = k_key) { return lib().get(key).version; }
};

// The editor scripts, the files they leave behind, and the TMPDIR taskctl
// makes its file in (so a test can see what is kept).
struct Editors
{
  TempDir dir;
  TempDir tmp;

  // Writes an executable sh script running body; returns its path.
  std::string script(const std::string& name, const std::string& body) const
  {
    const std::string path = dir.write(name, "#!/bin/sh\nset -e\n" + body + "\n");
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
    return path;
  }
  // The environment of a run whose $EDITOR is editor (VISUAL unset). The
  // scripts see DIR (this directory), TASKCTL (the binary) and URI.
  RunOptions with(const std::string& editor, const std::string& uri = {}) const
  {
    RunOptions options;
    options.env["EDITOR"] = editor;
    options.env["VISUAL"] = std::nullopt;
    options.env["TMPDIR"] = tmp.path();
    options.env["DIR"] = dir.path();
    options.env["TASKCTL"] = std::string(TASKCTL_BIN);
    options.env["URI"] = uri;
    return options;
  }
  // The files left in TMPDIR.
  std::vector<std::string> left() const
  {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(tmp.path())) {
      out.push_back(entry.path().string());
    }
    return out;
  }
  // How many times the counting scripts ran (the file "count").
  int count() const
  {
    const std::string text = read_file(dir.file("count"));
    return text.empty() ? 0 : std::stoi(text);
  }
};

// Shell lines that count the runs in $DIR/count and copy what the editor was
// given to $DIR/seen-N.json; $n is the run's number.
const std::string k_count =
  "n=$(cat \"$DIR/count\" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > \"$DIR/count\"\n"
  "cp \"$1\" \"$DIR/seen-$n.json\"";

// The path of the kept file named in a JSON error.
std::string
kept_path(const RunResult& r)
{
  const auto error = parse_json(r.err.substr(r.err.find("{\"error\"")))["error"];
  REQUIRE(error.contains("path"));
  return error["path"].get<std::string>();
}

} // namespace

TEST_CASE("edit: a change is checked, lastUpdatedAt bumped and written with a CAS", "[backend][persistent]")
{
  EditStore s;
  Editors e;
  s.lib().put(k_key, record_json("alice", "t1"));

  SECTION("status and a variable")
  {
    const auto editor =
      e.script("edit.sh", k_count + "\nstat -c %a \"$1\" > \"$DIR/mode\"\n"
                                    "perl -0pi -e 's/\"status\": \"working\"/\"status\": \"completed\"/; "
                                    "s/\"variables\": \\{\\}/\"variables\": {\"note\": \"done\"}/' \"$1\"");
    auto r = s.run({"edit", k_key}, e.with(editor));
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.err, "edited alice:t1 (version 1 -> 2, working -> completed) in "));
    CHECK(e.count() == 1);
    // What the editor saw: the header, then the record, pretty.
    const std::string seen = read_file(e.dir.file("seen-1.json"));
    CHECK(seen.rfind("# Editing alice:t1 (version 1) in ", 0) == 0);
    CHECK(contains(seen, "\n  \"task\": {\n"));
    CHECK(contains(seen, "\"status\": \"working\""));
    CHECK(read_file(e.dir.file("mode")) == "600\n");
    // The file lived in TMPDIR as taskctl-edit-XXXXXX.json and is gone.
    CHECK(e.left().empty());

    CHECK(s.version() == 2);
    const std::string data = s.lib().get(k_key).data;
    CHECK_FALSE(contains(data, "#"));
    CHECK_FALSE(contains(data, "Editing"));
    CHECK(data.find('\n') == std::string::npos); // the canonical compact form
    const auto stored = s.record();
    CHECK(stored["task"]["status"] == "completed");
    CHECK(stored["variables"] == Json{{"note", "done"}});
    CHECK(stored["task"]["lastUpdatedAt"] != k_stored_updated_at);
    CHECK(stored["task"]["createdAt"] == k_stored_updated_at);
  }

  SECTION("-o json: the result object; EDITOR holds arguments; VISUAL comes first")
  {
    auto options = e.with("perl -pi -e 's/\"working\"/\"input_required\"/'");
    auto r = s.run({"-o", "json", "edit", k_key}, options);
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    auto doc = parse_json(r.out);
    CHECK(doc["result"] == "updated");
    CHECK(doc["old_version"] == 1);
    CHECK(doc["new_version"] == 2);
    CHECK(doc["old_status"] == "working");
    CHECK(doc["new_status"] == "input_required");
    CHECK(doc["forced"] == false);
    CHECK(s.record()["task"]["status"] == "input_required");

    options = e.with("false");
    options.env["VISUAL"] = "perl -pi -e 's/\"input_required\"/\"failed\"/'";
    r = s.run({"-o", "jsonl", "edit", k_key}, options);
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    CHECK(parse_jsonl(r.out).at(0)["new_version"] == 3);
    CHECK(s.record()["task"]["status"] == "failed");
  }

  SECTION("a lastUpdatedAt the user set is kept")
  {
    const auto r = s.run({"edit", k_key},
                         e.with("perl -pi -e 's/\"lastUpdatedAt\": \"[^\"]*\"/\"lastUpdatedAt\": "
                                "\"2030-01-02T03:04:05.678Z\"/; s/\"working\"/\"completed\"/'"));
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    CHECK(s.record()["task"]["lastUpdatedAt"] == "2030-01-02T03:04:05.678Z");
  }

  SECTION("an unknown field is warned about and not stored")
  {
    const std::string add_extra = "s/\"ownerId\": \"alice\"/\"ownerId\": \"alice\", \"extra\": 1/";
    auto r = s.run({"edit", k_key}, e.with("perl -pi -e '" + add_extra + "'"));
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.err, "unknown field /extra is not stored"));
    CHECK(contains(r.err, "no changes")); // nothing else changed: nothing to write
    CHECK(s.version() == 1);

    r = s.run({"edit", k_key}, e.with("perl -pi -e '" + add_extra + "; s/\"working\"/\"completed\"/'"));
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.err, "unknown field /extra is not stored"));
    CHECK(s.version() == 2);
    CHECK_FALSE(s.record().contains("extra"));
  }
}

TEST_CASE("edit: no changes writes nothing", "[backend][persistent]")
{
  EditStore s;
  Editors e;
  s.lib().put(k_key, record_json("alice", "t1"));
  const auto before = snapshot(s.lib());

  auto r = s.run({"edit", k_key}, e.with("true"));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "no changes"));
  CHECK(e.left().empty());

  r = s.run({"-o", "json", "edit", k_key}, e.with("true"));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  auto doc = parse_json(r.out);
  CHECK(doc["result"] == "unchanged");
  CHECK(doc["old_version"] == 1);
  CHECK(doc["new_version"] == 1);

  // Only the layout or the comments changed: the same record.
  r = s.run({"edit", k_key}, e.with("perl -0pi -e 's/^#.*\\n//mg; s/\\n\\s*/ /g; s/^/# a comment\\n/'"));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "no changes"));
  CHECK(snapshot(s.lib()) == before);
}

TEST_CASE("edit: invalid JSON aborts with exit 6 and keeps the file", "[backend][persistent]")
{
  EditStore s;
  Editors e;
  s.lib().put(k_key, record_json("alice", "t1"));
  const auto before = snapshot(s.lib());
  const auto editor = e.script("broken.sh", "printf '# still a comment\\n{\"task\": oops\\n' > \"$1\"");

  auto r = s.run({"edit", k_key}, e.with(editor));
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  CHECK(contains(r.err, "not valid JSON"));
  CHECK(contains(r.err, "your edits are kept in " + e.tmp.path() + "/taskctl-edit-"));
  CHECK(snapshot(s.lib()) == before);
  REQUIRE(e.left().size() == 1);
  // Kept without the comment lines, so the parse position is the file's.
  CHECK(read_file(e.left()[0]) == "{\"task\": oops\n");
  fs::remove(e.left()[0]);

  r = s.run({"-o", "json", "edit", k_key}, e.with(editor));
  INFO(describe(r));
  CHECK(r.exit_code == 6);
  const std::string path = kept_path(r);
  CHECK(read_file(path) == "{\"task\": oops\n");
  CHECK(parse_json(r.err)["error"]["line"] == 1);
  CHECK(snapshot(s.lib()) == before);
}

TEST_CASE("edit: a write that lands during the edit is never overwritten", "[backend][persistent]")
{
  EditStore s;
  Editors e;
  s.lib().put(k_key, record_json("alice", "t1"));

  SECTION("changed meanwhile: exit 4, the edits kept")
  {
    const auto editor = e.script("race.sh", k_count + "\n\"$TASKCTL\" -q -s \"$URI\" vars alice:t1 set n=$n >/dev/null\n"
                                            "perl -pi -e 's/\"working\"/\"input_required\"/' \"$1\"");
    auto r = s.run({"-o", "json", "edit", k_key}, e.with(editor, s.store.uri));
    INFO(describe(r));
    CHECK(r.exit_code == 4);
    const auto error = parse_json(r.err)["error"];
    CHECK(error["code"] == "version_conflict");
    CHECK(error["key"] == k_key);
    CHECK(error["expected_version"] == 1);
    CHECK(error["current_version"] == 2);
    CHECK(contains(error["message"].get<std::string>(), "changed while it was being edited"));
    CHECK(contains(error["hint"].get<std::string>(), "taskctl cas --expect-version 2 alice:t1 "));
    // The concurrent write stands.
    CHECK(s.version() == 2);
    CHECK(s.record()["variables"] == Json{{"n", 1}});
    CHECK(s.record()["task"]["status"] == "working");
    // The kept file is the record the edit would have written.
    const std::string path = error["path"].get<std::string>();
    const auto kept = parse_json(read_file(path));
    CHECK(kept["task"]["status"] == "input_required");
    CHECK(kept["variables"] == Json::object());

    // The table output names the file too.
    r = s.run({"edit", k_key}, e.with(editor, s.store.uri));
    INFO(describe(r));
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "your edits are kept in " + e.tmp.path() + "/taskctl-edit-"));
    CHECK(s.version() == 3);
    CHECK(s.record()["variables"] == Json{{"n", 2}});
  }

  SECTION("deleted meanwhile: exit 3, the edits kept")
  {
    const auto editor = e.script("gone.sh", "\"$TASKCTL\" -q -s \"$URI\" delete alice:t1 >/dev/null\n"
                                            "perl -pi -e 's/\"working\"/\"completed\"/' \"$1\"");
    const auto r = s.run({"-o", "json", "edit", k_key}, e.with(editor, s.store.uri));
    INFO(describe(r));
    CHECK(r.exit_code == 3);
    CHECK(parse_json(r.err)["error"]["code"] == "not_found");
    CHECK(s.lib().list_by_prefix("").empty());
    CHECK(parse_json(read_file(kept_path(r)))["task"]["status"] == "completed");
  }
}

TEST_CASE("edit: an illegal transition is reopened with the refusal; --force writes it", "[backend][persistent]")
{
  EditStore s;
  Editors e;
  s.lib().put(k_key, record_json("alice", "t1", "completed"));
  const auto before = snapshot(s.lib());
  const auto editor = e.script("reopen.sh", k_count + "\nperl -pi -e 's/\"completed\"/\"working\"/' \"$1\"");

  SECTION("saved unchanged after the reopen: exit 6")
  {
    const auto r = s.run({"-o", "json", "edit", k_key}, e.with(editor));
    INFO(describe(r));
    CHECK(r.exit_code == 6);
    CHECK(e.count() == 2);
    const std::string second = read_file(e.dir.file("seen-2.json"));
    CHECK(second.rfind("# The edited record was not saved:\n", 0) == 0);
    CHECK(contains(second, "#   alice:t1: pmcp-tasks forbids the transition completed -> working\n"));
    CHECK(contains(second, "#     completed is a terminal status"));
    CHECK(contains(second, "\n# Editing alice:t1 (version 1) in "));
    CHECK(contains(second, "\"status\": \"working\""));
    const auto error = parse_json(r.err)["error"];
    CHECK(error["code"] == "invalid_transition");
    CHECK(contains(error["hint"].get<std::string>(), "--force"));
    CHECK(snapshot(s.lib()) == before);
    CHECK(parse_json(read_file(kept_path(r)))["task"]["status"] == "working");
  }

  SECTION("--force writes it and warns")
  {
    const auto r = s.run({"edit", "--force", k_key}, e.with(editor));
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(e.count() == 1);
    CHECK(contains(r.err, "forcing the transition completed -> working"));
    CHECK(r.out.empty()); // a summary: on stderr
    CHECK(contains(r.err, "edited alice:t1 (version 1 -> 2, completed -> working) in "));
    CHECK(s.record()["task"]["status"] == "working");
    CHECK(e.left().empty());
  }
}

TEST_CASE("edit: a schema problem is reopened until it is fixed", "[backend][persistent]")
{
  EditStore s;
  Editors e;
  s.lib().put(k_key, record_json("alice", "t1"));
  // First run: another owner (and a status change); second run: the owner put back.
  const auto editor =
    e.script("fix.sh", k_count + "\n"
                                 "if [ \"$n\" = 1 ]; then\n"
                                 "  perl -pi -e 's/\"ownerId\": \"alice\"/\"ownerId\": \"bob\"/; "
                                 "s/\"working\"/\"completed\"/' \"$1\"\n"
                                 "else\n"
                                 "  perl -pi -e 's/\"ownerId\": \"bob\"/\"ownerId\": \"alice\"/' \"$1\"\n"
                                 "fi");
  const auto r = s.run({"edit", k_key}, e.with(editor));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(e.count() == 2);
  const std::string second = read_file(e.dir.file("seen-2.json"));
  CHECK(second.rfind("# The edited record was not saved:\n#   /ownerId: ", 0) == 0);
  CHECK(contains(second, "\"ownerId\": \"bob\""));
  CHECK(s.version() == 2);
  CHECK(s.record()["ownerId"] == "alice");
  CHECK(s.record()["task"]["status"] == "completed");
  CHECK(e.left().empty());

  // An editor that never fixes it gives up on the second save.
  const auto never = e.script("never.sh", "perl -pi -e 's/\"ttl\": [0-9]+/\"ttl\": \"soon\"/' \"$1\"");
  const auto again = s.run({"edit", k_key}, e.with(never));
  INFO(describe(again));
  CHECK(again.exit_code == 6);
  CHECK(contains(again.err, "/task/ttl"));
  CHECK(contains(again.err, "your edits are kept in "));
  CHECK(s.version() == 2);
}

TEST_CASE("edit: emptying the file or a failing editor aborts with exit 1", "[backend][persistent]")
{
  EditStore s;
  Editors e;
  s.lib().put(k_key, record_json("alice", "t1"));
  const auto before = snapshot(s.lib());

  auto r = s.run({"edit", k_key}, e.with(e.script("empty.sh", ": > \"$1\"")));
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "edit cancelled: the file is empty; nothing was written"));
  CHECK(e.left().empty());

  // Only comments left is empty too.
  r = s.run({"edit", k_key}, e.with("perl -ni -e 'print if /^#/'"));
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "the file is empty"));

  r = s.run({"-o", "json", "edit", k_key}, e.with(e.script("fail.sh", "perl -pi -e 's/working/completed/' \"$1\"\n"
                                                                        "exit 1")));
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  const auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "editor_failed");
  CHECK(contains(error["message"].get<std::string>(), "exited with status 1"));
  CHECK(e.left().empty());

  r = s.run({"edit", k_key}, e.with("/nonexistent/editor"));
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "the editor `/nonexistent/editor` exited with status 127"));
  CHECK(snapshot(s.lib()) == before);
  CHECK(e.left().empty());
}

TEST_CASE("edit --dry-run prints the diff and writes nothing", "[backend][persistent]")
{
  EditStore s;
  Editors e;
  s.lib().put(k_key, record_json("alice", "t1"));
  const auto before = snapshot(s.lib());
  const auto editor = e.with("perl -pi -e 's/\"working\"/\"failed\"/'");

  auto r = s.run({"edit", "--dry-run", k_key}, editor);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("--- alice:t1 (version 1)\n+++ alice:t1 (version 2, dry run)\n", 0) == 0);
  CHECK(contains(r.out, "\n-    \"status\": \"working\",\n"));
  CHECK(contains(r.out, "\n+    \"status\": \"failed\",\n"));
  CHECK(contains(r.out, "\n+    \"lastUpdatedAt\": \""));
  CHECK(contains(r.err, "dry run: would write alice:t1 version 2, working -> failed; nothing was written"));
  CHECK(e.left().empty());

  r = s.run({"-o", "json", "edit", "-n", k_key}, editor);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  auto doc = parse_json(r.out);
  CHECK(doc["result"] == "would_update");
  CHECK(doc["dry_run"] == true);
  CHECK(doc["new_version"] == 2);
  CHECK(contains(doc["diff"].get<std::string>(), "+    \"status\": \"failed\","));
  CHECK(snapshot(s.lib()) == before);
}

TEST_CASE("edit: a missing key exits 3 without running the editor", "[backend]")
{
  EditStore s;
  Editors e;
  const auto editor = e.script("mark.sh", "touch \"$DIR/ran\"");
  auto r = s.run({"edit", "alice:nope"}, e.with(editor));
  INFO(describe(r));
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "key not found: alice:nope"));
  r = s.run({"-o", "json", "edit", "alice:nope"}, e.with(editor));
  CHECK(r.exit_code == 3);
  CHECK(parse_json(r.err)["error"]["code"] == "not_found");
  CHECK_FALSE(fs::exists(e.dir.file("ran")));
  CHECK(e.left().empty());
  CHECK(s.run({"edit", "nocolon"}, e.with(editor)).exit_code == 2);
}

TEST_CASE("edit: Ctrl-C goes to the editor; SIGTERM aborts once it exits, the file kept", "[sqlite-cli]")
{
  SqliteStore store;
  Editors e;
  store.seed(k_key, record_json("alice", "t1"));
  // The editor says it runs, then waits (at most 10 s) for the test's go.
  const auto editor = e.script("wait.sh", "touch \"$DIR/started\"\n"
                                          "i=0; while [ ! -e \"$DIR/go\" ] && [ $i -lt 200 ]; do sleep 0.05; "
                                          "i=$((i + 1)); done\n"
                                          "perl -pi -e 's/\"working\"/\"completed\"/' \"$1\"");
  // Runs the editor, sends taskctl sig once the editor runs, then lets the editor finish.
  auto signal_then_go = [&](int sig) {
    RunOptions options = e.with(editor);
    options.on_start = [&e, sig](pid_t pid) {
      for (int i = 0; i < 400 && !fs::exists(e.dir.file("started")); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      ::kill(pid, sig);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      e.dir.write("go", "");
    };
    return options;
  };

  SECTION("SIGINT is ignored: the edit goes on and is saved")
  {
    const auto r = store.run({"edit", k_key}, signal_then_go(SIGINT));
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(r.term_signal == 0);
    CHECK(contains(r.err, "edited alice:t1 (version 1 -> 2, working -> completed) in "));
    CHECK(store.lib().get(k_key).version == 2);
    CHECK(e.left().empty());
  }

  SECTION("SIGTERM: nothing written once the editor exits, the file kept")
  {
    const auto before = snapshot(store.lib());
    const auto r = store.run({"edit", k_key}, signal_then_go(SIGTERM));
    INFO(describe(r));
    CHECK(r.exit_code == 143);
    CHECK(r.term_signal == 0);
    CHECK(contains(r.err, "interrupted"));
    CHECK(contains(r.err, "the file is kept in " + e.tmp.path() + "/taskctl-edit-"));
    CHECK(snapshot(store.lib()) == before);
    REQUIRE(e.left().size() == 1);
    CHECK(contains(read_file(e.left()[0]), "\"status\": \"completed\""));
  }
}
