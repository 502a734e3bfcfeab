#pragma once
// Fresh, isolated stores for the suites that run against every backend.

#include "taskstore/backend.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace taskstore::testing {

struct TestStore
{
  std::string uri;                          // a URI that opens this same store (for the CLI)
  std::unique_ptr<StorageBackend> backend;  // opened on uri
  std::function<void()> cleanup;            // removes what the store left behind (may be empty)
  // The largest version the backend stores (u64 max; INT64_MAX on SQLite).
  std::uint64_t max_version = 0;
  // Writes (key, data, version) straight into the store, past the backend's
  // own code (sqlite3 CLI, redis-cli, aws CLI), so a test can seed versions
  // no sequence of writes reaches. Empty for memory, which has no raw access.
  std::function<void(const std::string& key, const std::string& data, std::uint64_t version)> seed;
  // Writes a damaged record, data "seeded" with a version field holding the
  // text version_text (e.g. "abc"), as another writer might leave it. Empty
  // for memory.
  std::function<void(const std::string& key, const std::string& version_text)> seed_bad_version;
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
// TASKCTL_TEST_BACKEND (memory, sqlite, redis, redis-tls, dynamodb). Throws when unset.
std::string current_backend();

// The backend a test backend name runs ("redis" for redis-tls, Redis over
// TLS; otherwise the name itself), as StorageBackend::name() says it.
std::string backend_of(const std::string& test_backend);

// A new, empty store of the given backend, isolated from every other one
// (own file, own Redis key prefix, own DynamoDB table). Throws std::runtime_error
// with a clear message when the backend's server is not configured or reachable:
// a missing server is a failure, never a skip.
TestStore make_test_store(const std::string& backend);

// Per-backend makers, one file each.
TestStore make_memory_test_store();
TestStore make_sqlite_test_store();
TestStore make_redis_test_store();     // env TASKCTL_TEST_REDIS_URL, e.g. redis://127.0.0.1:6390
TestStore make_redis_tls_test_store(); // env TASKCTL_TEST_REDIS_TLS_URL, e.g. rediss://127.0.0.1:6391?cacert=ca.crt
TestStore make_dynamodb_test_store();  // env TASKCTL_TEST_DYNAMODB_ENDPOINT, e.g. http://127.0.0.1:8010

// The redis-cli arguments that connect to a redis:// or rediss:// URL:
// {"-u", URL without its query} and, for rediss://, --tls and the --cacert,
// --cert, --key, --insecure its query names.
std::vector<std::string> redis_cli_connection(const std::string& url);

// Runs argv (argv[0] looked up on PATH) without a shell, stdout and stderr
// captured; throws std::runtime_error with that output when it cannot be
// started or exits non-zero.
void run_program(const std::vector<std::string>& argv);

// A unique name for this process and call (for prefixes, tables, files).
std::string unique_name(const std::string& stem);

} // namespace taskstore::testing
