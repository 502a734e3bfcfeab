#pragma once
// The one write path of a whole record (put, cas, import): the bytes a user
// gives are read once, by one SAX pass that runs the validator and builds the
// tree at the same time; the tree is checked against the key it is written
// under and written back in the canonical form pmcp-tasks writes.

#include "taskstore/record.hpp"
#include "taskstore/validate.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore {

struct PreparedRecord
{
  // Every problem found (schema, limits, syntax, the key match), each with its
  // JSON pointer; at most max_reported of them, total_violations counts all.
  std::vector<Violation> violations;
  std::uint64_t total_violations = 0;
  std::optional<ParsePosition> syntax_error_at;
  // Pointers of fields that are not stored because pmcp-tasks ignores them
  // ("/extra", "/task/extra"): warnings, not problems.
  std::vector<std::string> unknown_fields;
  // When ok(): the record and its canonical compact bytes.
  std::optional<TaskRecord> record;
  std::string bytes;

  bool ok() const { return total_violations == 0; }
};

// Prepares record bytes for writing under key. Never throws for bad input:
// every problem is in the result. Throws InvalidArgument for a key without ':'.
// Checks: JSON syntax and serde's framing, the TaskRecord schema (duplicate
// fields included), the variable limits, serde_json's recursion limit in the
// fields pmcp-tasks reads (docs/compatibility.md), ownerId and task.taskId
// equal to the key's parts, and a nesting depth of at most 512 levels
// anywhere (the deepest record taskctl builds a tree for).
PreparedRecord prepare_record(std::string_view key, std::string_view bytes, const StoreConfig& limits,
                              std::size_t max_reported = 1000);

// The checks of a stored record (validate --stored): the validator's report
// of the bytes as a record, plus the key match when the key has an owner and
// task id. Never throws for bad bytes.
ValidationReport check_stored_record(std::string_view key, std::string_view bytes, const ValidateOptions& options);

} // namespace taskstore
