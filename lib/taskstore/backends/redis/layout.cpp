#include "taskstore/backends/redis/layout.hpp"

#include "taskstore/error.hpp"

#include <charconv>
#include <system_error>

namespace taskstore::redis_detail {

std::optional<std::string>
Layout::composite_of(const std::string& hash, std::string_view prefix) const
{
  if (!std::string_view(hash).starts_with(tasks_)) {
    return std::nullopt;
  }
  std::string key = hash.substr(tasks_.size());
  if (key.find(':') == std::string::npos || !std::string_view(key).starts_with(prefix)) {
    return std::nullopt;
  }
  return key;
}

std::optional<std::string>
namespace_of(std::string_view hash)
{
  constexpr std::string_view tasks = ":tasks:";
  for (std::size_t at = hash.find(tasks); at != std::string_view::npos; at = hash.find(tasks, at + 1)) {
    if (hash.find(':', at + tasks.size()) != std::string_view::npos) {
      return std::string(hash.substr(0, at));
    }
  }
  return std::nullopt;
}

std::string
glob_escape(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

std::optional<std::uint64_t>
parse_version(std::string_view text)
{
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return v;
}

std::uint64_t
version_of(Connection& c, const redisReply* r, const std::string& key)
{
  if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0) {
    return static_cast<std::uint64_t>(r->integer);
  }
  if (r->type == REDIS_REPLY_STRING) {
    if (auto v = parse_version(reply_text(r))) {
      return *v;
    }
  }
  c.fail("invalid version in the reply for key " + key, key);
}

Fetched
read_fetched(const redisReply* r, const std::string& key)
{
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0] == nullptr ||
      r->element[1] == nullptr) {
    throw StorageError::backend("unexpected reply to HMGET for key " + key);
  }
  const redisReply* version = r->element[0];
  const redisReply* data = r->element[1];
  if (version->type == REDIS_REPLY_NIL && data->type == REDIS_REPLY_NIL) {
    return {};
  }
  Fetched out;
  if (version->type != REDIS_REPLY_STRING) {
    out.damage = "the hash has no version field";
    return out;
  }
  const std::string_view text = reply_text(version);
  const auto v = parse_version(text);
  if (!v || *v == 0) {
    std::string shown(text.substr(0, 40));
    if (text.size() > 40) {
      shown += "...";
    }
    out.damage = "the version field is \"" + shown + "\", not an integer from 1 to 18446744073709551615";
    return out;
  }
  if (data->type != REDIS_REPLY_STRING) {
    out.damage = "the hash has no data field";
    return out;
  }
  out.record = VersionedRecord{std::string(reply_text(data)), *v};
  return out;
}

} // namespace taskstore::redis_detail
