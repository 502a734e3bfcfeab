#pragma once
// Task and TaskRecord, read from and written to exactly the JSON
// pmcp-tasks writes (facts §1-2): field order, omitted vs null fields, the two
// timestamp formats, ttl in milliseconds, no "version" in the JSON.

#include "taskstore/json/serde.hpp"
#include "taskstore/status.hpp"
#include "taskstore/time.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore {

// The JSON field names of TaskRecord (facts §2.1) and of its task (facts
// §1.1), in the order pmcp-tasks writes them. A key not listed is a field
// pmcp-tasks ignores.
inline constexpr std::array<std::string_view, 6> k_record_fields = {"task",   "ownerId",       "variables",
                                                                    "result", "requestMethod", "expiresAt"};
inline constexpr std::array<std::string_view, 8> k_task_fields = {
  "taskId", "status", "statusMessage", "createdAt", "lastUpdatedAt", "ttl", "pollInterval", "_meta"};

// The MCP wire Task (facts §1.1).
struct Task
{
  std::string task_id;
  TaskStatus status = TaskStatus::working;
  std::optional<std::string> status_message;  // omitted when absent
  std::string created_at;                     // opaque text, written as given
  std::string last_updated_at;
  std::optional<std::uint64_t> ttl;           // ms; written as null when absent
  std::optional<std::uint64_t> poll_interval; // ms; omitted when absent
  std::optional<Json> meta;                   // "_meta" object; omitted when absent

  bool operator==(const Task&) const = default;
};

// The stored record (facts §2.1).
struct TaskRecord
{
  Task task;
  std::string owner_id;
  Json variables = Json::object();             // always an object
  std::optional<Json> result;                  // written as null when absent
  std::string request_method;
  std::optional<Timestamp> expires_at;         // written as null when absent
  std::uint64_t version = 0;                   // never serialized

  bool operator==(const TaskRecord&) const = default;

  // TaskRecord::new (facts §2.4): fresh UUIDv4 id, status working, timestamps
  // now, expires_at = now + ttl (none on overflow or without ttl).
  static TaskRecord create(std::string owner_id, std::string request_method,
                           std::optional<std::uint64_t> ttl_ms, Timestamp now = now_utc());

  bool is_expired(Timestamp now = now_utc()) const { return is_expired_at(expires_at, now); }
};

// One problem found while reading a record: the JSON pointer of the field and
// what is wrong with it.
struct SchemaProblem
{
  std::string pointer;
  std::string message;
};

// Converts parsed JSON to a TaskRecord. Returns the problems found (every one,
// not only the first); the record is valid only when the list is empty.
// Rules: serde's (required fields, types, unknown keys ignored, ttl a u64,
// expiresAt RFC 3339 with any offset) plus checks of the createdAt /
// lastUpdatedAt timestamps, which serde does not parse but the store writes.
std::vector<SchemaProblem> record_from_json(const Json& json, TaskRecord& out);
// Same, moving _meta, variables and result out of json instead of copying
// them (addition): no deep copy, so safe for documents of any nesting depth
// (nlohmann's copy constructor recurses once per level).
std::vector<SchemaProblem> record_from_json(Json&& json, TaskRecord& out);

// Parses record bytes; throws InvalidArgument with every problem (and the
// parse position for malformed JSON).
TaskRecord parse_record(std::string_view data);

// The record as pmcp-tasks writes it: compact, field order of facts §2.1.
Json record_to_json(const TaskRecord& record);
std::string serialize_record(const TaskRecord& record);

Json task_to_json(const Task& task);

} // namespace taskstore
