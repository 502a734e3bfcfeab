#include "contract/stores.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <sys/wait.h>
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

std::string
backend_of(const std::string& test_backend)
{
  return test_backend == "redis-tls" ? "redis" : test_backend;
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
  if (backend == "redis-tls") {
    return make_redis_tls_test_store();
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

void
run_program(const std::vector<std::string>& argv)
{
  char name[] = "/tmp/taskctl-run-XXXXXX";
  const int out = ::mkstemp(name);
  if (out < 0) {
    throw std::runtime_error("cannot create a temporary file for " + argv.at(0));
  }
  ::unlink(name);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    throw std::runtime_error("cannot fork to run " + argv.at(0));
  }
  if (pid == 0) {
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  std::string output;
  ::lseek(out, 0, SEEK_SET);
  char buffer[4096];
  for (ssize_t n; (n = ::read(out, buffer, sizeof buffer)) > 0;) {
    output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(argv.at(0) + " failed (status " + std::to_string(status) + "): " + output);
  }
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
