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

// Returns text with %XX escapes decoded; throws InvalidArgument on a bad escape.
std::string
decode_part(std::string_view text, std::string_view what)
{
  auto decoded = percent_decode(text);
  if (!decoded) {
    throw InvalidArgument("invalid store URI: bad percent-escape in " + std::string(what));
  }
  return std::move(*decoded);
}

bool
is_secret_param(std::string_view name)
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
      uri.password = decode_part(userinfo.substr(colon + 1), "password");
    }
  }
  std::string_view host = authority;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) {
      throw InvalidArgument("invalid store URI: unterminated '[' in host");
    }
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty()) {
      if (port.front() != ':') {
        throw InvalidArgument("invalid store URI: unexpected text after ']' in host");
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
      throw InvalidArgument("invalid store URI: bad port '" + std::string(port) + "'");
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
    auto name = decode_part(item.substr(0, eq), "query parameter name");
    auto value = eq == std::string_view::npos ? std::string{}
                                              : decode_part(item.substr(eq + 1), "query parameter");
    if (name.empty()) {
      throw InvalidArgument("invalid store URI: empty query parameter name");
    }
    if (uri.param(name)) {
      throw InvalidArgument("invalid store URI: query parameter '" + name + "' given twice");
    }
    uri.query.emplace_back(std::move(name), std::move(value));
  }
}

} // namespace

StoreUri
StoreUri::parse(std::string_view text)
{
  StoreUri uri;
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw InvalidArgument("invalid store URI '" + std::string(text) +
                          "': expected SCHEME:... (for example sqlite:tasks.db or "
                          "redis://127.0.0.1:6379)");
  }
  const auto scheme = text.substr(0, colon);
  const bool scheme_ok =
    std::isalpha(static_cast<unsigned char>(scheme.front())) &&
    std::all_of(scheme.begin(), scheme.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    });
  if (!scheme_ok) {
    throw InvalidArgument("invalid store URI: bad scheme '" + std::string(scheme) + "'");
  }
  uri.scheme.resize(scheme.size());
  std::transform(scheme.begin(), scheme.end(), uri.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  std::string_view rest = text.substr(colon + 1);
  if (rest.find('#') != std::string_view::npos) {
    throw InvalidArgument("invalid store URI: '#' is not allowed (percent-encode it as %23)");
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
  }
  uri.path = decode_part(rest, "path");
  parse_query(query, uri);
  return uri;
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
  }
  out += percent_encode(path, "/:@!$&'()*+,;=");
  char separator = '?';
  for (const auto& [name, value] : query) {
    out += separator;
    separator = '&';
    out += percent_encode(name, "");
    out += "=";
    out += is_secret_param(name) ? std::string(k_redacted) : percent_encode(value, "/:@");
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
