#include "taskstore/transfer.hpp"

#include "taskstore/json/parse.hpp"
#include "taskstore/json/peek.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/key.hpp"
#include "taskstore/text.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>

namespace taskstore {

namespace {

// Records nested deeper than this are carried base64, so that reading a line
// back (one tree of the line) stays within the JSON parser's recursion limit.
constexpr std::size_t k_inline_depth = 100;

constexpr std::string_view k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Whether the stored bytes can be written inline: one JSON value on one
// line, at most k_inline_depth levels deep (peek's is_json_line: one pass,
// where nlohmann's acceptor, a depth scan and a line-break search took
// three, ~40,000 instructions for a 330-byte record).
bool
inline_json(std::string_view data)
{
  return is_json_line(data, k_inline_depth);
}

} // namespace

bool
is_json_text(std::string_view text)
{
  try {
    return nlohmann::json::accept(text.begin(), text.end());
  } catch (...) {
    return false;
  }
}

void
append_export_line(std::string& out, std::string_view key, const VersionedRecord& record)
{
  out += "{\"key\":";
  if (!check_utf8(key)) {
    append_serde_string(out, key);
  } else {
    out += to_display_json(Json(std::string(key))); // (never the case for keys a backend wrote)
  }
  out += ",\"version\":";
  out += std::to_string(record.version);
  if (inline_json(record.data)) {
    out += ",\"record\":";
    out += record.data;
  } else {
    out += ",\"data_b64\":\"";
    out += base64_encode(record.data);
    out += '"';
  }
  out += '}';
}

ParsedExportLine
parse_export_line(std::string_view line)
{
  // One forward scan of the line's members: the record's text is kept as
  // written (it is the stored bytes) and checked later as a record; no
  // tree of the line is built.
  ParsedExportLine out;
  std::optional<std::string_view> key, version, record, b64;
  std::string duplicate;
  const bool object = peek_object_members(line, [&](std::string_view name, std::string_view value) {
    std::optional<std::string_view>* slot = name == "key"        ? &key
                                            : name == "version"  ? &version
                                            : name == "record"   ? &record
                                            : name == "data_b64" ? &b64
                                                                 : nullptr;
    if (slot != nullptr) {
      if (slot->has_value()) {
        duplicate = std::string(name);
      }
      *slot = value;
    }
    return true;
  });
  if (!object) {
    // The scan trusts its input; name the syntax error as the parser sees it.
    try {
      (void)parse_json(line);
      out.error = "not a JSON object";
    } catch (const std::exception& e) {
      out.error = std::string("not JSON: ") + e.what();
    }
    return out;
  }
  if (!duplicate.empty()) {
    out.error = "\"" + duplicate + "\" appears twice";
    return out;
  }
  ExportedRecord r;
  auto key_text = key ? peek_string(*key) : std::nullopt;
  if (!key_text) {
    out.error = "no \"key\" string";
    return out;
  }
  r.key = std::move(*key_text);
  if (check_utf8(r.key)) {
    out.error = "the key is not UTF-8";
    return out;
  }
  const auto parts = parse_key(r.key);
  if (!parts || parts->owner_id.empty() || parts->task_id.empty()) {
    out.error = "the key is not OWNER:TASK_ID with neither part empty";
    return out;
  }
  if (version) {
    const auto [end, ec] = std::from_chars(version->data(), version->data() + version->size(), r.version);
    if (ec != std::errc() || end != version->data() + version->size() || r.version == 0) {
      out.error = "\"version\" is not a positive integer";
      return out;
    }
  }
  if (record.has_value() == b64.has_value()) {
    out.error = record ? "both \"record\" and \"data_b64\"" : "neither \"record\" nor \"data_b64\"";
    return out;
  }
  if (record) {
    r.data = std::string(*record);
    r.inline_record = true;
  } else {
    auto text = peek_string(*b64);
    auto decoded = text ? base64_decode(*text) : std::nullopt;
    if (!decoded) {
      out.error = "\"data_b64\" is not a base64 string";
      return out;
    }
    r.data = std::move(*decoded);
  }
  out.record = std::move(r);
  return out;
}

std::string
base64_encode(std::string_view bytes)
{
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += k_alphabet[v >> 18];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
    out += k_alphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) {
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    }
    out += k_alphabet[v >> 18];
    out += k_alphabet[(v >> 12) & 63];
    out += rest == 2 ? k_alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string>
base64_decode(std::string_view text)
{
  static const std::array<int, 256> value = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    for (std::size_t i = 0; i < k_alphabet.size(); ++i) {
      t[static_cast<unsigned char>(k_alphabet[i])] = static_cast<int>(i);
    }
    return t;
  }();
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + static_cast<std::size_t>(j)];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0 || (v[j] = value[static_cast<unsigned char>(c)]) < 0) {
        return std::nullopt; // a letter after padding, or not base64
      }
    }
    const std::uint32_t n = static_cast<std::uint32_t>(v[0]) << 18 | static_cast<std::uint32_t>(v[1]) << 12 |
                            static_cast<std::uint32_t>(v[2]) << 6 | static_cast<std::uint32_t>(v[3]);
    out += static_cast<char>(n >> 16);
    if (pad < 2) {
      out += static_cast<char>((n >> 8) & 0xff);
    }
    if (pad < 1) {
      out += static_cast<char>(n & 0xff);
    }
  }
  return out;
}

} // namespace taskstore
