#include "taskstore/error.hpp"

#include <catch2/catch.hpp>

using namespace taskstore;

TEST_CASE("StorageError messages are the anchor's")
{
  CHECK(std::string(StorageError::not_found("o:t").what()) == "key not found: o:t");
  const auto conflict = StorageError::version_conflict("o:t", 3, 5);
  CHECK(std::string(conflict.what()) == "version conflict on key o:t: expected 3, found 5");
  CHECK(conflict.kind() == StorageErrorKind::version_conflict);
  CHECK(conflict.expected() == 3);
  CHECK(conflict.actual() == 5);
  CHECK(conflict.key() == "o:t");
  CHECK(std::string(StorageError::capacity_exceeded("full").what()) == "capacity exceeded: full");
  const auto backend = StorageError::backend("connection refused", true);
  CHECK(std::string(backend.what()) == "backend error: connection refused");
  CHECK(backend.unavailable());
  CHECK_FALSE(StorageError::backend("x").unavailable());
}

TEST_CASE("error_chain keeps nested causes")
{
  try {
    try {
      throw std::runtime_error("ECONNREFUSED");
    } catch (...) {
      std::throw_with_nested(StorageError::backend("cannot connect to 127.0.0.1:1", true));
    }
  } catch (const StorageError& e) {
    const auto chain = error_chain(e);
    REQUIRE(chain.size() == 2);
    CHECK(chain[0] == "backend error: cannot connect to 127.0.0.1:1");
    CHECK(chain[1] == "ECONNREFUSED");
    CHECK(describe(e) == "backend error: cannot connect to 127.0.0.1:1: ECONNREFUSED");
    CHECK(e.unavailable());
  }
  CHECK(error_chain(std::runtime_error("alone")) == std::vector<std::string>{"alone"});
}

TEST_CASE("TaskError messages and JSON-RPC codes")
{
  CHECK(std::string(TaskError::not_found("abc").what()) == "task not found: abc");
  CHECK(std::string(TaskError::expired("ghi", std::nullopt).what()) == "task expired: ghi");
  CHECK(std::string(TaskError::expired("ghi", "2025-11-25T11:30:00+00:00").what()) ==
        "task expired: ghi (expired at 2025-11-25T11:30:00+00:00)");
  CHECK(std::string(TaskError::not_ready("t", "working").what()) ==
        "task not in terminal state: t (status: working)");
  CHECK(std::string(TaskError::owner_mismatch("t").what()) == "owner mismatch for task t");
  const auto exhausted = TaskError::resource_exhausted("Cancel or wait for existing tasks to expire");
  CHECK(std::string(exhausted.what()) == "resource exhausted");
  CHECK(exhausted.suggested_action() == "Cancel or wait for existing tasks to expire");
  CHECK(std::string(TaskError::variable_size_exceeded(100, 105).what()) ==
        "variable size limit exceeded: 105 bytes exceeds 100 byte limit");
  CHECK(std::string(TaskError::concurrent_modification("t", 1, 2).what()) ==
        "concurrent modification on task t: expected version 1, found 2");
  CHECK(std::string(TaskError::storage_full("max 10000 records reached").what()) ==
        "storage full: max 10000 records reached");
  CHECK(std::string(TaskError::store_error("boom").what()) == "store error: boom");
  CHECK(std::string(TaskError::invalid_transition("t", "completed", "working", std::nullopt).what()) ==
        "invalid transition from completed to working for task t");

  CHECK(TaskError::invalid_transition("t", "a", "b", std::nullopt).error_code() == -32602);
  CHECK(TaskError::not_found("t").error_code() == -32602);
  CHECK(TaskError::expired("t", std::nullopt).error_code() == -32602);
  CHECK(TaskError::not_ready("t", "working").error_code() == -32602);
  CHECK(TaskError::owner_mismatch("t").error_code() == -32602);
  CHECK(TaskError::variable_size_exceeded(1, 2).error_code() == -32602);
  CHECK(TaskError::resource_exhausted(std::nullopt).error_code() == -32603);
  CHECK(TaskError::concurrent_modification("t", 1, 2).error_code() == -32603);
  CHECK(TaskError::storage_full("x").error_code() == -32603);
  CHECK(TaskError::store_error("x").error_code() == -32603);
}

TEST_CASE("TaskError::from_storage maps like the anchor's map_storage_error")
{
  CHECK(TaskError::from_storage(StorageError::not_found("o:t"), "t").kind() == TaskErrorKind::not_found);
  const auto conflict = TaskError::from_storage(StorageError::version_conflict("o:t", 2, 4), "t");
  CHECK(conflict.kind() == TaskErrorKind::concurrent_modification);
  CHECK(std::string(conflict.what()) == "concurrent modification on task t: expected version 2, found 4");
  CHECK(std::string(TaskError::from_storage(StorageError::capacity_exceeded("full"), "").what()) ==
        "storage full: full");
  CHECK(std::string(TaskError::from_storage(StorageError::backend("down"), "").what()) ==
        "store error: down");
}
