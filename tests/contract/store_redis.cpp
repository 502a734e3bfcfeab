// The redis test stores: a fresh key prefix on the server named by
// TASKCTL_TEST_REDIS_URL, or over TLS on the one TASKCTL_TEST_REDIS_TLS_URL
// names (scripts/test starts both). A missing server is a failure, never a
// skip.

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

// Runs redis-cli against url with command.
void
run_cli(const std::string& url, const std::vector<std::string>& command)
{
  std::vector<std::string> argv{"redis-cli"};
  for (auto& a : redis_cli_connection(url)) {
    argv.push_back(std::move(a));
  }
  argv.insert(argv.end(), command.begin(), command.end());
  run_program(argv);
}

// A store on the server the environment variable variable names (example: a URL for the message).
TestStore
make_store_on(const char* variable, const char* example)
{
  const char* base = std::getenv(variable);
  if (base == nullptr || *base == '\0') {
    throw std::runtime_error(std::string(variable) + " is not set: the redis tests need a running redis-server, e.g. " +
                             variable + "=" + example + " (scripts/test starts one)");
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
    run_cli(url, {"HSET", prefix + ":tasks:" + key, "version", std::to_string(version), "data", data});
    run_cli(url, {"ZADD", prefix + ":idx:" + key.substr(0, colon), "0", key.substr(colon + 1)});
  };
  store.seed_bad_version = [url = std::string(base), prefix](const std::string& key, const std::string& version_text) {
    const auto colon = key.find(':');
    run_cli(url, {"HSET", prefix + ":tasks:" + key, "version", version_text, "data", "seeded"});
    run_cli(url, {"ZADD", prefix + ":idx:" + key.substr(0, colon), "0", key.substr(colon + 1)});
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

} // namespace

std::vector<std::string>
redis_cli_connection(const std::string& url)
{
  const auto q = url.find('?');
  std::vector<std::string> args{"-u", url.substr(0, q)};
  if (url.rfind("rediss://", 0) != 0) {
    return args;
  }
  args.emplace_back("--tls");
  std::string query = q == std::string::npos ? std::string() : url.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string pair = query.substr(0, amp);
    query = amp == std::string::npos ? std::string() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string name = pair.substr(0, eq);
    const std::string value = eq == std::string::npos ? std::string() : pair.substr(eq + 1);
    if (name == "cacert" || name == "cert" || name == "key") {
      args.insert(args.end(), {"--" + name, value});
    } else if (name == "insecure" && value == "1") {
      args.emplace_back("--insecure");
    }
  }
  return args;
}

TestStore
make_redis_test_store()
{
  return make_store_on("TASKCTL_TEST_REDIS_URL", "redis://127.0.0.1:6390");
}

TestStore
make_redis_tls_test_store()
{
  return make_store_on("TASKCTL_TEST_REDIS_TLS_URL", "rediss://127.0.0.1:6391?cacert=/path/ca.crt");
}

} // namespace taskstore::testing
