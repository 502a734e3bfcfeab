#pragma once
// The Redis backend's data layout (private to backends/redis/), pmcp-tasks'
// (facts §5.2):
//
//   {prefix}:tasks:{owner}:{task}  hash: version (decimal), data (record JSON),
//                                  expires_at (epoch seconds, floor of expiresAt;
//                                  only when the record expires)
//   {prefix}:idx:{owner}           sorted set: member task id, score createdAt in
//                                  epoch ms (0 when unparsable)
//
// and the reading of a record hash out of an HMGET version data reply.

#include "taskstore/backend.hpp"
#include "taskstore/backends/redis/connection.hpp"
#include "taskstore/key.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskstore::redis_detail {

// The key names under one store prefix.
class Layout
{
public:
  explicit Layout(const std::string& prefix) : tasks_(prefix + ":tasks:"), index_(prefix + ":idx:") {}

  // "{prefix}:tasks:" and "{prefix}:idx:".
  const std::string& tasks_prefix() const { return tasks_; }
  const std::string& index_prefix() const { return index_; }

  std::string hash_key(std::string_view owner, std::string_view task) const
  {
    std::string k;
    k.reserve(tasks_.size() + owner.size() + 1 + task.size());
    k.append(tasks_).append(owner).append(1, ':').append(task);
    return k;
  }
  std::string hash_key(const KeyParts& p) const { return hash_key(p.owner_id, p.task_id); }
  std::string index_key(std::string_view owner) const { return index_ + std::string(owner); }

  // The composite key "owner:task" of a hash key found by SCAN, or nullopt
  // for a key that is not a record key (no ':' after the task prefix) or
  // does not start with prefix.
  std::optional<std::string> composite_of(const std::string& hash, std::string_view prefix) const;

private:
  std::string tasks_;
  std::string index_;
};

// The store prefix of a record hash key of any prefix ("other" for
// "other:tasks:alice:t1"): the text before the first ":tasks:" that is
// followed by OWNER:TASK; nullopt for a key of no such shape.
std::optional<std::string> namespace_of(std::string_view hash);

// Returns text with the glob characters of SCAN MATCH (* ? [ ] \) escaped.
std::string glob_escape(std::string_view text);

// A stored version: decimal digits only (leading zeros allowed), within u64.
std::optional<std::uint64_t> parse_version(std::string_view text);

// The version carried in a script's reply (string or integer). Throws
// StorageError backend (via c.fail) for anything else.
std::uint64_t version_of(Connection& c, const redisReply* r, const std::string& key);

// What HMGET version data found for one record hash.
struct Fetched
{
  std::optional<VersionedRecord> record; // set when its fields are readable
  std::string damage;                    // set when the hash exists but is damaged: why
  bool gone() const { return !record && damage.empty(); }
};

// Reads the reply to HMGET hash version data: the record; gone (both fields
// nil); or damaged, with the reason, for a hash without a version that is
// all digits from 1 to u64 max, or without data. Throws StorageError backend
// for a reply of any other shape. Needs no connection (fuzzed as it is).
Fetched read_fetched(const redisReply* r, const std::string& key);

// The damage of a hash whose HMGET failed with WRONGTYPE (the key holds
// another Redis type).
inline constexpr std::string_view not_a_hash = "the key holds another Redis type than a hash (WRONGTYPE)";

} // namespace taskstore::redis_detail
