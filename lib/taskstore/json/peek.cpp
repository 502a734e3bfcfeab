// The one DOM-free JSON reader (see peek.hpp): a forward-only scanner that
// finds a record's fields and skips every other value without building it,
// and is_json_line's strict one-pass acceptor for the export format. About
// 900 lines, one concern: reading JSON text without a tree, which the
// listing, cleanup and export hot paths share; the scanner and the acceptor
// are kept together because they must agree byte for byte on what JSON is
// (a test holds both to nlohmann's parser).

#include "taskstore/json/peek.hpp"

#include "taskstore/text.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>

namespace taskstore {

namespace {

// Reads the four hex digits at p into cp, advancing p past what it read;
// false when fewer than four are left or one is not a hex digit.
bool
read_hex4(const char*& p, const char* end, std::uint32_t& cp)
{
  if (end - p < 4) {
    return false;
  }
  cp = 0;
  for (int i = 0; i < 4; ++i) {
    const char h = *p++;
    cp <<= 4;
    if (h >= '0' && h <= '9') {
      cp |= static_cast<std::uint32_t>(h - '0');
    } else if (h >= 'a' && h <= 'f') {
      cp |= static_cast<std::uint32_t>(h - 'a' + 10);
    } else if (h >= 'A' && h <= 'F') {
      cp |= static_cast<std::uint32_t>(h - 'A' + 10);
    } else {
      return false;
    }
  }
  return true;
}

// The first '"' or '\\' (and, when Controls, byte below 0x20) at or after p,
// or end; eight bytes at a time (strings in records are short: a memchr call
// each for the quote and the backslash cost more than the scan).
template <bool Controls>
const char*
find_string_special(const char* p, const char* end)
{
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      const std::uint64_t q = v ^ (ones * '"');
      const std::uint64_t b = v ^ (ones * '\\');
      // The lowest flagged byte is a true match (borrows only flag bytes above one).
      std::uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b);
      if constexpr (Controls) {
        hit |= (v - ones * 0x20) & ~v; // bytes < 0x20 (a byte >= 0x80 is excluded by ~v)
      }
      hit &= highs;
      if (hit != 0) {
        return p + std::countr_zero(hit) / 8;
      }
      p += 8;
    }
  }
  while (p != end && *p != '"' && *p != '\\' && (!Controls || static_cast<unsigned char>(*p) >= 0x20)) {
    ++p;
  }
  return p;
}


// A forward-only scanner over JSON text that skips values without building
// them. It trusts the input to be JSON; on anything unexpected it fails
// (returns false) rather than guessing.
class Scanner
{
public:
  explicit Scanner(std::string_view text) : text_(text) {}
  std::size_t pos() const { return pos_; }

  void skip_ws()
  {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }

  bool consume(char c)
  {
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // True when only whitespace is left.
  bool at_end()
  {
    skip_ws();
    return pos_ == text_.size();
  }

  char peek()
  {
    skip_ws();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  // Reads a string token (the opening quote is next) and decodes it into out.
  // Escapes are decoded; \u escapes become UTF-8 (surrogate pairs combined).
  // A string's text: a view into the input when it holds no escape (the
  // common case, nothing copied), else decoded into scratch.
  bool read_string_view(std::string_view& view, std::string& scratch)
  {
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      const std::size_t end = find_quote_or_backslash(pos_ + 1);
      if (end != std::string_view::npos && text_[end] == '"') {
        view = text_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        return true;
      }
    }
    if (!read_string(scratch)) {
      return false;
    }
    view = scratch;
    return true;
  }

  bool read_string(std::string& out)
  {
    out.clear();
    if (!consume('"')) {
      return false;
    }
    // The common case, no escape before the closing quote: one copy.
    const std::size_t end = find_quote_or_backslash(pos_);
    if (end == std::string_view::npos) {
      return false;
    }
    if (text_[end] == '"') {
      out.assign(text_.data() + pos_, end - pos_);
      pos_ = end + 1;
      return true;
    }
    while (pos_ < text_.size()) {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\\') {
        ++pos_;
      }
      out.append(text_.substr(start, pos_ - start));
      if (pos_ >= text_.size()) {
        return false;
      }
      if (text_[pos_] == '"') {
        ++pos_;
        return true;
      }
      ++pos_; // backslash
      if (pos_ >= text_.size()) {
        return false;
      }
      const char e = text_[pos_++];
      switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!read_hex4(cp)) {
          return false;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          std::uint32_t low = 0;
          if (pos_ + 1 < text_.size() && text_[pos_] == '\\' && text_[pos_ + 1] == 'u') {
            pos_ += 2;
            if (!read_hex4(low) || low < 0xDC00 || low > 0xDFFF) {
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else {
            return false;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        append_utf8(out, cp);
        break;
      }
      default:
        return false;
      }
    }
    return false;
  }

  // Skips one value of any type, nested containers included, without recursion.
  bool skip_value()
  {
    std::size_t depth = 0;
    do {
      const char c = peek();
      switch (c) {
      case '"':
        if (!skip_string()) {
          return false;
        }
        break;
      case '{':
      case '[':
        ++pos_;
        ++depth;
        continue; // a container may be empty: look at the next token
      case '}':
      case ']':
        if (depth == 0) {
          return false;
        }
        ++pos_;
        --depth;
        break;
      case '\0':
        return false;
      default: {
        // number, true, false, null: up to the next delimiter, then checked
        const std::size_t start = pos_;
        while (pos_ < text_.size()) {
          const char d = text_[pos_];
          if (d == ',' || d == '}' || d == ']' || d == ' ' || d == '\t' || d == '\n' || d == '\r' ||
              d == ':' || d == '"' || d == '{' || d == '[') {
            break;
          }
          ++pos_;
        }
        if (!is_scalar_token(text_.substr(start, pos_ - start))) {
          return false;
        }
        break;
      }
      }
      if (depth > 0) {
        // inside a container: separators between elements
        const char n = peek();
        if (n == ',' || n == ':') {
          ++pos_;
        }
      }
    } while (depth > 0);
    return true;
  }

private:
  // true, false, null or a JSON number (RFC 8259 grammar).
  static bool is_scalar_token(std::string_view t)
  {
    if (t == "true" || t == "false" || t == "null") {
      return true;
    }
    std::size_t i = 0;
    auto digits = [&] {
      const std::size_t from = i;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
        ++i;
      }
      return i > from;
    };
    if (i < t.size() && t[i] == '-') {
      ++i;
    }
    if (i < t.size() && t[i] == '0') {
      ++i;
    } else if (!digits()) {
      return false;
    }
    if (i < t.size() && t[i] == '.') {
      ++i;
      if (!digits()) {
        return false;
      }
    }
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
      ++i;
      if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
        ++i;
      }
      if (!digits()) {
        return false;
      }
    }
    return i == t.size();
  }

  bool skip_string()
  {
    ++pos_; // opening quote
    for (;;) {
      const std::size_t hit = find_quote_or_backslash(pos_);
      if (hit == std::string_view::npos) {
        return false;
      }
      if (text_[hit] == '"') {
        pos_ = hit + 1;
        return true;
      }
      pos_ = hit + 2; // a backslash and the byte it escapes
      if (pos_ > text_.size()) {
        return false;
      }
    }
  }

  // The offset of the first '"' or '\\' at or after from, or npos.
  std::size_t find_quote_or_backslash(std::size_t from) const
  {
    const char* end = text_.data() + text_.size();
    const char* hit = find_string_special<false>(text_.data() + std::min(from, text_.size()), end);
    return hit == end ? std::string_view::npos : static_cast<std::size_t>(hit - text_.data());
  }

  bool read_hex4(std::uint32_t& cp)
  {
    const char* p = text_.data() + pos_;
    const bool ok = taskstore::read_hex4(p, text_.data() + text_.size(), cp);
    pos_ = static_cast<std::size_t>(p - text_.data());
    return ok;
  }

  static void append_utf8(std::string& out, std::uint32_t cp)
  {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Finds member `key` of the object that starts at the scanner's position and
// leaves the scanner on its value. The last occurrence wins, as when the
// document is parsed into a DOM. Returns false when absent or malformed.
bool
find_member(Scanner& s, std::string_view key, Scanner& value_at)
{
  if (!s.consume('{')) {
    return false;
  }
  bool found = false;
  if (s.peek() == '}') {
    return false;
  }
  std::string name;
  for (;;) {
    if (!s.read_string(name) || !s.consume(':')) {
      return false;
    }
    if (name == key) {
      value_at = s;
      found = true;
    }
    if (!s.skip_value()) {
      return false;
    }
    if (s.consume(',')) {
      continue;
    }
    if (s.consume('}')) {
      return found;
    }
    return false;
  }
}


std::optional<Timestamp>
timestamp_at(Scanner& s)
{
  if (s.peek() != '"') {
    return std::nullopt; // null, or not a string
  }
  std::string text;
  if (!s.read_string(text)) {
    return std::nullopt;
  }
  return parse_rfc3339(text);
}


} // namespace

std::optional<Timestamp>
extract_expires_at(std::string_view record_json)
{
  try {
    Scanner s(record_json);
    Scanner value(record_json);
    if (!find_member(s, "expiresAt", value)) {
      return std::nullopt;
    }
    return timestamp_at(value);
  } catch (...) {
    return std::nullopt; // std::bad_alloc from a huge key: never let it reach a backend
  }
}

std::optional<Timestamp>
extract_created_at(std::string_view record_json)
{
  try {
    Scanner s(record_json);
    Scanner task(record_json);
    if (!find_member(s, "task", task)) {
      return std::nullopt;
    }
    Scanner value(record_json);
    if (!find_member(task, "createdAt", value)) {
      return std::nullopt;
    }
    return timestamp_at(value);
  } catch (...) {
    return std::nullopt;
  }
}

namespace {

// Reads a member value that should be a string: the decoded text, or nullopt
// (the value skipped) when it is another type. Returns false when malformed.
bool
read_string_member(Scanner& s, std::optional<std::string>& field)
{
  if (s.peek() != '"') {
    field.reset();
    return s.skip_value();
  }
  std::string_view view;
  std::string scratch;
  if (!s.read_string_view(view, scratch)) {
    return false;
  }
  if (field) {
    field->assign(view); // its storage reused
  } else {
    field.emplace(view);
  }
  return true;
}

// Reads the members of an object with `on_member(name)` deciding how each
// value is read; returns false when malformed.
template <typename OnMember>
bool
read_object(Scanner& s, OnMember&& on_member)
{
  if (!s.consume('{')) {
    return false;
  }
  if (s.consume('}')) {
    return true;
  }
  std::string scratch;
  std::string_view name;
  for (;;) {
    if (!s.read_string_view(name, scratch) || !s.consume(':') || !on_member(name)) {
      return false;
    }
    if (s.consume(',')) {
      continue;
    }
    return s.consume('}');
  }
}

} // namespace

PeekedFields
peek_record_fields(std::string_view json)
{
  PeekedFields out;
  peek_record_fields(json, out);
  return out;
}

void
peek_record_fields(std::string_view json, PeekedFields& out)
{
  // Each field is assigned in place as it is read (its string's storage
  // reused); the fields this record did not set are reset at the end.
  enum : unsigned {
    k_owner = 1U << 0, k_task_id = 1U << 1, k_status = 1U << 2, k_status_message = 1U << 3,
    k_created = 1U << 4, k_updated = 1U << 5, k_method = 1U << 6, k_expires = 1U << 7,
    k_task_fields = k_task_id | k_status | k_status_message | k_created | k_updated,
  };
  unsigned seen = 0;
  const auto member = [&seen](Scanner& s, std::optional<std::string>& field, unsigned bit) {
    seen |= bit;
    return read_string_member(s, field);
  };
  out.object = false;
  try {
    Scanner s(json);
    const bool ok = read_object(s, [&](std::string_view name) {
      if (name == std::string_view("task")) {
        seen &= ~static_cast<unsigned>(k_task_fields); // the last "task" wins, whole
        if (s.peek() != '{') {
          return s.skip_value();
        }
        return read_object(s, [&](std::string_view field) {
          if (field == std::string_view("taskId")) {
            return member(s, out.task_id, k_task_id);
          }
          if (field == std::string_view("status")) {
            return member(s, out.status, k_status);
          }
          if (field == std::string_view("statusMessage")) {
            return member(s, out.status_message, k_status_message);
          }
          if (field == std::string_view("createdAt")) {
            return member(s, out.created_at, k_created);
          }
          if (field == std::string_view("lastUpdatedAt")) {
            return member(s, out.last_updated_at, k_updated);
          }
          return s.skip_value();
        });
      }
      if (name == std::string_view("ownerId")) {
        return member(s, out.owner_id, k_owner);
      }
      if (name == std::string_view("requestMethod")) {
        return member(s, out.request_method, k_method);
      }
      if (name == std::string_view("expiresAt")) {
        return member(s, out.expires_at, k_expires);
      }
      return s.skip_value();
    });
    out.object = ok && s.at_end();
  } catch (...) {
    out.object = false; // std::bad_alloc from a huge string: report "not a record"
  }
  const std::pair<std::optional<std::string>*, unsigned> fields[] = {
    {&out.owner_id, k_owner},        {&out.task_id, k_task_id},       {&out.status, k_status},
    {&out.status_message, k_status_message}, {&out.created_at, k_created}, {&out.last_updated_at, k_updated},
    {&out.request_method, k_method}, {&out.expires_at, k_expires}};
  for (const auto& [field, bit] : fields) {
    if ((seen & bit) == 0) {
      field->reset();
    }
  }
}

namespace {

// A strict forward reader of JSON for is_json_line: every rule nlohmann's
// lexer and parser apply, over text already known to be UTF-8.
class Acceptor
{
public:
  explicit Acceptor(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool accept(std::size_t max_depth)
  {
    std::string stack; // '{' or '[' per open container
    for (;;) {
      // A value is expected here.
      skip_ws();
      if (p_ == end_) {
        return false;
      }
      const char c = *p_;
      if (c == '{' || c == '[') {
        if (stack.size() >= max_depth) {
          return false;
        }
        stack.push_back(c);
        ++p_;
        skip_ws();
        if (p_ != end_ && *p_ == (c == '{' ? '}' : ']')) {
          ++p_;
          stack.pop_back();
        } else {
          if (c == '{' && !member_name()) {
            return false;
          }
          continue;
        }
      } else if (c == '"') {
        if (!string()) {
          return false;
        }
      } else if (c == 't' || c == 'f' || c == 'n') {
        if (!literal(c == 't' ? "true" : c == 'f' ? "false" : "null")) {
          return false;
        }
      } else if (!number()) {
        return false;
      }
      // After a value: close containers, or a separator and the next value.
      for (;;) {
        skip_ws();
        if (stack.empty()) {
          return p_ == end_;
        }
        if (p_ == end_) {
          return false;
        }
        if (*p_ == ',') {
          ++p_;
          if (stack.back() == '{' && !member_name()) {
            return false;
          }
          break;
        }
        if (*p_ != (stack.back() == '{' ? '}' : ']')) {
          return false;
        }
        ++p_;
        stack.pop_back();
      }
    }
  }

private:
  // Only space and tab: a line break anywhere makes the text not one line.
  void skip_ws()
  {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t')) {
      ++p_;
    }
  }

  bool member_name()
  {
    skip_ws();
    if (p_ == end_ || *p_ != '"' || !string()) {
      return false;
    }
    skip_ws();
    if (p_ == end_ || *p_ != ':') {
      return false;
    }
    ++p_;
    return true;
  }

  bool literal(std::string_view word)
  {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool hex4(std::uint32_t& cp) { return read_hex4(p_, end_, cp); }

  // A string token (the opening quote is next): no control byte, only
  // JSON's escapes, a \u high surrogate always followed by a \u low one.
  bool string()
  {
    ++p_;
    for (;;) {
      p_ = find_string_special<true>(p_, end_);
      if (p_ == end_) {
        return false;
      }
      const char c = *p_++;
      if (c == '"') {
        return true;
      }
      if (c != '\\' || p_ == end_) {
        return false; // a control byte, or a backslash at the end
      }
      const char e = *p_++;
      if (e == 'u') {
        std::uint32_t cp = 0;
        if (!hex4(cp) || (cp >= 0xDC00 && cp <= 0xDFFF)) {
          return false;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          std::uint32_t low = 0;
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
            return false;
          }
          p_ += 2;
          if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) {
            return false;
          }
        }
      } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
        return false;
      }
    }
  }

  // RFC 8259's number; one with an exponent, or so long that it may not fit
  // a double, must also be finite as a double (nlohmann refuses "1e999").
  bool number()
  {
    const char* start = p_;
    bool exponent = false;
    if (p_ != end_ && *p_ == '-') {
      ++p_;
    }
    if (p_ != end_ && *p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digits()) {
        return false;
      }
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      exponent = true;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) {
        ++p_;
      }
      if (!digits()) {
        return false;
      }
    }
    if (exponent || p_ - start >= 300) {
      const std::string token(start, p_);
      return std::isfinite(std::strtod(token.c_str(), nullptr));
    }
    return true;
  }

  bool digits()
  {
    const char* from = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      ++p_;
    }
    return p_ != from;
  }

  const char* p_;
  const char* end_;
};

} // namespace

bool
is_json_line(std::string_view text, std::size_t max_depth)
{
  try {
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") {
      return false; // nlohmann skips a byte-order mark; an export line carries none
    }
    return !check_utf8(text) && Acceptor(text).accept(max_depth);
  } catch (...) {
    return false; // std::bad_alloc: carried base64 instead
  }
}

bool
peek_object_members(std::string_view json,
                    const std::function<bool(std::string_view name, std::string_view value)>& on_member)
{
  try {
    Scanner s(json);
    const bool ok = read_object(s, [&](std::string_view name) {
      s.skip_ws();
      const std::size_t start = s.pos();
      return s.skip_value() && on_member(name, json.substr(start, s.pos() - start));
    });
    return ok && s.at_end();
  } catch (...) {
    return false;
  }
}

std::optional<std::string>
peek_string(std::string_view token)
{
  try {
    Scanner s(token);
    std::string out;
    if (s.peek() != '"' || !s.read_string(out) || !s.at_end()) {
      return std::nullopt;
    }
    return out;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<std::string_view>
peek_member_text(std::string_view json, std::string_view name)
{
  try {
    Scanner s(json);
    Scanner value(json);
    if (!find_member(s, name, value) || !s.at_end()) {
      return std::nullopt;
    }
    value.skip_ws();
    const std::size_t start = value.pos();
    if (!value.skip_value()) {
      return std::nullopt;
    }
    return json.substr(start, value.pos() - start);
  } catch (...) {
    return std::nullopt;
  }
}

std::size_t
peek_nesting_depth(std::string_view text)
{
  std::size_t depth = 0;
  std::size_t max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
    case '"':
      in_string = true;
      break;
    case '[':
    case '{':
      max_depth = std::max(max_depth, ++depth);
      break;
    case ']':
    case '}':
      if (depth > 0) {
        --depth;
      }
      break;
    default:
      break;
    }
  }
  return max_depth;
}

} // namespace taskstore
