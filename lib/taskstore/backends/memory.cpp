// The memory backend: a std::map per store, guarded by one std::shared_mutex.
//
// `mem://` (or `mem:`) opens a fresh, empty store; `mem://NAME` opens the
// store NAME, shared by every open of that name in this process and kept until
// the process exits. Records are kept in key order (byte-wise), so a prefix
// scan is a range of the map and visits keys in ascending order.

#include "taskstore/backends/memory.hpp"

#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/time.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskstore {

namespace {

// Records copied per lock acquisition by scan and cleanup, and the byte budget
// of one scan batch (so a store of large values is still scanned in bounded memory).
constexpr std::size_t k_batch_records = 512;
constexpr std::size_t k_batch_bytes = 4 * 1024 * 1024;

// The largest version a record can have; a write past it is refused.
constexpr std::uint64_t k_max_version = std::numeric_limits<std::uint64_t>::max();

[[noreturn]] void
throw_at_max(std::string_view key)
{
  throw version_limit_error(key, k_max_version, "the memory backend");
}

struct Entry
{
  std::string data;
  std::uint64_t version = 0;
  // The record's expiresAt, extracted once when it is written.
  std::optional<Timestamp> expires_at;
};

struct Table
{
  std::shared_mutex mutex;
  std::map<std::string, Entry, std::less<>> entries;
};

using EntryMap = std::map<std::string, Entry, std::less<>>;

// Returns the first entry at or after `from` (inclusive) or strictly after it.
EntryMap::iterator
seek(EntryMap& entries, const std::string& from, bool inclusive)
{
  return inclusive ? entries.lower_bound(from) : entries.upper_bound(from);
}

class MemoryBackend final : public StorageBackend
{
public:
  explicit MemoryBackend(std::shared_ptr<Table> table) : m_table(std::move(table)) {}

  VersionedRecord
  get(std::string_view key) override
  {
    split_key(key);
    std::shared_lock lock(m_table->mutex);
    auto it = m_table->entries.find(key);
    if (it == m_table->entries.end()) {
      throw StorageError::not_found(std::string(key));
    }
    return VersionedRecord{it->second.data, it->second.version};
  }

  std::uint64_t
  put(std::string_view key, std::string_view data) override
  {
    split_key(key);
    // Copy and parse outside the lock; only the version bump happens under it.
    std::string bytes(data);
    auto expires_at = extract_expires_at(data);
    std::unique_lock lock(m_table->mutex);
    auto it = m_table->entries.lower_bound(key);
    if (it == m_table->entries.end() || it->first != key) {
      m_table->entries.emplace_hint(it, std::string(key), Entry{std::move(bytes), 1, expires_at});
      return 1;
    }
    Entry& entry = it->second;
    if (entry.version == k_max_version) {
      throw_at_max(key);
    }
    entry.version += 1;
    entry.data = std::move(bytes);
    entry.expires_at = expires_at;
    return entry.version;
  }

  std::uint64_t
  put_if_version(std::string_view key, std::string_view data, std::uint64_t expected) override
  {
    split_key(key);
    if (expected == k_max_version) {
      throw_at_max(key); // the write would give the record version max + 1
    }
    std::string bytes(data);
    auto expires_at = extract_expires_at(data);
    std::unique_lock lock(m_table->mutex);
    auto it = m_table->entries.find(key);
    if (it == m_table->entries.end()) {
      if (expected != 0) {
        throw StorageError::version_conflict(std::string(key), expected, 0);
      }
      // expected 0 matches an absent key: create only if absent.
      m_table->entries.emplace(std::string(key), Entry{std::move(bytes), 1, expires_at});
      return 1;
    }
    Entry& entry = it->second;
    if (entry.version != expected) {
      throw StorageError::version_conflict(std::string(key), expected, entry.version);
    }
    entry.version = expected + 1;
    entry.data = std::move(bytes);
    entry.expires_at = expires_at;
    return entry.version;
  }

  bool
  remove(std::string_view key) override
  {
    split_key(key);
    std::unique_lock lock(m_table->mutex);
    auto it = m_table->entries.find(key);
    if (it == m_table->entries.end()) {
      return false;
    }
    m_table->entries.erase(it);
    return true;
  }

  // The comparison and the erase happen under one exclusive lock, so no write
  // can land between them. Throws version_conflict (actual 0 when absent) or
  // InvalidArgument for expected 0.
  void
  remove_if_version(std::string_view key, std::uint64_t expected) override
  {
    split_key(key);
    check_removal_version(key, expected);
    std::unique_lock lock(m_table->mutex);
    auto it = m_table->entries.find(key);
    const std::uint64_t actual = it == m_table->entries.end() ? 0 : it->second.version;
    if (actual != expected) {
      throw StorageError::version_conflict(std::string(key), expected, actual);
    }
    m_table->entries.erase(it);
  }

  // Visits keys in ascending byte order. The lock is held only while a batch
  // is copied, never while the visitor runs, so the visitor may call back into
  // this store; records written behind the cursor are not seen.
  // No record of this store can be damaged: it holds only what put wrote.
  void
  do_scan(const ScanOptions& options, const ScanVisitor& visit, const DamageVisitor&) override
  {
    const std::string_view prefix = options.prefix;
    // Resuming after a key before the prefix starts at the prefix.
    const bool resume = options.start_after >= options.prefix;
    std::string cursor(resume ? options.start_after : options.prefix);
    bool inclusive = !resume || options.start_after.empty();
    // A scan that wants few records (limit) copies no more than that.
    const std::size_t batch_records =
      options.limit != 0 && options.limit < k_batch_records ? static_cast<std::size_t>(options.limit) : k_batch_records;
    std::vector<std::pair<std::string, VersionedRecord>> batch;
    for (;;) {
      batch.clear();
      if (options.should_stop && options.should_stop()) {
        return;
      }
      {
        std::shared_lock lock(m_table->mutex);
        std::size_t bytes = 0;
        for (auto it = seek(m_table->entries, cursor, inclusive);
             it != m_table->entries.end() && it->first.starts_with(prefix) &&
             batch.size() < batch_records && bytes < k_batch_bytes;
             ++it) {
          bytes += it->first.size() + (options.keys_only ? 0 : it->second.data.size());
          batch.emplace_back(it->first, options.keys_only ? VersionedRecord{}
                                                          : VersionedRecord{it->second.data, it->second.version});
        }
      }
      if (batch.empty()) {
        return;
      }
      for (const auto& [key, record] : batch) {
        if (!visit(key, record)) {
          return;
        }
      }
      cursor = std::move(batch.back().first);
      inclusive = false;
    }
  }

  std::string_view
  name() const override
  {
    return "memory";
  }

  // A scan with start_after is a map lookup (seek).
  bool
  seeks_in_key_order() const override
  {
    return true;
  }

protected:
  // Judges records in batches under the shared lock (the shared
  // CleanupDriver), then removes each one under the exclusive lock only if
  // its version is still the one judged.
  std::size_t
  do_cleanup_expired(const CleanupOptions& options) override
  {
    CleanupDriver driver(options, [this](std::vector<ExpiredRecord>& records) {
      std::unique_lock lock(m_table->mutex);
      std::erase_if(records, [&](const ExpiredRecord& r) {
        auto found = m_table->entries.find(r.key);
        if (found == m_table->entries.end() || found->second.version != r.version) {
          return true; // removed or rewritten meanwhile: not ours to remove
        }
        m_table->entries.erase(found);
        return false;
      });
    });
    std::string cursor = options.prefix;
    bool inclusive = true;
    for (;;) {
      bool more = false;
      {
        std::shared_lock lock(m_table->mutex);
        auto it = seek(m_table->entries, cursor, inclusive);
        for (std::size_t seen = 0; it != m_table->entries.end() && it->first.starts_with(options.prefix);
             ++it, ++seen) {
          if (seen == k_batch_records) {
            more = true;
            break;
          }
          cursor = it->first;
          inclusive = false;
          driver.offer_expiry(it->first, it->second.version, it->second.expires_at);
        }
      }
      driver.flush();
      if (!more || driver.stop_requested()) {
        return driver.removed();
      }
    }
  }

private:
  std::shared_ptr<Table> m_table;
};

// Returns the process-wide store called `name`, creating it on first use.
std::shared_ptr<Table>
named_table(const std::string& name)
{
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<Table>> tables;
  std::lock_guard lock(mutex);
  auto& table = tables[name];
  if (!table) {
    table = std::make_shared<Table>();
  }
  return table;
}

} // namespace

// Opens `mem://` (a fresh store) or `mem://NAME` (the process-wide store NAME).
// Throws InvalidArgument for query parameters, credentials, a port or a path.
std::unique_ptr<StorageBackend>
open_memory(const StoreUri& uri, const OpenOptions& /*options*/)
{
  uri.require_params({});
  if (!uri.user.empty() || uri.password || uri.port || (!uri.path.empty() && uri.path != "/")) {
    throw InvalidArgument("invalid memory store URI '" + uri.redacted() +
                          "': expected mem:// (a fresh store) or mem://NAME (a store shared in this process)");
  }
  if (uri.host.empty()) {
    return std::make_unique<MemoryBackend>(std::make_shared<Table>());
  }
  return std::make_unique<MemoryBackend>(named_table(uri.host));
}

} // namespace taskstore
