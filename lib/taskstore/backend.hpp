#pragma once
// The storage contract: a dumb versioned key-value store (DESIGN.md "The
// storage contract"). Domain logic never lives in a backend. Every operation
// throws StorageError (or InvalidArgument for a malformed key); nothing from a
// client library escapes.

#include "taskstore/time.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore {

// data: the stored bytes (TaskRecord JSON, but any bytes are kept as given).
// version: per-key counter; 1 on creation, +1 on every write.
struct VersionedRecord
{
  std::string data;
  std::uint64_t version = 0;
  bool operator==(const VersionedRecord&) const = default;
};

struct KeyedRecord
{
  std::string key;
  VersionedRecord record;
};

// Called for each record of a scan; return false to stop the scan early.
using ScanVisitor = std::function<bool(const std::string& key, const VersionedRecord& record)>;

struct CleanupOptions
{
  // Only keys starting with this prefix ("" = every owner).
  std::string prefix;
  // Report what would be removed without removing anything.
  bool dry_run = false;
  // The instant expiry is judged against (strictly later than expiresAt).
  Timestamp now = now_utc();
  // Called for each record removed (or, on a dry run, that would be removed).
  std::function<void(const std::string& key, std::uint64_t version, Timestamp expires_at)> on_removed;
};

class StorageBackend
{
public:
  virtual ~StorageBackend() = default;
  StorageBackend() = default;
  StorageBackend(const StorageBackend&) = delete;
  StorageBackend& operator=(const StorageBackend&) = delete;

  // Returns the bytes and current version, expired or not.
  // Throws StorageError not_found when the key is absent.
  virtual VersionedRecord get(std::string_view key) = 0;

  // Unconditional, atomic write: a new key gets version 1, an existing key
  // current+1; two racing puts never get the same version. Returns the version.
  virtual std::uint64_t put(std::string_view key, std::string_view data) = 0;

  // CAS: writes only when the current version equals expected and returns
  // expected+1. Otherwise throws version_conflict{expected, actual} with the
  // real current version, 0 when the key does not exist.
  // expected == 0 therefore means "create only if absent" (atomically; the new
  // record gets version 1) — an extension: pmcp-tasks never passes 0.
  virtual std::uint64_t put_if_version(std::string_view key, std::string_view data,
                                       std::uint64_t expected) = 0;

  // Returns true when the key existed and was removed, false otherwise.
  virtual bool remove(std::string_view key) = 0;

  // Streams every record whose key starts with prefix ("" = every owner), in
  // batches, in constant memory. Expired records are included. Order is the
  // backend's (documented per backend); each key is visited at most once.
  virtual void scan(std::string_view prefix, const ScanVisitor& visit) = 0;

  // Every (key, record) whose key starts with prefix; built on scan.
  virtual std::vector<KeyedRecord> list_by_prefix(std::string_view prefix);

  // Removes every record whose expiresAt has passed (strictly) and any backend
  // debris (e.g. orphaned index entries). Returns how many records were removed
  // (or would be, on a dry run). A record rewritten meanwhile is not removed.
  std::size_t cleanup_expired() { return do_cleanup_expired(CleanupOptions{}); }
  std::size_t cleanup_expired(const CleanupOptions& options) { return do_cleanup_expired(options); }

  // The scheme-level name of this backend ("memory", "sqlite", "redis", "dynamodb").
  virtual std::string_view name() const = 0;

protected:
  virtual std::size_t do_cleanup_expired(const CleanupOptions& options) = 0;
};

} // namespace taskstore
