// Fuzz target: the two validators, differentially. The streaming checker
// (validate_bytes, validate_stream, validate_and_parse: the bytes, as `taskctl
// validate` and `put` read them) and the tree validators (validate_record,
// validate_variables over parse_json's tree, as a program holding a Json
// calls them) must agree on every input, under the default limits and under
// tight ones.
//
// Agreement: the same verdict on syntax (parse_json refuses exactly the bytes
// the stream reports a syntax error for), the same reading (record or
// variables), and the same violations in the same order (pointer, rule,
// message, limit, actual figure), with exactly these differences allowed,
// because a tree cannot show them (docs/fuzzing.md):
//  - "duplicate field `NAME`" (the tree keeps the last value only),
//  - "... exceeds serde_json's recursion limit ..." (the stream counts nesting
//    from the bytes; the tree validators do too, so this only matters together
//    with a duplicate key),
//  - "number ... is out of range: serde_json ..." (the tree holds the parsed
//    double, not the text).
// Those are the stream's "document" violations; every other one must match.
// Also: validate_stream over the same bytes gives the report validate_bytes
// gives (unless it flags needs_tree, where it judges the stream as written),
// and validate_and_parse builds the tree parse_json builds.

#include "fuzz_support.hpp"

#include "taskstore/error.hpp"
#include "taskstore/json/parse.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/validate.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using taskctl_fuzz::check;
using taskctl_fuzz::fail;
using taskstore::Violation;

namespace {

bool
document_only(const Violation& v)
{
  const std::string& m = v.message;
  return m.rfind("duplicate field `", 0) == 0 || m.find("exceeds serde_json's recursion limit") != std::string::npos ||
         (m.rfind("number ", 0) == 0 && m.find("is out of range: serde_json") != std::string::npos);
}

std::string
describe(const std::vector<Violation>& vs)
{
  std::string out;
  for (const auto& v : vs) {
    out += "[" + v.pointer + "] " + std::string(taskstore::to_string(v.rule)) + ": " + v.message + " (" +
           std::to_string(v.limit) + "/" + std::to_string(v.actual) + ")\n";
  }
  return out;
}

bool
same(const Violation& a, const Violation& b)
{
  return a.pointer == b.pointer && a.rule == b.rule && a.message == b.message && a.limit == b.limit &&
         a.actual == b.actual;
}

bool
same(const std::vector<Violation>& a, const std::vector<Violation>& b)
{
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same(a[i], b[i])) {
      return false;
    }
  }
  return true;
}

bool
looks_like_record(const taskstore::Json& tree)
{
  if (!tree.is_object()) {
    return false;
  }
  for (const char* field : {"task", "ownerId", "requestMethod", "expiresAt"}) {
    if (tree.contains(field)) {
      return true;
    }
  }
  return false;
}

void
differential(std::string_view bytes, const taskstore::StoreConfig& limits)
{
  taskstore::ValidateOptions options;
  options.limits = limits;

  taskstore::ValidationReport stream;
  std::optional<taskstore::Json> built;
  try {
    stream = taskstore::validate_bytes(bytes, options);
    taskstore::ValidationReport teed = taskstore::validate_and_parse(bytes, options, built, 512);
    check(same(teed.violations, stream.violations) && teed.total_violations == stream.total_violations,
          "validate_and_parse and validate_bytes disagree", describe(teed.violations) + "--\n" + describe(stream.violations));
    std::istringstream in{std::string(bytes)};
    const taskstore::ValidationReport streamed = taskstore::validate_stream(in, options);
    if (!streamed.needs_tree) {
      check(same(streamed.violations, stream.violations) && streamed.total_violations == stream.total_violations &&
              streamed.is_record == stream.is_record,
            "validate_stream and validate_bytes disagree",
            describe(streamed.violations) + "--\n" + describe(stream.violations));
      check(streamed.syntax_error_at.has_value() == stream.syntax_error_at.has_value(),
            "validate_stream and validate_bytes disagree on syntax");
      if (streamed.syntax_error_at) {
        check(streamed.syntax_error_at->byte_offset == stream.syntax_error_at->byte_offset &&
                streamed.syntax_error_at->line == stream.syntax_error_at->line &&
                streamed.syntax_error_at->column == stream.syntax_error_at->column,
              "validate_stream and validate_bytes report different syntax error positions");
      }
    }
    check(streamed.bytes_read == bytes.size() || streamed.syntax_error_at.has_value(),
          "validate_stream did not read the whole input");
  } catch (const std::exception& e) {
    fail("a streaming validator threw", e.what());
  }
  check(stream.violations.size() <= stream.total_violations, "more violations listed than counted");

  std::optional<taskstore::Json> tree;
  try {
    tree = taskstore::parse_json(bytes);
  } catch (const taskstore::InvalidArgument&) {
  } catch (const std::exception& e) {
    fail("parse_json threw something other than InvalidArgument", e.what());
  }

  if (!tree) {
    check(stream.syntax_error_at.has_value(), "parse_json refuses bytes the stream finds well-formed",
          describe(stream.violations));
    check(!built.has_value(), "validate_and_parse built a tree of malformed bytes");
    return;
  }
  check(!stream.syntax_error_at.has_value(), "the stream reports a syntax error in bytes parse_json reads",
        describe(stream.violations));
  if (built) {
    check(taskstore::to_serde_json(*built) == taskstore::to_serde_json(*tree),
          "validate_and_parse built a different tree than parse_json");
  }

  const bool record = looks_like_record(*tree);
  check(stream.is_record == record, "the stream and the tree read the document differently (record/variables)");
  taskstore::ValidationReport judged;
  try {
    judged = record ? taskstore::validate_record(*tree, limits) : taskstore::validate_variables(*tree, limits);
  } catch (const std::exception& e) {
    fail("a tree validator threw", e.what());
  }
  check(judged.is_record == record, "validate_record/validate_variables mislabel the document");

  if (stream.total_violations > options.max_reported || judged.total_violations > options.max_reported) {
    // Truncated lists: only the verdicts are comparable.
    check(judged.ok() == false, "the tree passes a document with more violations than reported");
    return;
  }
  std::vector<Violation> comparable;
  std::uint64_t extras = 0;
  for (const auto& v : stream.violations) {
    if (document_only(v)) {
      ++extras;
    } else {
      comparable.push_back(v);
    }
  }
  check(same(comparable, judged.violations), "the stream and the tree report different violations",
        "stream:\n" + describe(stream.violations) + "tree:\n" + describe(judged.violations));
  check(stream.total_violations == judged.total_violations + extras, "violation counts differ");
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  differential(bytes, taskstore::StoreConfig{});
  taskstore::StoreConfig tight;
  tight.max_variable_size_bytes = 64;
  tight.max_variable_depth = 2;
  tight.max_string_length = 8;
  differential(bytes, tight);
  return 0;
}
