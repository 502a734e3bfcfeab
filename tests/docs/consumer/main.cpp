// Uses the installed taskstore library: opens stores by URI, then put, get and
// compare-and-swap, as an MCP server's storage layer would. Prints what it did
// and exits 0 when every step behaves as the storage contract says, 1 otherwise.
//
// Usage: consumer [STORE-URI...]   (default: mem://)

#include <taskstore/backend.hpp>
#include <taskstore/error.hpp>
#include <taskstore/key.hpp>
#include <taskstore/registry.hpp>

#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

int failures = 0;

void
check(bool ok, const std::string& what)
{
  std::cout << (ok ? "ok   " : "FAIL ") << what << '\n';
  if (!ok) {
    ++failures;
  }
}

// Runs put / get / CAS / conflict / remove against the store uri names.
void
exercise(const std::string& uri)
{
  std::cout << "store " << uri << '\n';
  auto store = taskstore::open_store(uri);
  const std::string key = taskstore::make_key("consumer", "task-1");
  const std::string v1 = R"({"task":{"taskId":"task-1","status":"working"}})";
  const std::string v2 = R"({"task":{"taskId":"task-1","status":"completed"}})";

  check(store->put(key, v1) == 1, "put creates version 1");
  auto got = store->get(key);
  check(got.data == v1 && got.version == 1, "get returns the bytes and version 1");
  check(store->put_if_version(key, v2, 1) == 2, "put_if_version(1) writes version 2");
  try {
    store->put_if_version(key, v1, 1);
    check(false, "stale put_if_version(1) is refused");
  } catch (const taskstore::StorageError& e) {
    check(e.kind() == taskstore::StorageErrorKind::version_conflict && e.actual() == 2,
          std::string("stale put_if_version(1) is refused: ") + e.what());
  }
  check(store->get(key).data == v2, "get returns the CAS-written bytes");
  check(store->list_by_prefix(taskstore::make_prefix("consumer")).size() == 1, "list_by_prefix finds the record");
  check(store->remove(key), "remove reports the key existed");
  try {
    store->get(key);
    check(false, "get after remove is not_found");
  } catch (const taskstore::StorageError& e) {
    check(e.kind() == taskstore::StorageErrorKind::not_found, "get after remove is not_found");
  }
}

} // namespace

int
main(int argc, char** argv)
{
  std::vector<std::string> uris(argv + 1, argv + argc);
  if (uris.empty()) {
    uris.emplace_back("mem://");
  }
  std::cout << "backends:";
  for (const auto& backend : taskstore::available_backends()) {
    std::cout << ' ' << backend.name;
  }
  std::cout << '\n';
  for (const auto& uri : uris) {
    try {
      exercise(uri);
    } catch (const std::exception& e) {
      std::cout << "FAIL " << uri << ": " << e.what() << '\n';
      ++failures;
    }
  }
  std::cout << (failures == 0 ? "consumer: all checks passed" : "consumer: checks failed") << '\n';
  return failures == 0 ? 0 : 1;
}
