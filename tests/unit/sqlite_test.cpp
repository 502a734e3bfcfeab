// What only the SQLite backend promises: the file it creates (mode, WAL,
// schema version), what it refuses to open, read-only opens that never create
// anything, the busy timeout, and CAS from several processes.

#include "contract/stores.hpp"

#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace taskstore;
namespace fs = std::filesystem;

namespace {

// A new temporary directory, removed with everything in it.
struct TempDir
{
  TempDir()
  {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/taskctl-sqlite-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir()
  {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string
  file(const std::string& name) const
  {
    return path + "/" + name;
  }
  std::string
  uri(const std::string& name) const
  {
    return "sqlite://" + file(name);
  }
  std::string path;
};

// A raw SQLite connection, to look at (or tamper with) what the backend wrote.
struct Raw
{
  explicit Raw(const std::string& path, int flags = SQLITE_OPEN_READWRITE)
  {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, flags, nullptr) == SQLITE_OK);
  }
  ~Raw() { sqlite3_close_v2(db); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  void
  exec(const std::string& sql)
  {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error != nullptr ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }

  // The first column of the first row as text ("" when there is none).
  std::string
  text(const std::string& sql)
  {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }

  // The "detail" column of EXPLAIN QUERY PLAN, all rows joined.
  std::string
  plan(const std::string& sql)
  {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    std::string out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      out += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
      out += "\n";
    }
    sqlite3_finalize(stmt);
    return out;
  }

  sqlite3* db = nullptr;
};

unsigned
mode_of(const std::string& path)
{
  struct stat info{};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

OpenOptions
read_only()
{
  OpenOptions options;
  options.create_if_missing = false;
  return options;
}

template <class F>
std::string
config_error_of(F&& f)
{
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError");
  return {};
}

} // namespace

TEST_CASE("a new store file is created with mode 0600 whatever the umask, in WAL mode, schema version 1")
{
  TempDir dir;
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    const auto name = "store-" + std::to_string(mask) + ".db";
    const mode_t old = ::umask(mask);
    {
      auto db = open_store(dir.uri(name));
      ::umask(old);
      CHECK(db->name() == "sqlite");
      CHECK(db->put("o:t", "x") == 1);
      CHECK(mode_of(dir.file(name)) == 0600);
      // SQLite gives its -wal and -shm files the database file's mode.
      CHECK(mode_of(dir.file(name) + "-wal") == 0600);
      CHECK(mode_of(dir.file(name) + "-shm") == 0600);
    }
    ::umask(old);
    Raw raw(dir.file(name));
    CHECK(raw.text("PRAGMA journal_mode") == "wal");
    CHECK(raw.text("PRAGMA user_version") == "1");
    CHECK(raw.text("PRAGMA application_id") == std::to_string(0x746b6374));
    CHECK(raw.text("SELECT data FROM tasks WHERE key = 'o:t'") == "x");
    CHECK(raw.text("SELECT owner FROM tasks WHERE key = 'o:t'") == "o");
  }
}

TEST_CASE("the store keeps its records across reopening; a read-only open reads them")
{
  TempDir dir;
  {
    auto db = open_store(dir.uri("s.db"));
    db->put("o:a", "1");
    db->put("o:a", "2");
  }
  auto again = open_store(dir.uri("s.db"), read_only());
  CHECK(again->get("o:a") == VersionedRecord{"2", 2});
  CHECK(again->put("o:b", "writes still work") == 1);
}

TEST_CASE("relative paths are relative to the working directory")
{
  TempDir dir;
  const auto old = fs::current_path();
  fs::current_path(dir.path);
  try {
    auto db = open_store("sqlite:relative.db");
    db->put("o:t", "x");
    fs::current_path(old);
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  CHECK(fs::exists(dir.file("relative.db")));
}

TEST_CASE("opening read-only (create_if_missing=false) never creates a file")
{
  TempDir dir;
  const auto message = config_error_of([&] { open_store(dir.uri("missing.db"), read_only()); });
  CHECK_THAT(message, Catch::Contains(dir.file("missing.db")) && Catch::Contains("does not exist"));
  CHECK(fs::is_empty(dir.path));
  CHECK_THROWS_AS(open_store(dir.uri("nodir/missing.db"), read_only()), ConfigError);
  CHECK(fs::is_empty(dir.path));
}

TEST_CASE("a store in a directory that does not exist is a clear ConfigError")
{
  TempDir dir;
  const auto message = config_error_of([&] { open_store(dir.uri("no/such/dir/s.db")); });
  CHECK_THAT(message, Catch::Contains("directory " + dir.file("no/such/dir")) && Catch::Contains("does not exist"));
  CHECK(fs::is_empty(dir.path));
}

TEST_CASE("a database with a newer schema version is refused")
{
  TempDir dir;
  open_store(dir.uri("s.db"))->put("o:t", "x");
  Raw(dir.file("s.db")).exec("PRAGMA user_version = 99");
  const auto message = config_error_of([&] { open_store(dir.uri("s.db")); });
  CHECK_THAT(message, Catch::Contains("schema version 99") && Catch::Contains("upgrade taskctl"));
  // Still untouched.
  CHECK(Raw(dir.file("s.db")).text("PRAGMA user_version") == "99");
}

TEST_CASE("an SQLite database that is not a taskctl store is refused")
{
  TempDir dir;
  Raw(dir.file("foreign.db"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).exec("CREATE TABLE t(x); PRAGMA user_version = 1");
  const auto message = config_error_of([&] { open_store(dir.uri("foreign.db")); });
  CHECK_THAT(message, Catch::Contains("not a taskctl store"));
  CHECK(Raw(dir.file("foreign.db")).text("SELECT count(*) FROM sqlite_schema") == "1");
}

TEST_CASE("a file that is not an SQLite database is refused with a ConfigError")
{
  TempDir dir;
  const std::string text = "this is a text file, not a database\n";
  std::ofstream(dir.file("notes.txt")) << text;
  for (const auto& options : {OpenOptions{}, read_only()}) {
    const auto message = config_error_of([&] { open_store(dir.uri("notes.txt"), options); });
    CHECK_THAT(message, Catch::Contains("not an SQLite database"));
  }
  std::ifstream in(dir.file("notes.txt"));
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == text);
}

TEST_CASE("an empty file becomes a store on a write open, and is refused on a read-only one")
{
  TempDir dir;
  std::ofstream(dir.file("empty.db")).close();
  CHECK_THAT(config_error_of([&] { open_store(dir.uri("empty.db"), read_only()); }), Catch::Contains("empty"));
  CHECK(open_store(dir.uri("empty.db"))->put("o:t", "x") == 1);
  CHECK(open_store(dir.uri("empty.db"), read_only())->get("o:t").version == 1);
}

TEST_CASE("sqlite store URIs: path forms, the timeout parameter, everything else refused")
{
  TempDir dir;
  CHECK_NOTHROW(open_store("sqlite:" + dir.file("plain.db")));
  CHECK_NOTHROW(open_store(dir.uri("abs.db") + "?timeout=250ms"));
  CHECK(fs::exists(dir.file("plain.db")));
  CHECK_THROWS_AS(open_store("sqlite:"), InvalidArgument);
  CHECK_THROWS_AS(open_store("sqlite://"), InvalidArgument);
  CHECK_THROWS_AS(open_store("sqlite://somehost/x.db"), InvalidArgument);
  CHECK_THROWS_AS(open_store(dir.uri("p.db") + "?cache=shared"), InvalidArgument);
  CHECK_THROWS_AS(open_store(dir.uri("p.db") + "?timeout=soon"), InvalidArgument);
  CHECK_FALSE(fs::exists(dir.file("p.db")));
}

TEST_CASE("a write blocked past the busy timeout is a backend error marked unavailable, cause kept")
{
  TempDir dir;
  auto db = open_store(dir.uri("s.db") + "?timeout=200ms");
  db->put("o:t", "x");
  Raw holder(dir.file("s.db"));
  holder.exec("BEGIN IMMEDIATE");
  const auto start = std::chrono::steady_clock::now();
  try {
    db->put("o:t", "y");
    FAIL("the put should have timed out");
  } catch (const StorageError& e) {
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(e.kind() == StorageErrorKind::backend);
    CHECK(e.unavailable());
    CHECK(waited >= std::chrono::milliseconds(150));
    const auto chain = error_chain(e);
    REQUIRE(chain.size() >= 2);
    CHECK_THAT(chain[0], Catch::StartsWith("backend error: sqlite store ") && Catch::Contains("locked"));
    CHECK_THAT(chain[1], Catch::Contains("SQLite error 5"));
  }
  // Readers are not blocked by a writer (WAL).
  CHECK(db->get("o:t") == VersionedRecord{"x", 1});
  holder.exec("ROLLBACK");
  CHECK(db->put("o:t", "y") == 2);
}

TEST_CASE("expiry is indexed at nanosecond precision in the expires_s / expires_ns columns")
{
  TempDir dir;
  auto db = open_store(dir.uri("s.db"));
  db->put("o:t", R"({"expiresAt":"2025-11-25T11:30:00.123456789Z"})");
  db->put("o:none", R"({"expiresAt":null})");
  Raw raw(dir.file("s.db"));
  CHECK(raw.text("SELECT expires_s FROM tasks WHERE key = 'o:t'") == "1764070200");
  CHECK(raw.text("SELECT expires_ns FROM tasks WHERE key = 'o:t'") == "123456789");
  CHECK(raw.text("SELECT expires_s IS NULL FROM tasks WHERE key = 'o:none'") == "1");
  // The shapes of the backend's queries: expiry through the expiry index,
  // prefixes as primary-key ranges (never LIKE or a full scan).
  CHECK_THAT(raw.plan("DELETE FROM tasks WHERE key >= ?1 AND expires_s <= ?3 AND (expires_s < ?3 OR expires_ns < ?4)"),
             Catch::Contains("tasks_expiry"));
  CHECK_THAT(raw.plan("SELECT key, version, data FROM tasks WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3"),
             Catch::Contains("PRIMARY KEY (key>? AND key<?)"));
}

TEST_CASE("cleanup with a callback walks more expired records than one batch, each exactly once")
{
  TempDir dir;
  auto db = open_store(dir.uri("s.db"));
  // 2,500 expired records, most sharing one expiry instant (ties broken by key), and 100 live ones.
  for (int i = 0; i < 2500; ++i) {
    const char* at = i % 5 == 0 ? "2025-01-01T00:00:00.5Z" : "2025-01-01T00:00:00Z";
    db->put("o:" + std::to_string(i), std::string(R"({"expiresAt":")") + at + "\"}");
  }
  for (int i = 0; i < 100; ++i) {
    db->put("o:live" + std::to_string(i), R"({"expiresAt":"2999-01-01T00:00:00Z"})");
  }
  std::map<std::string, int> reported;
  CleanupOptions options;
  options.on_removed = [&](const std::string& key, std::uint64_t version, Timestamp) {
    CHECK(version == 1);
    ++reported[key];
  };
  options.dry_run = true;
  CHECK(db->cleanup_expired(options) == 2500);
  CHECK(reported.size() == 2500);
  CHECK(db->list_by_prefix("").size() == 2600);
  reported.clear();
  options.dry_run = false;
  CHECK(db->cleanup_expired(options) == 2500);
  CHECK(reported.size() == 2500);
  CHECK(std::all_of(reported.begin(), reported.end(), [](const auto& e) { return e.second == 1; }));
  CHECK(db->list_by_prefix("").size() == 100);
}

TEST_CASE("raw prefixes ending in 0xFF bytes and the empty prefix are exact ranges")
{
  TempDir dir;
  auto db = open_store(dir.uri("s.db"));
  for (const std::string key : {"\xfe:a", "\xff:b", "\xff\xff:c", "\xff\xff\xff:d", "a:e", "\xff\xfe:f"}) {
    db->put(key, "x");
  }
  auto keys = [&](std::string_view prefix) {
    std::vector<std::string> out;
    for (const auto& entry : db->list_by_prefix(prefix)) {
      out.push_back(entry.key);
    }
    return out;
  };
  CHECK(keys("\xff") == std::vector<std::string>{"\xff:b", "\xff\xfe:f", "\xff\xff:c", "\xff\xff\xff:d"});
  CHECK(keys("\xff\xff") == std::vector<std::string>{"\xff\xff:c", "\xff\xff\xff:d"});
  CHECK(keys("\xfe") == std::vector<std::string>{"\xfe:a"});
  CHECK(keys("").size() == 6);
  CHECK(keys("a").size() == 1);
}

TEST_CASE("a scan of large values goes in bounded batches and still visits each record once")
{
  TempDir dir;
  auto db = open_store(dir.uri("s.db"));
  const std::string value(300 * 1024, 'v');
  for (int i = 0; i < 40; ++i) { // 12 MB: more than one batch's byte budget
    db->put("o:" + std::to_string(100 + i), value);
  }
  std::vector<std::string> seen;
  db->scan("o:", [&](const std::string& key, const VersionedRecord& record) {
    CHECK(record.data.size() == value.size());
    seen.push_back(key);
    return true;
  });
  CHECK(seen.size() == 40);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 40);
}

TEST_CASE("one backend instance may be shared by threads")
{
  TempDir dir;
  auto db = open_store(dir.uri("s.db"));
  std::vector<std::vector<std::uint64_t>> versions(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        versions[t].push_back(db->put("o:hot", "x"));
        db->scan("o:", [](const std::string&, const VersionedRecord&) { return true; });
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::set<std::uint64_t> all;
  for (const auto& mine : versions) {
    all.insert(mine.begin(), mine.end());
  }
  CHECK(all.size() == 200);
  CHECK(*all.rbegin() == 200);
}

TEST_CASE("read-modify-CAS from 4 processes loses no update")
{
  TempDir dir;
  const auto uri = dir.uri("shared.db");
  constexpr int k_processes = 4;
  constexpr int k_increments = 50;
  open_store(uri)->put("o:counter", "0");

  std::vector<pid_t> children;
  for (int p = 0; p < k_processes; ++p) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // The child: its own connection; never returns into Catch.
      int status = 0;
      try {
        auto db = open_store(uri);
        for (int done = 0; done < k_increments;) {
          const auto current = db->get("o:counter");
          try {
            db->put_if_version("o:counter", std::to_string(std::stoi(current.data) + 1), current.version);
            ++done;
          } catch (const StorageError& e) {
            if (e.kind() != StorageErrorKind::version_conflict || e.actual() <= current.version) {
              throw;
            }
          }
        }
      } catch (const std::exception& e) {
        const auto text = "child: " + describe(e) + "\n";
        [[maybe_unused]] auto ignored = ::write(2, text.data(), text.size());
        status = 1;
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  const auto final_record = open_store(uri, read_only())->get("o:counter");
  CHECK(final_record.data == std::to_string(k_processes * k_increments));
  CHECK(final_record.version == 1 + k_processes * k_increments);
}
