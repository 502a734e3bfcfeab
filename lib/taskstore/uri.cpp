#include "taskstore/uri.hpp"

#include "taskstore/error.hpp"
#include "taskstore/text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace taskstore {

namespace {

constexpr std::string_view k_redacted = "********";

// How deep URL-valued query parameters are followed (a URL in a URL in ...);
// anything deeper that could hold a secret is hidden whole.
constexpr int k_max_nesting = 4;

// Thrown inside parse() with the reason alone; parse() adds the redacted text.
struct Malformed
{
  std::string reason;
};

// Returns text with %XX escapes decoded; throws Malformed on a bad escape.
std::string
decode_part(std::string_view text, std::string_view what)
{
  auto decoded = percent_decode(text);
  if (!decoded) {
    throw Malformed{"bad percent-escape in the " + std::string(what)};
  }
  return std::move(*decoded);
}

bool
is_secret_param(std::string_view name)
{
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const std::string_view word : {"pass", "pwd", "secret", "token", "key", "credential", "auth", "signature"}) {
    if (lower.find(word) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// Returns the position of the ':' ending a well-formed scheme at the start of
// text (ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")), or npos.
std::size_t
scheme_end(std::string_view text)
{
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || std::isalpha(static_cast<unsigned char>(text[0])) == 0) {
    return std::string_view::npos;
  }
  for (std::size_t i = 1; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c) == 0 && c != '+' && c != '-' && c != '.') {
      return std::string_view::npos;
    }
  }
  return colon;
}

// The lenient reading of text that may not parse (a URL-valued query
// parameter, a malformed store URI): its rendering with every secret hidden,
// and the secrets found (as written and decoded).
struct Lenient
{
  std::string rendering;
  std::vector<std::string> secrets;
  bool hid = false; // something was replaced by k_redacted
};

void lenient_scan(std::string_view text, int depth, Lenient& out);

void
add_secret(std::vector<std::string>& secrets, std::string_view written)
{
  if (written.empty()) {
    return;
  }
  secrets.emplace_back(written);
  auto decoded = percent_decode_lenient(written);
  if (decoded != written) {
    secrets.push_back(std::move(decoded));
  }
}

// When value (a query value, decoded once) holds a secret (a URL with a
// password, a secret-looking parameter of a URL), returns its rendering with
// the secrets hidden and adds them to secrets; else nullopt.
std::optional<std::string>
nested_redaction(std::string_view value, int depth, std::vector<std::string>& secrets)
{
  if (value.find('@') == std::string_view::npos && value.find('=') == std::string_view::npos) {
    return std::nullopt; // no userinfo and no parameters: nothing secret can be in it
  }
  if (depth >= k_max_nesting) {
    add_secret(secrets, value);
    return std::string(k_redacted);
  }
  Lenient sub;
  lenient_scan(value, depth + 1, sub);
  if (!sub.hid) {
    return std::nullopt;
  }
  for (auto& secret : sub.secrets) {
    secrets.push_back(std::move(secret));
  }
  return std::move(sub.rendering);
}

// Appends the rendering of query (the text after '?') to out.
void
lenient_query(std::string_view query, int depth, Lenient& out)
{
  bool first = true;
  for (;;) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    if (!first) {
      out.rendering += '&';
    }
    first = false;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      out.rendering += item;
    } else {
      const auto name = item.substr(0, eq);
      const auto value = item.substr(eq + 1);
      out.rendering.append(name).append(1, '=');
      if (is_secret_param(percent_decode_lenient(name))) {
        add_secret(out.secrets, value);
        out.rendering += k_redacted;
        out.hid = true;
      } else {
        const std::string decoded = percent_decode_lenient(value);
        std::vector<std::string> inner;
        if (auto shown = nested_redaction(decoded, depth, inner)) {
          out.rendering += decoded == value ? *shown : percent_encode(*shown, "/:@*");
          if (decoded != value) {
            inner.emplace_back(value); // the whole value as written holds the secret
          }
          for (auto& secret : inner) {
            out.secrets.push_back(std::move(secret));
          }
          out.hid = true;
        } else {
          out.rendering += value;
        }
      }
    }
    if (amp == std::string_view::npos) {
      return;
    }
    query.remove_prefix(amp + 1);
  }
}

void
lenient_scan(std::string_view text, int depth, Lenient& out)
{
  // "scheme://" is kept (a bad scheme too); without "//" (the opaque form, or no scheme at all)
  // the userinfo is looked for from the start: "user:pass@host" given
  // without a scheme reads as scheme "user" and would show the password.
  std::string_view rest = text;
  if (const auto colon = text.find(':'); colon != std::string_view::npos && text.substr(colon + 1, 2) == "//") {
    out.rendering.append(text.substr(0, colon + 3));
    rest.remove_prefix(colon + 3);
  }
  // The userinfo ends at the last '@' before any nested URL: a password with
  // an unencoded '/', '?' or '#' stays hidden.
  const auto at = rest.substr(0, rest.find("://")).rfind('@');
  if (at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      out.rendering.append(userinfo.substr(0, colon)).append(1, ':').append(k_redacted);
      add_secret(out.secrets, userinfo.substr(colon + 1));
      out.hid = true;
    } else {
      out.rendering.append(userinfo);
    }
    out.rendering += '@';
    rest.remove_prefix(at + 1);
  }
  const auto q = rest.find('?');
  out.rendering.append(rest.substr(0, q));
  if (q != std::string_view::npos) {
    out.rendering += '?';
    lenient_query(rest.substr(q + 1), depth, out);
  }
}

// Sorts secrets longest first (so that a secret containing another is
// replaced whole) and removes duplicates and empty ones.
std::vector<std::string>
expand_secrets(const std::vector<std::string>& secrets)
{
  std::vector<std::string> out;
  for (const auto& secret : secrets) {
    for (auto& form : secret_forms(secret)) {
      out.push_back(std::move(form));
    }
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void
parse_authority(std::string_view authority, StoreUri& uri)
{
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const auto userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const auto colon = userinfo.find(':');
    uri.user = decode_part(userinfo.substr(0, colon), "user name");
    if (colon != std::string_view::npos) {
      const auto written = userinfo.substr(colon + 1);
      uri.written_secrets.emplace_back(written);
      uri.password = decode_part(written, "password");
    }
  }
  std::string_view host = authority;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) {
      throw Malformed{"unterminated '[' in the host"};
    }
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty()) {
      if (port.front() != ':') {
        throw Malformed{"unexpected text after ']' in the host"};
      }
      port.remove_prefix(1);
    }
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  uri.host = decode_part(host, "host");
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      // The port is not quoted: with a '/' or '?' unencoded in a password,
      // what reads as the port is part of the password.
      throw Malformed{"bad port (expected a number from 1 to 65535; percent-encode '/', '?', '#' and '@' "
                      "in a password)"};
    }
    uri.port = static_cast<std::uint16_t>(value);
  }
}

void
parse_query(std::string_view query, StoreUri& uri)
{
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) {
      continue;
    }
    const auto eq = item.find('=');
    if (item.substr(0, eq).find('@') != std::string_view::npos) {
      throw Malformed{"'@' in a query parameter name (percent-encode '?' in a password as %3F)"};
    }
    auto name = decode_part(item.substr(0, eq), "query parameter name");
    const auto written = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    auto value = decode_part(written, "query parameter");
    if (name.empty()) {
      throw Malformed{"empty query parameter name"};
    }
    if (uri.param(name)) {
      throw Malformed{"query parameter '" + percent_encode(name, "") + "' given twice"};
    }
    if (is_secret_param(name)) {
      uri.written_secrets.emplace_back(written);
    } else {
      std::vector<std::string> inner;
      if (written != value && nested_redaction(value, 0, inner)) {
        uri.written_secrets.emplace_back(written); // as written, the whole value holds the secret
      }
    }
    uri.query.emplace_back(std::move(name), std::move(value));
  }
}

StoreUri
parse_uri(std::string_view text)
{
  StoreUri uri;
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw Malformed{"expected SCHEME:... (for example sqlite:tasks.db or redis://127.0.0.1:6379)"};
  }
  if (scheme_end(text) == std::string_view::npos) {
    throw Malformed{"bad scheme (expected a letter, then letters, digits, '+', '-' or '.')"};
  }
  const auto scheme = text.substr(0, colon);
  uri.scheme.resize(scheme.size());
  std::transform(scheme.begin(), scheme.end(), uri.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  std::string_view rest = text.substr(colon + 1);
  if (rest.find('#') != std::string_view::npos) {
    throw Malformed{"'#' is not allowed (percent-encode it as %23)"};
  }
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.substr(0, 2) == "//") {
    uri.has_authority = true;
    rest.remove_prefix(2);
    const auto slash = rest.find('/');
    parse_authority(rest.substr(0, slash), uri);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    if (!uri.host.empty() && rest.find('@') != std::string_view::npos) {
      throw Malformed{"'@' after the host (percent-encode '/' in a password as %2F)"};
    }
  } else if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    uri.written_secrets.emplace_back(rest.substr(0, at)); // "user:pass@host" without a scheme
  }
  uri.path = decode_part(rest, "path");
  parse_query(query, uri);
  // No backend can use a NUL in these (C strings cut them), and an exception
  // message quoting one would be cut there too (issue 14 #15).
  for (const auto& [value, what] : {std::pair<const std::string*, const char*>{&uri.user, "the user name"},
                                    {&uri.host, "the host"},
                                    {&uri.path, "the path"}}) {
    if (value->find('\0') != std::string::npos) {
      throw Malformed{what + std::string(" holds a NUL byte (%00)")};
    }
  }
  if (uri.password && uri.password->find('\0') != std::string::npos) {
    throw Malformed{"the password holds a NUL byte (%00)"};
  }
  return uri;
}

} // namespace

StoreUri
StoreUri::parse(std::string_view text)
{
  try {
    return parse_uri(text);
  } catch (const Malformed& e) {
    throw InvalidArgument("invalid store URI '" + redact_text(text) + "': " + e.reason);
  }
}

std::string
StoreUri::redacted() const
{
  std::string out = scheme + ":";
  if (has_authority) {
    out += "//";
    if (!user.empty() || password) {
      out += percent_encode(user, "");
      if (password) {
        out += ":";
        out += k_redacted;
      }
      out += "@";
    }
    if (host.find(':') != std::string::npos) {
      out.append(1, '[').append(host).append(1, ']');
    } else {
      out += percent_encode(host, "");
    }
    if (port) {
      out.append(1, ':').append(std::to_string(*port));
    }
    out += percent_encode(path, "/:@!$&'()*+,;=");
  } else if (const auto at = path.rfind('@'); at != std::string::npos) {
    // "user:pass@host" without a scheme (the password may hold an encoded
    // '/' or '@'); a relative SQLite path with an '@' shows only its end.
    out.append(k_redacted).append(1, '@');
    out += percent_encode(std::string_view(path).substr(at + 1), "/:@!$&'()*+,;=");
  } else {
    out += percent_encode(path, "/:@!$&'()*+,;=");
  }
  char separator = '?';
  for (const auto& [name, value] : query) {
    out += separator;
    separator = '&';
    out += percent_encode(name, "");
    out += "=";
    if (is_secret_param(name)) {
      out += k_redacted;
      continue;
    }
    std::vector<std::string> ignored;
    if (const auto shown = nested_redaction(value, 0, ignored)) {
      out += percent_encode(*shown, "/:@*");
    } else {
      out += percent_encode(value, "/:@");
    }
  }
  return out;
}

std::vector<std::string>
StoreUri::secrets() const
{
  std::vector<std::string> found = written_secrets;
  if (password) {
    found.push_back(*password);
  }
  if (!has_authority) {
    if (const auto at = path.rfind('@'); at != std::string::npos) {
      found.push_back(path.substr(0, at));
    }
  }
  for (const auto& [name, value] : query) {
    if (is_secret_param(name)) {
      found.push_back(value);
    } else {
      nested_redaction(value, 0, found);
    }
  }
  return expand_secrets(found);
}

std::string
StoreUri::redact_text(std::string_view text)
{
  Lenient out;
  lenient_scan(text, 0, out);
  return std::move(out.rendering);
}

std::vector<std::string>
StoreUri::secrets_in(std::string_view text)
{
  try {
    return parse(text).secrets();
  } catch (const InvalidArgument&) {
  }
  Lenient out;
  lenient_scan(text, 0, out);
  return expand_secrets(out.secrets);
}

std::vector<std::string>
secret_forms(std::string_view secret)
{
  if (secret.empty()) {
    return {};
  }
  std::vector<std::string> out{std::string(secret)};
  const std::string encoded = percent_encode(secret, "");
  if (encoded != secret) {
    out.push_back(encoded);
    std::string lower = encoded;
    for (std::size_t i = 0; i < lower.size(); ++i) {
      if (lower[i] == '%' && i + 2 < lower.size()) {
        lower[i + 1] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[i + 1])));
        lower[i + 2] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[i + 2])));
        i += 2;
      }
    }
    if (lower != encoded) {
      out.push_back(std::move(lower));
    }
    out.push_back(percent_encode(encoded, ""));
  }
  return out;
}

std::optional<std::string>
StoreUri::param(std::string_view name) const
{
  for (const auto& [key, value] : query) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

void
StoreUri::require_params(std::initializer_list<std::string_view> allowed) const
{
  for (const auto& entry : query) {
    if (std::find(allowed.begin(), allowed.end(), entry.first) != allowed.end()) {
      continue;
    }
    std::string list;
    for (const auto name : allowed) {
      list += list.empty() ? "" : ", ";
      list += name;
    }
    throw InvalidArgument("unknown query parameter '" + entry.first + "' for " + scheme +
                          " store URIs (allowed: " + (list.empty() ? "none" : list) + ")");
  }
}

std::uint64_t
parse_duration_ms(std::string_view text)
{
  const auto bad = [&] {
    return InvalidArgument("invalid duration '" + std::string(text) +
                           "': expected a number with an optional unit ms, s, m, h or d (e.g. 500ms, 2s, 7d)");
  };
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || !(value >= 0) || !std::isfinite(value)) {
    throw bad();
  }
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else if (unit == "d") {
    scale = 86'400'000;
  } else {
    throw bad();
  }
  const double ms = value * scale;
  if (ms > 1e15) {
    throw bad();
  }
  return static_cast<std::uint64_t>(std::llround(ms));
}

} // namespace taskstore
