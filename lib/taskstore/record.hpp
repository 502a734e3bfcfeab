#pragma once
// Task, TaskStatus and TaskRecord, read from and written to exactly the JSON
// pmcp-tasks writes (facts §1-2): field order, omitted vs null fields, the two
// timestamp formats, ttl in milliseconds, no "version" in the JSON.

#include "taskstore/time.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore {

// Insertion-ordered JSON, as serde_json with preserve_order keeps it.
using Json = nlohmann::ordered_json;

enum class TaskStatus
{
  working,
  input_required,
  completed,
  failed,
  cancelled,
};

// "working", "input_required", "completed", "failed", "cancelled".
std::string_view to_string(TaskStatus status);
// Exact, case-sensitive; nullopt for anything else.
std::optional<TaskStatus> parse_task_status(std::string_view text);
bool is_terminal(TaskStatus status);
// The legal transition table of facts §1.3 (self-transitions are illegal).
bool can_transition(TaskStatus from, TaskStatus to);
// Throws TaskError::invalid_transition with the anchor's suggested_action.
void validate_transition(const std::string& task_id, TaskStatus from, TaskStatus to);

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

// ---- serde_json-compatible input and output (additions) ----

// A SAX handler that builds a Json the way parse_json does (addition). Also
// usable to capture one value out of a larger SAX stream: feed it the events
// of that value only, then take() it. Objects are assembled when they close,
// so no member is ever copied (nlohmann's copy recurses once per nesting
// level, and ordered_map copies its members when it grows).
class JsonBuilder final : public nlohmann::json_sax<Json>
{
public:
  JsonBuilder();
  ~JsonBuilder() override;
  JsonBuilder(const JsonBuilder&) = delete;
  JsonBuilder& operator=(const JsonBuilder&) = delete;

  bool null() override;
  bool boolean(bool v) override;
  bool number_integer(number_integer_t v) override;
  bool number_unsigned(number_unsigned_t v) override;
  bool number_float(number_float_t v, const string_t& raw) override;
  bool string(string_t& v) override;
  bool binary(binary_t& v) override;
  bool start_object(std::size_t n) override;
  bool key(string_t& k) override;
  bool end_object() override;
  bool start_array(std::size_t n) override;
  bool end_array() override;
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override;

  // True once a whole value has been built (and no container is open).
  bool complete() const;
  // The value built; the builder is empty again afterwards.
  Json take();
  // After parse_error: the parser's position (bytes read) and exception.
  std::size_t error_position() const { return error_position_; }
  const std::string& error_message() const { return error_message_; }
  std::exception_ptr error() const { return error_; }

private:
  struct Frame;
  Json* place(Json v);
  Json root_;
  bool has_root_ = false;
  std::vector<Frame> stack_;
  std::string key_;
  std::size_t error_position_ = 0;
  std::string error_message_;
  std::exception_ptr error_;
};

// Parses JSON text into a Json the way serde_json reads a Value: object keys
// keep their order (a repeated key keeps its first position and takes the
// last value), "-0" becomes the float -0.0 (serde writes it back as -0.0).
// Unlike Json::parse, objects with many keys take linear time (nlohmann's
// ordered_map looks keys up linearly). Never recurses. Throws InvalidArgument
// "malformed JSON at line L, column C (byte offset B): <parser message>",
// the parser's exception nested.
Json parse_json(std::string_view text);

// What serde_json::to_vec writes for a Value: no whitespace, object keys in
// stored order, non-ASCII raw, '"' '\\' and control characters escaped
// (\b \f \n \r \t, others as \u00xx lowercase), '/' and DEL raw, integers in
// decimal, floats via format_serde_double. Iterative: any nesting depth.
std::string to_serde_json(const Json& value);
void append_serde_json(std::string& out, const Json& value);
// The byte length of to_serde_json(value), computed without building it.
std::uint64_t serde_json_size(const Json& value);
// The byte length of a JSON string token as serde_json writes it, quotes included.
std::uint64_t serde_string_size(std::string_view utf8);
// serde_json's text of a double (ryu, shortest round trip): "1.0", "0.1",
// "1e21", "1.5e-7", "-0.0"; NaN and infinities are written as "null".
std::string format_serde_double(double value);

} // namespace taskstore
