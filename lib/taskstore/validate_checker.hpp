#pragma once
// INTERNAL (not installed): the streaming checker, the one SAX handler every
// validation path shares (validate.cpp's entry points: bytes, files, streams,
// trees in memory, and the write path's check-and-tree pass), so that they
// agree on every rule by construction.

#include "taskstore/json/builder.hpp"
#include "taskstore/json/parse.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/validate.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

namespace taskstore::validate_detail {


constexpr std::size_t k_npos = static_cast<std::size_t>(-1);
constexpr std::uint64_t k_object_flag = std::uint64_t{1} << 63;

// RFC 6901: '~' -> "~0", '/' -> "~1".
inline void
append_pointer_token(std::string& out, std::string_view token)
{
  out.push_back('/');
  for (const char c : token) {
    if (c == '~') {
      out.append("~0");
    } else if (c == '/') {
      out.append("~1");
    } else {
      out.push_back(c);
    }
  }
}

inline std::uint64_t
decimal_length(std::uint64_t v)
{
  std::uint64_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

inline std::uint64_t
integer_length(std::int64_t v)
{
  return v < 0 ? 1 + decimal_length(0 - static_cast<std::uint64_t>(v))
               : decimal_length(static_cast<std::uint64_t>(v));
}

// The type of a value, in the order of the stand-in tables below.
enum class Kind
{
  object,
  array,
  string,
  number,
  boolean,
  null,
};

inline const char*
kind_name(Kind kind)
{
  switch (kind) {
  case Kind::object:
    return "an object";
  case Kind::array:
    return "an array";
  case Kind::string:
    return "a string";
  case Kind::number:
    return "a number";
  case Kind::boolean:
    return "a boolean";
  case Kind::null:
    break;
  }
  return "null";
}

// One interpretation of the document: where the variables object is, and the
// limit checks and size measure applied inside it. While DocumentKind::detect
// cannot yet tell a record from a variables object, two lanes run side by side.
struct Lane
{
  bool alive = false;
  bool in_region = false;     // inside the variables object
  bool region_seen = false;   // a variables object was found
  std::size_t region_depth = 0; // document depth of the variables object
  std::uint64_t size = 0;     // serde size of the variables object so far

  std::vector<Violation> violations; // node-level (depth, string_length), capped
  std::uint64_t total = 0;

  bool depth_active = false;       // inside a subtree that crossed the depth limit
  std::size_t depth_start = 0;     // its document depth
  std::size_t depth_slot = k_npos; // its violation's index (k_npos when not kept)
  std::uint64_t depth_max = 0;     // deepest variable depth reached in it
};

// The SAX handler shared by every validation path (streamed or in memory), so
// they agree by construction on every rule.
class Checker final : public nlohmann::json_sax<Json>
{
public:
  Checker(const ValidateOptions& options, bool count_size) : options_(options), count_size_(count_size)
  {
    const auto kind = options.kind;
    variables_.alive = kind != DocumentKind::record;
    record_.alive = kind != DocumentKind::variables;
    decided_ = kind != DocumentKind::detect;
  }

  // ---- SAX events ----
  bool null() override
  {
    scalar(Kind::null, 4);
    capture_scalar(nullptr);
    if (dropping_member()) {
      variables_.size = member_start_; // set_variables drops a null-valued variable
    }
    return true;
  }
  bool boolean(bool v) override
  {
    scalar(Kind::boolean, v ? 4 : 5);
    capture_scalar(v);
    return true;
  }
  bool number_integer(number_integer_t v) override
  {
    if (v == 0) {
      // nlohmann reads every non-negative integer as unsigned: a signed 0 is
      // "-0", which serde_json reads as the float -0.0 (see parse_json).
      scalar(Kind::number, 4);
      capture_scalar(v); // the builder makes it -0.0 too
      return true;
    }
    scalar(Kind::number, counting() ? integer_length(v) : 0);
    capture_scalar(v);
    return true;
  }
  bool number_unsigned(number_unsigned_t v) override
  {
    scalar(Kind::number, counting() ? decimal_length(v) : 0);
    capture_scalar(v);
    return true;
  }
  bool number_float(number_float_t v, const string_t& raw) override
  {
    if (count_size_ && in_known_field() && !serde_parse_f64(raw)) {
      add_document_violation({node_pointer(), Rule::schema,
                              "number " + raw + " is out of range: serde_json (pmcp-tasks) refuses it", 0, 0});
    }
    // serde_json measures the f64 it parsed, re-printed (ryu), not the raw text.
    scalar(Kind::number, counting() ? format_serde_double(v).size() : 0);
    capture_scalar(v);
    return true;
  }
  bool string(string_t& v) override
  {
    on_string(v);
    return true;
  }
  bool binary(binary_t& /*v*/) override
  {
    scalar(Kind::null, 4); // never produced by the JSON parser
    return true;
  }
  bool start_object(std::size_t n) override
  {
    if (frames_.size() == 1 && root_key_ == "task") {
      task_fields_seen_ = 0;
    }
    open(Kind::object);
    key_hashes_.emplace_back();
    if (capture_on_) {
      capture_.start_object(n);
    }
    frames_.push_back({0, static_cast<std::uint64_t>(keys_.size()) | k_object_flag});
    return true;
  }
  bool key(string_t& k) override
  {
    on_key(k);
    return true;
  }
  bool end_object() override
  {
    if (!key_hashes_.empty()) {
      key_hashes_.pop_back();
    }
    return close('}');
  }
  bool start_array(std::size_t n) override
  {
    open(Kind::array);
    if (capture_on_) {
      capture_.start_array(n);
    }
    frames_.push_back({0, static_cast<std::uint64_t>(keys_.size())});
    return true;
  }
  bool end_array() override { return close(']'); }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override
  {
    error_position_ = position;
    error_message_ = ex.what();
    failed_ = true;
    return false;
  }

  // ---- results ----
  bool failed() const { return failed_; }
  // True when some object held a key twice (serde keeps the last value in the
  // first position): a report with violations must then be re-judged on the
  // tree serde would build.
  bool saw_duplicate_key() const { return saw_duplicate_key_; }
  // Makes the document a syntax error at byte offset `offset` (framing
  // faults the parser does not see: a byte order mark, a NUL byte).
  void fail_at(std::size_t offset, std::string message)
  {
    failed_ = true;
    error_position_ = offset + 1;
    error_message_ = std::move(message);
  }
  std::size_t error_position() const { return error_position_; }

  // Assembles the report. measured_size, when given, replaces the size
  // counted from events (the in-memory paths measure with the serializer).
  // position: the parse position of a syntax error, if any.
  ValidationReport finish(std::optional<std::uint64_t> measured_size, std::optional<ParsePosition> position)
  {
    ValidationReport report;
    const bool is_record = record_.alive && (decided_ || !variables_.alive);
    Lane& lane = is_record ? record_ : variables_;
    if (lane.depth_active) {
      end_depth(lane);
    }
    report.is_record = is_record;
    report.max_nesting_depth = max_nesting_;
    report.variables_size = measured_size ? *measured_size : lane.size;

    std::vector<Violation> document; // size, schema, syntax
    std::uint64_t document_total = 0;
    auto add_document = [&](Violation v) {
      ++document_total;
      document.push_back(std::move(v));
    };
    for (const auto& v : extra_document_) {
      add_document(v); // copied: extras() may still be asked for
    }

    if (failed_) {
      report.syntax_error_at = position;
      const std::string message = parse_error_reason(error_message_);
      std::string text = "malformed JSON";
      if (position) {
        text += " at line " + std::to_string(position->line) + ", column " +
                std::to_string(position->column) + " (byte offset " +
                std::to_string(position->byte_offset) + ")";
      }
      add_document({open_container_pointer(), Rule::syntax, text + ": " + message, 0, 0});
    } else {
      const std::uint64_t limit = options_.limits.max_variable_size_bytes;
      if (lane.region_seen && report.variables_size > limit) {
        add_document({is_record ? "/variables" : "", Rule::size,
                      "variables size " + std::to_string(report.variables_size) +
                        " bytes exceeds maximum " + std::to_string(limit) + " bytes",
                      limit, report.variables_size});
      }
      if (is_record) {
        TaskRecord ignored;
        for (auto& p : record_from_json(skeleton(), ignored)) { // moved from: any _meta depth
          add_document({std::move(p.pointer), Rule::schema, std::move(p.message), 0, 0});
        }
      } else if (!variables_.region_seen) {
        add_document({"", Rule::schema,
                      std::string("expected a JSON object of variables, found ") +
                        kind_name(root_kind_),
                      0, 0});
      }
    }

    // The document-level violations always fit: node-level ones make room.
    const std::size_t cap = options_.max_reported;
    const std::size_t keep_document = std::min(cap, document.size());
    const std::size_t keep_nodes = std::min(lane.violations.size(), cap - keep_document);
    report.violations.assign(std::make_move_iterator(lane.violations.begin()),
                             std::make_move_iterator(lane.violations.begin() +
                                                     static_cast<std::ptrdiff_t>(keep_nodes)));
    for (std::size_t i = 0; i < keep_document; ++i) {
      report.violations.push_back(std::move(document[i]));
    }
    report.total_violations = lane.total + document_total;
    return report;
  }

private:
  struct Frame
  {
    std::uint64_t count;   // members / elements seen so far
    std::uint64_t key_off; // start of this frame's current key in keys_; top bit: object
  };

  // True when some lane is inside its variables object and sizes are counted.
  bool counting() const { return count_size_ && (variables_.in_region || record_.in_region); }

  // Forwards a scalar to the capture of a record field.
  template <typename T>
  void capture_scalar(const T& v)
  {
    if (!capture_on_) {
      return;
    }
    if constexpr (std::is_same_v<T, std::string>) {
      std::string copy = v;
      capture_.string(copy);
    } else if constexpr (std::is_same_v<T, bool>) {
      capture_.boolean(v);
    } else if constexpr (std::is_same_v<T, std::nullptr_t>) {
      capture_.null();
    } else if constexpr (std::is_same_v<T, double>) {
      capture_.number_float(v, {});
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      capture_.number_integer(v);
    } else {
      capture_.number_unsigned(v);
    }
    if (capture_.complete()) {
      store_capture();
    }
  }

  void on_string(const std::string& v)
  {
    const std::size_t depth = frames_.size();
    enter_value(Kind::string, depth);
    const std::uint64_t serialized = counting() ? serde_string_size(v) : 0;
    check_scalar(variables_, depth, serialized, &v);
    check_scalar(record_, depth, serialized, &v);
    capture_scalar(v);
  }

  void on_key(const std::string& k)
  {
    Frame& f = frames_.back();
    const std::size_t off = static_cast<std::size_t>(f.key_off & ~k_object_flag);
    keys_.resize(off);
    keys_.append(k);
    const bool first = f.count++ == 0;
    if (counting()) {
      const std::uint64_t n = (first ? 0 : 1) + serde_string_size(k) + 1;
      if (measuring_input() && frames_.size() == 1) {
        // A variable of a set_variables input: its comma counts only after a kept one.
        member_start_ = variables_.size;
        variables_.size += (kept_members_ > 0 ? 1 : 0) + serde_string_size(k) + 1;
      } else {
        add_size(variables_, n);
      }
      add_size(record_, n);
    }
    note_key(k);
    if (frames_.size() == 1) {
      check_duplicate_field(k, k_record_fields, root_fields_seen_, "");
      root_key(k);
    } else if (frames_.size() == 2 && root_key_ == "task" && (frames_[1].key_off & k_object_flag) != 0) {
      check_duplicate_field(k, k_task_fields, task_fields_seen_, "/task");
    }
    if (frames_.size() != 1 && capture_on_) {
      std::string copy = k;
      capture_.key(copy);
    }
  }

  void store_capture()
  {
    captured_[capture_name_] = capture_.take();
    capture_on_ = false;
  }

  // A key of the root object: record detection and what to capture.
  void root_key(const std::string& k)
  {
    root_key_ = k;
    // Any field only a TaskRecord has makes the document a record, so that a
    // record missing "task" or "ownerId" is reported as such instead of
    // passing as a variables object (--variables forces the other reading).
    if (!decided_ && (k == "task" || k == "ownerId" || k == "requestMethod" || k == "expiresAt")) {
      decided_ = true;
      variables_ = Lane{};
    }
  }

  // Common bookkeeping of a value (scalar or container start) at document depth `depth`.
  void enter_value(Kind kind, std::size_t depth)
  {
    if (depth == 0) {
      root_kind_ = kind;
      return;
    }
    if (depth == 1 && kind != Kind::null && measuring_input()) {
      ++kept_members_;
    }
    Frame& parent = frames_.back();
    if ((parent.key_off & k_object_flag) == 0) {
      const bool first = parent.count++ == 0;
      if (!first && count_size_) {
        add_size(variables_, 1);
        add_size(record_, 1);
      }
    }
    if (depth == 1 && (parent.key_off & k_object_flag) != 0 && record_.alive) {
      // A member of the root object: capture the record's small fields.
      if (root_key_ == "task" || root_key_ == "ownerId" || root_key_ == "requestMethod" ||
          root_key_ == "expiresAt") {
        capture_name_ = root_key_;
        capture_on_ = true;
      } else if (root_key_ == "variables") {
        if (kind != Kind::object && kind != Kind::array && kind != Kind::string) {
          // a number, boolean or null: small, captured as is for the message
          capture_name_ = root_key_;
          capture_on_ = true;
        } else {
          // Never buffered: an empty stand-in of the same type is all
          // record_from_json needs to see. ("result" is not looked at at all.)
          static const std::array<Json, 3> k_stand_ins = {Json::object(), Json::array(), Json("")};
          captured_[root_key_] = k_stand_ins[static_cast<std::size_t>(kind)];
        }
      }
    }
  }

  // A variables document measured as set_variables input, at its top level.
  bool measuring_input() const
  {
    return !options_.size_as_stored && variables_.in_region && variables_.region_depth == 0 && count_size_;
  }

  // The value being read is a null member of such a document.
  bool dropping_member() const { return measuring_input() && frames_.size() == 1; }

  // Inside a field pmcp-tasks reads (serde skips unknown fields unread).
  bool in_known_field() const
  {
    if (frames_.empty()) {
      return true;
    }
    if (!record_.alive || (!decided_ && variables_.alive)) {
      return true; // a variables document: every value is read
    }
    for (const std::string_view name : k_record_fields) {
      if (root_key_ == name) {
        return true;
      }
    }
    return false;
  }

  // serde_json's recursion limit, counted from the record's root; reported
  // once, at the first container past it.
  void check_recursion(std::size_t depth)
  {
    if (recursion_reported_ || !count_size_ || !in_known_field()) {
      return;
    }
    const bool variables_document = !record_.alive || (!decided_ && variables_.alive);
    const std::uint64_t level = depth + 1 + (variables_document ? 1 : 0);
    if (level > k_serde_max_nesting) {
      recursion_reported_ = true;
      add_document_violation({node_pointer(), Rule::depth,
                              "nesting depth " + std::to_string(level) +
                                " exceeds serde_json's recursion limit: pmcp-tasks cannot read it",
                              k_serde_max_nesting, level});
    }
  }

  // A declared field of TaskRecord or Task given twice: serde refuses it.
  template <std::size_t N>
  void check_duplicate_field(const std::string& k, const std::array<std::string_view, N>& names, std::uint32_t& seen,
                             const char* parent)
  {
    if (!record_.alive) {
      return;
    }
    for (std::size_t i = 0; i < N; ++i) {
      if (names[i] == k) {
        if ((seen & (1U << i)) != 0 && count_size_) {
          std::string pointer = parent;
          append_pointer_token(pointer, k);
          add_document_violation({pointer, Rule::schema, "duplicate field `" + k + "`", 0, 0});
        }
        seen |= 1U << i;
        return;
      }
    }
  }

  // Remembers the key in its object; flags a key seen twice there.
  void note_key(const std::string& k)
  {
    if (key_hashes_.empty()) {
      return;
    }
    if (!key_hashes_.back().insert(std::hash<std::string>{}(k)).second) {
      saw_duplicate_key_ = true;
    }
  }

  void add_document_violation(Violation v) { extra_document_.push_back(std::move(v)); }

public:
  // The violations only a parse of the bytes finds (recursion, duplicate
  // fields, number range), to carry into a re-judgement on the tree.
  std::vector<Violation> extras() const { return extra_document_; }
  void add_extras(std::vector<Violation> v)
  {
    for (auto& x : v) {
      extra_document_.push_back(std::move(x));
    }
  }

private:

  static void add_size(Lane& lane, std::uint64_t n)
  {
    if (lane.in_region) {
      lane.size += n;
    }
  }

  void scalar(Kind kind, std::uint64_t serialized)
  {
    const std::size_t depth = frames_.size();
    enter_value(kind, depth);
    check_scalar(variables_, depth, serialized, nullptr);
    check_scalar(record_, depth, serialized, nullptr);
  }

  void check_scalar(Lane& lane, std::size_t depth, std::uint64_t serialized, const std::string* text)
  {
    if (!lane.in_region) {
      return;
    }
    lane.size += serialized;
    check_depth(lane, depth);
    if (text != nullptr && text->size() > options_.limits.max_string_length) {
      add_violation(lane, Rule::string_length,
                    "string value length " + std::to_string(text->size()) +
                      " bytes exceeds maximum " + std::to_string(options_.limits.max_string_length) +
                      " bytes",
                    options_.limits.max_string_length, text->size());
    }
    if (lane.depth_active && lane.depth_start == depth) {
      end_depth(lane); // the offending node was a scalar
    }
  }

  // A node at document depth `depth` inside the lane's variables object.
  void check_depth(Lane& lane, std::size_t depth)
  {
    const std::uint64_t d = depth - lane.region_depth - 1; // depth below the variable's value
    if (lane.depth_active) {
      lane.depth_max = std::max(lane.depth_max, d);
    } else if (d > options_.limits.max_variable_depth) {
      lane.depth_active = true;
      lane.depth_start = depth;
      lane.depth_max = d;
      lane.depth_slot = add_violation(lane, Rule::depth, {}, options_.limits.max_variable_depth, d);
    }
  }

  void end_depth(Lane& lane)
  {
    lane.depth_active = false;
    if (lane.depth_slot != k_npos) {
      Violation& v = lane.violations[lane.depth_slot];
      v.actual = lane.depth_max;
      v.message = "nesting depth " + std::to_string(lane.depth_max) + " exceeds maximum " +
                  std::to_string(options_.limits.max_variable_depth);
    }
  }

  // Returns the index of the stored violation, or k_npos when over the cap.
  std::size_t add_violation(Lane& lane, Rule rule, std::string message, std::uint64_t limit,
                            std::uint64_t actual)
  {
    ++lane.total;
    if (lane.violations.size() >= options_.max_reported) {
      return k_npos;
    }
    lane.violations.push_back({node_pointer(), rule, std::move(message), limit, actual});
    return lane.violations.size() - 1;
  }

  void open(Kind kind)
  {
    const std::size_t depth = frames_.size();
    max_nesting_ = std::max<std::uint64_t>(max_nesting_, depth + 1);
    enter_value(kind, depth);
    check_recursion(depth);
    for (Lane* lane : {&variables_, &record_}) {
      if (lane->in_region) {
        lane->size += 1;
        check_depth(*lane, depth);
      }
    }
    // The variables object begins: the root object (variables documents) or
    // the root's "variables" member (records).
    if (kind == Kind::object) {
      if (depth == 0 && variables_.alive) {
        start_region(variables_, 0);
      }
      if (depth == 1 && record_.alive && root_key_ == "variables") {
        start_region(record_, 1);
      }
    }
  }

  static void start_region(Lane& lane, std::size_t depth)
  {
    lane.in_region = true;
    lane.region_seen = true;
    lane.region_depth = depth;
    lane.size = 1; // '{' (a repeated "variables" member: the last one is measured)
  }

  bool close(char bracket)
  {
    frames_.pop_back();
    const std::size_t depth = frames_.size();
    for (Lane* lane : {&variables_, &record_}) {
      if (!lane->in_region) {
        continue;
      }
      lane->size += 1;
      if (lane->depth_active && lane->depth_start == depth) {
        end_depth(*lane);
      }
      if (depth == lane->region_depth) {
        lane->in_region = false;
      }
    }
    if (capture_on_) {
      if (bracket == '}') {
        capture_.end_object();
      } else {
        capture_.end_array();
      }
      if (capture_.complete()) {
        store_capture();
      }
    }
    return true;
  }

  // The pointer of the node being visited: each frame's current member or element.
  std::string node_pointer() const { return pointer_through(frames_.size()); }

  // The pointer of the innermost open container.
  std::string open_container_pointer() const
  {
    return frames_.empty() ? std::string() : pointer_through(frames_.size() - 1);
  }

  // The pointer through the first n frames. Past k_pointer_frames levels only
  // the first and last half of them are spelled out, the middle replaced by
  // "/…(N more levels)…": a truncated million-deep array must not give a
  // 2 MB pointer (issue 14 #15). Such a pointer is for reading, not resolving.
  static constexpr std::size_t k_pointer_frames = 256;
  std::string pointer_through(std::size_t n) const
  {
    std::string out;
    std::array<char, 24> buf{};
    for (std::size_t i = 0; i < n; ++i) {
      if (n > k_pointer_frames && i == k_pointer_frames / 2) {
        const std::size_t skipped = n - k_pointer_frames;
        out += "/\u2026(" + std::to_string(skipped) + " more levels)\u2026";
        i += skipped - 1;
        continue;
      }
      const Frame& f = frames_[i];
      if ((f.key_off & k_object_flag) != 0) {
        const std::size_t off = static_cast<std::size_t>(f.key_off & ~k_object_flag);
        const std::size_t end =
          i + 1 < frames_.size() ? static_cast<std::size_t>(frames_[i + 1].key_off & ~k_object_flag)
                                 : keys_.size();
        append_pointer_token(out, std::string_view(keys_).substr(off, end - off));
      } else {
        const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), f.count == 0 ? 0 : f.count - 1);
        out.push_back('/');
        out.append(buf.data(), r.ptr);
      }
    }
    return out;
  }

  // The record's fields as captured, variables and result replaced by stand-ins.
  Json skeleton()
  {
    Json j = Json::object();
    // Room for every field up front: a growing ordered_map copies its members.
    j.get_ref<Json::object_t&>().reserve(6);
    for (const std::string_view name : k_record_fields) {
      if (auto it = captured_.find(name); it != captured_.end()) {
        j[std::string(name)] = std::move(it->second);
      }
    }
    if (root_kind_ != Kind::object) {
      // Not an object at all: let record_from_json describe what it is.
      static const std::array<Json, 6> k_roots = {Json::object(), Json::array(), Json(""),
                                                  Json(0), Json(false), Json(nullptr)};
      return k_roots[static_cast<std::size_t>(root_kind_)];
    }
    return j;
  }

  const ValidateOptions& options_;
  bool count_size_;
  Lane variables_;
  Lane record_;
  bool decided_ = false;
  Kind root_kind_ = Kind::null;
  std::string root_key_;

  std::vector<Frame> frames_;
  std::uint64_t max_nesting_ = 0; // deepest container nesting seen
  std::string keys_;

  bool capture_on_ = false;
  std::string capture_name_;
  JsonBuilder capture_;
  std::map<std::string, Json, std::less<>> captured_;

  bool failed_ = false;
  std::size_t error_position_ = 0;
  std::string error_message_;

  std::uint32_t root_fields_seen_ = 0;
  std::uint32_t task_fields_seen_ = 0;
  std::vector<std::unordered_set<std::size_t>> key_hashes_; // per open object
  bool saw_duplicate_key_ = false;
  bool recursion_reported_ = false;
  std::vector<Violation> extra_document_; // recursion, duplicate fields, number range
  std::uint64_t member_start_ = 0;        // size before the current top-level variable
  std::uint64_t kept_members_ = 0;        // top-level variables that are not null
};

} // namespace taskstore::validate_detail
