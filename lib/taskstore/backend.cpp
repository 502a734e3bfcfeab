#include "taskstore/backend.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

namespace taskstore {

void
StorageBackend::scan(const ScanOptions& options, const ScanVisitor& visit, const DamageVisitor& damaged)
{
  if (options.limit == 0 && !options.should_stop) {
    do_scan(options, visit, damaged);
    return;
  }
  // The limit and the stop condition hold for every backend: each visit is
  // counted and preceded by a poll here; the backend polls between batches.
  std::uint64_t visited = 0;
  bool stopped = false;
  ScanOptions bounded = options;
  bounded.should_stop = [&] {
    if (!stopped && options.should_stop && options.should_stop()) {
      stopped = true;
    }
    return stopped || (options.limit != 0 && visited >= options.limit);
  };
  const auto proceed = [&] {
    if (bounded.should_stop()) {
      return false;
    }
    ++visited;
    return true;
  };
  const ScanVisitor counted = [&](const std::string& key, const VersionedRecord& record) {
    return proceed() && visit(key, record) && (options.limit == 0 || visited < options.limit);
  };
  DamageVisitor counted_damage;
  if (damaged) {
    counted_damage = [&](const DamagedRecord& record) {
      return proceed() && damaged(record) && (options.limit == 0 || visited < options.limit);
    };
  }
  do_scan(bounded, counted, counted_damage);
}

std::vector<KeyedRecord>
StorageBackend::list_by_prefix(std::string_view prefix)
{
  std::vector<KeyedRecord> out;
  scan(prefix, [&](const std::string& key, const VersionedRecord& record) {
    out.push_back(KeyedRecord{key, record});
    return true;
  });
  return out;
}

std::vector<BatchResult>
StorageBackend::put_batch(const std::vector<BatchWrite>& writes)
{
  std::vector<BatchResult> out(writes.size());
  for (std::size_t i = 0; i < writes.size(); ++i) {
    try {
      out[i].version = writes[i].if_absent ? put_if_version(writes[i].key, writes[i].data, 0)
                                           : put(writes[i].key, writes[i].data);
    } catch (const StorageError& e) {
      if (writes[i].if_absent && e.kind() == StorageErrorKind::version_conflict) {
        continue; // present: nothing written (version 0)
      }
      out[i].error = std::current_exception();
    } catch (const InvalidArgument&) {
      out[i].error = std::current_exception();
    }
  }
  return out;
}

// ---------------------------------------------------------------- cleanup

CleanupDriver::CleanupDriver(const CleanupOptions& options, RemoveUnchanged remove_unchanged)
  : m_options(options), m_remove(std::move(remove_unchanged))
{
}

bool
CleanupDriver::offer(std::string_view key, std::uint64_t version, std::string_view data)
{
  return offer_expiry(key, version, extract_expires_at(data));
}

bool
CleanupDriver::offer_expiry(std::string_view key, std::uint64_t version, std::optional<Timestamp> expires_at)
{
  if (!is_expired_at(expires_at, m_options.now) || m_removed + m_pending.size() >= m_options.max) {
    return false;
  }
  m_pending.push_back(ExpiredRecord{std::string(key), version, *expires_at});
  return true;
}

std::size_t
CleanupDriver::flush()
{
  if (m_pending.empty()) {
    return 0;
  }
  if (!m_options.dry_run) {
    m_remove(m_pending);
  }
  const std::size_t n = m_pending.size();
  m_removed += n;
  if (m_options.on_removed) {
    for (const auto& r : m_pending) {
      m_options.on_removed(r.key, r.version, r.expires_at);
    }
  }
  m_pending.clear();
  return n;
}

// ---------------------------------------------------------------- prefixes

std::uint64_t
remove_prefix(StorageBackend& store, std::string_view prefix, const RemovePrefixOptions& options)
{
  const auto stop = [&] { return options.should_stop && options.should_stop(); };
  const std::size_t batch_size = options.batch == 0 ? 1 : options.batch;
  std::uint64_t removed = 0;
  std::vector<std::pair<std::string, std::uint64_t>> batch;
  while (removed < options.max && !stop()) {
    batch.clear();
    store.scan(
      prefix,
      [&](const std::string& key, const VersionedRecord& record) {
        batch.emplace_back(key, record.version);
        return batch.size() < batch_size && !stop();
      },
      [&](const DamagedRecord& damaged) {
        batch.emplace_back(damaged.key, 0);
        return batch.size() < batch_size && !stop();
      });
    std::uint64_t removed_now = 0;
    for (const auto& [key, version] : batch) {
      if (removed >= options.max || stop()) {
        break;
      }
      if (store.remove(key)) {
        ++removed;
        ++removed_now;
        if (options.on_removed) {
          options.on_removed(key, version);
        }
      }
    }
    if (removed_now == 0) {
      break; // nothing left that can be removed (or only stale listings)
    }
  }
  return removed;
}

void
check_removal_version(std::string_view key, std::uint64_t expected)
{
  if (expected == 0) {
    throw InvalidArgument("invalid expected version 0 for the conditional delete of key " + std::string(key) +
                          ": no record has version 0");
  }
}

StorageError
version_limit_error(std::string_view key, std::uint64_t max_version, std::string_view where)
{
  return StorageError::capacity_exceeded("key " + std::string(key) + " is at the maximum version " +
                                         std::to_string(max_version) + " of " + std::string(where) +
                                         "; the write would overflow it, nothing was written");
}

StorageError
damaged_record_error(const DamagedRecord& record, std::string_view where)
{
  return StorageError::backend("record " + record.key + " in " + std::string(where) + " is damaged: " + record.reason);
}

namespace {

// The owner part of a key (all of it when it has no ':', which no backend stores).
std::string
owner_of(const std::string& key)
{
  return key.substr(0, key.find(':'));
}

// Whether owner a's keys come before owner b's: a + ":" < b + ":" as bytes
// (neither holds a ':').
struct OwnerKeyLess
{
  bool
  operator()(std::string_view a, std::string_view b) const
  {
    const std::size_t n = std::min(a.size(), b.size());
    if (const int c = a.substr(0, n).compare(b.substr(0, n)); c != 0) {
      return c < 0;
    }
    if (a.size() == b.size()) {
      return false;
    }
    return a.size() < b.size() ? ':' < static_cast<unsigned char>(b[n]) : static_cast<unsigned char>(a[n]) < ':';
  }
};

} // namespace

OwnerListResult
list_owners(StorageBackend& store, std::string_view prefix, const OwnerVisitor& visit,
            const OwnerListOptions& options)
{
  OwnerListResult result;
  const auto stop = [&] {
    if (!result.stopped && options.should_stop && options.should_stop()) {
      result.stopped = true;
    }
    return result.stopped;
  };
  ScanOptions scan;
  scan.prefix = prefix;
  scan.keys_only = true;
  scan.should_stop = stop;
  std::uint64_t given = 0;

  if (store.seeks_in_key_order()) {
    // Skip from one owner to the next: the first key after "OWNER;" is the
    // first key of the next owner, since every key of OWNER is "OWNER:..."
    // and ':' + 1 is ';'.
    scan.key_order = true;
    scan.limit = 1;
    for (;;) {
      std::optional<std::string> found;
      store.scan(
        scan,
        [&](const std::string& key, const VersionedRecord&) {
          found = key;
          return false;
        },
        [&](const DamagedRecord& record) {
          found = record.key;
          return false;
        });
      if (!found || result.stopped) {
        return result;
      }
      ++result.keys_read;
      std::string owner = owner_of(*found);
      scan.start_after = owner + ';';
      if (owner.empty()) {
        continue;
      }
      if (!visit(owner) || (options.limit != 0 && ++given >= options.limit)) {
        return result;
      }
    }
  }

  // No cheap seek: one walk of the keys, the owners kept in order (with a
  // limit, only the smallest ones: memory stays within the limit).
  std::set<std::string, OwnerKeyLess> owners;
  const auto keep = [&](const std::string& key) {
    ++result.keys_read;
    std::string owner = owner_of(key);
    if (owner.empty()) {
      return true;
    }
    if (options.limit == 0 || owners.size() < options.limit) {
      owners.insert(std::move(owner));
    } else if (OwnerKeyLess{}(owner, *owners.rbegin()) && owners.insert(std::move(owner)).second) {
      owners.erase(std::prev(owners.end()));
    }
    return true;
  };
  store.scan(
    scan, [&](const std::string& key, const VersionedRecord&) { return keep(key); },
    [&](const DamagedRecord& record) { return keep(record.key); });
  for (const std::string& owner : owners) {
    if (!visit(owner)) {
      break;
    }
  }
  return result;
}

std::uint64_t
count_prefix(StorageBackend& store, std::string_view prefix, const std::function<bool()>& should_stop)
{
  std::uint64_t count = 0;
  const auto counted = [&] {
    ++count;
    return !(should_stop && should_stop());
  };
  store.scan(
    prefix, [&](const std::string&, const VersionedRecord&) { return counted(); },
    [&](const DamagedRecord&) { return counted(); });
  return count;
}

} // namespace taskstore
