#include "contract/stores.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <unistd.h>

namespace taskstore::testing {

std::string
current_backend()
{
  const char* name = std::getenv("TASKCTL_TEST_BACKEND");
  if (name == nullptr || *name == '\0') {
    throw std::runtime_error("TASKCTL_TEST_BACKEND is not set (memory, sqlite, redis or dynamodb)");
  }
  return name;
}

TestStore
make_test_store(const std::string& backend)
{
  if (backend == "memory") {
    return make_memory_test_store();
  }
#ifdef TASKSTORE_WITH_SQLITE
  if (backend == "sqlite") {
    return make_sqlite_test_store();
  }
#endif
#ifdef TASKSTORE_WITH_REDIS
  if (backend == "redis") {
    return make_redis_test_store();
  }
#endif
#ifdef TASKSTORE_WITH_DYNAMODB
  if (backend == "dynamodb") {
    return make_dynamodb_test_store();
  }
#endif
  throw std::runtime_error("no test store for backend '" + backend + "' in this build");
}

std::string
unique_name(const std::string& stem)
{
  static std::atomic<unsigned> counter{0};
  static const unsigned salt = std::random_device{}() & 0xffffu;
  return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(salt) + "-" +
         std::to_string(counter.fetch_add(1));
}

ScopedTestStore::~ScopedTestStore()
{
  store.backend.reset();
  try {
    if (store.cleanup) {
      store.cleanup();
    }
  } catch (...) {
  }
}

} // namespace taskstore::testing
