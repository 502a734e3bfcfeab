#pragma once
// The DynamoDB backend's item layout (private to the backend, facts §5.3):
// PK "OWNER#{owner}", SK "TASK#{task}", data S, version N, expires_at N; and
// reading the items of a GetItem / Query / Scan response back into records.
// Pure functions of the response JSON (no network), fuzzed as they are.

#include "taskstore/backend.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskstore::dynamodb_detail {

inline constexpr std::string_view pk_prefix = "OWNER#";
inline constexpr std::string_view sk_prefix = "TASK#";

// The S value of attribute name, if the item has one that is a string.
const std::string* string_attribute(const nlohmann::json& item, const char* name);

// The N value of attribute name as a u64, if it has one that is.
std::optional<std::uint64_t> version_attribute(const nlohmann::json& item, const char* name = "version");

// The composite key of an item in our layout, or nullopt for any other item
// (including an owner id with ':', which no key can address).
std::optional<std::string> key_of(const nlohmann::json& item);

// One item of a response, as a listing sees it.
struct ListedItem
{
  std::optional<std::string> key;        // nullopt: not an item of this layout (skipped, as the anchor)
  std::optional<VersionedRecord> record; // set when its version and data are readable
  std::string damage;                    // set when it is ours but damaged: why
};

// Reads an item (any JSON value: a response is not trusted): ours or not;
// readable, or damaged when its version is not an N from 1 to u64 max or its
// data is not an S. Never throws.
ListedItem read_listed_item(const nlohmann::json& item);

} // namespace taskstore::dynamodb_detail
