// The validation entry points: bytes, files, streams and trees in memory, all
// through the one Checker (validate_checker.hpp), its input sources in
// validate_input.hpp.

#include "taskstore/validate.hpp"

#include "taskstore/error.hpp"
#include "taskstore/json/builder.hpp"
#include "taskstore/json/parse.hpp"
#include "taskstore/validate_checker.hpp"
#include "taskstore/validate_input.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <map>
#include <unordered_set>
#include <memory>
#include <type_traits>

namespace taskstore {

using validate_input::ChunkedInput;
using validate_input::ChunkIterator;
using validate_input::count_newlines;
using validate_input::FdSource;
using validate_input::Source;
using validate_input::StreamSource;

std::string_view
to_string(Rule rule)
{
  switch (rule) {
  case Rule::depth:
    return "depth";
  case Rule::string_length:
    return "string_length";
  case Rule::size:
    return "size";
  case Rule::syntax:
    return "syntax";
  case Rule::schema:
    return "schema";
  }
  return "schema"; // unreachable: every enumerator is handled above
}

namespace {

using validate_detail::Checker;
using validate_detail::k_npos;

// Feeds one parse's events to the checker and, while the document stays
// within max_depth levels, to a tree builder: a check and a tree in one pass.
class TreeTee final : public nlohmann::json_sax<Json>
{
public:
  TreeTee(Checker& checker, JsonBuilder& builder, std::size_t max_depth)
    : checker_(checker), builder_(builder), max_depth_(max_depth)
  {
  }

  bool null() override { return checker_.null() && (!building_ || builder_.null()); }
  bool boolean(bool v) override { return checker_.boolean(v) && (!building_ || builder_.boolean(v)); }
  bool number_integer(number_integer_t v) override
  {
    return checker_.number_integer(v) && (!building_ || builder_.number_integer(v));
  }
  bool number_unsigned(number_unsigned_t v) override
  {
    return checker_.number_unsigned(v) && (!building_ || builder_.number_unsigned(v));
  }
  bool number_float(number_float_t v, const string_t& raw) override
  {
    return checker_.number_float(v, raw) && (!building_ || builder_.number_float(v, raw));
  }
  // The checker reads first: the builder moves the text out.
  bool string(string_t& v) override { return checker_.string(v) && (!building_ || builder_.string(v)); }
  bool binary(binary_t& v) override { return checker_.binary(v) && (!building_ || builder_.binary(v)); }
  bool key(string_t& k) override { return checker_.key(k) && (!building_ || builder_.key(k)); }
  bool start_object(std::size_t n) override
  {
    open();
    return checker_.start_object(n) && (!building_ || builder_.start_object(n));
  }
  bool start_array(std::size_t n) override
  {
    open();
    return checker_.start_array(n) && (!building_ || builder_.start_array(n));
  }
  bool end_object() override
  {
    --depth_;
    return checker_.end_object() && (!building_ || builder_.end_object());
  }
  bool end_array() override
  {
    --depth_;
    return checker_.end_array() && (!building_ || builder_.end_array());
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override
  {
    building_ = false;
    return checker_.parse_error(position, last_token, ex);
  }

  bool built() const { return building_ && builder_.complete(); }

private:
  void open()
  {
    if (++depth_ > max_depth_) {
      building_ = false; // too deep to build: the check goes on alone
    }
  }

  Checker& checker_;
  JsonBuilder& builder_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  bool building_ = true;
};

// The report of a checker that read data (in memory), with the position of a syntax error.
ValidationReport
finish_bytes(Checker& checker, std::string_view data)
{
  std::optional<ParsePosition> position;
  if (checker.failed()) {
    const std::size_t p = checker.error_position();
    ParsePosition pos;
    pos.byte_offset = p == 0 ? 0 : p - 1;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(pos.byte_offset, data.size()));
    std::size_t last = k_npos;
    pos.line = count_newlines(data.data(), n, last) + 1;
    pos.column = last == k_npos ? pos.byte_offset + 1 : pos.byte_offset - last;
    position = pos;
  }
  ValidationReport report = checker.finish(std::nullopt, position);
  report.bytes_read = data.size();
  return report;
}

// The compact size of a variables object as set_variables measures it: the
// null-valued variables dropped.
std::uint64_t
input_size(const Json& variables)
{
  std::uint64_t size = 2; // {}
  std::size_t kept = 0;
  for (const auto& [name, value] : variables.items()) {
    if (value.is_null()) {
      continue;
    }
    size += (kept++ > 0 ? 1 : 0) + serde_string_size(name) + 1 + serde_json_size(value);
  }
  return size;
}

// Checks a tree in memory (parser events replayed). extras: the violations
// only a parse of the bytes finds (recursion, duplicate fields, numbers).
ValidationReport
validate_in_memory(const Json& document, const ValidateOptions& options, const Json* variables,
                   std::vector<Violation> extras = {})
{
  Checker checker(options, false);
  replay_sax(document, checker);
  checker.add_extras(std::move(extras));
  std::uint64_t size = 0;
  if (variables != nullptr && variables->is_object()) {
    const bool as_input = options.kind != DocumentKind::record && !options.size_as_stored && variables == &document;
    size = as_input ? input_size(*variables) : serde_json_size(*variables);
  }
  return checker.finish(size, std::nullopt);
}

// A document whose objects repeat a key is judged on the tree serde keeps
// (first position, last value); the rest of the report stays the stream's.
ValidationReport
rejudge_on_tree(const Json& tree, const ValidateOptions& options, Checker& stream, ValidationReport report)
{
  const Json* variables = &tree;
  ValidateOptions tree_options = options;
  if (report.is_record) {
    tree_options.kind = DocumentKind::record;
    variables = nullptr;
    if (tree.is_object()) {
      if (const auto it = tree.find("variables"); it != tree.end()) {
        variables = &*it;
      }
    }
  } else {
    tree_options.kind = DocumentKind::variables;
  }
  ValidationReport judged = validate_in_memory(tree, tree_options, variables, stream.extras());
  judged.bytes_read = report.bytes_read;
  judged.max_nesting_depth = report.max_nesting_depth;
  return judged;
}

// serde_json's framing the parser does not apply: a leading byte order mark is
// not JSON, and nothing but whitespace may follow the value (the parser takes
// a NUL byte for the end of the input).
struct Framing
{
  bool bom = false;
  std::optional<std::size_t> nul; // offset of the first NUL byte
};

Framing
frame(std::string_view data)
{
  Framing f;
  f.bom = data.size() >= 3 && data.compare(0, 3, "\xEF\xBB\xBF") == 0;
  if (const void* z = std::memchr(data.data(), 0, data.size()); z != nullptr) {
    f.nul = static_cast<std::size_t>(static_cast<const char*>(z) - data.data());
  }
  return f;
}

// Turns a framing fault into the document's syntax error.
void
apply_framing(Checker& checker, bool bom, std::optional<std::uint64_t> nul)
{
  if (bom) {
    checker.fail_at(0, "expected value (a byte order mark is not allowed)");
  } else if (nul) {
    if (!checker.failed()) {
      checker.fail_at(static_cast<std::size_t>(*nul), "trailing characters (a NUL byte)");
    } else if (checker.error_position() > *nul) {
      checker.fail_at(static_cast<std::size_t>(*nul), "unexpected NUL byte");
    }
  }
}

// Files up to this size are re-read whole when repeated keys make the
// streamed verdict too strict (serde keeps only the last value of a key).
constexpr std::uint64_t k_max_rejudged_file = std::uint64_t{256} << 20;

ValidationReport
validate_chunked(Source& source, const ValidateOptions& options)
{
  ChunkedInput input(source);
  Checker checker(options, true);
  Json::sax_parse(ChunkIterator(&input), ChunkIterator(), &checker);
  apply_framing(checker, input.bom(), input.nul_offset());
  std::optional<ParsePosition> position;
  if (checker.failed()) {
    const std::size_t p = checker.error_position();
    position = input.position_of(p == 0 ? 0 : p - 1);
  }
  ValidationReport report = checker.finish(std::nullopt, position);
  report.bytes_read = input.bytes_read();
  report.needs_tree = !report.ok() && !report.syntax_error_at && checker.saw_duplicate_key();
  return report;
}

} // namespace

ValidationReport
validate_variables(const Json& variables, const StoreConfig& limits, bool size_as_stored)
{
  ValidateOptions options;
  options.limits = limits;
  options.kind = DocumentKind::variables;
  options.size_as_stored = size_as_stored;
  Checker checker(options, false);
  replay_sax(variables, checker);
  std::uint64_t size = 0;
  if (variables.is_object()) {
    size = size_as_stored ? serde_json_size(variables) : input_size(variables);
  }
  return checker.finish(size, std::nullopt);
}

ValidationReport
validate_record(const Json& record, const StoreConfig& limits)
{
  ValidateOptions options;
  options.limits = limits;
  options.kind = DocumentKind::record;
  const Json* variables = nullptr;
  if (record.is_object()) {
    if (const auto it = record.find("variables"); it != record.end()) {
      variables = &*it;
    }
  }
  return validate_in_memory(record, options, variables);
}

ValidationReport
validate_stream(std::istream& in, const ValidateOptions& options)
{
  StreamSource source(in);
  return validate_chunked(source, options);
}

ValidationReport
validate_file(const std::string& path, const ValidateOptions& options)
{
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw InvalidArgument("cannot open " + path + ": " + std::strerror(errno));
  }
  struct Closer
  {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  FdSource source(fd, path);
  ValidationReport report = validate_chunked(source, options);
  if (report.needs_tree && report.bytes_read <= k_max_rejudged_file) {
    // Repeated keys: judge the file on the tree serde keeps, read whole.
    std::string data;
    data.resize(static_cast<std::size_t>(report.bytes_read));
    std::size_t got = 0;
    while (got < data.size()) {
      const ssize_t n = ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
      if (n <= 0) {
        return report;
      }
      got += static_cast<std::size_t>(n);
    }
    return validate_bytes(data, options);
  }
  return report;
}

ValidationReport
validate_bytes(std::string_view data, const ValidateOptions& options)
{
  std::optional<Json> tree;
  return validate_and_parse(data, options, tree, 0);
}

ValidationReport
validate_and_parse(std::string_view data, const ValidateOptions& options, std::optional<Json>& tree,
                   std::size_t max_tree_depth)
{
  tree.reset();
  const Framing framing = frame(data);
  const std::string_view body = framing.bom ? std::string_view() : data.substr(0, framing.nul.value_or(data.size()));
  Checker checker(options, true);
  JsonBuilder builder;
  TreeTee tee(checker, builder, max_tree_depth);
  if (!framing.bom) {
    if (max_tree_depth > 0) {
      Json::sax_parse(body.data(), body.data() + body.size(), &tee);
    } else {
      Json::sax_parse(body.data(), body.data() + body.size(), &checker);
    }
  }
  apply_framing(checker, framing.bom, framing.nul);
  if (!checker.failed() && max_tree_depth > 0 && tee.built()) {
    tree = builder.take();
  }
  ValidationReport report = finish_bytes(checker, data);
  if (!report.ok() && !report.syntax_error_at && checker.saw_duplicate_key()) {
    if (tree) {
      return rejudge_on_tree(*tree, options, checker, std::move(report));
    }
    try {
      return rejudge_on_tree(parse_json(body), options, checker, std::move(report));
    } catch (const std::exception&) {
      return report; // (cannot happen: the bytes parsed) judged as written
    }
  }
  return report;
}

} // namespace taskstore
