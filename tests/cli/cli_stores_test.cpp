// Named stores (issue 13 section 3): the config file's [stores.NAME]
// entries selected with --store @NAME or TASKCTL_STORE=@NAME, its default
// entry, their passwords (used and scrubbed), read_only entries, `taskctl
// stores`, the permission warning and the errors of a bad file.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <sys/stat.h>

using namespace clitest;
namespace fs = std::filesystem;

namespace {

// A HOME whose ~/.config/taskctl/config.toml is written by write(); XDG and
// TASKCTL_ variables that would change what the tests see unset.
struct ConfigHome
{
  TempDir home;
  std::string dir = home.path() + "/.config/taskctl";
  std::string path = dir + "/config.toml";
  RunOptions options;

  ConfigHome()
  {
    fs::create_directories(dir);
    options.env["HOME"] = home.path();
    for (const char* name : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "TASKCTL_STORE", "TASKCTL_STORE_PASSWORD",
                             "TASKCTL_STORE_PASSWORD_FILE", "TASKCTL_OUTPUT", "TASKCTL_TIMEOUT", "TASKCTL_CREATE"}) {
      options.env[name] = std::nullopt;
    }
  }
  // Writes the config file with mode.
  void write(const std::string& text, mode_t mode = 0600)
  {
    write_file(path, text);
    ::chmod(path.c_str(), mode);
  }
  RunResult run(const std::vector<std::string>& args, const std::string& input = "") const
  {
    RunOptions o = options;
    o.input = input;
    return taskctl(args, o);
  }
};

std::string
entry(const std::string& name, const std::string& uri, const std::string& more = "")
{
  return "[stores." + name + "]\nuri = \"" + uri + "\"\n" + more + "\n";
}

} // namespace

TEST_CASE("stores: --store @NAME and TASKCTL_STORE=@NAME select an entry; precedence", "[sqlite-cli]")
{
  ConfigHome c;
  SqliteStore a;
  SqliteStore b;
  SqliteStore d;
  a.seed("alice:a", record_json("alice", "a"));
  b.seed("alice:b", record_json("alice", "b"));
  d.seed("alice:d", record_json("alice", "d"));
  c.write("default = \"dflt\"\n" + entry("one", a.uri) + entry("two", b.uri) + entry("dflt", d.uri));

  auto r = c.run({"--store", "@one", "ls", "-o", "raw", "--keys-only"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "alice:a\n");
  r = c.run({"-s", "@one", "get", "alice:a", "-o", "raw"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  // The config's default when neither --store nor TASKCTL_STORE is given.
  r = c.run({"get", "alice:d", "-o", "raw"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(c.run({"get", "alice:a"}).exit_code == 3);

  RunOptions env = c.options;
  env.env["TASKCTL_STORE"] = "@two";
  r = taskctl({"get", "alice:b", "-o", "raw"}, env);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  // The flag beats the environment.
  r = taskctl({"-s", "@one", "get", "alice:a", "-o", "raw"}, env);
  CHECK(r.exit_code == 0);
  CHECK(taskctl({"-s", "@one", "get", "alice:b"}, env).exit_code == 3);
  // The environment's URI beats the config's default.
  env.env["TASKCTL_STORE"] = a.uri;
  CHECK(taskctl({"get", "alice:a", "-o", "raw"}, env).exit_code == 0);

  // No default entry: the built-in default store (which does not exist).
  c.write(entry("one", a.uri));
  r = c.run({"ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, c.home.path() + "/.local/share/taskctl/tasks.db"));
}

TEST_CASE("stores: XDG_CONFIG_HOME moves the config file", "[sqlite-cli]")
{
  ConfigHome c;
  SqliteStore a;
  a.seed("alice:a", record_json("alice", "a"));
  TempDir xdg;
  fs::create_directories(xdg.path() + "/taskctl");
  write_file(xdg.path() + "/taskctl/config.toml", entry("x", a.uri));
  RunOptions o = c.options;
  o.env["XDG_CONFIG_HOME"] = xdg.path();
  auto r = taskctl({"-s", "@x", "get", "alice:a", "-o", "raw"}, o);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(c.run({"-s", "@x", "get", "alice:a"}).exit_code == 2); // not in ~/.config
}

TEST_CASE("stores: an unknown @NAME is exit 2 naming the entries, the closest suggested", "[sqlite-cli]")
{
  ConfigHome c;
  c.write(entry("staging", "mem://") + entry("prod", "mem://"));
  auto r = c.run({"-s", "@stagin", "ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "unknown store @stagin"));
  CHECK(contains(r.err, "did you mean @staging?"));
  CHECK(contains(r.err, "@prod"));
  CHECK(contains(r.err, c.path));
}

TEST_CASE("stores: a bad config file is exit 7 naming the file, line and key", "[sqlite-cli]")
{
  ConfigHome c;
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"[stores.a]\nuri = \"mem://\"\ncolour = \"red\"\n", ":3: stores.a.colour"},
    {"[stores.a]\nuri = \"mem://\"\nread_only = \"yes\"\n", ":3: stores.a.read_only"},
    {"[stores.a]\nuri = 5\n", ":2: stores.a.uri"},
    {"[stores.a]\nuri = \"mem://\"\ntimeout = \"soon\"\n", ":3: stores.a.timeout"},
    {"default = \"b\"\n[stores.a]\nuri = \"mem://\"\n", ":1: default"},
    {"[stores.a]\nuri = \"mem://\n", ":2"},
    {"verbose = true\n", ":1: verbose"},
  };
  for (const auto& [text, where] : cases) {
    c.write(text);
    const auto r = c.run({"-s", "@a", "ls"});
    INFO(text);
    INFO(describe(r));
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, c.path + where));
  }
}

TEST_CASE("stores: a broken config file fails only a run that needs a store from it", "[sqlite-cli]")
{
  ConfigHome c;
  c.write("[stores.a]\nuri = \"mem://\n");
  write_file(c.home.path() + "/vars.json", "{\"ok\":1}");
  auto r = c.run({"validate", c.home.path() + "/vars.json"}); // a CI step: no store at all
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  r = c.run({"-s", "mem://", "ls"});
  CHECK(r.exit_code == 0);
  r = c.run({"ls"}); // the default store may come from the config: it must be read
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, c.path + ":2"));
}

TEST_CASE("stores: password_file and password_env are used and scrubbed", "[sqlite-cli]")
{
  ConfigHome c;
  const std::string file_secret = "Fil3Secret-xyzzy";
  const std::string env_secret = "EnvSecret-plugh";
  write_file(c.home.path() + "/pw", file_secret + "\n");
  c.write(entry("f", "redis://127.0.0.1:1/0", "password_file = \"" + c.home.path() + "/pw\"") +
          entry("e", "redis://127.0.0.1:1/0", "password_env = \"MY_PW\""));
  RunOptions o = c.options;
  o.env["MY_PW"] = env_secret;
  for (const std::string name : {"@f", "@e"}) {
    // Nothing listens on port 1: the error message must not carry the password.
    const auto g = taskctl({"-s", name, "--timeout", "1s", "get", "alice:t1"}, o);
    INFO(describe(g));
    CHECK(g.exit_code == 5);
    CHECK_FALSE(contains(g.err + g.out, file_secret));
    CHECK_FALSE(contains(g.err + g.out, env_secret));
  }
  // An unset password_env is a configuration error.
  const auto r = c.run({"-s", "@e", "get", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "MY_PW"));
  // The stores listing names the source, never the password.
  const auto l = taskctl({"stores", "-o", "json"}, o);
  INFO(describe(l));
  REQUIRE(l.exit_code == 0);
  const Json doc = parse_json(l.out);
  REQUIRE(doc["stores"].size() == 2); // sorted by name
  CHECK(doc["stores"][0]["name"] == "e");
  CHECK(doc["stores"][0]["password"] == "password_env MY_PW");
  CHECK(doc["stores"][1]["password"] == "password_file " + c.home.path() + "/pw");
  CHECK_FALSE(contains(l.out, file_secret));
}

TEST_CASE("stores: a secret from the config reaches the store and is scrubbed from what it echoes",
          "[secrets]")
{
  const char* url = std::getenv("TASKCTL_TEST_REDIS_URL");
  if (url == nullptr) {
    WARN("TASKCTL_TEST_REDIS_URL is not set: skipped");
    return;
  }
  ConfigHome c;
  // The test redis-server has no password: AUTH with one fails, and the
  // server's error must not carry it into any message.
  const std::string secret = "Wr0ngPass-frobozz";
  write_file(c.home.path() + "/pw", secret + "\n");
  c.write(entry("r", url, "password_file = \"" + c.home.path() + "/pw\""));
  const auto r = c.run({"-s", "@r", "get", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code != 0);
  CHECK(r.exit_code != 3); // the password was used: AUTH failed before the read
  CHECK_FALSE(contains(r.err + r.out, secret));
}

TEST_CASE("stores: a read_only entry refuses every write (exit 7) unless --allow-write; dry runs are reads",
          "[sqlite-cli]")
{
  ConfigHome c;
  SqliteStore s;
  SqliteStore other;
  s.seed("alice:t1", record_json("alice", "t1"));
  s.seed("alice:old", record_json("alice", "old", "working", k_past));
  other.seed("bob:t9", record_json("bob", "t9"));
  c.write(entry("ro", s.uri, "read_only = true") + entry("other", other.uri));
  const Snapshot before = snapshot(s.lib());
  const std::string rec = record_json("alice", "t1", "working");
  const std::string dump = c.home.path() + "/dump.jsonl";
  write_file(dump, "{\"key\":\"alice:t5\",\"version\":1,\"record\":" + record_json("alice", "t5") + "}\n");

  struct Write
  {
    std::vector<std::string> args;
    std::string input;
  };
  const std::vector<Write> writes = {
    {{"put", "alice:t2"}, record_json("alice", "t2")},
    {{"cas", "alice:t1", "--expect-version", "1"}, rec},
    {{"delete", "alice:t1"}, ""},
    {{"delete", "--owner", "alice", "--yes"}, ""},
    {{"gc", "--yes"}, ""},
    {{"cancel", "alice:t1"}, ""},
    {{"set-status", "alice:t1", "failed"}, ""},
    {{"vars", "alice:t1", "set", "retries=3"}, ""},
    {{"vars", "alice:t1", "unset", "retries"}, ""},
    {{"expire", "alice:t1", "--in", "1h"}, ""},
    {{"edit", "alice:t1"}, ""},
    {{"import", dump}, ""},
  };
  for (const auto& w : writes) {
    std::vector<std::string> args = {"-s", "@ro"};
    args.insert(args.end(), w.args.begin(), w.args.end());
    RunOptions o = c.options;
    o.input = w.input;
    o.env["EDITOR"] = "true";
    const auto r = taskctl(args, o);
    INFO(describe(r));
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, "@ro is read-only"));
    CHECK(contains(r.err, "--allow-write"));
  }
  // copy's target.
  auto r = c.run({"copy", "@other", "@ro"});
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "@ro is read-only"));
  CHECK(snapshot(s.lib()) == before); // nothing written

  // Dry runs and reads are allowed.
  const std::vector<Write> dry = {
    {{"put", "--dry-run", "alice:t2"}, record_json("alice", "t2")},
    {{"delete", "--dry-run", "alice:t1"}, ""},
    {{"gc", "--dry-run"}, ""},
    {{"cancel", "--dry-run", "alice:t1"}, ""},
    {{"vars", "alice:t1", "set", "--dry-run", "retries=3"}, ""},
    {{"expire", "--dry-run", "alice:t1", "--in", "1h"}, ""},
    {{"import", "--dry-run", dump}, ""},
    {{"ls"}, ""},
    {{"get", "alice:t1"}, ""},
  };
  for (const auto& w : dry) {
    std::vector<std::string> args = {"-s", "@ro"};
    args.insert(args.end(), w.args.begin(), w.args.end());
    const auto d = c.run(args, w.input);
    INFO(describe(d));
    CHECK(d.exit_code == 0);
  }
  r = c.run({"copy", "--dry-run", "@other", "@ro"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  // Reading from a read-only store is fine: it is copy's source here.
  r = c.run({"copy", "@ro", "@other", "--if-absent"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(snapshot(s.lib()) == before);

  // --allow-write permits the write.
  r = c.run({"--allow-write", "-s", "@ro", "put", "alice:t2"}, record_json("alice", "t2"));
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  r = c.run({"-s", "@ro", "vars", "alice:t1", "set", "retries=3", "--allow-write"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(snapshot(s.lib()) != before);
}

TEST_CASE("stores: the entry's timeout and output are defaults the command line overrides", "[sqlite-cli]")
{
  ConfigHome c;
  SqliteStore s;
  s.seed("alice:t1", record_json("alice", "t1"));
  c.write(entry("j", s.uri, "output = \"jsonl\"\ntimeout = \"2s\""));
  auto r = c.run({"-s", "@j", "ls"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(parse_jsonl(r.out).size() == 1);
  r = c.run({"-s", "@j", "ls", "-o", "table"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "KEY"));
  RunOptions o = c.options;
  o.env["TASKCTL_OUTPUT"] = "json";
  r = taskctl({"-s", "@j", "ls"}, o);
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out).is_object());
}

TEST_CASE("stores: the listing is redacted; --check reports reachable and unreachable (exit 5)", "[sqlite-cli]")
{
  ConfigHome c;
  SqliteStore s;
  s.seed("alice:t1", record_json("alice", "t1"));
  c.write("default = \"local\"\n" + entry("local", s.uri) +
          entry("down", "redis://admin:Inl1nePass-zork@127.0.0.1:1/0", "read_only = true"));
  auto r = c.run({"stores"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "@local"));
  CHECK(contains(r.out, "@down"));
  CHECK(contains(r.out, "********"));
  CHECK_FALSE(contains(r.out + r.err, "Inl1nePass-zork"));

  r = c.run({"stores", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  Json doc = parse_json(r.out);
  CHECK(doc["default"] == "local");
  REQUIRE(doc["stores"].size() == 2); // sorted by name
  CHECK(doc["stores"][0]["name"] == "down");
  CHECK(doc["stores"][0]["read_only"] == true);
  CHECK(doc["stores"][0]["password"] == "uri");
  CHECK(doc["stores"][1]["default"] == true);
  CHECK_FALSE(contains(r.out, "Inl1nePass-zork"));

  r = c.run({"stores", "-o", "raw"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "@down\n@local\n");

  r = c.run({"stores", "--check", "-o", "jsonl", "--timeout", "2s"});
  INFO(describe(r));
  CHECK(r.exit_code == 5);
  const auto rows = parse_jsonl(r.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["name"] == "down");
  CHECK(rows[0]["reachable"] == false);
  CHECK(rows[0]["error"].is_string());
  CHECK(rows[1]["reachable"] == true);
  CHECK_FALSE(contains(r.out + r.err, "Inl1nePass-zork"));

  r = c.run({"stores", "--check"});
  CHECK(r.exit_code == 5);
  CHECK(contains(r.out, "unreachable"));
}

TEST_CASE("stores: a config file with an inline password readable by others is warned about", "[sqlite-cli]")
{
  ConfigHome c;
  SqliteStore s;
  s.seed("alice:t1", record_json("alice", "t1"));
  c.write(entry("local", s.uri) + entry("r", "redis://:Inl1ne-pw@127.0.0.1:1/0"), 0644);
  auto r = c.run({"-s", "@local", "ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, c.path));
  CHECK(contains(r.err, "0644"));
  CHECK(contains(r.err, "chmod 600"));
  r = c.run({"stores"});
  CHECK(contains(r.err, "chmod 600"));
  ::chmod(c.path.c_str(), 0600);
  r = c.run({"-s", "@local", "ls"});
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.err, "chmod"));
  // A password_file path is no secret: no warning at 0644.
  c.write(entry("local", s.uri, "password_file = \"/nonexistent\""), 0644);
  r = c.run({"stores"});
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.err, "chmod"));
}
