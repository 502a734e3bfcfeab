#pragma once
// Reading JSON text into a Json tree the way serde_json reads a Value.

#include "taskstore/json/serde.hpp"

#include <string>
#include <string_view>

namespace taskstore {

// Parses JSON text into a Json the way serde_json reads a Value: object keys
// keep their order (a repeated key keeps its first position and takes the
// last value), "-0" becomes the float -0.0 (serde writes it back as -0.0).
// Unlike Json::parse, objects with many keys take linear time (nlohmann's
// ordered_map looks keys up linearly). Never recurses. Throws InvalidArgument
// "malformed <what> at line L, column C (byte offset B): <reason>", the
// parser's exception nested.
Json parse_json(std::string_view text, std::string_view what = "JSON");

// The one parse-error formatter: the reason in a nlohmann parse error's
// what(), without its "[json.exception.parse_error.101] parse error at line
// 1, column 5: " prefixes (taskctl reports its own position).
std::string parse_error_reason(std::string_view parser_message);

} // namespace taskstore
