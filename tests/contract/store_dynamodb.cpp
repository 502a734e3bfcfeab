// Fresh DynamoDB test stores: one new table per store on the dynalite (or
// DynamoDB-compatible) server named by TASKCTL_TEST_DYNAMODB_ENDPOINT,
// created and deleted through taskctl's own client code.
#include "contract/stores.hpp"

#include "taskstore/backends/dynamodb.hpp"
#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/uri.hpp"

#include <cstdlib>
#include <stdexcept>

namespace taskstore::testing {

namespace {

// The test server takes any credentials, but the client needs some: dummy
// ones in the process environment, so that the store URI alone works for
// every client (another open_store, a taskctl child process).
void
ensure_dummy_credentials()
{
  ::setenv("AWS_ACCESS_KEY_ID", "taskctl-test-key", 0);
  ::setenv("AWS_SECRET_ACCESS_KEY", "taskctl-test-secret", 0);
}

} // namespace

TestStore
make_dynamodb_test_store()
{
  const char* endpoint = std::getenv("TASKCTL_TEST_DYNAMODB_ENDPOINT");
  if (endpoint == nullptr || *endpoint == '\0') {
    throw std::runtime_error(
      "TASKCTL_TEST_DYNAMODB_ENDPOINT is not set: start dynalite (node "
      "node_modules/dynalite/cli.js --host 127.0.0.1 --port N) and export "
      "TASKCTL_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:N (scripts/test does both)");
  }
  ensure_dummy_credentials();
  TestStore store;
  store.uri = "dynamodb://" + unique_name("taskctl-test") + "?region=us-east-1&endpoint=" + endpoint;
  const StoreUri uri = StoreUri::parse(store.uri);
  try {
    create_dynamodb_table(uri, OpenOptions{});
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot create a DynamoDB test table on " + std::string(endpoint) +
                             " (is dynalite running there?): " + describe(e));
  }
  store.backend = open_store(uri);
  store.max_version = 18'446'744'073'709'551'615ULL;
  // pmcp-tasks' item layout (PK OWNER#o, SK TASK#t), written with the aws CLI.
  store.seed = [table = uri.host, url = std::string(endpoint)](const std::string& key, const std::string& data,
                                                               std::uint64_t version) {
    const auto colon = key.find(':');
    // Keys and data of the tests that seed are plain text without quotes.
    const std::string item = R"({"PK":{"S":"OWNER#)" + key.substr(0, colon) + R"("},"SK":{"S":"TASK#)" +
                             key.substr(colon + 1) + R"("},"version":{"N":")" + std::to_string(version) +
                             R"("},"data":{"S":")" + data + R"("}})";
    run_program({"aws", "dynamodb", "put-item", "--table-name", table, "--item", item, "--endpoint-url", url,
                 "--region", "us-east-1"});
  };
  store.seed_bad_version = [table = uri.host, url = std::string(endpoint)](const std::string& key,
                                                                           const std::string& version_text) {
    const auto colon = key.find(':');
    const std::string item = R"({"PK":{"S":"OWNER#)" + key.substr(0, colon) + R"("},"SK":{"S":"TASK#)" +
                             key.substr(colon + 1) + R"("},"version":{"S":")" + version_text +
                             R"("},"data":{"S":"seeded"}})";
    run_program({"aws", "dynamodb", "put-item", "--table-name", table, "--item", item, "--endpoint-url", url,
                 "--region", "us-east-1"});
  };
  store.cleanup = [uri] { delete_dynamodb_table(uri, OpenOptions{}); };
  return store;
}

} // namespace taskstore::testing
