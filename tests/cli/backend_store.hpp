#pragma once
// The store of the backend a CLI test binary runs against (the contract
// suite's TASKCTL_TEST_BACKEND: memory, sqlite, redis or dynamodb), emptied
// at the end, and taskctl run on it.

#include "cli_support.hpp"
#include "contract/stores.hpp"

#include <string>
#include <utility>
#include <vector>

namespace clitest {

struct BackendStore
{
  taskstore::testing::TestStore store = taskstore::testing::make_test_store(taskstore::testing::current_backend());

  BackendStore() = default;
  BackendStore(const BackendStore&) = delete;
  BackendStore& operator=(const BackendStore&) = delete;
  ~BackendStore()
  {
    store.backend.reset();
    if (store.cleanup) {
      store.cleanup();
    }
  }
  taskstore::StorageBackend& lib() { return *store.backend; }
  // Runs taskctl -s URI args.
  RunResult run(std::vector<std::string> args, RunOptions options = {})
  {
    args.insert(args.begin(), {"-s", store.uri});
    return taskctl(args, std::move(options));
  }
  // The same with input on stdin.
  RunResult run(std::vector<std::string> args, std::string input) { return run(std::move(args), with_input(std::move(input))); }
};

} // namespace clitest
