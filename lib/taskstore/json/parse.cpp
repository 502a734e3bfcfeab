#include "taskstore/json/parse.hpp"

#include "taskstore/error.hpp"
#include "taskstore/json/builder.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>

namespace taskstore {

std::optional<double>
serde_parse_f64(std::string_view t)
{
  static const std::array<double, 309> k_pow10 = [] {
    std::array<double, 309> p{};
    for (int i = 0; i < 309; ++i) {
      p[static_cast<std::size_t>(i)] = std::strtod(("1e" + std::to_string(i)).c_str(), nullptr); // correctly rounded
    }
    return p;
  }();
  constexpr std::uint64_t k_max = UINT64_MAX;
  std::size_t i = 0;
  const bool negative = i < t.size() && t[i] == '-';
  if (negative) {
    ++i;
  }
  auto digit = [&](std::size_t at) { return at < t.size() && t[at] >= '0' && t[at] <= '9'; };
  if (!digit(i)) {
    return std::nullopt;
  }
  std::uint64_t sig = 0;
  std::int64_t exponent = 0;
  bool overflowed = false;
  // Accumulates a digit into sig as serde's overflow! check allows; returns false once it does not fit.
  auto take = [&](unsigned d) {
    if (sig >= k_max / 10 && (sig > k_max / 10 || d > k_max % 10)) {
      return false;
    }
    sig = sig * 10 + d;
    return true;
  };
  if (t[i] == '0') {
    ++i;
  } else {
    while (digit(i)) {
      const auto d = static_cast<unsigned>(t[i] - '0');
      if (overflowed || !take(d)) {
        overflowed = true;
        ++exponent; // a dropped integer digit
      }
      ++i;
    }
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digit(i)) {
      return std::nullopt;
    }
    while (digit(i)) {
      const auto d = static_cast<unsigned>(t[i] - '0');
      if (!overflowed && take(d)) {
        --exponent;
      } else {
        overflowed = true; // dropped fraction digits: truncated
      }
      ++i;
    }
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
      exp_negative = t[i] == '-';
      ++i;
    }
    if (!digit(i)) {
      return std::nullopt;
    }
    std::int64_t e = 0;
    bool e_overflow = false;
    while (digit(i)) {
      if (e > (INT32_MAX - (t[i] - '0')) / 10) {
        e_overflow = true;
      } else {
        e = e * 10 + (t[i] - '0');
      }
      ++i;
    }
    if (e_overflow) {
      // serde_json: zero significand or a negative exponent gives 0, else out of range.
      if (sig != 0 && !exp_negative) {
        return std::nullopt;
      }
      return negative ? -0.0 : 0.0;
    }
    exponent = exp_negative ? exponent - e : exponent + e;
    exponent = std::clamp<std::int64_t>(exponent, INT32_MIN, INT32_MAX); // saturating, as serde
  }
  if (i != t.size()) {
    return std::nullopt;
  }
  double f = static_cast<double>(sig);
  for (;;) {
    const std::uint64_t magnitude = exponent < 0 ? static_cast<std::uint64_t>(-exponent) : static_cast<std::uint64_t>(exponent);
    if (magnitude < k_pow10.size()) {
      if (exponent >= 0) {
        f *= k_pow10[magnitude];
        if (std::isinf(f)) {
          return std::nullopt;
        }
      } else {
        f /= k_pow10[magnitude];
      }
      break;
    }
    if (f == 0.0) {
      break;
    }
    if (exponent >= 0) {
      return std::nullopt;
    }
    f /= 1e308;
    exponent += 308;
  }
  return negative ? -f : f;
}

std::string
parse_error_reason(std::string_view parser_message)
{
  std::string message(parser_message);
  // "[json.exception.parse_error.101] parse error at line 1, column 5: <reason>"
  if (message.rfind("[json.exception.", 0) == 0) {
    if (const auto close = message.find("] "); close != std::string::npos) {
      message.erase(0, close + 2);
    }
  }
  if (message.rfind("parse error at line ", 0) == 0) {
    if (const auto colon = message.find(": "); colon != std::string::npos) {
      message.erase(0, colon + 2);
    }
  }
  return message;
}


// An open container. Objects collect their members here and are assembled on
// end_object: the pairs have a non-const key, so growing this vector moves
// them, where ordered_map's pair<const string, Json> would be copied deeply.
struct JsonBuilder::Frame
{
  Json* node;
  std::vector<std::pair<std::string, Json>> members;
  // For objects with many members: key -> index in members.
  std::unique_ptr<std::unordered_map<std::string, std::size_t>> index;
};

JsonBuilder::JsonBuilder() = default;
JsonBuilder::~JsonBuilder() = default;

bool
JsonBuilder::null()
{
  place(Json(nullptr));
  return true;
}

bool
JsonBuilder::boolean(bool v)
{
  place(Json(v));
  return true;
}

bool
JsonBuilder::number_integer(number_integer_t v)
{
  // nlohmann reads every non-negative integer as unsigned: a signed 0 can
  // only be "-0", which serde_json reads as the float -0.0.
  place(v == 0 ? Json(-0.0) : Json(v));
  return true;
}

bool
JsonBuilder::number_unsigned(number_unsigned_t v)
{
  place(Json(v));
  return true;
}

bool
JsonBuilder::number_float(number_float_t v, const string_t& /*raw*/)
{
  place(Json(v));
  return true;
}

bool
JsonBuilder::string(string_t& v)
{
  place(Json(std::move(v)));
  return true;
}

bool
JsonBuilder::binary(binary_t& v)
{
  place(Json(std::move(v)));
  return true;
}

bool
JsonBuilder::start_object(std::size_t /*n*/)
{
  Json* obj = place(Json::object());
  stack_.push_back({obj, {}, nullptr});
  return true;
}

bool
JsonBuilder::key(string_t& k)
{
  key_ = std::move(k);
  return true;
}

bool
JsonBuilder::end_object()
{
  Frame& f = stack_.back();
  auto& obj = f.node->get_ref<Json::object_t&>();
  obj.reserve(f.members.size()); // no reallocation below: members are moved in once
  for (auto& [k, v] : f.members) {
    obj.emplace_back(std::move(k), std::move(v)); // ordered_map is a vector: no lookups
  }
  stack_.pop_back();
  return true;
}

bool
JsonBuilder::start_array(std::size_t /*n*/)
{
  Json* arr = place(Json::array());
  stack_.push_back({arr, {}, nullptr});
  return true;
}

bool
JsonBuilder::end_array()
{
  stack_.pop_back();
  return true;
}

bool
JsonBuilder::parse_error(std::size_t position, const std::string& /*last_token*/,
                         const nlohmann::detail::exception& ex)
{
  error_position_ = position;
  error_message_ = ex.what();
  error_ = std::make_exception_ptr(ex);
  return false;
}

bool
JsonBuilder::complete() const
{
  return has_root_ && stack_.empty();
}

Json
JsonBuilder::take()
{
  Json out = std::move(root_);
  root_ = Json();
  has_root_ = false;
  stack_.clear();
  return out;
}

// Stores v in the open container (or as the root) and returns where it is.
Json*
JsonBuilder::place(Json v)
{
  // Objects with more members than this get a hash index for key lookups.
  constexpr std::size_t k_linear_limit = 16;
  if (stack_.empty()) {
    root_ = std::move(v);
    has_root_ = true;
    return &root_;
  }
  Frame& top = stack_.back();
  if (top.node->is_array()) {
    auto& arr = top.node->get_ref<Json::array_t&>();
    arr.push_back(std::move(v)); // Json's move is noexcept: growing moves, never copies
    return &arr.back();
  }
  auto& members = top.members;
  if (top.index == nullptr && members.size() < k_linear_limit) {
    for (auto& member : members) {
      if (member.first == key_) {
        member.second = std::move(v); // a repeated key: first position, last value
        return &member.second;
      }
    }
  } else {
    if (top.index == nullptr) {
      top.index = std::make_unique<std::unordered_map<std::string, std::size_t>>();
      for (std::size_t i = 0; i < members.size(); ++i) {
        top.index->emplace(members[i].first, i);
      }
    }
    const auto [it, inserted] = top.index->emplace(key_, members.size());
    if (!inserted) {
      members[it->second].second = std::move(v);
      return &members[it->second].second;
    }
  }
  members.emplace_back(std::move(key_), std::move(v));
  return &members.back().second;
}

namespace {

// "malformed JSON at line L, column C (byte offset B): <parser message>".
[[noreturn]] void
throw_parse_error(std::string_view text, const JsonBuilder& dom, std::string_view what)
{
  const std::size_t offset = std::min(dom.error_position() == 0 ? 0 : dom.error_position() - 1, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const std::string message = parse_error_reason(dom.error_message());
  InvalidArgument error("malformed " + std::string(what) + " at line " + std::to_string(line) +
                        ", column " + std::to_string(offset - line_start + 1) + " (byte offset " +
                        std::to_string(offset) + "): " + message);
  try {
    std::rethrow_exception(dom.error());
  } catch (...) {
    std::throw_with_nested(error);
  }
}

// Throws InvalidArgument for a fault of serde_json's framing at offset (a byte
// order mark, a NUL byte: nlohmann skips the one and stops at the other).
[[noreturn]] void
throw_framing_error(std::string_view text, std::size_t offset, std::string_view what, std::string_view reason)
{
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  throw InvalidArgument("malformed " + std::string(what) + " at line " + std::to_string(line) + ", column " +
                        std::to_string(offset - line_start + 1) + " (byte offset " + std::to_string(offset) +
                        "): " + std::string(reason));
}

} // namespace

void
replay_sax(const Json& root, nlohmann::json_sax<Json>& sax)
{
  struct Frame
  {
    const Json* node;
    std::size_t next;
  };
  std::vector<Frame> stack;
  std::string scratch;
  auto visit = [&](const Json& v) {
    switch (v.type()) {
    case Json::value_t::object:
      sax.start_object(v.size());
      stack.push_back({&v, 0});
      break;
    case Json::value_t::array:
      sax.start_array(v.size());
      stack.push_back({&v, 0});
      break;
    case Json::value_t::string:
      scratch = v.get_ref<const std::string&>();
      sax.string(scratch);
      break;
    case Json::value_t::boolean:
      sax.boolean(v.get<bool>());
      break;
    case Json::value_t::number_integer:
      sax.number_integer(v.get<std::int64_t>());
      break;
    case Json::value_t::number_unsigned:
      sax.number_unsigned(v.get<std::uint64_t>());
      break;
    case Json::value_t::number_float:
      scratch.clear();
      sax.number_float(v.get<double>(), scratch);
      break;
    case Json::value_t::binary:
    case Json::value_t::null:
    case Json::value_t::discarded:
      sax.null();
      break;
    }
  };
  visit(root);
  while (!stack.empty()) {
    const Json* node = stack.back().node;
    const std::size_t i = stack.back().next++;
    if (node->is_object()) {
      const auto& obj = node->get_ref<const Json::object_t&>();
      if (i == obj.size()) {
        stack.pop_back();
        sax.end_object();
        continue;
      }
      const auto& member = *(obj.begin() + static_cast<std::ptrdiff_t>(i));
      scratch = member.first;
      sax.key(scratch);
      visit(member.second);
    } else {
      const auto& arr = node->get_ref<const Json::array_t&>();
      if (i == arr.size()) {
        stack.pop_back();
        sax.end_array();
        continue;
      }
      visit(arr[i]);
    }
  }
}

Json
parse_json(std::string_view text, std::string_view what)
{
  // serde_json's framing, as the validator applies it (validate.cpp): no byte
  // order mark, and a NUL byte is neither whitespace nor the end of the input.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    throw_framing_error(text, 0, what, "expected value (a byte order mark is not allowed)");
  }
  const std::size_t nul = text.find('\0');
  JsonBuilder dom;
  if (!Json::sax_parse(text.data(), text.data() + text.size(), &dom)) {
    if (nul != std::string_view::npos && dom.error_position() > nul) {
      throw_framing_error(text, nul, what, "unexpected NUL byte");
    }
    throw_parse_error(text, dom, what);
  }
  if (nul != std::string_view::npos) {
    throw_framing_error(text, nul, what, "trailing characters (a NUL byte)");
  }
  return dom.take();
}

} // namespace taskstore
