// End-to-end tests of the real taskctl binary against temporary SQLite stores
// ([sqlite-cli], run by cli.sqlite): what holds for every subcommand: --version
// and --help, usage errors, store URIs, the default store, TASKCTL_STORE,
// secrets and --timeout.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace clitest;
namespace fs = std::filesystem;

TEST_CASE("--version lists the compiled-in backends; --help documents the CLI", "[sqlite-cli]")
{
  auto r = taskctl({"--version"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "taskctl 0.1.0"));
  CHECK(contains(r.out, "backends: memory sqlite redis dynamodb"));

  r = taskctl({"--help"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  for (const char* part : {"--store", "TASKCTL_STORE", "~/.local/share/taskctl/tasks.db", "Exit status:", "130",
                           "NO_COLOR", "get", "put", "cas", "delete", "ls", "gc", "validate"}) {
    CHECK(contains(r.out, part));
  }
  for (const char* sub : {"get", "put", "cas", "delete", "ls", "gc", "validate"}) {
    r = taskctl({sub, "--help"});
    INFO(sub << "\n" << describe(r));
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "Examples:"));
    CHECK(contains(r.out, "Output (default"));
  }
}

TEST_CASE("--help and usage errors never touch the store", "[sqlite-cli]")
{
  // Port 1 refuses connections: opening this store would fail with exit 5.
  auto r = taskctl({"-s", "redis://127.0.0.1:1/0", "get", "--help"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  r = taskctl({"-s", "redis://127.0.0.1:1/0", "get"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "taskctl: error:"));
  CHECK(contains(r.err, "KEY"));
}

TEST_CASE("usage errors exit 2, as text or as JSON on stderr", "[sqlite-cli]")
{
  auto r = taskctl({});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "taskctl: error:"));
  CHECK(r.out.empty());

  r = taskctl({"ls", "--bogus"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--bogus"));

  r = taskctl({"-o", "bogus", "ls"});
  CHECK(r.exit_code == 2);

  r = taskctl({"--color", "sometimes", "ls"});
  CHECK(r.exit_code == 2);

  r = taskctl({"-o", "json", "ls", "--bogus"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  auto error = parse_json(r.err);
  CHECK(error["error"]["code"] == "usage");
  CHECK(error["error"]["exit"] == 2);

  r = taskctl({"ls", "--expired", "--live"});
  CHECK(r.exit_code == 2);
  r = taskctl({"ls", "--status", "running"});
  CHECK(r.exit_code == 2);
  r = taskctl({"--timeout", "soon", "-s", "mem://", "ls"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--timeout"));
}

TEST_CASE("bad URIs, unknown schemes and bad keys exit 2", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));

  auto r = taskctl({"-s", "nocolon", "ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "invalid store URI"));

  r = taskctl({"-s", "foo://host/x", "ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "unknown store scheme 'foo'"));
  CHECK(contains(r.err, "sqlite"));

  r = taskctl({"-s", store.uri + "?bogus=1", "ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "bogus"));

  r = taskctl({"-o", "json", "-s", "foo://host/x", "ls"});
  CHECK(r.exit_code == 2);
  CHECK(parse_json(r.err)["error"]["exit"] == 2);

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "nocolon"}, {"put", "nocolon", "-"}, {"cas", "-e", "1", "nocolon", "-"},
        {"delete", "nocolon"}, {"ls", "--owner", "a:b"}, {"gc", "--owner", "a:b", "--dry-run"}}) {
    r = store.run(args, with_input(record_json("alice", "t1")));
    INFO(describe(r));
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "taskctl: error:"));
  }
}

TEST_CASE("the default store: read-only commands never create it; put --create does", "[sqlite-cli]")
{
  TempDir home;
  RunOptions options;
  options.env["HOME"] = home.path();
  const std::string db = home.path() + "/.local/share/taskctl/tasks.db";

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"ls"}, {"get", "alice:t1"}, {"validate", "--stored"}, {"gc", "--dry-run"},
        {"delete", "--owner", "alice", "--dry-run"}}) {
    auto r = taskctl(args, options);
    INFO(describe(r));
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, db));
    CHECK(contains(r.err, "--store"));
    CHECK(contains(r.err, "TASKCTL_STORE"));
    CHECK_FALSE(fs::exists(db));
  }

  options.input = record_json("alice", "t1");
  auto r = taskctl({"put", "alice:t1"}, options); // issue 12: creating a store is said, not assumed
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "--create"));
  CHECK_FALSE(fs::exists(db));
  r = taskctl({"--create", "put", "alice:t1"}, options);
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  REQUIRE(fs::exists(db));
  struct stat st {};
  REQUIRE(::stat((home.path() + "/.local/share/taskctl").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  options.input.clear();
  r = taskctl({"ls", "--count"}, options);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "1\n");

  // XDG_DATA_HOME moves the default store.
  TempDir xdg;
  options.env["XDG_DATA_HOME"] = xdg.path();
  r = taskctl({"ls"}, options);
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, xdg.path() + "/taskctl/tasks.db"));
}

TEST_CASE("the default store's missing directories are created 0700 whatever the umask", "[sqlite-cli]")
{
  TempDir home;
  RunOptions options;
  options.env["HOME"] = home.path();
  options.input = record_json("alice", "t1");
  const auto r = run("/bin/sh", {"-c", std::string("umask 000; exec '") + TASKCTL_BIN + "' --create put alice:t1"}, options);
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  for (const char* dir : {"/.local", "/.local/share", "/.local/share/taskctl"}) {
    struct stat st {};
    REQUIRE(::stat((home.path() + dir).c_str(), &st) == 0);
    INFO(dir);
    CHECK((st.st_mode & 0777) == 0700);
  }
}

TEST_CASE("a timeout of 0 is refused with exit 2, naming where it came from", "[sqlite-cli]")
{
  TempDir dir;
  const std::string db = "sqlite://" + dir.file("t.db");
  auto r = taskctl({"-s", db, "--timeout", "0", "ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--timeout 0: a timeout must be positive"));
  RunOptions env;
  env.env["TASKCTL_TIMEOUT"] = "0ms";
  r = taskctl({"-s", db, "ls"}, env);
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "TASKCTL_TIMEOUT 0ms"));
  // A URI's own timeout parameter, on every network backend (0 meant "wait forever" to hiredis).
  for (const std::string& uri : {std::string("redis://127.0.0.1:1?timeout=0"),
                                std::string("dynamodb://t?endpoint=http://127.0.0.1:1&region=x&timeout=0s"),
                                db + "?timeout=0"}) {
    RunOptions watchdog = with_input(record_json("alice", "t1"));
    watchdog.timeout = std::chrono::seconds(30); // before the fix, redis waited forever
    r = taskctl({"-s", uri, "put", "alice:t1"}, watchdog);
    INFO(describe(r));
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "timeout parameter"));
  }
  CHECK_FALSE(fs::exists(dir.file("t.db")));
}

TEST_CASE("TASKCTL_STORE names the store when --store is absent; --store wins", "[sqlite-cli]")
{
  SqliteStore a;
  SqliteStore b;
  a.seed("alice:t1", record_json("alice", "t1"));
  b.seed("bob:t1", record_json("bob", "t1"));
  b.seed("bob:t2", record_json("bob", "t2"));
  RunOptions options;
  options.env["TASKCTL_STORE"] = a.uri;
  auto r = taskctl({"ls", "--count"}, options);
  CHECK(r.out == "1\n");
  r = taskctl({"-s", b.uri, "ls", "--count"}, options);
  CHECK(r.out == "2\n");
}

TEST_CASE("secrets are never echoed; a password on argv is warned about", "[sqlite-cli]")
{
  auto r = taskctl({"-s", "redis://admin:s3cretpw@127.0.0.1:1/0", "--timeout", "500ms", "ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 5);
  CHECK_FALSE(contains(r.out + r.err, "s3cretpw"));
  CHECK(contains(r.err, "********"));
  CHECK(contains(r.err, "warning:"));
  CHECK(contains(r.err, "TASKCTL_STORE_PASSWORD"));

  r = taskctl({"-q", "-s", "redis://admin:s3cretpw@127.0.0.1:1/0", "ls"});
  CHECK(r.exit_code == 5);
  CHECK_FALSE(contains(r.err, "warning:"));
  CHECK_FALSE(contains(r.err, "s3cretpw"));

  RunOptions env;
  env.env["TASKCTL_STORE"] = "redis://:s3cretpw@127.0.0.1:1/0";
  r = taskctl({"-o", "json", "get", "alice:t1"}, env);
  INFO(describe(r));
  CHECK(r.exit_code == 5);
  CHECK_FALSE(contains(r.err, "s3cretpw"));
  CHECK_FALSE(contains(r.err, "warning:")); // not on argv
  auto error = parse_json(r.err);
  CHECK(error["error"]["code"] == "unavailable");
  CHECK(error["error"]["exit"] == 5);

  r = taskctl({"-s", "foo://user:s3cretpw@host/x", "ls"});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(contains(r.err, "s3cretpw"));

  r = taskctl({"-s", "redis://user:s3cretpw@127.0.0.1:1/0?bogus=1", "ls"});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(contains(r.err, "s3cretpw"));

  RunOptions pw;
  pw.env["TASKCTL_STORE_PASSWORD"] = "envs3cretpw";
  r = taskctl({"-s", "redis://127.0.0.1:1/0", "ls"}, pw);
  CHECK(r.exit_code == 5);
  CHECK_FALSE(contains(r.err, "envs3cretpw"));

  RunOptions pw_file;
  pw_file.env["TASKCTL_STORE_PASSWORD_FILE"] = "/nonexistent/password";
  r = taskctl({"-s", "redis://127.0.0.1:1/0", "ls"}, pw_file);
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "TASKCTL_STORE_PASSWORD_FILE"));
}

TEST_CASE("--timeout bounds a store that never answers: exit 5", "[sqlite-cli]")
{
  // A listener that accepts connections (the kernel completes the handshake)
  // but never says a word.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string uri = "redis://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/0";

  // No claim on speed: a watchdog far above the 300 ms asked for tells a
  // --timeout that is honoured from one that is not (the run would hang).
  RunOptions watchdog;
  watchdog.timeout = std::chrono::seconds(60);
  auto r = taskctl({"-s", uri, "--timeout", "300ms", "ls"}, watchdog);
  ::close(fd);
  INFO(describe(r));
  CHECK(r.exit_code == 5);
  CHECK(contains(r.err, "--timeout"));
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("numeric options refuse negatives and junk with exit 2, before anything is done", "[sqlite-cli]")
{
  SqliteStore store;
  for (int i = 0; i < 3; ++i) {
    store.seed("m:t" + std::to_string(i), record_json("m", "t" + std::to_string(i)));
  }
  // --max-delete -1 used to wrap to the largest count and delete all 3.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"delete", "--owner", "m", "--yes", "--max-delete", "-1"},
        {"delete", "--owner", "m", "--yes", "--max-delete", ""},
        {"gc", "--yes", "--max-delete", "-2"},
        {"cas", "-e", "-1", "m:t0", "-"},
        {"cas", "-e", "", "m:t0", "-"},
        {"ls", "--limit", "-1"},
        {"ls", "--limit", "1x"},
        {"validate", "--max-string-length", "-1", "-"},
        {"validate", "--max-size", "-1", "-"},
        {"validate", "--max-depth", "-1", "-"},
        {"validate", "--max-violations", "+3", "-"}}) {
    const auto r = store.run(args, with_input(record_json("m", "t0")));
    INFO(describe(r));
    CHECK(r.exit_code == 2);
  }
  CHECK(store.run({"ls", "--count"}).out == "3\n");
}

TEST_CASE("a diagnostic quotes at most 200 bytes of a word from the input", "[sqlite-cli]")
{
  TempDir dir;
  const std::string db = "sqlite://" + dir.file("t.db");
  REQUIRE(taskctl({"-s", db, "--create", "put", "alice:t1"}, with_input(record_json("alice", "t1"))).exit_code == 0);
  const std::string key = "a:" + std::string(30'000, 'k'); // the old regex scrubber crashed (exit 139) on this
  for (const std::string& format : {std::string("table"), std::string("json")}) {
    const auto r = taskctl({"-s", db, "-o", format, "get", key});
    INFO(describe(r).substr(0, 2000));
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "a:" + std::string(198, 'k') + "\u2026(29802 more bytes)"));
    CHECK(r.err.size() < 70'000); // the JSON "key" field keeps the whole key; the message does not
  }
  const auto r = taskctl({"-s", db, "get", key});
  CHECK(r.err.size() < 1'000);
}

TEST_CASE("an unknown command is named, with the closest one suggested", "[sqlite-cli]")
{
  TempDir dir;
  const std::string db = "sqlite://" + dir.file("t.db");
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"gte", "unknown command \"gte\"; did you mean \"get\"?"},
    {"stat", "unknown command \"stat\"; did you mean \"stats\"?"},
    {"expor", "unknown command \"expor\"; did you mean \"export\"?"},
    {"lsx", "unknown command \"lsx\"; did you mean \"ls\"?"},
    {"frobnicate", "unknown command \"frobnicate\""},
  };
  for (const auto& [word, message] : cases) {
    auto r = taskctl({"-s", db, "-q", word, "alice:t1"});
    INFO(describe(r));
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, message));
    CHECK_FALSE(contains(r.err, "A subcommand is required"));
  }
  auto r = taskctl({"-s", db, "frobnicate"});
  CHECK_FALSE(contains(r.err, "did you mean"));
  // An ESC in the word is escaped, not sent to the terminal.
  r = taskctl({"g\x1b[2Jt"});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(contains(r.err, "\x1b"));
  CHECK_FALSE(fs::exists(dir.file("t.db")));
}

TEST_CASE("rm and list are aliases; help and version are commands", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  store.seed("alice:t2", record_json("alice", "t2"));
  auto r = taskctl({"-s", store.uri, "list", "--count"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "2\n");
  r = taskctl({"-s", store.uri, "rm", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  r = taskctl({"-s", store.uri, "ls", "--count"});
  CHECK(r.out == "1\n");

  const auto top = taskctl({"--help"});
  r = taskctl({"help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == top.out);
  const auto get_help = taskctl({"get", "--help"});
  r = taskctl({"help", "get"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == get_help.out);
  r = taskctl({"help", "rm"});
  CHECK(contains(r.out, "Usage: taskctl delete"));
  r = taskctl({"help", "gte"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "did you mean \"get\"?"));

  r = taskctl({"version"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "taskctl 0.1.0\nbackends: memory sqlite redis dynamodb\nlibraries: sqlite 3."));
  CHECK(contains(r.out, " hiredis 0.14"));
  CHECK(contains(r.out, " libcurl 7."));
  r = taskctl({"version", "-o", "json"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const Json doc = parse_json(r.out);
  CHECK(doc["version"] == "0.1.0");
  CHECK(doc["backends"] == Json::array({"memory", "sqlite", "redis", "dynamodb"}));
  CHECK(doc["libraries"]["sqlite"].get<std::string>().rfind("3.", 0) == 0);
  CHECK(doc["libraries"]["libcurl"].is_string());
  CHECK(doc["libraries"]["zlib"].is_string());
}

TEST_CASE("an unknown option is named in the order given, with the closest one suggested", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  auto r = taskctl({"-s", store.uri, "ls", "--ownr", "alice"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "unknown option \"--ownr\"; did you mean \"--owner\"?"));
  CHECK(contains(r.err, "run `taskctl ls --help`"));
  // A global option mistyped before the command: named first, its help is taskctl's.
  r = taskctl({"-s", store.uri, "--colour", "never", "ls"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "unknown option \"--colour\"; did you mean \"--color\"?"));
  CHECK(contains(r.err, "run `taskctl --help`"));
  CHECK_FALSE(contains(r.err, "never --colour"));
  r = taskctl({"-s", store.uri, "get", "alice:t1", "--outptu=json"});
  CHECK(contains(r.err, "unknown option \"--outptu\"; did you mean \"--output\"?"));
  r = taskctl({"-s", store.uri, "get", "alice:t1", "--zzzzzzzz"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "unknown option \"--zzzzzzzz\""));
  CHECK_FALSE(contains(r.err, "did you mean"));
}

TEST_CASE("a bad TASKCTL_OUTPUT or TASKCTL_COLOR is named; a flag on the command line overrides it", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  RunOptions env;
  env.env["TASKCTL_OUTPUT"] = "yaml";
  auto r = taskctl({"-s", store.uri, "ls"}, env);
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "the environment variable TASKCTL_OUTPUT is \"yaml\", which is no output format"));
  CHECK_FALSE(contains(r.err, "--output: yaml"));
  r = taskctl({"-s", store.uri, "-o", "jsonl", "ls"}, env);
  CHECK(r.exit_code == 0);
  r = taskctl({"-s", store.uri, "ls", "-ojsonl"}, env);
  CHECK(r.exit_code == 0);
  RunOptions color;
  color.env["TASKCTL_COLOR"] = "sometimes";
  r = taskctl({"-s", store.uri, "ls"}, color);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "the environment variable TASKCTL_COLOR is \"sometimes\", which is no colour mode"));
  r = taskctl({"-s", store.uri, "--color=never", "ls"}, color);
  CHECK(r.exit_code == 0);
}
