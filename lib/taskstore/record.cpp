#include "taskstore/record.hpp"

#include "taskstore/error.hpp"

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
// TaskStatus

std::string_view
to_string(TaskStatus status)
{
  switch (status) {
  case TaskStatus::working:
    return "working";
  case TaskStatus::input_required:
    return "input_required";
  case TaskStatus::completed:
    return "completed";
  case TaskStatus::failed:
    return "failed";
  case TaskStatus::cancelled:
    return "cancelled";
  }
  return "working"; // unreachable: every enumerator is handled above
}

std::optional<TaskStatus>
parse_task_status(std::string_view text)
{
  if (text == "working") {
    return TaskStatus::working;
  }
  if (text == "input_required") {
    return TaskStatus::input_required;
  }
  if (text == "completed") {
    return TaskStatus::completed;
  }
  if (text == "failed") {
    return TaskStatus::failed;
  }
  if (text == "cancelled") {
    return TaskStatus::cancelled;
  }
  return std::nullopt;
}

bool
is_terminal(TaskStatus status)
{
  return status == TaskStatus::completed || status == TaskStatus::failed ||
         status == TaskStatus::cancelled;
}

bool
can_transition(TaskStatus from, TaskStatus to)
{
  // Self-transitions first (facts §1.3), then: nothing leaves a terminal
  // state, and a non-terminal state may go anywhere else.
  if (from == to) {
    return false;
  }
  return !is_terminal(from);
}

void
validate_transition(const std::string& task_id, TaskStatus from, TaskStatus to)
{
  if (can_transition(from, to)) {
    return;
  }
  std::optional<std::string> suggested_action;
  if (is_terminal(from)) {
    suggested_action = "task is in a terminal state and cannot be transitioned";
  } else if (from == to) {
    suggested_action = "task is already in " + std::string(to_string(from)) + " state";
  }
  throw TaskError::invalid_transition(task_id, std::string(to_string(from)),
                                      std::string(to_string(to)), std::move(suggested_action));
}

// ---------------------------------------------------------------------------
// serde_json-compatible output

namespace {

// Extra bytes serde_json spends on a byte when escaping it in a string:
// 1 for \" \\ \b \f \n \r \t, 5 for \u00xx, 0 otherwise (UTF-8 and DEL raw).
constexpr std::array<std::uint8_t, 256>
make_escape_extra()
{
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) {
    t[static_cast<std::size_t>(c)] = 5;
  }
  for (unsigned char c : {'\b', '\f', '\n', '\r', '\t', '"', '\\'}) {
    t[c] = 1;
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> k_escape_extra = make_escape_extra();

struct StringSink
{
  std::string& out;
  void put(char c) { out.push_back(c); }
  void put(std::string_view s) { out.append(s); }
  void put_string(std::string_view s)
  {
    out.push_back('"');
    std::size_t run = 0; // start of the pending run of bytes written as-is
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (k_escape_extra[c] == 0) {
        continue;
      }
      out.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default: {
        constexpr char k_hex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', k_hex[c >> 4], k_hex[c & 0xF]};
        out.append(esc, 6);
      }
      }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
  }
};

struct SizeSink
{
  std::uint64_t size = 0;
  void put(char) { ++size; }
  void put(std::string_view s) { size += s.size(); }
  void put_string(std::string_view s) { size += serde_string_size(s); }
};

// ryu's layout (as in serde_json) of a finite, non-zero double given its
// shortest digits: returns the text length written to out (at most 32 bytes).
std::size_t
layout_double(double value, char* out)
{
  char* p = out;
  if (std::signbit(value)) {
    *p++ = '-';
    value = -value;
  }
  if (value == 0.0) {
    std::memcpy(p, "0.0", 3);
    return static_cast<std::size_t>(p - out) + 3;
  }
  // Shortest round-trip digits from the standard library (Ryu as well).
  std::array<char, 40> sci{};
  const auto res = std::to_chars(sci.data(), sci.data() + sci.size(), value, std::chars_format::scientific);
  // sci: d[.ddd]e±XX
  std::array<char, 20> digits{};
  int length = 0;
  const char* q = sci.data();
  for (; q < res.ptr && *q != 'e'; ++q) {
    if (*q != '.') {
      digits[static_cast<std::size_t>(length++)] = *q;
    }
  }
  int exp10 = 0;
  std::from_chars(q + 1 + (q[1] == '+' ? 1 : 0), res.ptr, exp10);
  const int kk = exp10 + 1; // 10^(kk-1) <= v < 10^kk
  const int k = kk - length;
  auto put_digits = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      *p++ = digits[static_cast<std::size_t>(i)];
    }
  };
  auto put_exponent = [&](int e) {
    *p++ = 'e';
    if (e < 0) {
      *p++ = '-';
      e = -e;
    }
    char tmp[8];
    const auto r = std::to_chars(tmp, tmp + sizeof tmp, e);
    for (const char* t = tmp; t < r.ptr; ++t) {
      *p++ = *t;
    }
  };
  if (0 <= k && kk <= 16) {
    // 1234e7 -> 12340000000.0
    put_digits(0, length);
    for (int i = length; i < kk; ++i) {
      *p++ = '0';
    }
    *p++ = '.';
    *p++ = '0';
  } else if (0 < kk && kk <= 16) {
    // 1234e-2 -> 12.34
    put_digits(0, kk);
    *p++ = '.';
    put_digits(kk, length);
  } else if (-5 < kk && kk <= 0) {
    // 1234e-6 -> 0.001234
    *p++ = '0';
    *p++ = '.';
    for (int i = kk; i < 0; ++i) {
      *p++ = '0';
    }
    put_digits(0, length);
  } else if (length == 1) {
    // 1e30
    *p++ = digits[0];
    put_exponent(kk - 1);
  } else {
    // 1234e30 -> 1.234e33
    *p++ = digits[0];
    *p++ = '.';
    put_digits(1, length);
    put_exponent(kk - 1);
  }
  return static_cast<std::size_t>(p - out);
}

template <typename Sink>
void
put_number(Sink& sink, const Json& v)
{
  std::array<char, 40> buf{};
  switch (v.type()) {
  case Json::value_t::number_integer: {
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v.get<std::int64_t>());
    sink.put(std::string_view(buf.data(), static_cast<std::size_t>(r.ptr - buf.data())));
    break;
  }
  case Json::value_t::number_unsigned: {
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v.get<std::uint64_t>());
    sink.put(std::string_view(buf.data(), static_cast<std::size_t>(r.ptr - buf.data())));
    break;
  }
  default: {
    const double d = v.get<double>();
    if (!std::isfinite(d)) {
      sink.put(std::string_view("null"));
    } else {
      sink.put(std::string_view(buf.data(), layout_double(d, buf.data())));
    }
  }
  }
}

// Writes value as serde_json does, with an explicit stack instead of recursion.
template <typename Sink>
void
write_serde(Sink& sink, const Json& root)
{
  struct Frame
  {
    const Json* node;
    std::size_t next;
  };
  std::vector<Frame> stack;

  // Writes a scalar or an empty container, or opens a container (pushing a frame).
  auto open = [&](const Json& v) {
    switch (v.type()) {
    case Json::value_t::object:
      if (v.empty()) {
        sink.put(std::string_view("{}"));
      } else {
        sink.put('{');
        stack.push_back({&v, 0});
      }
      break;
    case Json::value_t::array:
      if (v.empty()) {
        sink.put(std::string_view("[]"));
      } else {
        sink.put('[');
        stack.push_back({&v, 0});
      }
      break;
    case Json::value_t::string:
      sink.put_string(v.get_ref<const Json::string_t&>());
      break;
    case Json::value_t::boolean:
      sink.put(v.get<bool>() ? std::string_view("true") : std::string_view("false"));
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      put_number(sink, v);
      break;
    case Json::value_t::binary: {
      // serde has no binary type; write the bytes as an array of numbers.
      const auto& bin = v.get_binary();
      sink.put('[');
      for (std::size_t i = 0; i < bin.size(); ++i) {
        if (i > 0) {
          sink.put(',');
        }
        sink.put(std::to_string(static_cast<unsigned>(bin[i])));
      }
      sink.put(']');
      break;
    }
    case Json::value_t::null:
    case Json::value_t::discarded:
      sink.put(std::string_view("null"));
      break;
    }
  };

  open(root);
  while (!stack.empty()) {
    Frame& f = stack.back();
    const Json* node = f.node;
    const std::size_t i = f.next++;
    if (node->is_object()) {
      const auto& obj = node->get_ref<const Json::object_t&>();
      if (i == obj.size()) {
        sink.put('}');
        stack.pop_back();
        continue;
      }
      if (i > 0) {
        sink.put(',');
      }
      const auto& member = *(obj.begin() + static_cast<std::ptrdiff_t>(i));
      sink.put_string(member.first);
      sink.put(':');
      open(member.second); // may reallocate the stack: f is not used after this
    } else {
      const auto& arr = node->get_ref<const Json::array_t&>();
      if (i == arr.size()) {
        sink.put(']');
        stack.pop_back();
        continue;
      }
      if (i > 0) {
        sink.put(',');
      }
      open(arr[i]);
    }
  }
}

} // namespace

std::uint64_t
serde_string_size(std::string_view utf8)
{
  std::uint64_t size = utf8.size() + 2;
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  const auto* end = p + utf8.size();
  // Eight bytes at a time while none of them needs escaping (a control
  // character, '"' or '\\'); the byte table settles the words that might.
  constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
  constexpr std::uint64_t k_highs = 0x8080808080808080ULL;
  while (end - p >= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    const std::uint64_t quote = w ^ (k_ones * '"');
    const std::uint64_t backslash = w ^ (k_ones * '\\');
    const std::uint64_t hits = ((w - k_ones * 0x20) | (quote - k_ones) | (backslash - k_ones)) &
                               ~w & k_highs;
    if (hits == 0) {
      p += 8;
      continue;
    }
    for (const auto* q = p + 8; p < q; ++p) {
      size += k_escape_extra[*p];
    }
  }
  for (; p < end; ++p) {
    size += k_escape_extra[*p];
  }
  return size;
}

std::string
format_serde_double(double value)
{
  if (!std::isfinite(value)) {
    return "null";
  }
  std::array<char, 40> buf{};
  return std::string(buf.data(), layout_double(value, buf.data()));
}

void
append_serde_json(std::string& out, const Json& value)
{
  StringSink sink{out};
  write_serde(sink, value);
}

std::string
to_serde_json(const Json& value)
{
  std::string out;
  append_serde_json(out, value);
  return out;
}

std::uint64_t
serde_json_size(const Json& value)
{
  SizeSink sink;
  write_serde(sink, value);
  return sink.size;
}

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

// An open container. Objects collect their members here and are assembled on
// end_object: the pairs have a non-const key, so growing this vector moves
// them, where ordered_map's pair<const string, Json> would be copied deeply.
struct JsonBuilder::Frame
{
  Json* node;
  std::vector<std::pair<std::string, Json>> members;
  // For objects with many members: key -> index in members.
  std::unique_ptr<std::unordered_map<std::string, std::size_t>> index;
};

JsonBuilder::JsonBuilder() = default;
JsonBuilder::~JsonBuilder() = default;

bool
JsonBuilder::null()
{
  place(Json(nullptr));
  return true;
}

bool
JsonBuilder::boolean(bool v)
{
  place(Json(v));
  return true;
}

bool
JsonBuilder::number_integer(number_integer_t v)
{
  // nlohmann reads every non-negative integer as unsigned: a signed 0 can
  // only be "-0", which serde_json reads as the float -0.0.
  place(v == 0 ? Json(-0.0) : Json(v));
  return true;
}

bool
JsonBuilder::number_unsigned(number_unsigned_t v)
{
  place(Json(v));
  return true;
}

bool
JsonBuilder::number_float(number_float_t v, const string_t& /*raw*/)
{
  place(Json(v));
  return true;
}

bool
JsonBuilder::string(string_t& v)
{
  place(Json(std::move(v)));
  return true;
}

bool
JsonBuilder::binary(binary_t& v)
{
  place(Json(std::move(v)));
  return true;
}

bool
JsonBuilder::start_object(std::size_t /*n*/)
{
  Json* obj = place(Json::object());
  stack_.push_back({obj, {}, nullptr});
  return true;
}

bool
JsonBuilder::key(string_t& k)
{
  key_ = std::move(k);
  return true;
}

bool
JsonBuilder::end_object()
{
  Frame& f = stack_.back();
  auto& obj = f.node->get_ref<Json::object_t&>();
  obj.reserve(f.members.size()); // no reallocation below: members are moved in once
  for (auto& [k, v] : f.members) {
    obj.emplace_back(std::move(k), std::move(v)); // ordered_map is a vector: no lookups
  }
  stack_.pop_back();
  return true;
}

bool
JsonBuilder::start_array(std::size_t /*n*/)
{
  Json* arr = place(Json::array());
  stack_.push_back({arr, {}, nullptr});
  return true;
}

bool
JsonBuilder::end_array()
{
  stack_.pop_back();
  return true;
}

bool
JsonBuilder::parse_error(std::size_t position, const std::string& /*last_token*/,
                         const nlohmann::detail::exception& ex)
{
  error_position_ = position;
  error_message_ = ex.what();
  error_ = std::make_exception_ptr(ex);
  return false;
}

bool
JsonBuilder::complete() const
{
  return has_root_ && stack_.empty();
}

Json
JsonBuilder::take()
{
  Json out = std::move(root_);
  root_ = Json();
  has_root_ = false;
  stack_.clear();
  return out;
}

// Stores v in the open container (or as the root) and returns where it is.
Json*
JsonBuilder::place(Json v)
{
  // Objects with more members than this get a hash index for key lookups.
  constexpr std::size_t k_linear_limit = 16;
  if (stack_.empty()) {
    root_ = std::move(v);
    has_root_ = true;
    return &root_;
  }
  Frame& top = stack_.back();
  if (top.node->is_array()) {
    auto& arr = top.node->get_ref<Json::array_t&>();
    arr.push_back(std::move(v)); // Json's move is noexcept: growing moves, never copies
    return &arr.back();
  }
  auto& members = top.members;
  if (top.index == nullptr && members.size() < k_linear_limit) {
    for (auto& member : members) {
      if (member.first == key_) {
        member.second = std::move(v); // a repeated key: first position, last value
        return &member.second;
      }
    }
  } else {
    if (top.index == nullptr) {
      top.index = std::make_unique<std::unordered_map<std::string, std::size_t>>();
      for (std::size_t i = 0; i < members.size(); ++i) {
        top.index->emplace(members[i].first, i);
      }
    }
    const auto [it, inserted] = top.index->emplace(key_, members.size());
    if (!inserted) {
      members[it->second].second = std::move(v);
      return &members[it->second].second;
    }
  }
  members.emplace_back(std::move(key_), std::move(v));
  return &members.back().second;
}

namespace {

// "malformed JSON at line L, column C (byte offset B): <parser message>".
[[noreturn]] void
throw_parse_error(std::string_view text, const JsonBuilder& dom, std::string_view what)
{
  const std::size_t offset = std::min(dom.error_position() == 0 ? 0 : dom.error_position() - 1, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  std::string message = dom.error_message();
  // "[json.exception.parse_error.101] parse error at line 1, column 5: <reason>"
  if (message.rfind("[json.exception.", 0) == 0) {
    if (const auto close = message.find("] "); close != std::string::npos) {
      message.erase(0, close + 2);
    }
  }
  if (message.rfind("parse error at line ", 0) == 0) {
    if (const auto colon = message.find(": "); colon != std::string::npos) {
      message.erase(0, colon + 2);
    }
  }
  InvalidArgument error("malformed " + std::string(what) + " at line " + std::to_string(line) +
                        ", column " + std::to_string(offset - line_start + 1) + " (byte offset " +
                        std::to_string(offset) + "): " + message);
  try {
    std::rethrow_exception(dom.error());
  } catch (...) {
    std::throw_with_nested(error);
  }
}

Json
parse_json_as(std::string_view text, std::string_view what)
{
  JsonBuilder dom;
  if (!Json::sax_parse(text.data(), text.data() + text.size(), &dom)) {
    throw_parse_error(text, dom, what);
  }
  return dom.take();
}

} // namespace

Json
parse_json(std::string_view text)
{
  return parse_json_as(text, "JSON");
}

TaskRecord
parse_record(std::string_view data)
{
  Json json = parse_json_as(data, "task record JSON");
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
  StringSink sink{out};
  const Task& task = record.task;
  out.append("{\"task\":{\"taskId\":");
  sink.put_string(task.task_id);
  out.append(",\"status\":\"");
  out.append(to_string(task.status));
  out.push_back('"');
  if (task.status_message) {
    out.append(",\"statusMessage\":");
    sink.put_string(*task.status_message);
  }
  out.append(",\"createdAt\":");
  sink.put_string(task.created_at);
  out.append(",\"lastUpdatedAt\":");
  sink.put_string(task.last_updated_at);
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
  sink.put_string(record.owner_id);
  out.append(",\"variables\":");
  append_serde_json(out, record.variables);
  out.append(",\"result\":");
  if (record.result) {
    append_serde_json(out, *record.result);
  } else {
    out.append("null");
  }
  out.append(",\"requestMethod\":");
  sink.put_string(record.request_method);
  out.append(",\"expiresAt\":");
  if (record.expires_at) {
    sink.put_string(format_autosi(*record.expires_at));
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
