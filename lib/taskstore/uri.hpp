#pragma once
// Store URIs (DESIGN.md "Store URIs"): parsing, percent-decoding, redaction.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskstore {

struct StoreUri
{
  std::string scheme;                 // lower-cased: "mem", "sqlite", "redis", "redis+unix", "dynamodb", ...
  bool has_authority = false;         // "scheme://..." form
  std::string user;                   // percent-decoded
  std::optional<std::string> password;// percent-decoded; never printed
  std::string host;                   // percent-decoded; for dynamodb:// the table
  std::optional<std::uint16_t> port;
  std::string path;                   // percent-decoded; "sqlite:rel/x.db" -> "rel/x.db"
  std::vector<std::pair<std::string, std::string>> query; // decoded, in order

  // Parses "scheme:opaque" and "scheme://[user[:pass]@]host[:port][/path][?k=v&...]".
  // Throws InvalidArgument on malformed input (bad percent escape, bad port,
  // fragment, empty scheme, duplicate query key).
  static StoreUri parse(std::string_view text);

  // The URI with the password (and any secret-looking query value: password,
  // secret, token, key) replaced by "********". Safe to print anywhere.
  std::string redacted() const;

  // The value of a query parameter, if present.
  std::optional<std::string> param(std::string_view name) const;

  // Throws InvalidArgument naming the first query parameter not in allowed
  // (and listing the allowed ones).
  void require_params(std::initializer_list<std::string_view> allowed) const;
};

// Parses a duration such as "500ms", "2s", "1m", "1h", "7d" or a bare number of
// seconds; returns milliseconds. Throws InvalidArgument when malformed.
std::uint64_t parse_duration_ms(std::string_view text);

} // namespace taskstore
