// Uses the installed taskstore library: opens stores by URI, then put, get and
// compare-and-swap, as an MCP server's storage layer would; then does what
// taskctl does with records (prepare_record, summarize_record, remove_prefix,
// TaskStore: pmcp-tasks' task operations with retries), so a program of its
// own needs no taskctl code. Prints what it did
// and exits 0 when every step behaves as the storage contract says, 1 otherwise.
//
// Usage: consumer [STORE-URI...]   (default: mem://)

#include <taskstore/backend.hpp>
#include <taskstore/error.hpp>
#include <taskstore/json/serde.hpp>
#include <taskstore/key.hpp>
#include <taskstore/prepare.hpp>
#include <taskstore/registry.hpp>
#include <taskstore/summary.hpp>
#include <taskstore/task_store.hpp>

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

// The record domain: prepare a record for its key, store the canonical
// bytes, summarize them, remove the owner's records in batches.
void
exercise_records(const std::string& uri)
{
  auto store = taskstore::open_store(uri);
  const std::string key = taskstore::make_key("owner-7", "t1");
  const std::string pretty = R"({ "task": {"taskId": "t1", "status": "working",
    "createdAt": "2025-11-25T10:30:00.123Z", "lastUpdatedAt": "2025-11-25T10:30:00.123Z", "ttl": null},
    "ownerId": "owner-7", "variables": {"n": 1.5e300}, "result": null, "requestMethod": "tools/call",
    "expiresAt": "2025-11-25T11:30:00+01:00", "extra": 1 })";
  const auto prepared = taskstore::prepare_record(key, pretty, taskstore::StoreConfig{});
  check(prepared.ok(), "prepare_record accepts the record");
  check(prepared.unknown_fields == std::vector<std::string>{"/extra"}, "prepare_record names the unknown field");
  check(prepared.bytes.find("\"expiresAt\":\"2025-11-25T10:30:00Z\"") != std::string::npos,
        "prepare_record writes expiresAt as pmcp-tasks does");
  const auto wrong = taskstore::prepare_record("someone-else:t1", pretty, taskstore::StoreConfig{});
  check(!wrong.ok() && wrong.violations.at(0).pointer == "/ownerId", "prepare_record checks the key");
  store->put(key, prepared.bytes);
  for (int i = 0; i < 5; ++i) {
    store->put(taskstore::make_key("owner-7", "x" + std::to_string(i)), prepared.bytes);
  }
  const auto summary = taskstore::summarize_record(store->get(key).data);
  check(summary.status == "working" && summary.owner_id == "owner-7" && summary.expired,
        "summarize_record reads the listing fields");
  taskstore::RemovePrefixOptions options;
  options.batch = 2;
  check(taskstore::remove_prefix(*store, taskstore::make_prefix("owner-7"), options) == 6,
        "remove_prefix removes the owner's 6 records");
  check(taskstore::count_prefix(*store, taskstore::make_prefix("owner-7")) == 0, "count_prefix finds none left");
}

// The domain layer: pmcp-tasks' GenericTaskStore operations, retried on a conflict.
void
exercise_tasks(const std::string& uri)
{
  auto store = taskstore::open_store(uri);
  taskstore::TaskStore tasks(*store);
  const auto task = tasks.create("owner-8", "tools/call");
  check(task.version == 1 && task.task.status == taskstore::TaskStatus::working, "TaskStore::create");
  tasks.set_variables("owner-8", task.task.task_id, taskstore::Json{{"step", 1}},
                      taskstore::RetryPolicy::with_retries(3));
  const auto cancelled = tasks.cancel("owner-8", task.task.task_id);
  check(cancelled.version == 3 && cancelled.variables["step"] == 1, "set_variables then cancel, one CAS each");
  try {
    tasks.cancel("owner-8", task.task.task_id);
    check(false, "a terminal task cannot be cancelled again");
  } catch (const taskstore::TaskError& e) {
    check(e.kind() == taskstore::TaskErrorKind::invalid_transition, "a terminal task cannot be cancelled again");
  }
  store->remove_if_version(taskstore::make_key("owner-8", task.task.task_id), cancelled.version);
  check(tasks.list({"owner-8", std::nullopt, std::nullopt}).tasks.empty(), "remove_if_version removed it");
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
      exercise_records(uri);
      exercise_tasks(uri);
    } catch (const std::exception& e) {
      std::cout << "FAIL " << uri << ": " << e.what() << '\n';
      ++failures;
    }
  }
  std::cout << (failures == 0 ? "consumer: all checks passed" : "consumer: checks failed") << '\n';
  return failures == 0 ? 0 : 1;
}
