// The redis test store: a fresh key prefix on the server named by
// TASKCTL_TEST_REDIS_URL (scripts/test starts one). A missing server is a
// failure, never a skip.

#include "contract/stores.hpp"

#include "taskstore/registry.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace taskstore::testing {

namespace {

// Removes every record and index entry under the store's prefix: the records
// through the backend (remove drops the index entry too, and Redis deletes a
// sorted set once it is empty), then orphaned index entries and anything still
// expiring through cleanup_expired with a far-future "now".
void
purge(const std::string& uri)
{
  auto backend = open_store(uri);
  std::vector<std::string> keys;
  backend->scan("", [&](const std::string& key, const VersionedRecord&) {
    keys.push_back(key);
    return true;
  });
  for (const auto& key : keys) {
    backend->remove(key);
  }
  CleanupOptions everything;
  everything.now = Timestamp{253'402'300'799, 0}; // 9999-12-31T23:59:59Z
  backend->cleanup_expired(everything);
}

} // namespace

TestStore
make_redis_test_store()
{
  const char* base = std::getenv("TASKCTL_TEST_REDIS_URL");
  if (base == nullptr || *base == '\0') {
    throw std::runtime_error(
      "TASKCTL_TEST_REDIS_URL is not set: the redis tests need a running redis-server, e.g. "
      "TASKCTL_TEST_REDIS_URL=redis://127.0.0.1:6390 (scripts/test starts one)");
  }
  std::string uri = base;
  uri += uri.find('?') == std::string::npos ? "?" : "&";
  const std::string prefix = unique_name("taskctl-test");
  uri += "prefix=" + prefix;

  TestStore store;
  store.uri = uri;
  store.max_version = 18'446'744'073'709'551'615ULL;
  // The backend's layout: hash "{prefix}:tasks:{key}", owner index "{prefix}:idx:{owner}".
  store.seed = [url = std::string(base), prefix](const std::string& key, const std::string& data,
                                                 std::uint64_t version) {
    const auto colon = key.find(':');
    run_program({"redis-cli", "-u", url, "HSET", prefix + ":tasks:" + key, "version", std::to_string(version),
                 "data", data});
    run_program({"redis-cli", "-u", url, "ZADD", prefix + ":idx:" + key.substr(0, colon), "0",
                 key.substr(colon + 1)});
  };
  store.seed_bad_version = [url = std::string(base), prefix](const std::string& key, const std::string& version_text) {
    const auto colon = key.find(':');
    run_program({"redis-cli", "-u", url, "HSET", prefix + ":tasks:" + key, "version", version_text, "data", "seeded"});
    run_program({"redis-cli", "-u", url, "ZADD", prefix + ":idx:" + key.substr(0, colon), "0",
                 key.substr(colon + 1)});
  };
  try {
    store.backend = open_store(uri);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot open the redis test store " + uri + ": " + e.what());
  }
  store.cleanup = [uri] {
    try {
      purge(uri);
    } catch (...) {
      // Best effort: the prefix is unique, a leftover never affects another test.
    }
  };
  return store;
}

} // namespace taskstore::testing
