// End-to-end tests of the SQLite store's edges ([sqlite-cli]): a record at
// the maximum version (INT64_MAX, SQLite's largest integer) is never written
// past it; a new store file created by 8 processes at once; a store path that
// is not a regular file (/dev/null, a directory) is refused before SQLite
// touches it.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace clitest;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t k_sqlite_max = 9'223'372'036'854'775'807ULL;

// Runs the sqlite3 CLI on path with one statement; fails the test on an error.
void
sqlite3_exec(const std::string& path, const std::string& sql)
{
  const RunResult r = run("/usr/bin/sqlite3", {"-bail", "-cmd", ".timeout 10000", path, sql});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
}

} // namespace

TEST_CASE("put on a record at the maximum version exits 4 and changes nothing", "[sqlite-cli]")
{
  SqliteStore store;
  TempDir dir;
  const std::string before = record_json("alice", "t1");
  store.seed("alice:t1", before);
  store.handle.reset();
  sqlite3_exec(store.path, "UPDATE tasks SET version = 9223372036854775807 WHERE key = 'alice:t1'");
  const std::string file = dir.write("t1.json", record_json("alice", "t1", "completed"));

  auto r = store.run({"put", "alice:t1", file});
  INFO(describe(r));
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "capacity exceeded"));
  CHECK(contains(r.err, "alice:t1"));
  CHECK(contains(r.err, "9223372036854775807"));
  CHECK(store.lib().get("alice:t1") == taskstore::VersionedRecord{before, k_sqlite_max});

  r = store.run({"cas", "-e", "9223372036854775807", "alice:t1", file});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "capacity exceeded"));
  CHECK(store.lib().get("alice:t1") == taskstore::VersionedRecord{before, k_sqlite_max});
  // The repair commands report it alike (they exited 1, "storage full").
  r = store.run({"-o", "json", "cancel", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "capacity_exceeded"));
  CHECK(store.lib().get("alice:t1") == taskstore::VersionedRecord{before, k_sqlite_max});

  // A version beyond u64 is refused as usage (CLI11 clamped it to u64 max).
  r = store.run({"cas", "-e", "18446744073709551616", "alice:t1", file});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "too large"));
}

TEST_CASE("8 processes putting into a new store file at once all succeed", "[sqlite-cli]")
{
  constexpr int k_processes = 8;
  constexpr int k_rounds = 25;
  TempDir dir;
  std::vector<std::string> files;
  for (int i = 0; i < k_processes; ++i) {
    files.push_back(dir.write("t" + std::to_string(i) + ".json", record_json("alice", "t" + std::to_string(i))));
  }
  const std::string home = test_home();
  for (int round = 0; round < k_rounds; ++round) {
    const std::string path = dir.file("store-" + std::to_string(round) + ".db");
    const std::string uri = "sqlite://" + path;
    std::vector<pid_t> children;
    std::vector<std::string> logs;
    for (int i = 0; i < k_processes; ++i) {
      logs.push_back(dir.file("log-" + std::to_string(round) + "-" + std::to_string(i)));
      const std::string key = "alice:t" + std::to_string(i);
      const pid_t pid = fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        const int fd = ::open(logs.back().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
          ::dup2(fd, 1);
          ::dup2(fd, 2);
        }
        ::setenv("HOME", home.c_str(), 1);
        ::unsetenv("TASKCTL_STORE");
        execl(TASKCTL_BIN, TASKCTL_BIN, "-q", "--create", "-s", uri.c_str(), "put", key.c_str(), files[i].c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
      }
      children.push_back(pid);
    }
    for (int i = 0; i < k_processes; ++i) {
      int status = 0;
      REQUIRE(waitpid(children[i], &status, 0) == children[i]);
      std::ifstream log(logs[i]);
      const std::string output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      INFO("round " << round << ", process " << i << ": " << output);
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);
    }
    const RunResult ls = taskctl({"-s", uri, "ls", "-o", "jsonl"});
    INFO("round " << round << ": " << describe(ls));
    CHECK(ls.exit_code == 0);
    CHECK(parse_jsonl(ls.out).size() == k_processes);
  }
}

TEST_CASE("a store path that is not a regular file is refused before SQLite opens it", "[sqlite-cli]")
{
  TempDir dir;
  const std::string file = dir.write("t1.json", record_json("alice", "t1"));

  SECTION("/dev/null")
  {
    const bool journal_before = fs::exists("/dev/null-journal");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"put", "alice:t1", file}, std::vector<std::string>{"get", "alice:t1"}}) {
      std::vector<std::string> argv{"-s", "sqlite:/dev/null"};
      argv.insert(argv.end(), args.begin(), args.end());
      const RunResult r = taskctl(argv);
      INFO(describe(r));
      CHECK(r.exit_code == 7);
      CHECK(contains(r.err, "/dev/null"));
      CHECK(contains(r.err, "not a regular file"));
    }
    if (!journal_before) {
      CHECK_FALSE(fs::exists("/dev/null-journal"));
      CHECK_FALSE(fs::exists("/dev/null-wal"));
    }
  }

  SECTION("a directory")
  {
    const std::string store = dir.file("store.d");
    fs::create_directory(store);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"put", "alice:t1", file}, std::vector<std::string>{"ls"}}) {
      std::vector<std::string> argv{"-s", "sqlite://" + store};
      argv.insert(argv.end(), args.begin(), args.end());
      const RunResult r = taskctl(argv);
      INFO(describe(r));
      CHECK(r.exit_code == 7);
      CHECK(contains(r.err, store));
      CHECK(contains(r.err, "not a regular file"));
    }
    CHECK(fs::is_empty(store));
    CHECK_FALSE(fs::exists(store + "-journal"));
    CHECK_FALSE(fs::exists(store + "-wal"));
  }
}
