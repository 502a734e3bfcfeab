#include "taskstore/task_store.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/key.hpp"

#include <algorithm>
#include <random>
#include <thread>
#include <utility>

namespace taskstore {

RetryPolicy
RetryPolicy::with_retries(unsigned retries)
{
  RetryPolicy policy;
  policy.max_attempts = retries >= UINT32_MAX - 1 ? UINT32_MAX : retries + 1;
  return policy;
}

namespace {

// Sleeps before attempt (2, 3, ...): full jitter over a doubling ceiling.
void
backoff(const RetryPolicy& policy, unsigned attempt)
{
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto ceiling = policy.initial_backoff;
  for (unsigned i = 2; i < attempt && ceiling < policy.max_backoff; ++i) {
    ceiling *= 2;
  }
  ceiling = std::min(ceiling, policy.max_backoff);
  if (ceiling.count() <= 0) {
    return;
  }
  std::uniform_int_distribution<std::int64_t> pick(0, std::chrono::microseconds(ceiling).count());
  std::this_thread::sleep_for(std::chrono::microseconds(pick(rng)));
}

// Runs f, turning a StorageError into the anchor's TaskError (facts §6.2)
// with the StorageError nested.
template <typename F>
auto
mapped(const std::string& task_id, F&& f) -> decltype(f())
{
  try {
    return f();
  } catch (const StorageError& e) {
    std::throw_with_nested(TaskError::from_storage(e, task_id));
  }
}

// The key of (owner, task), or nullopt when no record can live under it
// (an empty owner, or one with ':', which make_key refuses).
std::optional<std::string>
owner_key(const std::string& owner_id, const std::string& task_id)
{
  if (owner_id.empty() || owner_id.find(':') != std::string::npos) {
    return std::nullopt;
  }
  return make_key(owner_id, task_id);
}

// The record's owner-scoped read: not_found for a missing key and for
// another owner's record, alike (facts §6.5).
std::pair<TaskRecord, std::string>
read_owned(StorageBackend& backend, const std::string& key, const std::string& owner_id,
           const std::string& task_id)
{
  VersionedRecord stored = mapped(task_id, [&] { return backend.get(key); });
  TaskRecord record = read_task_record(stored.data, stored.version);
  if (record.owner_id != owner_id) {
    throw TaskError::not_found(task_id);
  }
  return {std::move(record), std::move(stored.data)};
}

// The first segment of a JSON pointer, unescaped ("/a~1b/c" -> "a/b").
std::string
first_segment(const std::string& pointer)
{
  std::string out;
  for (std::size_t i = 1; i < pointer.size() && pointer[i] != '/'; ++i) {
    if (pointer[i] == '~' && i + 1 < pointer.size()) {
      out += pointer[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += pointer[i];
    }
  }
  return out;
}

} // namespace

TaskRecord
read_task_record(std::string_view data, std::uint64_t version)
{
  try {
    TaskRecord record = parse_record(data);
    record.version = version;
    return record;
  } catch (const InvalidArgument& e) {
    std::throw_with_nested(TaskError::store_error(std::string("failed to deserialize TaskRecord: ") + e.what()));
  }
}

Mutation
transition_to(TaskStatus status, std::optional<std::string> status_message)
{
  return [status, message = std::move(status_message)](TaskRecord& record) {
    validate_transition(record.task.task_id, record.task.status, status);
    record.task.status = status;
    record.task.status_message = message;
  };
}

void
merge_variables(TaskRecord& record, const Json& incoming, const StoreConfig& limits)
{
  if (!incoming.is_object()) {
    throw InvalidArgument("variables must be a JSON object");
  }
  // The anchor checks each incoming variable's depth, then its strings, and
  // reports the first failure; its map order is random, ours is the input's.
  const ValidationReport report = validate_variables(incoming, limits);
  for (const auto& v : report.violations) {
    std::string detail;
    if (v.rule == Rule::depth) {
      detail = "variable nesting depth " + std::to_string(v.limit + 1) + " exceeds maximum " + std::to_string(v.limit);
    } else if (v.rule == Rule::string_length) {
      detail = "string value length " + std::to_string(v.actual) + " bytes exceeds maximum " +
               std::to_string(v.limit) + " bytes";
    } else {
      continue; // the incoming map's size is not the anchor's measure
    }
    throw TaskError::store_error("variable validation failed: variable '" + first_segment(v.pointer) +
                                 "': " + detail);
  }
  Json merged = record.variables.is_object() ? record.variables : Json::object();
  for (const auto& [name, value] : incoming.items()) {
    if (value.is_null()) {
      merged.erase(name);
    } else {
      merged[name] = value;
    }
  }
  const std::uint64_t size = serde_json_size(merged);
  if (size > limits.max_variable_size_bytes) {
    throw TaskError::variable_size_exceeded(limits.max_variable_size_bytes, size);
  }
  record.variables = std::move(merged);
}

TaskStore::TaskStore(StorageBackend& backend, StoreConfig config, TaskSecurityConfig security,
                     std::uint64_t poll_interval_ms)
  : m_backend(backend), m_config(config), m_security(security), m_poll_interval_ms(poll_interval_ms)
{
}

TaskRecord
TaskStore::create(const std::string& owner_id, const std::string& request_method, std::optional<std::uint64_t> ttl_ms,
                  const RetryPolicy& retry)
{
  if (!m_security.allow_anonymous && (owner_id.empty() || owner_id == "local")) {
    throw TaskError::store_error("anonymous access is not allowed; configure OAuth or enable allow_anonymous");
  }
  if (owner_id.empty() || owner_id.find(':') != std::string::npos) {
    throw TaskError::store_error("invalid owner id '" + owner_id + "': it must be non-empty and contain no ':'");
  }
  const std::uint64_t count = mapped("", [&] { return count_prefix(m_backend, make_prefix(owner_id)); });
  if (count >= m_security.max_tasks_per_owner) {
    throw TaskError::resource_exhausted("Cancel or wait for existing tasks to expire");
  }
  if (ttl_ms && m_config.max_ttl_ms && *ttl_ms > *m_config.max_ttl_ms) {
    throw TaskError::store_error("TTL " + std::to_string(*ttl_ms) + "ms exceeds maximum allowed " +
                                 std::to_string(*m_config.max_ttl_ms) + "ms");
  }
  for (unsigned attempt = 1;; ++attempt) {
    TaskRecord record = TaskRecord::create(owner_id, request_method, ttl_ms ? ttl_ms : m_config.default_ttl_ms);
    record.task.poll_interval = m_poll_interval_ms;
    const std::string key = make_key(owner_id, record.task.task_id);
    try {
      record.version = m_backend.put_if_version(key, serialize_record(record), 0);
      return record;
    } catch (const StorageError& e) {
      if (e.kind() != StorageErrorKind::version_conflict || attempt >= std::max(1U, retry.max_attempts)) {
        std::throw_with_nested(TaskError::from_storage(e, ""));
      }
    }
    backoff(retry, attempt + 1);
  }
}

TaskRecord
TaskStore::get(const std::string& owner_id, const std::string& task_id) const
{
  const auto key = owner_key(owner_id, task_id);
  if (!key) {
    throw TaskError::not_found(task_id);
  }
  return read_owned(m_backend, *key, owner_id, task_id).first;
}

TaskRecord
TaskStore::update_status(const std::string& owner_id, const std::string& task_id, TaskStatus status,
                         std::optional<std::string> status_message, const RetryPolicy& retry)
{
  return update(owner_id, task_id, transition_to(status, std::move(status_message)), retry);
}

TaskRecord
TaskStore::cancel(const std::string& owner_id, const std::string& task_id, const RetryPolicy& retry)
{
  return update_status(owner_id, task_id, TaskStatus::cancelled, std::nullopt, retry);
}

TaskRecord
TaskStore::set_variables(const std::string& owner_id, const std::string& task_id, const Json& variables,
                         const RetryPolicy& retry)
{
  return update(
    owner_id, task_id, [&](TaskRecord& record) { merge_variables(record, variables, m_config); }, retry);
}

void
TaskStore::set_result(const std::string& owner_id, const std::string& task_id, Json result,
                      const RetryPolicy& retry)
{
  update(
    owner_id, task_id, [&](TaskRecord& record) { record.result = result; }, retry);
}

Json
TaskStore::get_result(const std::string& owner_id, const std::string& task_id) const
{
  TaskRecord record = get(owner_id, task_id);
  // A JSON null result reads back as no result (facts §2.1): not ready either.
  if (!is_terminal(record.task.status) || !record.result || record.result->is_null()) {
    throw TaskError::not_ready(task_id, std::string(to_string(record.task.status)));
  }
  return std::move(*record.result);
}

TaskRecord
TaskStore::complete_with_result(const std::string& owner_id, const std::string& task_id, TaskStatus status,
                                std::optional<std::string> status_message, Json result, const RetryPolicy& retry)
{
  const Mutation transition = transition_to(status, std::move(status_message));
  return update(
    owner_id, task_id,
    [&](TaskRecord& record) {
      transition(record);
      record.result = result;
    },
    retry);
}

TaskPage
TaskStore::list(const ListTasksOptions& options) const
{
  TaskPage page;
  if (options.owner_id.empty() || options.owner_id.find(':') != std::string::npos) {
    return page;
  }
  std::vector<TaskRecord> all;
  mapped("", [&] {
    m_backend.scan(make_prefix(options.owner_id), [&](const std::string&, const VersionedRecord& stored) {
      try {
        TaskRecord record = parse_record(stored.data);
        if (record.owner_id != options.owner_id) {
          ++page.skipped;
        } else {
          record.version = stored.version;
          all.push_back(std::move(record));
        }
      } catch (const InvalidArgument&) {
        ++page.skipped;
      }
      return true;
    }, [&](const DamagedRecord&) {
      ++page.skipped;
      return true;
    });
  });
  std::stable_sort(all.begin(), all.end(), [](const TaskRecord& a, const TaskRecord& b) {
    return a.task.created_at > b.task.created_at;
  });
  std::size_t start = 0;
  if (options.cursor) {
    const auto it = std::find_if(all.begin(), all.end(),
                                 [&](const TaskRecord& r) { return r.task.task_id == *options.cursor; });
    if (it != all.end()) {
      start = static_cast<std::size_t>(it - all.begin()) + 1;
    }
  }
  const std::size_t limit = options.limit.value_or(50);
  const std::size_t end = limit > all.size() - start ? all.size() : start + limit;
  for (std::size_t i = start; i < end; ++i) {
    page.tasks.push_back(std::move(all[i]));
  }
  if (end < all.size() && !page.tasks.empty()) {
    page.next_cursor = page.tasks.back().task.task_id;
  }
  return page;
}

std::size_t
TaskStore::cleanup_expired()
{
  return mapped("", [&] { return m_backend.cleanup_expired(); });
}

TaskRecord
TaskStore::update(const std::string& owner_id, const std::string& task_id, const Mutation& mutation,
                  const RetryPolicy& retry)
{
  UpdateOptions options;
  options.retry = retry;
  return modify(owner_id, task_id, mutation, options).after;
}

UpdateOutcome
TaskStore::modify(const std::string& owner_id, const std::string& task_id, const Mutation& mutation,
                  const UpdateOptions& options)
{
  const auto key = owner_key(owner_id, task_id);
  if (!key) {
    throw TaskError::not_found(task_id);
  }
  const unsigned attempts = std::max(1U, options.retry.max_attempts);
  for (unsigned attempt = 1;; ++attempt) {
    if (attempt > 1) {
      backoff(options.retry, attempt);
    }
    const Timestamp now = now_utc();
    UpdateOutcome outcome;
    outcome.key = *key;
    outcome.attempts = attempt;
    std::tie(outcome.before, outcome.before_bytes) = read_owned(m_backend, *key, owner_id, task_id);
    const TaskRecord& before = outcome.before;
    if (options.check_expiry && before.is_expired(now)) {
      throw TaskError::expired(task_id, format_rfc3339_offset(*before.expires_at));
    }
    TaskRecord after = before;
    mutation(after);
    outcome.changed = after != before;
    if (after.task.last_updated_at == before.task.last_updated_at) {
      after.task.last_updated_at = format_millis(now);
    }
    after.version = before.version + 1;
    outcome.after = std::move(after);
    if (options.skip_unchanged && !outcome.changed) {
      outcome.after = before;
      outcome.after_bytes = outcome.before_bytes;
      return outcome;
    }
    outcome.after_bytes = options.encode ? options.encode(outcome.after) : serialize_record(outcome.after);
    if (options.dry_run) {
      return outcome;
    }
    if (options.before_write) {
      options.before_write(attempt);
    }
    try {
      outcome.after.version = m_backend.put_if_version(*key, outcome.after_bytes, before.version);
      outcome.written = true;
      return outcome;
    } catch (const StorageError& e) {
      if (e.kind() != StorageErrorKind::version_conflict) {
        std::throw_with_nested(TaskError::from_storage(e, task_id));
      }
      if (attempt >= attempts || e.actual() == 0) {
        // Exhausted, or the record is gone (nothing left to re-apply to).
        std::throw_with_nested(e.actual() == 0 ? TaskError::not_found(task_id)
                                               : TaskError::from_storage(e, task_id));
      }
    }
  }
}

} // namespace taskstore
