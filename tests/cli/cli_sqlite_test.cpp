// End-to-end tests of the real taskctl binary against temporary SQLite stores:
// every subcommand's normal use, every error path and exit status, output
// formats parsed back, terminals (prompts, colour) and signals.

#include "cli_support.hpp"

#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace clitest;
namespace fs = std::filesystem;

namespace {

// A temporary SQLite store, the URI that names it, and a library handle to
// seed and inspect it.
struct SqliteStore
{
  TempDir dir;
  std::string path = dir.file("tasks.db");
  std::string uri = "sqlite://" + path;
  std::unique_ptr<taskstore::StorageBackend> handle;

  taskstore::StorageBackend& lib()
  {
    if (!handle) {
      handle = taskstore::open_store(uri);
    }
    return *handle;
  }
  void seed(const std::string& key, const std::string& data) { lib().put(key, data); }
  RunResult run(std::vector<std::string> args, RunOptions options = {})
  {
    args.insert(args.begin(), {"-s", uri});
    return taskctl(args, std::move(options));
  }
};

bool
contains(const std::string& text, const std::string& part)
{
  return text.find(part) != std::string::npos;
}

RunOptions
with_input(std::string input)
{
  RunOptions o;
  o.input = std::move(input);
  return o;
}

} // namespace

// --- global behaviour ------------------------------------------------------

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

TEST_CASE("the default store: read-only commands never create it; put does", "[sqlite-cli]")
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
  auto r = taskctl({"put", "alice:t1"}, options);
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

  const auto started = std::chrono::steady_clock::now();
  auto r = taskctl({"-s", uri, "--timeout", "300ms", "ls"});
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ::close(fd);
  INFO(describe(r));
  CHECK(r.exit_code == 5);
  CHECK(contains(r.err, "--timeout"));
  CHECK(elapsed < std::chrono::seconds(4));
}

// --- put / get / cas ---------------------------------------------------------

TEST_CASE("put then get: every output format parses back", "[sqlite-cli]")
{
  SqliteStore store;
  TempDir dir;
  const std::string record = record_json("alice", "t1");
  write_file(dir.file("t1.json"), record);

  auto r = store.run({"put", "alice:t1", dir.file("t1.json")});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "stored alice:t1 (version 1)\n");

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
  CHECK(contains(r.out, "dry run"));
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

TEST_CASE("cas writes on the expected version; conflict exits 4 with the current version", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  store.seed("alice:t1", record_json("alice", "t1")); // version 2

  auto r = store.run({"cas", "--expect-version", "1", "alice:t1"}, with_input(record_json("alice", "t1", "failed")));
  INFO(describe(r));
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "current version is 2"));
  r = store.run({"-o", "jsonl", "cas", "-e", "1", "alice:t1"}, with_input(record_json("alice", "t1", "failed")));
  CHECK(r.exit_code == 4);
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "version_conflict");
  CHECK(error["exit"] == 4);
  CHECK(error["current_version"] == 2);
  CHECK(error["expected_version"] == 1);
  CHECK(error["key"] == "alice:t1");
  CHECK(store.lib().get("alice:t1").version == 2);

  r = store.run({"cas", "-e", "2", "alice:t1"}, with_input(record_json("alice", "t1", "failed")));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "stored alice:t1 (version 3)\n");

  r = store.run({"cas", "-e", "1", "alice:missing"}, with_input(record_json("alice", "missing")));
  CHECK(r.exit_code == 3);
  r = store.run({"cas", "-e", "0", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 4);
  r = store.run({"cas", "-e", "0", "alice:t2"}, with_input(record_json("alice", "t2")));
  CHECK(r.exit_code == 0);
  r = store.run({"cas", "-e", "3", "alice:t1"}, with_input("{\"task\":"));
  CHECK(r.exit_code == 6);
  r = store.run({"cas", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 2); // --expect-version is required
  r = store.run({"cas", "-e", "3", "--dry-run", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 0);
  r = store.run({"cas", "-e", "2", "--dry-run", "alice:t1"}, with_input(record_json("alice", "t1")));
  CHECK(r.exit_code == 4);
  CHECK(store.lib().get("alice:t1").version == 3);
}

TEST_CASE("get -o raw > f; edit f; cas round-trips", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  TempDir dir;
  auto r = store.run({"get", "-o", "raw", "alice:t1"});
  REQUIRE(r.exit_code == 0);
  const auto version = parse_json(store.run({"get", "alice:t1"}).out)["version"].get<int>();
  std::string text = r.out;
  const auto pos = text.find("\"working\"");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 9, "\"completed\"");
  write_file(dir.file("t1.json"), text);

  r = store.run({"cas", "--expect-version", std::to_string(version), "alice:t1", dir.file("t1.json")});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const auto doc = parse_json(store.run({"get", "alice:t1"}).out);
  CHECK(doc["version"] == version + 1);
  CHECK(doc["record"]["task"]["status"] == "completed");
  CHECK(store.lib().get("alice:t1").data == text);

  // The same edit again is now a conflict.
  r = store.run({"cas", "--expect-version", std::to_string(version), "alice:t1", dir.file("t1.json")});
  CHECK(r.exit_code == 4);
}

TEST_CASE("get: a missing key exits 3; expired records say so", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:old", record_json("alice", "old", "completed", k_past));
  auto r = store.run({"get", "alice:nope"});
  INFO(describe(r));
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "key not found: alice:nope"));
  CHECK(r.out.empty());
  r = store.run({"-o", "json", "get", "alice:nope"});
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "not_found");
  CHECK(error["exit"] == 3);
  CHECK(error["key"] == "alice:nope");

  r = store.run({"get", "alice:old"});
  auto doc = parse_json(r.out);
  CHECK(doc["expired"] == true);
  CHECK(doc["expiresAt"] == k_past);
}

TEST_CASE("a missing SQLite file is exit 7 for reads, and is not created", "[sqlite-cli]")
{
  TempDir dir;
  const std::string uri = "sqlite://" + dir.file("absent.db");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "a:b"}, {"ls"}, {"delete", "a:b"}, {"gc", "--yes"}, {"validate", "--stored"}}) {
    std::vector<std::string> full = {"-s", uri};
    full.insert(full.end(), args.begin(), args.end());
    auto r = taskctl(full);
    INFO(describe(r));
    CHECK(r.exit_code == 7);
    CHECK_FALSE(fs::exists(dir.file("absent.db")));
  }
}

// --- delete ------------------------------------------------------------------

TEST_CASE("delete named keys; missing keys exit 3 unless --ignore-not-found", "[sqlite-cli]")
{
  SqliteStore store;
  for (const char* t : {"t1", "t2", "t3"}) {
    store.seed(std::string("alice:") + t, record_json("alice", t));
  }
  auto r = store.run({"delete", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "deleted alice:t1"));

  r = store.run({"-o", "jsonl", "delete", "alice:t2", "alice:nope"});
  INFO(describe(r));
  CHECK(r.exit_code == 3);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["key"] == "alice:t2");
  CHECK(lines[0]["status"] == "deleted");
  CHECK(lines[1]["key"] == "alice:nope");
  CHECK(lines[1]["status"] == "not_found");
  CHECK(lines[2]["summary"]["deleted"] == 1);
  CHECK(lines[2]["summary"]["not_found"] == 1);
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "not_found");
  CHECK(error["exit"] == 3);

  r = store.run({"delete", "--ignore-not-found", "alice:nope"});
  CHECK(r.exit_code == 0);

  r = store.run({"delete", "-n", "-o", "json", "alice:t3"});
  CHECK(r.exit_code == 0);
  auto doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["results"][0]["status"] == "would_delete");
  CHECK(doc["results"][0]["version"] == 1);
  CHECK(store.lib().get("alice:t3").version == 1);

  r = store.run({"delete"});
  CHECK(r.exit_code == 2);
  r = store.run({"delete", "--owner", "alice", "alice:t3"});
  CHECK(r.exit_code == 2);
}

TEST_CASE("delete --owner: --yes required without a terminal; dry run changes nothing", "[sqlite-cli]")
{
  SqliteStore store;
  for (const char* t : {"t1", "t2", "t3"}) {
    store.seed(std::string("alice:") + t, record_json("alice", t));
  }
  store.seed("bob:t1", record_json("bob", "t1"));
  const auto before = snapshot(store.lib());

  auto r = store.run({"delete", "--owner", "alice"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--yes"));
  CHECK(contains(r.err, "--dry-run"));
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "jsonl", "delete", "--owner", "alice", "--dry-run"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 4);
  for (int i = 0; i < 3; ++i) {
    CHECK(lines[i]["status"] == "would_delete");
    CHECK(lines[i]["key"].get<std::string>().rfind("alice:", 0) == 0);
  }
  CHECK(lines[3]["summary"]["would_delete"] == 3);
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"delete", "--owner", "alice", "--yes", "--max-delete", "2"});
  INFO(describe(r));
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "--max-delete"));
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "jsonl", "delete", "--owner", "alice", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0]["status"] == "deleted");
  CHECK(lines[3]["summary"]["deleted"] == 3);
  const auto after = snapshot(store.lib());
  REQUIRE(after.size() == 1);
  CHECK(after[0].first == "bob:t1");
}

TEST_CASE("delete --owner asks on the terminal: no aborts, yes deletes", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  store.seed("alice:t2", record_json("alice", "t2"));
  const auto before = snapshot(store.lib());

  RunOptions no;
  no.tty_stdin = true;
  no.tty_input = "n\n";
  auto r = store.run({"delete", "--owner", "alice"}, no);
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.tty, "Delete 2 records of owner alice from sqlite://"));
  CHECK(contains(r.tty, "[y/N]"));
  CHECK(contains(r.err, "aborted"));
  CHECK(snapshot(store.lib()) == before);

  RunOptions yes = no;
  yes.tty_input = "y\n";
  r = store.run({"delete", "--owner", "alice"}, yes);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(snapshot(store.lib()).empty());
}

// --- ls ----------------------------------------------------------------------

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

// --- gc ----------------------------------------------------------------------

TEST_CASE("gc removes only expired records; dry run and --yes rules", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:live", record_json("alice", "live"));
  store.seed("alice:old1", record_json("alice", "old1", "completed", k_past));
  store.seed("alice:old2", record_json("alice", "old2", "failed", k_past));
  store.seed("bob:old", record_json("bob", "old", "completed", k_past));
  store.seed("bob:forever", record_json("bob", "forever", "working", ""));
  const auto before = snapshot(store.lib());

  auto r = store.run({"gc"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--yes"));
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"gc", "--dry-run"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "would delete alice:old1"));
  CHECK(contains(r.out, "would remove 3 expired records"));
  CHECK_FALSE(contains(r.out, "alice:live"));
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "json", "gc", "-n"});
  auto doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["dry_run"] == true);
  CHECK(doc["would_delete"] == 3);
  CHECK(doc["results"].size() == 3);
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"gc", "--yes", "--max-delete", "2"});
  CHECK(r.exit_code == 4);
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "jsonl", "gc", "--yes", "--owner", "bob"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["key"] == "bob:old");
  CHECK(lines[0]["status"] == "deleted");
  CHECK(lines[0].contains("expiresAt"));
  CHECK(lines[1]["summary"]["deleted"] == 1);

  r = store.run({"gc", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "removed 2 expired records\n");
  const auto after = snapshot(store.lib());
  REQUIRE(after.size() == 2);
  CHECK(after[0].first == "alice:live");
  CHECK(after[1].first == "bob:forever");

  r = store.run({"gc", "--yes"});
  CHECK(r.out == "removed 0 expired records\n");
}

TEST_CASE("gc asks on the terminal", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:old", record_json("alice", "old", "completed", k_past));
  RunOptions yes;
  yes.tty_stdin = true;
  yes.tty_input = "yes\n";
  auto r = store.run({"gc"}, yes);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.tty, "Remove 1 expired record from"));
  CHECK(snapshot(store.lib()).empty());
}

// --- validate ----------------------------------------------------------------

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

// --- terminals, colour, signals ----------------------------------------------

TEST_CASE("colour: only on a terminal, never with NO_COLOR or --color never", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1", "failed"));
  RunOptions tty;
  tty.tty_stdout = true;
  auto r = store.run({"ls"}, tty); // a terminal: table by default, in colour
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.tty, "KEY"));
  CHECK(contains(r.tty, "\033["));

  RunOptions no_color = tty;
  no_color.env["NO_COLOR"] = "1";
  r = store.run({"ls"}, no_color);
  CHECK(contains(r.tty, "alice:t1"));
  CHECK_FALSE(contains(r.tty, "\033["));

  r = store.run({"--color", "never", "ls"}, tty);
  CHECK(contains(r.tty, "alice:t1"));
  CHECK_FALSE(contains(r.tty, "\033["));

  r = store.run({"--color", "always", "ls", "-o", "table"});
  CHECK(contains(r.out, "\033["));
  r = store.run({"ls", "-o", "table"});
  CHECK_FALSE(contains(r.out, "\033["));

  // json is pretty on a terminal, compact otherwise.
  r = store.run({"get", "alice:t1"}, tty);
  CHECK(contains(r.tty, "\n  \"key\": \"alice:t1\""));
  r = store.run({"get", "alice:t1"});
  CHECK(r.out.find('\n') == r.out.size() - 1);
}

TEST_CASE("Ctrl-C exits 130 and leaves nothing half-written", "[sqlite-cli]")
{
  auto interrupt_after = [](int ms) {
    return [ms](pid_t pid) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      ::kill(pid, SIGINT);
    };
  };
  RunOptions slow;
  slow.keep_stdin_open = true;
  slow.input = "{\"a\": [1, 2, ";
  slow.on_start = interrupt_after(300);
  auto r = taskctl({"validate", "-"}, slow);
  INFO(describe(r));
  CHECK(r.exit_code == 130);
  CHECK(r.term_signal == 0); // taskctl handled it and exited 130 itself
  CHECK(contains(r.err, "interrupted"));
  CHECK_FALSE(r.timed_out);

  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  const auto before = snapshot(store.lib());
  RunOptions put = slow;
  put.input = record_json("alice", "t1", "completed").substr(0, 40);
  r = store.run({"put", "alice:t1", "-"}, put);
  INFO(describe(r));
  CHECK(r.exit_code == 130);
  CHECK(r.term_signal == 0);
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "json", "put", "alice:t1", "-"}, put);
  CHECK(r.exit_code == 130);
  CHECK(parse_json(r.err)["error"]["code"] == "interrupted");
}

TEST_CASE("--quiet silences summaries and warnings, not data or errors", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  auto r = store.run({"-q", "validate", "--stored"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  r = store.run({"-q", "get", "alice:nope"});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "key not found"));
}
