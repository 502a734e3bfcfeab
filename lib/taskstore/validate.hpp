#pragma once
// Variable limits (facts §7) and their validation. Beyond the anchor, every
// violation is reported, each with the JSON pointer of the offending value,
// the rule, the limit and the actual figure.

#include "taskstore/record.hpp"

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace taskstore {

// The anchor's StoreConfig with its defaults.
struct StoreConfig
{
  std::size_t max_variable_size_bytes = 1'048'576;
  std::optional<std::uint64_t> default_ttl_ms = 3'600'000;
  std::optional<std::uint64_t> max_ttl_ms = 86'400'000;
  std::size_t max_variable_depth = 10;
  std::size_t max_string_length = 65'536;
};

enum class Rule
{
  depth,          // nesting depth of a variable's value (facts §7.2)
  string_length,  // UTF-8 byte length of a string value (facts §7.3)
  size,           // compact serialized size of the whole variables object
  syntax,         // malformed JSON
  schema,         // not a valid TaskRecord / variables object
};

std::string_view to_string(Rule rule);

struct Violation
{
  std::string pointer;     // RFC 6901 pointer into the document ("" = root)
  Rule rule;
  std::string message;     // e.g. "nesting depth 11 exceeds maximum 10"
  std::uint64_t limit = 0; // depth/string_length/size: the limit
  std::uint64_t actual = 0;// depth/string_length/size: the figure found
};

struct ParsePosition
{
  std::uint64_t byte_offset = 0;
  std::uint64_t line = 0;
  std::uint64_t column = 0;
};

struct ValidationReport
{
  std::vector<Violation> violations;   // at most max_reported of them
  std::uint64_t total_violations = 0;  // may exceed violations.size()
  bool is_record = false;              // the document was a whole TaskRecord
  std::optional<ParsePosition> syntax_error_at;
  std::uint64_t variables_size = 0;    // measured compact size of the variables
  std::uint64_t bytes_read = 0;
  std::uint64_t max_nesting_depth = 0; // deepest nesting of arrays/objects read
  // Streamed input only: objects repeated a key and there are violations, so
  // the verdict on the tree serde keeps may differ (validate_file re-reads
  // files up to 256 MiB whole; a stream is judged as written).
  bool needs_tree = false;
  bool ok() const { return total_violations == 0; }
};

enum class DocumentKind
{
  detect,     // a whole record when the root object has any of "task", "ownerId",
              // "requestMethod", "expiresAt"; else a variables object
  variables,  // the root is a variables object
  record,     // the root is a TaskRecord
};

struct ValidateOptions
{
  StoreConfig limits;
  DocumentKind kind = DocumentKind::detect;
  std::size_t max_reported = 1000;
  // How a variables document's size is measured. false (the default): as the
  // input of pmcp-tasks' set_variables, which drops null-valued variables
  // before it measures the merged map. true: the bytes as given.
  bool size_as_stored = false;
};

// serde_json's recursion limit: pmcp-tasks cannot read a record with 128 or
// more nested arrays/objects, counted from the record's root (a variables
// document's root is level 2 of the record it goes into).
constexpr std::uint64_t k_serde_max_nesting = 127;

// Checks a variables object held in memory (its size as set_variables
// measures it, null-valued variables dropped, unless size_as_stored).
ValidationReport validate_variables(const Json& variables, const StoreConfig& limits, bool size_as_stored = false);

// Checks a whole record held in memory: schema (record_from_json) plus the
// variable limits on its "variables".
ValidationReport validate_record(const Json& record, const StoreConfig& limits);

// Checks a JSON document of any size from a stream with nlohmann's SAX
// interface, in memory proportional to its nesting depth and never recursing
// on the call stack. Malformed JSON yields a syntax violation with its position.
ValidationReport validate_stream(std::istream& in, const ValidateOptions& options);

// Same, reading a file (faster than a std::istream). Throws InvalidArgument
// when the file cannot be opened or read (the message names the file and errno).
ValidationReport validate_file(const std::string& path, const ValidateOptions& options);

// Same over bytes in memory.
ValidationReport validate_bytes(std::string_view data, const ValidateOptions& options);

// Same, and in the same pass builds the document's tree (as parse_json reads
// it) into tree, unless the bytes are malformed or nested deeper than
// max_tree_depth levels (then tree is left empty). One parse for a check and
// a tree: the write path (prepare_record) reads a record once.
ValidationReport validate_and_parse(std::string_view data, const ValidateOptions& options,
                                    std::optional<Json>& tree, std::size_t max_tree_depth);

} // namespace taskstore
