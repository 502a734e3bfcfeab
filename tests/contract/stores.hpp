#pragma once
// Fresh, isolated stores for the suites that run against every backend.

#include "taskstore/backend.hpp"

#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace taskstore::testing {

struct TestStore
{
  std::string uri;                          // a URI that opens this same store (for the CLI)
  std::unique_ptr<StorageBackend> backend;  // opened on uri
  std::function<void()> cleanup;            // removes what the store left behind (may be empty)
};

// A TestStore whose leftovers are removed when it goes out of scope (the
// backend closed first; cleanup errors ignored).
struct ScopedTestStore
{
  explicit ScopedTestStore(TestStore s) : store(std::move(s)) {}
  ~ScopedTestStore();
  ScopedTestStore(const ScopedTestStore&) = delete;
  ScopedTestStore& operator=(const ScopedTestStore&) = delete;
  StorageBackend& db() { return *store.backend; }
  TestStore store;
};

// The backend the current test process runs against: the environment variable
// TASKCTL_TEST_BACKEND (memory, sqlite, redis, dynamodb). Throws when unset.
std::string current_backend();

// A new, empty store of the given backend, isolated from every other one
// (own file, own Redis key prefix, own DynamoDB table). Throws std::runtime_error
// with a clear message when the backend's server is not configured or reachable:
// a missing server is a failure, never a skip.
TestStore make_test_store(const std::string& backend);

// Per-backend makers, one file each.
TestStore make_memory_test_store();
TestStore make_sqlite_test_store();
TestStore make_redis_test_store();     // env TASKCTL_TEST_REDIS_URL, e.g. redis://127.0.0.1:6390
TestStore make_dynamodb_test_store();  // env TASKCTL_TEST_DYNAMODB_ENDPOINT, e.g. http://127.0.0.1:8010

// A unique name for this process and call (for prefixes, tables, files).
std::string unique_name(const std::string& stem);

} // namespace taskstore::testing
