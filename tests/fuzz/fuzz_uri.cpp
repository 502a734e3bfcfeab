// Fuzz target: StoreUri::parse and StoreUri::redacted (and parse_duration_ms,
// the other parser of uri.hpp).
//
// What is checkable about redaction without a second implementation of the
// parser: the redacted form must not depend on a secret's value. For every
// input that parses:
//  1. the password: the URI with its password replaced by another value
//     (one that shares no byte with it) must redact to exactly the same text,
//     and when the password is at least 1 byte, neither it (decoded) nor its
//     text as it appeared in the input (percent-encoded) may occur in the
//     redacted form unless it also occurs in the redacted form of the
//     replacement URI (i.e. in the non-secret parts);
//  2. the same for the value of every secret-looking query parameter (its
//     name contains pass, secret, token, key, credential or auth);
//  3. the same for the password inside any query value that itself parses
//     as a URI, such as endpoint=http://alice:secret@127.0.0.1/ (structural
//     redaction, issue 14 #10; TASKCTL_FUZZ_URI_NESTED=0 turns this off).
// Also: parse and parse_duration_ms throw only InvalidArgument, redacted()
// never throws.

#include "fuzz_support.hpp"

#include "taskstore/error.hpp"
#include "taskstore/uri.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

using taskctl_fuzz::check;
using taskctl_fuzz::fail;
using taskstore::StoreUri;

namespace {

std::optional<StoreUri>
try_parse(std::string_view text)
{
  try {
    return StoreUri::parse(text);
  } catch (const taskstore::InvalidArgument&) {
    return std::nullopt;
  } catch (const std::exception& e) {
    fail("StoreUri::parse threw something other than InvalidArgument", e.what());
  }
}

std::string
redact(const StoreUri& uri)
{
  try {
    return uri.redacted();
  } catch (const std::exception& e) {
    fail("StoreUri::redacted threw", e.what());
  }
}

bool
is_secret_name(std::string_view name)
{
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const std::string_view word : {"pass", "secret", "token", "key", "credential", "auth"}) {
    if (lower.find(word) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// A replacement for secret: the same length (at least 1), of one letter that
// does not occur in secret nor in raw; nullopt if all candidates occur.
std::optional<std::string>
replacement_for(std::string_view secret, std::string_view raw)
{
  for (const char c : std::string_view("QZXJVWqzxjvw")) {
    if (secret.find(c) == std::string_view::npos && raw.find(c) == std::string_view::npos) {
      return std::string(std::max<std::size_t>(secret.size(), 1), c);
    }
  }
  return std::nullopt;
}

// The raw text of the password in a URI's text, as the house grammar finds it:
// after "scheme://", the authority runs to the first '/' (after cutting the
// query at the first '?'), the userinfo to its last '@', the password from the
// userinfo's first ':'.
std::optional<std::string_view>
raw_password(std::string_view text)
{
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(colon + 1);
  rest = rest.substr(0, rest.find('?'));
  if (rest.substr(0, 2) != "//") {
    return std::nullopt;
  }
  rest.remove_prefix(2);
  const std::string_view authority = rest.substr(0, rest.find('/'));
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view userinfo = authority.substr(0, at);
  const auto pc = userinfo.find(':');
  if (pc == std::string_view::npos) {
    return std::nullopt;
  }
  return userinfo.substr(pc + 1);
}

// The raw text of query parameter number index (counting non-empty items).
std::optional<std::string_view>
raw_query_value(std::string_view text, std::size_t index)
{
  const auto colon = text.find(':');
  const auto q = text.find('?', colon == std::string_view::npos ? 0 : colon);
  if (q == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view query = text.substr(q + 1);
  std::size_t i = 0;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) {
      continue;
    }
    if (i++ == index) {
      const auto eq = item.find('=');
      return eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    }
  }
  return std::nullopt;
}

// Checks that secret (and its raw input form) does not show in shown unless it
// shows in public_form too, and that the two forms are equal.
void
check_hidden(std::string_view what, std::string_view secret, std::string_view raw, const std::string& shown,
             const std::string& public_form)
{
  check(shown == public_form, what, "the redacted form depends on the secret's value:\n  " + shown + "\n  " + public_form);
  if (!secret.empty()) {
    check(shown.find(secret) == std::string::npos || public_form.find(secret) != std::string::npos, what,
          "the redacted form shows the secret: " + shown);
  }
  if (!raw.empty()) {
    check(shown.find(raw) == std::string::npos || public_form.find(raw) != std::string::npos, what,
          "the redacted form shows the secret as written in the input: " + shown);
  }
}

bool
nested_enabled()
{
  static const bool on = [] {
    const char* v = std::getenv("TASKCTL_FUZZ_URI_NESTED");
    return v == nullptr || std::string_view(v) != "0";
  }();
  return on;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  try {
    (void)taskstore::parse_duration_ms(text);
  } catch (const taskstore::InvalidArgument&) {
  } catch (const std::exception& e) {
    fail("parse_duration_ms threw something other than InvalidArgument", e.what());
  }

  const std::optional<StoreUri> uri = try_parse(text);
  if (!uri) {
    return 0;
  }
  const std::string shown = redact(*uri);

  // (The redacted form is not always a URI that parses back: a host holding
  // ':' and ']', or a path starting with "//", is printed ambiguously. It is
  // text for people; docs/fuzzing.md lists this for the owner of uri.cpp.)

  // 1. The password.
  if (uri->password) {
    const std::string_view raw = raw_password(text).value_or(std::string_view{});
    if (const auto other = replacement_for(*uri->password, raw)) {
      StoreUri varied = *uri;
      varied.password = *other;
      check_hidden("password", *uri->password, raw, shown, redact(varied));
    }
  }

  // 2. Secret-looking query parameters; 3. passwords inside URL-valued parameters.
  for (std::size_t i = 0; i < uri->query.size(); ++i) {
    const auto& [name, value] = uri->query[i];
    if (is_secret_name(name)) {
      const std::string_view raw = raw_query_value(text, i).value_or(std::string_view{});
      if (const auto other = replacement_for(value, raw)) {
        StoreUri varied = *uri;
        varied.query[i].second = *other;
        check_hidden("secret query parameter", value, raw, shown, redact(varied));
      }
      continue;
    }
    if (!nested_enabled()) {
      continue;
    }
    const std::optional<StoreUri> inner = try_parse(value);
    if (!inner || !inner->password) {
      continue;
    }
    const std::optional<std::string_view> inner_raw = raw_password(value);
    if (!inner_raw) {
      continue;
    }
    if (const auto other = replacement_for(*inner->password, *inner_raw)) {
      StoreUri varied = *uri;
      const std::size_t at = static_cast<std::size_t>(inner_raw->data() - value.data());
      varied.query[i].second = value.substr(0, at) + *other + value.substr(at + inner_raw->size());
      check_hidden("password in a URL-valued query parameter", *inner->password, *inner_raw, shown, redact(varied));
    }
  }
  return 0;
}
