#pragma once
// Record keys: "{owner_id}:{task_id}", split at the first ':' (facts §4).

#include <optional>
#include <string>
#include <string_view>

namespace taskstore {

struct KeyParts
{
  std::string owner_id;
  std::string task_id;
};

// Returns owner + ":" + task_id. Throws InvalidArgument when owner_id is
// empty or contains ':' (such an owner would leak into another owner's
// listings, facts §11.13). Unlike the anchor, "" is no owner: an unset
// variable must never look like one.
std::string make_key(std::string_view owner_id, std::string_view task_id);

// Returns owner + ":". Throws InvalidArgument when owner_id is empty or
// contains ':'. A prefix of every owner is "", never make_prefix("").
std::string make_prefix(std::string_view owner_id);

// Splits at the first ':'; "o:t:x" -> {"o", "t:x"}. Returns nullopt when the
// key has no ':'.
std::optional<KeyParts> parse_key(std::string_view key);

// Like parse_key, but throws InvalidArgument ("invalid key format (missing
// ':'): KEY") when the key has no ':'. Backends call this on every key.
KeyParts split_key(std::string_view key);

} // namespace taskstore
