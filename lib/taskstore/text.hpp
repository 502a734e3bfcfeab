#pragma once
// Byte-level text helpers shared by the whole library: percent-encoding (URIs,
// AWS canonical requests) and the one UTF-8 check, so the same fault gets the
// same message wherever it is found.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace taskstore {

// Returns text with every byte outside RFC 3986's unreserved set
// (A-Z a-z 0-9 - . _ ~) and outside `keep` escaped as %XX (uppercase hex).
std::string percent_encode(std::string_view text, std::string_view keep = {});

// Decodes %XX escapes (either case). Returns nullopt when a '%' is not
// followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text);

// Decodes the well-formed %XX escapes and keeps any other '%' as it is (how
// AWS reads a query string before canonicalizing it).
std::string percent_decode_lenient(std::string_view text);

// A fault in UTF-8 text: where the bad sequence starts and Rust's
// std::str::Utf8Error text for it ("invalid utf-8 sequence of 1 bytes from
// index 3", "incomplete utf-8 byte sequence from index 7"). pmcp-tasks' Redis
// backend reports that text ("data is not valid UTF-8: {e}").
struct Utf8Fault
{
  std::size_t offset = 0;
  std::string message;
};

// The one UTF-8 check (Rust's from_utf8 rules: no overlongs, surrogates or
// code points past U+10FFFF). Returns nullopt when text is valid UTF-8.
std::optional<Utf8Fault> check_utf8(std::string_view text);

} // namespace taskstore
