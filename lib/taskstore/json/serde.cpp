#include "taskstore/json/serde.hpp"

#include "taskstore/text.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

namespace taskstore {

// ---------------------------------------------------------------------------
// serde_json-compatible output

namespace {

// Extra bytes serde_json spends on a byte when escaping it in a string:
// 1 for \" \\ \b \f \n \r \t, 5 for \u00xx, 0 otherwise (UTF-8 and DEL raw).
constexpr std::array<std::uint8_t, 256>
make_escape_extra()
{
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) {
    t[static_cast<std::size_t>(c)] = 5;
  }
  for (unsigned char c : {'\b', '\f', '\n', '\r', '\t', '"', '\\'}) {
    t[c] = 1;
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> k_escape_extra = make_escape_extra();

// Whether any of the 8 bytes at p is below 0x20, '"' or '\\' (SWAR: a byte
// of x is zero exactly when its high bit survives (x - 0x01..) & ~x & 0x80..;
// bytes of 0x80 and above never match).
inline bool
needs_escape8(const char* p)
{
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  const std::uint64_t control = (v - ones * 0x20) & ~v;
  const std::uint64_t quote = v ^ (ones * '"');
  const std::uint64_t backslash = v ^ (ones * '\\');
  return ((control | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) & highs) != 0;
}

// Whether every byte of s is printable ASCII other than '"' and '\\' (such a
// string is valid UTF-8 and written as it is), eight bytes at a time.
inline bool
plain_ascii(std::string_view s)
{
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    if ((v & highs) != 0 || needs_escape8(s.data() + i)) {
      return false;
    }
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
      return false;
    }
  }
  return true;
}

struct StringSink
{
  std::string& out;
  void put(char c) { out.push_back(c); }
  void put(std::string_view s) { out.append(s); }
  void put_string(std::string_view s)
  {
    out.push_back('"');
    std::size_t run = 0; // start of the pending run of bytes written as-is
    for (std::size_t i = 0; i < s.size(); ++i) {
      // Eight bytes at a time while none needs escaping (a control byte, '"'
      // or '\\'): the common case of a long plain string.
      while (i + 8 <= s.size() && !needs_escape8(s.data() + i)) {
        i += 8;
      }
      if (i >= s.size()) {
        break;
      }
      const auto c = static_cast<unsigned char>(s[i]);
      if (k_escape_extra[c] == 0) {
        continue;
      }
      out.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default: {
        constexpr char k_hex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', k_hex[c >> 4], k_hex[c & 0xF]};
        out.append(esc, 6);
      }
      }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
  }
};

struct SizeSink
{
  std::uint64_t size = 0;
  void put(char) { ++size; }
  void put(std::string_view s) { size += s.size(); }
  void put_string(std::string_view s) { size += serde_string_size(s); }
};

// ryu's layout (as in serde_json) of a finite, non-zero double given its
// shortest digits: returns the text length written to out (at most 32 bytes).
std::size_t
layout_double(double value, char* out)
{
  char* p = out;
  if (std::signbit(value)) {
    *p++ = '-';
    value = -value;
  }
  if (value == 0.0) {
    std::memcpy(p, "0.0", 3);
    return static_cast<std::size_t>(p - out) + 3;
  }
  // Shortest round-trip digits from the standard library (Ryu as well).
  std::array<char, 40> sci{};
  const auto res = std::to_chars(sci.data(), sci.data() + sci.size(), value, std::chars_format::scientific);
  // sci: d[.ddd]e±XX
  std::array<char, 20> digits{};
  int length = 0;
  const char* q = sci.data();
  for (; q < res.ptr && *q != 'e'; ++q) {
    if (*q != '.') {
      digits[static_cast<std::size_t>(length++)] = *q;
    }
  }
  int exp10 = 0;
  std::from_chars(q + 1 + (q[1] == '+' ? 1 : 0), res.ptr, exp10);
  const int kk = exp10 + 1; // 10^(kk-1) <= v < 10^kk
  const int k = kk - length;
  auto put_digits = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      *p++ = digits[static_cast<std::size_t>(i)];
    }
  };
  // serde_json >= 1.0.147 (zmij): "e+21", "e-7"; never zero-padded.
  auto put_exponent = [&](int e) {
    *p++ = 'e';
    if (e < 0) {
      *p++ = '-';
      e = -e;
    } else {
      *p++ = '+';
    }
    char tmp[8];
    const auto r = std::to_chars(tmp, tmp + sizeof tmp, e);
    for (const char* t = tmp; t < r.ptr; ++t) {
      *p++ = *t;
    }
  };
  if (0 <= k && kk <= 16) {
    // 1234e7 -> 12340000000.0
    put_digits(0, length);
    for (int i = length; i < kk; ++i) {
      *p++ = '0';
    }
    *p++ = '.';
    *p++ = '0';
  } else if (0 < kk && kk <= 16) {
    // 1234e-2 -> 12.34
    put_digits(0, kk);
    *p++ = '.';
    put_digits(kk, length);
  } else if (-5 < kk && kk <= 0) {
    // 1234e-6 -> 0.001234
    *p++ = '0';
    *p++ = '.';
    for (int i = kk; i < 0; ++i) {
      *p++ = '0';
    }
    put_digits(0, length);
  } else if (length == 1) {
    // 1e30
    *p++ = digits[0];
    put_exponent(kk - 1);
  } else {
    // 1234e30 -> 1.234e33
    *p++ = digits[0];
    *p++ = '.';
    put_digits(1, length);
    put_exponent(kk - 1);
  }
  return static_cast<std::size_t>(p - out);
}

template <typename Sink>
void
put_number(Sink& sink, const Json& v)
{
  std::array<char, 40> buf{};
  switch (v.type()) {
  case Json::value_t::number_integer: {
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v.get<std::int64_t>());
    sink.put(std::string_view(buf.data(), static_cast<std::size_t>(r.ptr - buf.data())));
    break;
  }
  case Json::value_t::number_unsigned: {
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v.get<std::uint64_t>());
    sink.put(std::string_view(buf.data(), static_cast<std::size_t>(r.ptr - buf.data())));
    break;
  }
  default: {
    const double d = v.get<double>();
    if (!std::isfinite(d)) {
      sink.put(std::string_view("null"));
    } else {
      sink.put(std::string_view(buf.data(), layout_double(d, buf.data())));
    }
  }
  }
}

// Writes value as serde_json does, with an explicit stack instead of recursion.
template <typename Sink>
void
write_serde(Sink& sink, const Json& root, bool pretty = false)
{
  // serde_json's PrettyFormatter: two spaces a level, "key": value.
  auto newline = [&](std::size_t depth) {
    sink.put('\n');
    for (std::size_t d = 0; d < depth; ++d) {
      sink.put(std::string_view("  "));
    }
  };
  struct Frame
  {
    const Json* node;
    std::size_t next;
  };
  std::vector<Frame> stack;

  // Writes a scalar or an empty container, or opens a container (pushing a frame).
  auto open = [&](const Json& v) {
    switch (v.type()) {
    case Json::value_t::object:
      if (v.empty()) {
        sink.put(std::string_view("{}"));
      } else {
        sink.put('{');
        stack.push_back({&v, 0});
      }
      break;
    case Json::value_t::array:
      if (v.empty()) {
        sink.put(std::string_view("[]"));
      } else {
        sink.put('[');
        stack.push_back({&v, 0});
      }
      break;
    case Json::value_t::string:
      sink.put_string(v.get_ref<const Json::string_t&>());
      break;
    case Json::value_t::boolean:
      sink.put(v.get<bool>() ? std::string_view("true") : std::string_view("false"));
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      put_number(sink, v);
      break;
    case Json::value_t::binary: {
      // serde has no binary type; write the bytes as an array of numbers.
      const auto& bin = v.get_binary();
      sink.put('[');
      for (std::size_t i = 0; i < bin.size(); ++i) {
        if (i > 0) {
          sink.put(',');
        }
        sink.put(std::to_string(static_cast<unsigned>(bin[i])));
      }
      sink.put(']');
      break;
    }
    case Json::value_t::null:
    case Json::value_t::discarded:
      sink.put(std::string_view("null"));
      break;
    }
  };

  open(root);
  while (!stack.empty()) {
    Frame& f = stack.back();
    const Json* node = f.node;
    const std::size_t i = f.next++;
    if (node->is_object()) {
      const auto& obj = node->get_ref<const Json::object_t&>();
      if (i == obj.size()) {
        stack.pop_back();
        if (pretty) {
          newline(stack.size());
        }
        sink.put('}');
        continue;
      }
      if (i > 0) {
        sink.put(',');
      }
      if (pretty) {
        newline(stack.size());
      }
      const auto& member = *(obj.begin() + static_cast<std::ptrdiff_t>(i));
      sink.put_string(member.first);
      sink.put(pretty ? std::string_view(": ") : std::string_view(":"));
      open(member.second); // may reallocate the stack: f is not used after this
    } else {
      const auto& arr = node->get_ref<const Json::array_t&>();
      if (i == arr.size()) {
        stack.pop_back();
        if (pretty) {
          newline(stack.size());
        }
        sink.put(']');
        continue;
      }
      if (i > 0) {
        sink.put(',');
      }
      if (pretty) {
        newline(stack.size());
      }
      open(arr[i]);
    }
  }
}

} // namespace

std::uint64_t
serde_string_size(std::string_view utf8)
{
  std::uint64_t size = utf8.size() + 2;
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  const auto* end = p + utf8.size();
  // Eight bytes at a time while none of them needs escaping (a control
  // character, '"' or '\\'); the byte table settles the words that might.
  constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
  constexpr std::uint64_t k_highs = 0x8080808080808080ULL;
  while (end - p >= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    const std::uint64_t quote = w ^ (k_ones * '"');
    const std::uint64_t backslash = w ^ (k_ones * '\\');
    const std::uint64_t hits = ((w - k_ones * 0x20) | (quote - k_ones) | (backslash - k_ones)) &
                               ~w & k_highs;
    if (hits == 0) {
      p += 8;
      continue;
    }
    for (const auto* q = p + 8; p < q; ++p) {
      size += k_escape_extra[*p];
    }
  }
  for (; p < end; ++p) {
    size += k_escape_extra[*p];
  }
  return size;
}

std::string
format_serde_double(double value)
{
  if (!std::isfinite(value)) {
    return "null";
  }
  std::array<char, 40> buf{};
  return std::string(buf.data(), layout_double(value, buf.data()));
}

void
append_serde_json(std::string& out, const Json& value)
{
  StringSink sink{out};
  write_serde(sink, value);
}

std::string
to_serde_json(const Json& value)
{
  std::string out;
  append_serde_json(out, value);
  return out;
}

std::uint64_t
serde_json_size(const Json& value)
{
  SizeSink sink;
  write_serde(sink, value);
  return sink.size;
}

namespace {

// Rewrites, in the string token out[from...], DEL and the C1 controls
// (U+0080-U+009F), which JSON allows raw but a terminal obeys, as \u007f and
// \u0080-\u009f: the same JSON value, safe to show. The token is valid UTF-8,
// so a 0xC2 byte always starts a two-byte character.
void
escape_terminal_controls(std::string& out, std::size_t from)
{
  const auto special = [](unsigned char c) { return c == 0x7F || c == 0xC2; };
  std::size_t i = from;
  while (i < out.size() && !special(static_cast<unsigned char>(out[i]))) {
    ++i;
  }
  if (i == out.size()) {
    return; // the common case
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string fixed(out, from, i - from);
  for (; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    unsigned code = 0;
    if (c == 0x7F) {
      code = 0x7F;
    } else if (c == 0xC2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) <= 0x9F) {
      code = static_cast<unsigned char>(out[++i]);
    } else {
      fixed.push_back(static_cast<char>(c));
      continue;
    }
    fixed += "\\u00";
    fixed.push_back(k_hex[code >> 4]);
    fixed.push_back(k_hex[code & 15]);
  }
  out.replace(from, std::string::npos, fixed);
}

// A StringSink whose strings are made valid UTF-8 first (each bad sequence
// becomes U+FFFD) and whose DEL and C1 controls are escaped, for documents
// shown to people and scripts.
struct DisplaySink
{
  std::string& out;
  void put(char c) { out.push_back(c); }
  void put(std::string_view s) { out.append(s); }
  void put_string(std::string_view s)
  {
    const std::size_t from = out.size();
    put_valid_string(s);
    escape_terminal_controls(out, from);
  }
  void put_valid_string(std::string_view s)
  {
    StringSink plain{out};
    if (plain_ascii(s)) {
      out.push_back('"'); // the common case: nothing to check, nothing to escape
      out.append(s);
      out.push_back('"');
      return;
    }
    if (!check_utf8(s)) {
      plain.put_string(s);
      return;
    }
    std::string fixed;
    std::string_view rest = s;
    while (const auto fault = check_utf8(rest)) {
      fixed.append(rest.substr(0, fault->offset));
      fixed.append("\xEF\xBF\xBD");
      // Skip the bad sequence: its lead byte and any continuation bytes after it.
      std::size_t skip = fault->offset + 1;
      while (skip < rest.size() && (static_cast<unsigned char>(rest[skip]) & 0xC0) == 0x80) {
        ++skip;
      }
      rest.remove_prefix(skip);
    }
    fixed.append(rest);
    plain.put_string(fixed);
  }
};

} // namespace

std::string
to_display_json(const Json& value, bool pretty)
{
  std::string out;
  DisplaySink sink{out};
  write_serde(sink, value, pretty);
  return out;
}

void
append_serde_string(std::string& out, std::string_view utf8)
{
  StringSink sink{out};
  sink.put_string(utf8);
}

void
append_display_string(std::string& out, std::string_view text)
{
  DisplaySink sink{out};
  sink.put_string(text);
}

} // namespace taskstore
