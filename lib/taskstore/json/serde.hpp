#pragma once
// The serde_json-compatible writer and size measure, in one place: what
// serde_json::to_vec writes for a Value (pmcp-tasks builds serde_json with
// preserve_order, so objects keep insertion order).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace taskstore {

// Insertion-ordered JSON, as serde_json with preserve_order keeps it.
using Json = nlohmann::ordered_json;

// What serde_json::to_vec writes for a Value: no whitespace, object keys in
// stored order, non-ASCII raw, '"' '\\' and control characters escaped
// (\b \f \n \r \t, others as \u00xx lowercase), '/' and DEL raw, integers in
// decimal, floats via format_serde_double. Iterative: any nesting depth.
std::string to_serde_json(const Json& value);
void append_serde_json(std::string& out, const Json& value);
// The same writer for documents shown to people and scripts (taskctl's
// output): floats and escapes exactly as stored, optionally pretty
// (serde_json's PrettyFormatter: two-space indent, "key": value), any
// invalid UTF-8 in a string replaced by U+FFFD so the output is valid JSON,
// and DEL and the C1 controls (U+0080-U+009F) escaped as \u00xx (the same
// value; JSON allows them raw, but a terminal would obey them).
std::string to_display_json(const Json& value, bool pretty = false);
// Appends a JSON string token (quotes included) as serde_json writes it.
void append_serde_string(std::string& out, std::string_view utf8);
// The same for any bytes, as to_display_json writes a string: invalid UTF-8
// replaced by U+FFFD, DEL and C1 escaped (printable ASCII, the common case,
// is copied at once).
void append_display_string(std::string& out, std::string_view text);
// The byte length of to_serde_json(value), computed without building it.
std::uint64_t serde_json_size(const Json& value);
// The byte length of a JSON string token as serde_json writes it, quotes included.
std::uint64_t serde_string_size(std::string_view utf8);
// serde_json 1.0.150's text of a double (zmij: the shortest round-trip
// digits, as ryu's): "1.0", "0.1", "1000000000000000.0", "1e+16", "1.5e-7",
// "-0.0"; fixed notation for decimal exponents -5..15. serde_json up to
// 1.0.146 wrote "1e16" (no '+'); both read either. NaN and infinities are
// written as "null".
std::string format_serde_double(double value);

} // namespace taskstore
