#include "taskstore/backends/dynamodb_items.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace taskstore::dynamodb_detail {

using nlohmann::json;

const std::string*
string_attribute(const json& item, const char* name)
{
  if (!item.is_object()) {
    return nullptr;
  }
  const auto it = item.find(name);
  if (it == item.end() || !it->is_object()) {
    return nullptr;
  }
  const auto s = it->find("S");
  return s != it->end() && s->is_string() ? s->get_ptr<const std::string*>() : nullptr;
}

std::optional<std::uint64_t>
version_attribute(const json& item, const char* name)
{
  if (!item.is_object()) {
    return std::nullopt;
  }
  const auto it = item.find(name);
  if (it == item.end() || !it->is_object()) {
    return std::nullopt;
  }
  const auto n = it->find("N");
  if (n == it->end() || !n->is_string()) {
    return std::nullopt;
  }
  const auto& text = n->get_ref<const std::string&>();
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::string>
key_of(const json& item)
{
  const std::string* pk = string_attribute(item, "PK");
  const std::string* sk = string_attribute(item, "SK");
  if (pk == nullptr || sk == nullptr || pk->rfind(pk_prefix, 0) != 0 || sk->rfind(sk_prefix, 0) != 0) {
    return std::nullopt;
  }
  std::string key = pk->substr(pk_prefix.size());
  if (key.find(':') != std::string::npos) {
    return std::nullopt; // no key of ours names it: "a:b:t" is owner "a", task "b:t"
  }
  key.push_back(':');
  key.append(*sk, sk_prefix.size());
  return key;
}

namespace {

// How attribute name of item is shown in a damage reason: its JSON, cut at 60 bytes.
std::string
shown_attribute(const json& item, const char* name)
{
  const auto it = item.find(name);
  if (it == item.end()) {
    return "missing";
  }
  std::string text = it->dump(-1, ' ', true, json::error_handler_t::replace);
  if (text.size() > 60) {
    text = text.substr(0, 60) + "...";
  }
  return text;
}

} // namespace

ListedItem
read_listed_item(const json& item)
{
  ListedItem out;
  out.key = key_of(item);
  if (!out.key) {
    return out;
  }
  const auto version = version_attribute(item);
  if (!version || *version == 0) {
    out.damage = "the version attribute is " + shown_attribute(item, "version") +
                 ", not a number from 1 to 18446744073709551615";
    return out;
  }
  const std::string* data = string_attribute(item, "data");
  if (data == nullptr) {
    out.damage = "the data attribute is " + shown_attribute(item, "data") + ", not a string";
    return out;
  }
  out.record = VersionedRecord{*data, *version};
  return out;
}

} // namespace taskstore::dynamodb_detail
