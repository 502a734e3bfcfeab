#pragma once
// TaskStore: pmcp-tasks' GenericTaskStore (facts §6) over any StorageBackend,
// with the anchor's operations, checks, error mapping and messages, plus what
// the anchor lacks: bounded, jittered retries on a version conflict, and
// modify(), the one read-check-mutate-CAS loop every operation runs, which
// callers (taskctl's repair commands) use for changes of their own.
//
// Arguments are (owner_id, task_id) everywhere, in key order (make_key); the
// anchor's Rust methods take (task_id, owner_id).
//
// Every operation throws TaskError with the anchor's kind and message. The
// cause is kept nested (the anchor drops it): a StorageError from the backend
// (so a caller can still tell an unreachable server), or the InvalidArgument
// that describes why stored bytes are not a TaskRecord.

#include "taskstore/record.hpp"
#include "taskstore/validate.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace taskstore {

class StorageBackend;

// The anchor's TaskSecurityConfig (facts §9), enforced by create only.
struct TaskSecurityConfig
{
  std::size_t max_tasks_per_owner = 100;
  bool allow_anonymous = false; // owners "" and "local"
};

// What an operation does on a version conflict. The anchor never retries
// (max_attempts 1, the default); each retry re-reads the record and re-applies
// the mutation to it, so a change that became illegal meanwhile is refused,
// never forced. Between attempts it sleeps a random time in
// [0, min(max_backoff, initial_backoff * 2^(attempt-1))] ("full jitter").
struct RetryPolicy
{
  unsigned max_attempts = 1;
  std::chrono::milliseconds initial_backoff{4};
  std::chrono::milliseconds max_backoff{200};

  // One attempt, then retries more (retries = 3: up to 4 attempts).
  static RetryPolicy with_retries(unsigned retries);
};

struct ListTasksOptions
{
  std::string owner_id;
  std::optional<std::string> cursor; // the task id of the last task of the previous page
  std::optional<std::size_t> limit;  // default 50
};

struct TaskPage
{
  std::vector<TaskRecord> tasks;
  std::optional<std::string> next_cursor;
  // Records under the owner's prefix that were skipped: bytes that are not a
  // TaskRecord or damaged (the anchor drops them silently) or whose ownerId is another
  // owner's (the anchor lists them).
  std::size_t skipped = 0;
};

// A change to one record: mutates it in place, or throws (a TaskError) to
// refuse it. It is called once per attempt, on that attempt's fresh read, so
// it must derive everything from the record it is given.
using Mutation = std::function<void(TaskRecord& record)>;

struct UpdateOptions
{
  RetryPolicy retry;
  // The anchor's step 4: refuse an expired record (TaskError expired).
  bool check_expiry = true;
  // Apply the mutation and report the outcome; write nothing.
  bool dry_run = false;
  // Write nothing when the mutation changed nothing but lastUpdatedAt
  // (outcome.changed false). The anchor always writes.
  bool skip_unchanged = false;
  // The bytes to store for the mutated record; serialize_record when empty.
  // Called once per attempt; may throw to refuse the record.
  std::function<std::string(const TaskRecord& after)> encode;
  // Called just before each conditional write with the attempt number
  // (1-based); a test hook for injecting a concurrent write.
  std::function<void(unsigned attempt)> before_write;
};

struct UpdateOutcome
{
  std::string key;
  TaskRecord before;        // as read; version = the version read
  TaskRecord after;         // as written; version = the new version (dry run: the one it would get)
  std::string before_bytes; // the stored bytes read
  std::string after_bytes;  // the bytes written (dry run: would be written)
  bool changed = false;     // the mutation changed something
  bool written = false;     // false for a dry run and for an unchanged record with skip_unchanged
  unsigned attempts = 0;    // reads made (1 + the conflicts retried)
};

class TaskStore
{
public:
  // poll_interval_ms: task.pollInterval of created tasks (GenericTaskStore's 500).
  explicit TaskStore(StorageBackend& backend, StoreConfig config = {}, TaskSecurityConfig security = {},
                     std::uint64_t poll_interval_ms = 500);

  StorageBackend& backend() const { return m_backend; }
  const StoreConfig& config() const { return m_config; }
  const TaskSecurityConfig& security() const { return m_security; }

  // facts §6.4 create: anonymous check, quota (every record under the owner's
  // prefix), TTL maximum (a hard reject), default TTL; returns the record at
  // version 1. Beyond the anchor: an owner with ':' is refused, and the write
  // is create-only (put_if_version 0), so it can never replace a record; a
  // task id that exists already (a UUID collision) is retried per retry with
  // a fresh id, else concurrent_modification.
  TaskRecord create(const std::string& owner_id, const std::string& request_method,
                    std::optional<std::uint64_t> ttl_ms = std::nullopt, const RetryPolicy& retry = {});

  // Owner-scoped read: another owner's record looks exactly like a missing
  // one (TaskError not_found). No expiry check (the anchor's get).
  TaskRecord get(const std::string& owner_id, const std::string& task_id) const;

  // validate_transition, then status and statusMessage (nullopt clears it).
  TaskRecord update_status(const std::string& owner_id, const std::string& task_id, TaskStatus status,
                           std::optional<std::string> status_message, const RetryPolicy& retry = {});
  // update_status(cancelled, nullopt).
  TaskRecord cancel(const std::string& owner_id, const std::string& task_id, const RetryPolicy& retry = {});
  // The anchor's merge: the incoming object validated (depth, string length),
  // a null value removes its key, a shallow top-level replace, the merged
  // map's size checked (variable_size_exceeded). Any status.
  TaskRecord set_variables(const std::string& owner_id, const std::string& task_id, const Json& variables,
                           const RetryPolicy& retry = {});
  // Sets the result, any status (overwrites a completed task's result).
  void set_result(const std::string& owner_id, const std::string& task_id, Json result,
                  const RetryPolicy& retry = {});
  // The result of a terminal task; not_ready for a non-terminal task and for
  // a terminal one without a result.
  Json get_result(const std::string& owner_id, const std::string& task_id) const;
  // validate_transition, then status, message and result in one write.
  TaskRecord complete_with_result(const std::string& owner_id, const std::string& task_id, TaskStatus status,
                                  std::optional<std::string> status_message, Json result,
                                  const RetryPolicy& retry = {});
  // One page of the owner's tasks, createdAt descending (stable), cursor =
  // the task id after which the page starts (unknown: from the start).
  TaskPage list(const ListTasksOptions& options) const;
  std::size_t cleanup_expired();

  // Applies mutation with the read-check-mutate-CAS loop; returns the record written.
  TaskRecord update(const std::string& owner_id, const std::string& task_id, const Mutation& mutation,
                    const RetryPolicy& retry = {});
  // The loop itself (facts §6.3): read, owner check, expiry check (unless
  // options say not), mutate, lastUpdatedAt = now in the millisecond format
  // (unless the mutation set it), put_if_version on the version read. A
  // conflict is retried per options.retry; when the attempts are exhausted it
  // throws concurrent_modification with the last versions seen.
  UpdateOutcome modify(const std::string& owner_id, const std::string& task_id, const Mutation& mutation,
                       const UpdateOptions& options);

private:
  StorageBackend& m_backend;
  StoreConfig m_config;
  TaskSecurityConfig m_security;
  std::uint64_t m_poll_interval_ms;
};

// ---- the mutations the operations are made of ----

// Checks the transition (validate_transition), then sets the status and the
// message (nullopt clears it).
Mutation transition_to(TaskStatus status, std::optional<std::string> status_message);

// The anchor's set_variables on record.variables: throws TaskError
// store_error "variable validation failed: variable 'K': ..." for the first
// incoming variable over the depth or string-length limit, and
// variable_size_exceeded when the merged map is over the size limit (the
// record is then unchanged). Throws InvalidArgument when incoming is not an object.
void merge_variables(TaskRecord& record, const Json& incoming, const StoreConfig& limits);

// The record's parsed bytes as TaskStore reads them: throws TaskError
// store_error "failed to deserialize TaskRecord: ..." (an InvalidArgument
// nested) for bytes that are not a TaskRecord.
TaskRecord read_task_record(std::string_view data, std::uint64_t version);

} // namespace taskstore
