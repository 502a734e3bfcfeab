// SQLite under faults (issue 14, "Faults as tests"), through the real taskctl
// ([sqlite-cli]): a store locked by another process, a read-only file, a
// read-only mount, a full file system and a corrupt file. Each gives its
// documented exit, nothing crashes, and every record is intact afterwards.
//
// The read-only file is tested as an unprivileged user (setpriv to nobody)
// when the suite runs as root, which permissions do not stop. The mount
// cases need root (a small tmpfs); without it they are reported and skipped.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace clitest;

namespace {

// Another process holding SQLite's write lock on a store: sqlite3 in a
// transaction that has written (BEGIN IMMEDIATE + an INSERT), until release().
class LockHolder
{
public:
  explicit LockHolder(const std::string& path)
  {
    int in[2];
    int out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) {
      throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::string db = path;
    char arg0[] = "sqlite3";
    char* argv[] = {arg0, db.data(), nullptr};
    if (posix_spawnp(&pid_, "sqlite3", &actions, nullptr, argv, environ) != 0) {
      throw std::runtime_error("cannot run sqlite3");
    }
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    const std::string sql = "BEGIN IMMEDIATE;\nINSERT INTO tasks(key, owner, version, data) VALUES('lock:holder', "
                            "'lock', 1, CAST('x' AS BLOB));\nSELECT 'locked';\n";
    if (::write(stdin_, sql.data(), sql.size()) != static_cast<ssize_t>(sql.size())) {
      throw std::runtime_error("cannot write to sqlite3");
    }
    // Wait for "locked": the lock is held from then on.
    std::string seen;
    char c = 0;
    while (seen.find("locked") == std::string::npos && ::read(out[0], &c, 1) == 1) {
      seen.push_back(c);
    }
    ::close(out[0]);
    REQUIRE(seen.find("locked") != std::string::npos);
  }
  ~LockHolder() { release(); }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;

  // Rolls the transaction back (sqlite3 exits at the end of its input).
  void release()
  {
    if (pid_ > 0) {
      const std::string sql = "ROLLBACK;\n";
      [[maybe_unused]] const auto n = ::write(stdin_, sql.data(), sql.size());
      ::close(stdin_);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

private:
  pid_t pid_ = -1;
  int stdin_ = -1;
};

// Runs taskctl as the unprivileged user nobody when this process is root
// (permissions do not stop root), else as this user.
RunResult
taskctl_unprivileged(const std::vector<std::string>& args)
{
  if (::geteuid() != 0) {
    return taskctl(args);
  }
  std::vector<std::string> full = {"--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp",
                                   TASKCTL_BIN};
  full.insert(full.end(), args.begin(), args.end());
  return run("/usr/bin/setpriv", full);
}

// A tmpfs of size bytes mounted on a fresh directory (root only), unmounted
// (lazily) at the end.
class SmallTmpfs
{
public:
  explicit SmallTmpfs(const std::string& size)
  {
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, ("size=" + size + ",mode=0755").c_str()) != 0) {
      throw std::runtime_error(std::string("mount tmpfs failed: ") + std::strerror(errno));
    }
  }
  ~SmallTmpfs() { ::umount2(dir_.path().c_str(), MNT_DETACH); }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  std::string file(const std::string& name) const { return dir_.file(name); }
  // Remounts the file system read-only.
  void make_read_only()
  {
    if (::mount(nullptr, dir_.path().c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
      throw std::runtime_error(std::string("remount read-only failed: ") + std::strerror(errno));
    }
  }

private:
  TempDir dir_;
};

std::string
file_bytes(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

TEST_CASE("faults: a store locked by another writer still serves reads; a write exits 5", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  store.handle.reset(); // no connection of this test holds the file
  {
    LockHolder lock(store.path);
    auto r = store.run({"-o", "raw", "get", "alice:t1"});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "\"taskId\":\"t1\""));
    r = store.run({"--timeout", "300ms", "put", "alice:t2"}, with_input(record_json("alice", "t2")));
    INFO(describe(r));
    CHECK(r.exit_code == 5);
    // Issue 12: who holds it and how long taskctl waited, not the SQL.
    CHECK(contains(r.err, "is locked by another process"));
    CHECK(contains(r.err, "waited 300ms"));
    CHECK(contains(r.err, "--timeout sets how long taskctl waits for the lock (now 300ms)"));
    CHECK_FALSE(contains(r.err, "INSERT"));
    CHECK_FALSE(contains(r.err, "RETURNING"));
    CHECK_FALSE(contains(r.err, "is the store reachable"));
    r = store.run({"--timeout", "300ms", "gc", "--yes"});
    INFO(describe(r));
    CHECK((r.exit_code == 0 || r.exit_code == 5)); // nothing expired: gc may not need the lock
  }
  // The holder rolled back; the store is as before and writable again.
  auto r = store.run({"ls", "--keys-only"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "alice:t1\n");
  CHECK(store.run({"put", "alice:t2"}, with_input(record_json("alice", "t2"))).exit_code == 0);
}

TEST_CASE("faults: a read-only store file serves reads; a refused write says it is read-only", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  store.handle.reset();
  // Readable by anyone, writable by no one (the directory neither).
  REQUIRE(::chmod(store.path.c_str(), 0444) == 0);
  REQUIRE(::chmod(store.dir.path().c_str(), 0555) == 0);
  const auto before = file_bytes(store.path);

  auto r = taskctl_unprivileged({"-s", store.uri, "-o", "raw", "get", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "\"taskId\":\"t1\""));
  r = taskctl_unprivileged({"-s", store.uri, "ls", "--count"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "1\n");
  r = taskctl_unprivileged({"-s", store.uri, "-o", "jsonl", "validate", "--stored"});
  CHECK(r.exit_code == 0);

  r = taskctl_unprivileged({"-s", store.uri, "cancel", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "read-only"));
  CHECK_FALSE(contains(r.err, "UPDATE"));
  CHECK_FALSE(contains(r.err, "INSERT"));
  r = taskctl_unprivileged({"-s", store.uri, "delete", "alice:t1"});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "read-only"));
  CHECK(file_bytes(store.path) == before);
  ::chmod(store.dir.path().c_str(), 0700);
}

TEST_CASE("faults: a store on a read-only mount serves reads; writes exit 7", "[sqlite-cli]")
{
  if (::geteuid() != 0) {
    WARN("not root: the read-only mount case needs to mount a tmpfs (covered as root, e.g. in CI)");
    return;
  }
  SmallTmpfs fs("4m");
  const std::string path = fs.file("tasks.db");
  const std::string uri = "sqlite://" + path;
  REQUIRE(taskctl({"-s", uri, "--create", "put", "alice:t1"}, with_input(record_json("alice", "t1"))).exit_code == 0);
  fs.make_read_only();

  auto r = taskctl({"-s", uri, "-o", "raw", "get", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "\"taskId\":\"t1\""));
  CHECK(taskctl({"-s", uri, "ls", "--count"}).out == "1\n");
  r = taskctl({"-s", uri, "put", "alice:t2"}, with_input(record_json("alice", "t2")));
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "read-only"));
  r = taskctl({"-s", uri, "gc", "--yes"});
  CHECK((r.exit_code == 0 || r.exit_code == 7));
}

TEST_CASE("faults: a full file system refuses the write with exit 4 and keeps every record", "[sqlite-cli]")
{
  if (::geteuid() != 0) {
    WARN("not root: the full file system case needs to mount a small tmpfs (covered as root, e.g. in CI)");
    return;
  }
  SmallTmpfs fs("256k");
  const std::string uri = "sqlite://" + fs.file("tasks.db");
  RecordSpec spec;
  spec.variables = R"({"pad":")" + std::string(20000, 'x') + R"("})";
  int stored = 0;
  RunResult r;
  for (int i = 0; i < 40; ++i) {
    spec.task_id = "t" + std::to_string(i);
    r = taskctl({"-s", uri, "--create", "put", "--max-size", "100000", "alice:" + spec.task_id},
                with_input(record_json(spec)));
    if (r.exit_code != 0) {
      break;
    }
    ++stored;
  }
  INFO(describe(r));
  REQUIRE(stored > 0);
  REQUIRE(stored < 40);
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "full"));
  // Every record written before is intact, and reads still work.
  r = taskctl({"-s", uri, "ls", "--count"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::to_string(stored) + "\n");
  for (int i = 0; i < stored; ++i) {
    r = taskctl({"-s", uri, "-o", "raw", "get", "alice:t" + std::to_string(i)});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, std::string(20000, 'x')));
  }
}

TEST_CASE("faults: a corrupt store file gives a clear error, never a crash or a write", "[sqlite-cli]")
{
  SqliteStore store;
  for (int i = 0; i < 200; ++i) {
    store.seed("alice:t" + std::to_string(i), record_json("alice", "t" + std::to_string(i)));
  }
  store.handle.reset();
  SECTION("garbage over the pages after the header")
  {
    {
      std::fstream f(store.path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(4096 + 100);
      const std::string garbage(3 * 4096, '\xA5');
      f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    const auto before = file_bytes(store.path);
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"ls"}, {"get", "alice:t7"}, {"validate", "--stored"}, {"gc", "--yes"}}) {
      auto r = store.run(args);
      INFO(describe(r));
      CHECK(r.term_signal == 0);
      CHECK(r.exit_code != 0);
      CHECK(contains(r.err, "taskctl: error:"));
    }
    auto r = store.run({"put", "alice:new"}, with_input(record_json("alice", "new")));
    INFO(describe(r));
    CHECK(r.term_signal == 0);
    CHECK(r.exit_code != 0);
    CHECK(file_bytes(store.path) == before);
  }
  SECTION("a damaged header: not an SQLite database (exit 7)")
  {
    {
      std::fstream f(store.path, std::ios::in | std::ios::out | std::ios::binary);
      f.write("garbage garbage!", 16);
    }
    const auto before = file_bytes(store.path);
    auto r = store.run({"get", "alice:t1"});
    INFO(describe(r));
    CHECK(r.exit_code == 7);
    CHECK(contains(r.err, "not an SQLite database"));
    r = store.run({"put", "alice:new"}, with_input(record_json("alice", "new")));
    CHECK(r.exit_code == 7);
    CHECK(file_bytes(store.path) == before);
  }
}
