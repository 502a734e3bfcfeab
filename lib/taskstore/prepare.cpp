#include "taskstore/prepare.hpp"

#include "taskstore/json/peek.hpp"
#include "taskstore/key.hpp"

#include <array>
#include <string>
#include <utility>

namespace taskstore {

namespace {

// Records nested deeper than this are never built into a tree.
constexpr std::size_t k_max_tree_depth = 512;

template <std::size_t N>
bool
known(const std::array<std::string_view, N>& names, std::string_view name)
{
  for (const auto n : names) {
    if (n == name) {
      return true;
    }
  }
  return false;
}

void
add(std::vector<Violation>& violations, std::uint64_t& total, Violation v)
{
  violations.push_back(std::move(v));
  ++total;
}

// The key-match problems of a record whose ownerId / task.taskId are given.
void
check_key_match(const KeyParts& parts, const std::optional<std::string>& owner_id,
                const std::optional<std::string>& task_id, std::vector<Violation>& violations, std::uint64_t& total)
{
  if (owner_id && *owner_id != parts.owner_id) {
    add(violations, total,
        {"/ownerId", Rule::schema,
         "ownerId \"" + *owner_id + "\" does not match the key's owner \"" + parts.owner_id + "\"", 0, 0});
  }
  if (task_id && *task_id != parts.task_id) {
    add(violations, total,
        {"/task/taskId", Rule::schema,
         "taskId \"" + *task_id + "\" does not match the key's task id \"" + parts.task_id + "\"", 0, 0});
  }
}

std::optional<std::string>
string_member(const Json& object, const char* name)
{
  if (!object.is_object()) {
    return std::nullopt;
  }
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

} // namespace

PreparedRecord
prepare_record(std::string_view key, std::string_view bytes, const StoreConfig& limits, std::size_t max_reported)
{
  const KeyParts parts = split_key(key);
  ValidateOptions options;
  options.limits = limits;
  options.kind = DocumentKind::record;
  options.max_reported = max_reported;
  // The one parse: the streaming check and, when the record is shallow
  // enough, its tree.
  std::optional<Json> tree;
  ValidationReport report = validate_and_parse(bytes, options, tree, k_max_tree_depth);

  PreparedRecord out;
  out.violations = std::move(report.violations);
  out.total_violations = report.total_violations;
  out.syntax_error_at = report.syntax_error_at;
  if (report.syntax_error_at) {
    return out;
  }
  if (!tree) {
    // Too deep to build: refused, the key match read DOM-free.
    const PeekedFields fields = peek_record_fields(bytes);
    check_key_match(parts, fields.owner_id, fields.task_id, out.violations, out.total_violations);
    if (out.total_violations == 0) {
      add(out.violations, out.total_violations,
          {"", Rule::depth,
           "nesting depth " + std::to_string(report.max_nesting_depth) + " exceeds taskctl's limit for a record",
           k_max_tree_depth, report.max_nesting_depth});
    }
    return out;
  }

  Json doc = std::move(*tree);
  const Json* task = nullptr;
  if (doc.is_object()) {
    if (const auto it = doc.find("task"); it != doc.end()) {
      task = &*it;
    }
  }
  check_key_match(parts, string_member(doc, "ownerId"), task ? string_member(*task, "taskId") : std::nullopt,
                  out.violations, out.total_violations);
  if (out.total_violations > 0) {
    return out;
  }
  for (const auto& [name, value] : doc.items()) {
    if (!known(k_record_fields, name)) {
      out.unknown_fields.push_back("/" + name);
    }
  }
  if (task != nullptr && task->is_object()) {
    for (const auto& [name, value] : task->items()) {
      if (!known(k_task_fields, name)) {
        out.unknown_fields.push_back("/task/" + name);
      }
    }
  }
  TaskRecord record;
  for (auto& p : record_from_json(std::move(doc), record)) {
    add(out.violations, out.total_violations, {std::move(p.pointer), Rule::schema, std::move(p.message), 0, 0});
  }
  if (out.total_violations > 0) {
    out.unknown_fields.clear();
    return out;
  }
  out.bytes = serialize_record(record);
  out.record = std::move(record);
  return out;
}

ValidationReport
check_stored_record(std::string_view key, std::string_view bytes, const ValidateOptions& options)
{
  ValidateOptions record_options = options;
  record_options.kind = DocumentKind::record;
  ValidationReport report = validate_bytes(bytes, record_options);
  if (report.syntax_error_at) {
    return report;
  }
  const auto parts = parse_key(key);
  if (parts) {
    const PeekedFields fields = peek_record_fields(bytes);
    check_key_match(*parts, fields.owner_id, fields.task_id, report.violations, report.total_violations);
  }
  return report;
}

} // namespace taskstore
