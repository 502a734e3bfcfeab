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
  // Filled by parse(): the secrets as they were written in the parsed text
  // (percent-escapes and all), for secrets(). Never print these.
  std::vector<std::string> written_secrets;

  // Parses "scheme:opaque" and "scheme://[user[:pass]@]host[:port][/path][?k=v&...]".
  // Throws InvalidArgument on malformed input (bad percent escape, bad port,
  // fragment, empty scheme, duplicate query key, '@' after the host or in a
  // query parameter name: a password with an unencoded '/' or '?'; a NUL
  // byte in the user name, password, host or path). The
  // message quotes redact_text(text), never the text itself.
  static StoreUri parse(std::string_view text);

  // The URI with every secret replaced by "********": the password; the value
  // of every secret-looking query parameter (its name contains pass, pwd,
  // secret, token, key, credential, auth or signature); inside any other query
  // value (such as endpoint=http://user:pass@host/), the userinfo password and
  // secret-looking parameters of the URL it holds, whatever its encoding; and
  // in the opaque form, what comes before an '@' ("x:user:pass@host", a
  // scheme forgotten). Safe to print anywhere; parses again to a URI that
  // redacts to the same text.
  std::string redacted() const;

  // Every secret this URI holds (what redacted() hides), each in every form
  // it may take in a message: decoded, as written in the parsed text, and
  // percent-encoded (secret_forms). No empty strings; longest first.
  std::vector<std::string> secrets() const;

  // What a message may show of text that may not parse: the same redaction
  // structurally, but lenient (a password with an unencoded '/', '?' or '#'
  // is hidden up to the last '@' of the authority part). Never throws.
  static std::string redact_text(std::string_view text);

  // secrets() of parse(text), or when text does not parse, every secret the
  // lenient reading of redact_text finds in it (in all their forms). Never
  // throws.
  static std::vector<std::string> secrets_in(std::string_view text);

  // The value of a query parameter, if present.
  std::optional<std::string> param(std::string_view name) const;

  // Throws InvalidArgument naming the first query parameter not in allowed
  // (and listing the allowed ones).
  void require_params(std::initializer_list<std::string_view> allowed) const;
};

// The forms a secret may take in a message: itself, percent-encoded (upper-
// and lower-case hex) and percent-encoded twice. Empty for an empty secret.
std::vector<std::string> secret_forms(std::string_view secret);

// Parses a duration such as "500ms", "2s", "1m", "1h", "7d" or a bare number of
// seconds; returns milliseconds. Throws InvalidArgument when malformed.
std::uint64_t parse_duration_ms(std::string_view text);

} // namespace taskstore
