#pragma once
// Error types of the library. Nothing else leaves lib/: every third-party
// failure is translated into one of these, the original kept as a nested
// exception (std::throw_with_nested) so callers can print the whole chain.

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace taskstore {

enum class StorageErrorKind
{
  not_found,
  version_conflict,
  capacity_exceeded,
  backend,
};

// The four StorageError kinds of the anchor, with its exact messages (facts §3.1):
//   key not found: {key}
//   version conflict on key {key}: expected {expected}, found {actual}
//   capacity exceeded: {message}
//   backend error: {message}
class StorageError : public std::runtime_error
{
public:
  static StorageError not_found(std::string key);
  static StorageError version_conflict(std::string key, std::uint64_t expected, std::uint64_t actual);
  static StorageError capacity_exceeded(std::string message);
  // unavailable: the server could not be reached or timed out (a retry may
  // succeed; the CLI exits 5 for these).
  static StorageError backend(std::string message, bool unavailable = false);

  StorageErrorKind kind() const noexcept { return kind_; }
  const std::string& key() const noexcept { return key_; }          // not_found, version_conflict
  std::uint64_t expected() const noexcept { return expected_; }     // version_conflict
  std::uint64_t actual() const noexcept { return actual_; }         // version_conflict; 0 = key absent
  const std::string& detail() const noexcept { return detail_; }    // capacity_exceeded, backend
  bool unavailable() const noexcept { return unavailable_; }        // backend

private:
  StorageError(StorageErrorKind kind, std::string what);
  StorageErrorKind kind_;
  std::string key_;
  std::string detail_;
  std::uint64_t expected_ = 0;
  std::uint64_t actual_ = 0;
  bool unavailable_ = false;
};

// A bad argument from the caller: malformed key, owner id with ':', bad or
// unknown store URI, unknown query parameter. The CLI exits 2.
class InvalidArgument : public std::invalid_argument
{
public:
  using std::invalid_argument::invalid_argument;
};

// Missing or unusable configuration or credentials (e.g. no AWS credentials,
// Redis AUTH rejected, a store file that does not exist for a read). The CLI exits 7.
class ConfigError : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

enum class TaskErrorKind
{
  invalid_transition,
  not_found,
  expired,
  not_ready,
  owner_mismatch,
  resource_exhausted,
  variable_size_exceeded,
  concurrent_modification,
  storage_full,
  store_error,
};

// The domain errors of pmcp-tasks (facts §8), each with the anchor's message
// and JSON-RPC code (-32602 invalid params, -32603 internal).
class TaskError : public std::runtime_error
{
public:
  static TaskError invalid_transition(std::string task_id, std::string from, std::string to,
                                      std::optional<std::string> suggested_action);
  static TaskError not_found(std::string task_id);
  static TaskError expired(std::string task_id, std::optional<std::string> expired_at);
  static TaskError not_ready(std::string task_id, std::string current_status);
  static TaskError owner_mismatch(std::string task_id);
  static TaskError resource_exhausted(std::optional<std::string> suggested_action);
  static TaskError variable_size_exceeded(std::uint64_t limit_bytes, std::uint64_t actual_bytes);
  static TaskError concurrent_modification(std::string task_id, std::uint64_t expected_version,
                                           std::uint64_t actual_version);
  static TaskError storage_full(std::string message);
  static TaskError store_error(std::string message);
  // The anchor's map_storage_error (facts §6.2); task_id "" for list/create.
  static TaskError from_storage(const StorageError& e, const std::string& task_id);

  TaskErrorKind kind() const noexcept { return kind_; }
  int error_code() const noexcept; // -32602 or -32603
  const std::string& task_id() const noexcept { return task_id_; }
  const std::optional<std::string>& suggested_action() const noexcept { return suggested_action_; }
  // invalid_transition: the statuses (snake_case); not_ready: from() is the current status.
  const std::string& from() const noexcept { return from_; }
  const std::string& to() const noexcept { return to_; }
  // concurrent_modification: the versions; variable_size_exceeded: the limit
  // (expected) and the measured size (actual).
  std::uint64_t expected() const noexcept { return expected_; }
  std::uint64_t actual() const noexcept { return actual_; }
  // expired: when, as the anchor formats it ("+00:00" suffix).
  const std::optional<std::string>& expired_at() const noexcept { return expired_at_; }

private:
  TaskError(TaskErrorKind kind, std::string what);
  TaskErrorKind kind_;
  std::string task_id_;
  std::optional<std::string> suggested_action_;
  std::string from_;
  std::string to_;
  std::uint64_t expected_ = 0;
  std::uint64_t actual_ = 0;
  std::optional<std::string> expired_at_;
};

// Returns the messages of e and of every exception nested in it, outermost first.
std::vector<std::string> error_chain(const std::exception& e);

// error_chain joined with ": ".
std::string describe(const std::exception& e);

} // namespace taskstore
