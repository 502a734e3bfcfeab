// Fuzz target: the DynamoDB response reader. The bytes are the JSON body of a
// GetItem ({"Item": {...}}), Query or Scan ({"Items": [...], ...}) response;
// each item goes to the backend's reading of an item (dynamodb_detail::read_item,
// key_of, version_attribute, string_attribute). The whole document and each
// value of it are tried as an item too: a response is not trusted.
//
// Properties: nothing throws; an item is either not ours (no key), ours and
// readable (a record), or ours and damaged (a reason), never two of these; a
// record's key is key_of(item), its version version_attribute(item) (1 to u64
// max) and its data the S value of "data"; a key is "owner:task" with the owner
// and task of PK "OWNER#owner" and SK "TASK#task" and no ':' in the owner.

#include "fuzz_support.hpp"

#include "taskstore/backends/dynamodb_items.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

using taskctl_fuzz::check;
using taskctl_fuzz::fail;
namespace dd = taskstore::dynamodb_detail;

namespace {

void
check_item(const nlohmann::json& item)
{
  dd::ListedItem listed;
  std::optional<std::string> key;
  std::optional<std::uint64_t> version;
  const std::string* data = nullptr;
  try {
    listed = dd::read_listed_item(item);
    key = dd::key_of(item);
    version = dd::version_attribute(item);
    data = dd::string_attribute(item, "data");
    (void)dd::string_attribute(item, "PK");
    (void)dd::version_attribute(item, "expires_at");
  } catch (const std::exception& e) {
    fail("the DynamoDB item reader threw", e.what());
  }
  check(listed.key == key, "read_listed_item's key is not key_of(item)");
  if (!listed.key) {
    check(!listed.record && listed.damage.empty(), "an item not ours is read as a record or as damaged");
    return;
  }
  check(listed.record.has_value() != !listed.damage.empty(), "an item of ours is not exactly one of record, damaged");
  const std::string& k = *listed.key;
  const auto colon = k.find(':');
  check(colon != std::string::npos, "a key without ':'", k);
  const std::string* pk = dd::string_attribute(item, "PK");
  const std::string* sk = dd::string_attribute(item, "SK");
  check(pk != nullptr && sk != nullptr, "a key from an item without PK and SK strings", k);
  check(*pk == std::string(dd::pk_prefix) + k.substr(0, colon), "the key's owner is not PK's", k);
  check(*sk == std::string(dd::sk_prefix) + k.substr(colon + 1), "the key's task is not SK's", k);
  if (listed.record) {
    check(version.has_value() && *version >= 1 && listed.record->version == *version,
          "a record whose version is not the item's N from 1", k);
    check(data != nullptr && listed.record->data == *data, "a record whose data is not the item's S", k);
  } else {
    check(!(version && *version >= 1 && data != nullptr), "damaged, yet version and data are readable",
          listed.damage);
  }
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const nlohmann::json doc = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (doc.is_discarded()) {
    return 0;
  }
  check_item(doc);
  if (doc.is_object()) {
    if (const auto it = doc.find("Item"); it != doc.end()) {
      check_item(*it);
    }
    for (const char* list : {"Items", "Responses"}) {
      if (const auto it = doc.find(list); it != doc.end() && it->is_array()) {
        for (const auto& item : *it) {
          check_item(item);
        }
      }
    }
    for (const auto& [name, value] : doc.items()) {
      check_item(value);
    }
  } else if (doc.is_array()) {
    for (const auto& item : doc) {
      check_item(item);
    }
  }
  return 0;
}
