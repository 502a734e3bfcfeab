#include "taskstore/error.hpp"

#include <utility>

namespace taskstore {

StorageError::StorageError(StorageErrorKind kind, std::string what)
  : std::runtime_error(std::move(what)), kind_(kind)
{
}

StorageError
StorageError::not_found(std::string key)
{
  StorageError e(StorageErrorKind::not_found, "key not found: " + key);
  e.key_ = std::move(key);
  return e;
}

StorageError
StorageError::version_conflict(std::string key, std::uint64_t expected, std::uint64_t actual)
{
  StorageError e(StorageErrorKind::version_conflict,
                 "version conflict on key " + key + ": expected " + std::to_string(expected) +
                   ", found " + std::to_string(actual));
  e.key_ = std::move(key);
  e.expected_ = expected;
  e.actual_ = actual;
  return e;
}

StorageError
StorageError::capacity_exceeded(std::string message)
{
  StorageError e(StorageErrorKind::capacity_exceeded, "capacity exceeded: " + message);
  e.detail_ = std::move(message);
  return e;
}

StorageError
StorageError::backend(std::string message, bool unavailable)
{
  StorageError e(StorageErrorKind::backend, "backend error: " + message);
  e.detail_ = std::move(message);
  e.unavailable_ = unavailable;
  return e;
}

TaskError::TaskError(TaskErrorKind kind, std::string what)
  : std::runtime_error(std::move(what)), kind_(kind)
{
}

TaskError
TaskError::invalid_transition(std::string task_id, std::string from, std::string to,
                              std::optional<std::string> suggested_action)
{
  TaskError e(TaskErrorKind::invalid_transition,
              "invalid transition from " + from + " to " + to + " for task " + task_id);
  e.task_id_ = std::move(task_id);
  e.suggested_action_ = std::move(suggested_action);
  e.from_ = std::move(from);
  e.to_ = std::move(to);
  return e;
}

TaskError
TaskError::not_found(std::string task_id)
{
  TaskError e(TaskErrorKind::not_found, "task not found: " + task_id);
  e.task_id_ = std::move(task_id);
  return e;
}

TaskError
TaskError::expired(std::string task_id, std::optional<std::string> expired_at)
{
  std::string what = "task expired: " + task_id;
  if (expired_at) {
    what += " (expired at " + *expired_at + ")";
  }
  TaskError e(TaskErrorKind::expired, std::move(what));
  e.task_id_ = std::move(task_id);
  e.expired_at_ = std::move(expired_at);
  return e;
}

TaskError
TaskError::not_ready(std::string task_id, std::string current_status)
{
  TaskError e(TaskErrorKind::not_ready,
              "task not in terminal state: " + task_id + " (status: " + current_status + ")");
  e.task_id_ = std::move(task_id);
  e.from_ = std::move(current_status);
  return e;
}

TaskError
TaskError::owner_mismatch(std::string task_id)
{
  TaskError e(TaskErrorKind::owner_mismatch, "owner mismatch for task " + task_id);
  e.task_id_ = std::move(task_id);
  return e;
}

TaskError
TaskError::resource_exhausted(std::optional<std::string> suggested_action)
{
  // The anchor keeps the suggestion out of the message.
  TaskError e(TaskErrorKind::resource_exhausted, "resource exhausted");
  e.suggested_action_ = std::move(suggested_action);
  return e;
}

TaskError
TaskError::variable_size_exceeded(std::uint64_t limit_bytes, std::uint64_t actual_bytes)
{
  TaskError e(TaskErrorKind::variable_size_exceeded,
              "variable size limit exceeded: " + std::to_string(actual_bytes) + " bytes exceeds " +
                std::to_string(limit_bytes) + " byte limit");
  e.expected_ = limit_bytes;
  e.actual_ = actual_bytes;
  return e;
}

TaskError
TaskError::concurrent_modification(std::string task_id, std::uint64_t expected_version,
                                   std::uint64_t actual_version)
{
  TaskError e(TaskErrorKind::concurrent_modification,
              "concurrent modification on task " + task_id + ": expected version " +
                std::to_string(expected_version) + ", found " + std::to_string(actual_version));
  e.task_id_ = std::move(task_id);
  e.expected_ = expected_version;
  e.actual_ = actual_version;
  return e;
}

TaskError
TaskError::storage_full(std::string message)
{
  return TaskError(TaskErrorKind::storage_full, "storage full: " + message);
}

TaskError
TaskError::store_error(std::string message)
{
  return TaskError(TaskErrorKind::store_error, "store error: " + message);
}

TaskError
TaskError::from_storage(const StorageError& e, const std::string& task_id)
{
  switch (e.kind()) {
  case StorageErrorKind::not_found:
    return not_found(task_id);
  case StorageErrorKind::version_conflict:
    return concurrent_modification(task_id, e.expected(), e.actual());
  case StorageErrorKind::capacity_exceeded:
    return storage_full(e.detail());
  case StorageErrorKind::backend:
    break;
  }
  return store_error(e.detail());
}

int
TaskError::error_code() const noexcept
{
  switch (kind_) {
  case TaskErrorKind::invalid_transition:
  case TaskErrorKind::not_found:
  case TaskErrorKind::expired:
  case TaskErrorKind::not_ready:
  case TaskErrorKind::owner_mismatch:
  case TaskErrorKind::variable_size_exceeded:
    return -32602;
  case TaskErrorKind::resource_exhausted:
  case TaskErrorKind::concurrent_modification:
  case TaskErrorKind::storage_full:
  case TaskErrorKind::store_error:
    return -32603;
  }
  return -32603;
}

namespace {

void
collect_chain(const std::exception& e, std::vector<std::string>& out)
{
  out.emplace_back(e.what());
  try {
    std::rethrow_if_nested(e);
  } catch (const std::exception& nested) {
    collect_chain(nested, out);
  } catch (...) {
    out.emplace_back("unknown error");
  }
}

} // namespace

std::vector<std::string>
error_chain(const std::exception& e)
{
  std::vector<std::string> out;
  collect_chain(e, out);
  return out;
}

std::string
describe(const std::exception& e)
{
  std::string text;
  for (const auto& message : error_chain(e)) {
    if (!text.empty()) {
      text += ": ";
    }
    text += message;
  }
  return text;
}

} // namespace taskstore
