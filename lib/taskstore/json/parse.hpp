#pragma once
// Reading JSON text into a Json tree the way serde_json reads a Value.

#include "taskstore/json/serde.hpp"

#include <optional>
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

// serde_json's reading of a JSON number token as an f64, without its
// float_roundtrip feature (pmcp-tasks does not enable it): the digits that fit
// a u64 (the rest truncated), then one multiplication or division by a power
// of ten. Returns nullopt exactly when serde_json refuses the number as
// "number out of range" (e.g. 1.7976931348623158e308, 1e309); nullopt too for
// text that is not a JSON number. taskctl itself reads numbers correctly
// rounded, so its value can be one ulp off serde's (docs/compatibility.md).
std::optional<double> serde_parse_f64(std::string_view number);

// The one parse-error formatter: the reason in a nlohmann parse error's
// what(), without its "[json.exception.parse_error.101] parse error at line
// 1, column 5: " prefixes (taskctl reports its own position).
std::string parse_error_reason(std::string_view parser_message);

} // namespace taskstore
