#include "taskstore/record.hpp"

#include "taskstore/error.hpp"
#include "taskstore/json/parse.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <unordered_map>
#include <string>

namespace taskstore {

// ---------------------------------------------------------------------------
// TaskRecord <-> JSON

namespace {

std::string
type_name(const Json& v)
{
  switch (v.type()) {
  case Json::value_t::null:
    return "null";
  case Json::value_t::boolean:
    return v.get<bool>() ? "boolean true" : "boolean false";
  case Json::value_t::string:
    return "a string";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned:
    return "integer " + to_serde_json(v);
  case Json::value_t::number_float:
    return "number " + to_serde_json(v);
  case Json::value_t::object:
    return "an object";
  case Json::value_t::array:
    return "an array";
  case Json::value_t::binary:
    return "binary data";
  case Json::value_t::discarded:
    break;
  }
  return "nothing";
}

// Collects problems while reading one object's fields.
class FieldReader
{
public:
  FieldReader(const Json& object, std::string pointer, std::vector<SchemaProblem>& problems)
    : object_(object), pointer_(std::move(pointer)), problems_(problems)
  {
  }

  // The member, or nullptr when missing (reported when required).
  const Json* get(const char* name, bool required)
  {
    const auto it = object_.find(name);
    if (it == object_.end()) {
      if (required) {
        problem(name, std::string("missing required field \"") + name + "\"");
      }
      return nullptr;
    }
    return &*it;
  }

  // A required string.
  void string(const char* name, std::string& out)
  {
    if (const Json* v = get(name, true)) {
      if (v->is_string()) {
        out = v->get<std::string>();
      } else {
        problem(name, "expected a string, found " + type_name(*v));
      }
    }
  }

  // An optional string: missing or null is absent.
  void optional_string(const char* name, std::optional<std::string>& out)
  {
    if (const Json* v = get(name, false); v != nullptr && !v->is_null()) {
      if (v->is_string()) {
        out = v->get<std::string>();
      } else {
        problem(name, "expected a string or null, found " + type_name(*v));
      }
    }
  }

  // An optional u64: missing or null is absent; negative, fractional and
  // too-large numbers are errors, as in serde.
  void optional_u64(const char* name, std::optional<std::uint64_t>& out)
  {
    const Json* v = get(name, false);
    if (v == nullptr || v->is_null()) {
      return;
    }
    if (v->is_number_unsigned()) {
      out = v->get<std::uint64_t>();
    } else if (v->is_number_integer() && v->get<std::int64_t>() >= 0) {
      out = static_cast<std::uint64_t>(v->get<std::int64_t>());
    } else {
      problem(name, "expected a non-negative integer fitting in 64 bits (milliseconds) or null, found " +
                      type_name(*v));
    }
  }

  void problem(const char* name, std::string message)
  {
    problems_.push_back({pointer_ + "/" + name, std::move(message)});
  }

private:
  const Json& object_;
  std::string pointer_;
  std::vector<SchemaProblem>& problems_;
};

// A member's value for the record: moved out when the document is ours to
// take apart (no deep copy: nlohmann's copy recurses once per nesting level),
// copied otherwise. `movable` means the document is not actually const.
Json
take(const Json& v, bool movable)
{
  return movable ? std::move(const_cast<Json&>(v)) : v;
}

void
check_timestamp(FieldReader& fields, const char* name, const std::string& text, bool present)
{
  if (present && !parse_rfc3339(text)) {
    fields.problem(name, "invalid RFC 3339 timestamp \"" + text + "\"");
  }
}

void
read_task(const Json& json, Task& task, std::vector<SchemaProblem>& problems, bool movable)
{
  FieldReader fields(json, "/task", problems);
  fields.string("taskId", task.task_id);
  if (const Json* v = fields.get("status", true)) {
    if (!v->is_string()) {
      fields.problem("status", "expected a string, found " + type_name(*v));
    } else if (const auto s = parse_task_status(v->get_ref<const std::string&>())) {
      task.status = *s;
    } else {
      fields.problem("status", "unknown status \"" + v->get<std::string>() +
                                 "\": expected one of working, input_required, completed, failed, "
                                 "cancelled");
    }
  }
  fields.optional_string("statusMessage", task.status_message);
  const std::size_t before = problems.size();
  fields.string("createdAt", task.created_at);
  check_timestamp(fields, "createdAt", task.created_at, problems.size() == before);
  const std::size_t before2 = problems.size();
  fields.string("lastUpdatedAt", task.last_updated_at);
  check_timestamp(fields, "lastUpdatedAt", task.last_updated_at, problems.size() == before2);
  fields.optional_u64("ttl", task.ttl);
  fields.optional_u64("pollInterval", task.poll_interval);
  if (const Json* v = fields.get("_meta", false); v != nullptr && !v->is_null()) {
    if (v->is_object()) {
      task.meta = take(*v, movable);
    } else {
      fields.problem("_meta", "expected an object or null, found " + type_name(*v));
    }
  }
}

std::vector<SchemaProblem>
read_record(const Json& json, TaskRecord& out, bool movable)
{
  std::vector<SchemaProblem> problems;
  out = TaskRecord{};
  if (!json.is_object()) {
    problems.push_back({"", "expected a task record object, found " + type_name(json)});
    return problems;
  }
  FieldReader fields(json, "", problems);
  if (const Json* task = fields.get("task", true)) {
    if (task->is_object()) {
      read_task(*task, out.task, problems, movable);
    } else {
      fields.problem("task", "expected an object, found " + type_name(*task));
    }
  }
  fields.string("ownerId", out.owner_id);
  if (const Json* v = fields.get("variables", true)) {
    if (v->is_object()) {
      out.variables = take(*v, movable);
    } else {
      fields.problem("variables", "expected an object, found " + type_name(*v));
    }
  }
  // result: any JSON. A JSON null reads as absent, as serde reads null into
  // Option<Value>: a stored Some(null) is lost exactly like in the anchor
  // (facts §2.1, §11.16).
  if (const Json* v = fields.get("result", false); v != nullptr && !v->is_null()) {
    out.result = take(*v, movable);
  }
  fields.string("requestMethod", out.request_method);
  if (const Json* v = fields.get("expiresAt", false); v != nullptr && !v->is_null()) {
    if (!v->is_string()) {
      fields.problem("expiresAt", "expected an RFC 3339 timestamp string or null, found " + type_name(*v));
    } else if (const auto t = parse_rfc3339(v->get_ref<const std::string&>())) {
      out.expires_at = *t;
    } else {
      fields.problem("expiresAt", "invalid RFC 3339 timestamp \"" + v->get<std::string>() + "\"");
    }
  }
  // "version" is never read (serde skip): a stray key is ignored like any unknown key.
  return problems;
}

} // namespace

std::vector<SchemaProblem>
record_from_json(const Json& json, TaskRecord& out)
{
  return read_record(json, out, false);
}

std::vector<SchemaProblem>
record_from_json(Json&& json, TaskRecord& out)
{
  return read_record(json, out, true);
}

TaskRecord
parse_record(std::string_view data)
{
  Json json = parse_json(data, "task record JSON");
  TaskRecord record;
  const auto problems = record_from_json(std::move(json), record);
  if (!problems.empty()) {
    std::string message = "invalid task record: ";
    for (std::size_t i = 0; i < problems.size(); ++i) {
      if (i > 0) {
        message += "; ";
      }
      message += problems[i].pointer.empty() ? "(root)" : problems[i].pointer;
      message += ": ";
      message += problems[i].message;
    }
    throw InvalidArgument(message);
  }
  return record;
}

Json
task_to_json(const Task& task)
{
  Json j = Json::object();
  j["taskId"] = task.task_id;
  j["status"] = std::string(to_string(task.status));
  if (task.status_message) {
    j["statusMessage"] = *task.status_message;
  }
  j["createdAt"] = task.created_at;
  j["lastUpdatedAt"] = task.last_updated_at;
  j["ttl"] = task.ttl ? Json(*task.ttl) : Json(nullptr);
  if (task.poll_interval) {
    j["pollInterval"] = *task.poll_interval;
  }
  if (task.meta) {
    j["_meta"] = *task.meta;
  }
  return j;
}

Json
record_to_json(const TaskRecord& record)
{
  Json j = Json::object();
  j["task"] = task_to_json(record.task);
  j["ownerId"] = record.owner_id;
  j["variables"] = record.variables;
  j["result"] = record.result ? *record.result : Json(nullptr);
  j["requestMethod"] = record.request_method;
  j["expiresAt"] = record.expires_at ? Json(format_autosi(*record.expires_at)) : Json(nullptr);
  return j;
}

std::string
serialize_record(const TaskRecord& record)
{
  // Written field by field (the order of task_to_json and record_to_json) so
  // _meta, variables and result are not copied into a temporary document:
  // besides the cost, nlohmann's copy recurses once per nesting level.
  std::string out;
  const Task& task = record.task;
  out.append("{\"task\":{\"taskId\":");
  append_serde_string(out, task.task_id);
  out.append(",\"status\":\"");
  out.append(to_string(task.status));
  out.push_back('"');
  if (task.status_message) {
    out.append(",\"statusMessage\":");
    append_serde_string(out, *task.status_message);
  }
  out.append(",\"createdAt\":");
  append_serde_string(out, task.created_at);
  out.append(",\"lastUpdatedAt\":");
  append_serde_string(out, task.last_updated_at);
  out.append(",\"ttl\":");
  out.append(task.ttl ? std::to_string(*task.ttl) : std::string("null"));
  if (task.poll_interval) {
    out.append(",\"pollInterval\":");
    out.append(std::to_string(*task.poll_interval));
  }
  if (task.meta) {
    out.append(",\"_meta\":");
    append_serde_json(out, *task.meta);
  }
  out.append("},\"ownerId\":");
  append_serde_string(out, record.owner_id);
  out.append(",\"variables\":");
  append_serde_json(out, record.variables);
  out.append(",\"result\":");
  if (record.result) {
    append_serde_json(out, *record.result);
  } else {
    out.append("null");
  }
  out.append(",\"requestMethod\":");
  append_serde_string(out, record.request_method);
  out.append(",\"expiresAt\":");
  if (record.expires_at) {
    append_serde_string(out, format_autosi(*record.expires_at));
  } else {
    out.append("null");
  }
  out.push_back('}');
  return out;
}

namespace {

// A random (version 4, RFC 4122 variant) UUID, lowercase and hyphenated.
std::string
uuid_v4()
{
  std::array<unsigned char, 16> b{};
  std::size_t got = 0;
  while (got < b.size()) {
    const ssize_t n = ::getrandom(b.data() + got, b.size() - got, 0);
    if (n <= 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  if (got < b.size()) {
    // getrandom unavailable: the kernel's entropy through std::random_device.
    std::random_device rd;
    for (auto& byte : b) {
      byte = static_cast<unsigned char>(rd());
    }
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  constexpr char k_hex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      s.push_back('-');
    }
    s.push_back(k_hex[b[i] >> 4]);
    s.push_back(k_hex[b[i] & 0xF]);
  }
  return s;
}

} // namespace

TaskRecord
TaskRecord::create(std::string owner_id, std::string request_method,
                   std::optional<std::uint64_t> ttl_ms, Timestamp now)
{
  TaskRecord r;
  r.task.task_id = uuid_v4();
  r.task.status = TaskStatus::working;
  r.task.created_at = format_millis(now);
  r.task.last_updated_at = r.task.created_at;
  r.task.ttl = ttl_ms;
  r.owner_id = std::move(owner_id);
  r.request_method = std::move(request_method);
  r.variables = Json::object();
  // expiresAt from the full-precision now; None when the addition overflows.
  r.expires_at = ttl_ms ? add_millis(now, *ttl_ms) : std::nullopt;
  r.version = 0;
  return r;
}

} // namespace taskstore
