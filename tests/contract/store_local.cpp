// Fresh stores for the in-process backends: a uniquely named mem:// store, and
// an SQLite file in a new temporary directory that cleanup removes.

#include "contract/stores.hpp"

#include "taskstore/registry.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace taskstore::testing {

TestStore
make_memory_test_store()
{
  TestStore store;
  store.uri = "mem://" + unique_name("contract");
  store.backend = open_store(store.uri);
  return store;
}

TestStore
make_sqlite_test_store()
{
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/taskctl-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory " + pattern + ": " + std::strerror(errno));
  }
  const std::string directory = pattern;
  TestStore store;
  store.uri = "sqlite://" + directory + "/store.db";
  store.max_version = 9'223'372'036'854'775'807ULL; // the largest SQLite integer
  // Keys and data of the tests that seed are plain text without quotes.
  store.seed = [path = directory + "/store.db"](const std::string& key, const std::string& data,
                                                 std::uint64_t version) {
    const std::string owner = key.substr(0, key.find(':'));
    run_program({"sqlite3", "-bail", "-cmd", ".timeout 10000", path,
                 "INSERT OR REPLACE INTO tasks(key, owner, version, data) VALUES('" + key + "', '" +
                   owner + "', " + std::to_string(version) + ", CAST('" + data + "' AS BLOB))"});
  };
  store.seed_bad_version = [path = directory + "/store.db"](const std::string& key, const std::string& version_text) {
    const std::string owner = key.substr(0, key.find(':'));
    run_program({"sqlite3", "-bail", "-cmd", ".timeout 10000", path,
                 "INSERT OR REPLACE INTO tasks(key, owner, version, data) VALUES('" + key + "', '" + owner +
                   "', CAST('" + version_text + "' AS TEXT), CAST('seeded' AS BLOB))"});
  };
  store.cleanup = [directory] {
    std::error_code ignored;
    std::filesystem::remove_all(directory, ignored);
  };
  try {
    store.backend = open_store(store.uri);
  } catch (...) {
    store.cleanup();
    throw;
  }
  return store;
}

} // namespace taskstore::testing
