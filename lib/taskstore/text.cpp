#include "taskstore/text.hpp"

namespace taskstore {

namespace {

constexpr char k_hex[] = "0123456789ABCDEF";

int
hex_value(char c)
{
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool
unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// Decodes text; a malformed escape makes it return false (strict) or is kept as is.
bool
decode(std::string_view text, bool strict, std::string& out)
{
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      if (strict) {
        return false;
      }
      out.push_back('%');
      continue;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

} // namespace

std::string
percent_encode(std::string_view text, std::string_view keep)
{
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (unreserved(u) || keep.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(k_hex[u >> 4]);
      out.push_back(k_hex[u & 15]);
    }
  }
  return out;
}

std::optional<std::string>
percent_decode(std::string_view text)
{
  std::string out;
  if (!decode(text, true, out)) {
    return std::nullopt;
  }
  return out;
}

std::string
percent_decode_lenient(std::string_view text)
{
  std::string out;
  decode(text, false, out);
  return out;
}

std::optional<Utf8Fault>
check_utf8(std::string_view s)
{
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  auto invalid = [](std::size_t at, int len) {
    return Utf8Fault{at, "invalid utf-8 sequence of " + std::to_string(len) + " bytes from index " +
                           std::to_string(at)};
  };
  auto incomplete = [](std::size_t at) {
    return Utf8Fault{at, "incomplete utf-8 byte sequence from index " + std::to_string(at)};
  };
  auto cont = [](unsigned char b) { return (b & 0xC0u) == 0x80u; };
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    const int width = (b >= 0xC2 && b <= 0xDF)   ? 2
                      : (b >= 0xE0 && b <= 0xEF) ? 3
                      : (b >= 0xF0 && b <= 0xF4) ? 4
                                                 : 0;
    if (width == 0) {
      return invalid(i, 1);
    }
    if (i + 1 >= n) {
      return incomplete(i);
    }
    const unsigned char b1 = p[i + 1];
    bool ok = cont(b1);
    if (b == 0xE0) {
      ok = b1 >= 0xA0 && b1 <= 0xBF;
    } else if (b == 0xED) {
      ok = b1 >= 0x80 && b1 <= 0x9F;
    } else if (b == 0xF0) {
      ok = b1 >= 0x90 && b1 <= 0xBF;
    } else if (b == 0xF4) {
      ok = b1 >= 0x80 && b1 <= 0x8F;
    }
    if (!ok) {
      return invalid(i, 1);
    }
    for (int k = 2; k < width; ++k) {
      if (i + static_cast<std::size_t>(k) >= n) {
        return incomplete(i);
      }
      if (!cont(p[i + static_cast<std::size_t>(k)])) {
        return invalid(i, k);
      }
    }
    i += static_cast<std::size_t>(width);
  }
  return std::nullopt;
}

} // namespace taskstore
