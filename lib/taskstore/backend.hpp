#pragma once
// The storage contract: a dumb versioned key-value store (DESIGN.md "The
// storage contract"). Domain logic never lives in a backend. Every operation
// throws StorageError (or InvalidArgument for a malformed key); nothing from a
// client library escapes.

#include "taskstore/error.hpp"
#include "taskstore/json/peek.hpp"
#include "taskstore/time.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
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

// A record a walk found but cannot read: its version or data is missing or
// not what a backend writes (another writer left a Redis hash with version
// "abc", an item without data, a row whose version is not a positive integer).
// Such a record is never given to a ScanVisitor nor judged by a cleanup; the
// walk reports it and goes on.
struct DamagedRecord
{
  std::string key;
  std::string reason; // e.g. "the version field is \"abc\", not a positive integer"
};

// Called for each damaged record of a scan; return false to stop the scan.
using DamageVisitor = std::function<bool(const DamagedRecord& record)>;

// What a scan walks and how.
//
// The order of a scan is the backend's, and each documents it: memory and
// SQLite give key order (bytes, as memcmp); DynamoDB gives one owner's records
// in task-id order (Query) and the whole table in its Scan order, which is
// stable between scans; Redis gives one owner's records in its index order
// (createdAt, then task id) and the whole store in SCAN order, and key order
// (as memcmp) when key_order or start_after is set.
struct ScanOptions
{
  // Only keys starting with this text ("" = every owner).
  std::string prefix;
  // Resume a listing: only the records after this key in the scan's order
  // (the key need not exist any more). With it, records present for the
  // whole walk are each visited once across the pages; one written meanwhile
  // is visited at most once.
  std::string start_after;
  // Ask for an order a later scan can resume with start_after (Redis: key
  // order, one SCAN of the keys per 5,000 records; the others already give one).
  bool key_order = false;
  // The visitor needs only the keys: the backend may leave the records
  // unread (then each is given as an empty VersionedRecord, version 0, and
  // damaged records are not told apart).
  bool keys_only = false;
  // Visit at most this many records, damaged ones included (0 = no bound).
  // scan() enforces it for every backend; SQLite and memory also read no
  // more than this many per batch, so a scan for one key (limit 1) costs one
  // index seek there.
  std::uint64_t limit = 0;
  // Polled before each record is visited and between the backend's batches
  // (each SELECT, SCAN step, round trip, page), so that it is polled even
  // while no record matches: returning true ends the scan there, normally
  // (no exception), and no record is visited after it returned true.
  // For a time bound (list_owners) or an interrupt.
  std::function<bool()> should_stop;
};

// A search for the records of this store under other names on the same
// server, made when a read found nothing: a mistyped Redis ?prefix=pcmp
// looks like an empty store.
struct NamespaceSearch
{
  // The backend has namespaces (Redis key prefixes); when false, the rest is empty.
  bool applies = false;
  // This store's namespace ("pcmp") and the keys its records would have ("pcmp:tasks:*").
  std::string own;
  std::string own_pattern;
  // A key of this store's namespace was seen (the search then stops).
  bool own_found = false;
  // The search stopped at its bound (keys examined or time) before it had
  // seen every key: others may be incomplete, and own_found false means
  // "not seen", not "absent".
  bool cut_short = false;
  // About how many keys the search examined.
  std::uint64_t examined = 0;
  // The other namespaces seen holding records, ascending, distinct.
  std::vector<std::string> others;
};

// One write of a batch (put_batch): unconditional (put) or, with
// if_absent, only when the key does not exist (put_if_version(key, data, 0)).
struct BatchWrite
{
  std::string_view key;
  std::string_view data;
  bool if_absent = false;
};

// The outcome of one write of a batch: the new version, or 0 when an
// if_absent write found the key present (nothing written), or the error
// that write met (the others still ran).
struct BatchResult
{
  std::uint64_t version = 0;
  std::exception_ptr error;
};

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
  // Called for each damaged record the walk meets (removed: whether it was
  // removed, or would be on a dry run, which only remove_damaged does; with
  // remove_damaged, one found repaired when removed is not reported). Damaged records are never
  // counted in the result. Which ones a walk meets is the backend's: Redis
  // and DynamoDB walk every record under the prefix; SQLite walks only the
  // records its expiry index says are expired (unless remove_damaged).
  std::function<void(const DamagedRecord& record, bool removed)> on_damaged;
  // Also remove every damaged record under the prefix (not on a dry run),
  // each only if it is still damaged when removed, so a record repaired
  // meanwhile survives.
  bool remove_damaged = false;
  // Polled between batches (after each batch's removals are reported):
  // returning true ends the cleanup there (e.g. on SIGINT), so every record
  // removed has been reported and none is removed unreported.
  std::function<bool()> should_stop;
  // Remove (or, on a dry run, count) at most this many expired records, then
  // end the walk: a bounded run for jobs that must stay short. Damaged
  // records removed with remove_damaged do not count against it.
  std::uint64_t max = UINT64_MAX;
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

  // Conditional delete (an extension: pmcp-tasks has none): removes the key
  // only when its current version equals expected, atomically (no write can
  // land between the comparison and the removal). Otherwise throws
  // version_conflict{expected, actual} like put_if_version, actual 0 when the
  // key does not exist. Throws InvalidArgument for expected 0 (no record has
  // version 0).
  virtual void remove_if_version(std::string_view key, std::uint64_t expected) = 0;

  // Streams every record whose key starts with prefix ("" = every owner), in
  // batches, in constant memory. Expired records are included. Order is the
  // backend's (documented per backend); each key is visited at most once.
  // Damaged records go to damaged (skipped when it is empty), never to visit.
  void scan(std::string_view prefix, const ScanVisitor& visit, const DamageVisitor& damaged = {})
  {
    ScanOptions options;
    options.prefix = prefix;
    do_scan(options, visit, damaged);
  }
  // The same with the options above (resuming, key order, keys only, a
  // limit, a stop condition).
  void scan(const ScanOptions& options, const ScanVisitor& visit, const DamageVisitor& damaged = {});

  // Whether a scan with start_after costs one index seek, in key order
  // (memory, SQLite), so that a walk may run many short scans, each starting
  // after a key it chose (list_owners skips from one owner to the next).
  // False (the default) where key order costs a walk of every key (Redis)
  // or start_after resumes an order of the backend's own (DynamoDB).
  virtual bool seeks_in_key_order() const { return false; }

  // Looks, within a bound (Redis: about 10,000 keys examined or 200 ms),
  // for the records of this store under other namespaces of the same server.
  // For a read that found nothing, to tell an empty store from a mistyped
  // namespace. Returns applies false where a backend has no namespaces (the
  // default). Throws StorageError as any read does.
  virtual NamespaceSearch search_namespaces() { return {}; }

  // Writes a batch of records, each as put or put_if_version(…, 0) would,
  // in the way the backend is fast at (SQLite: one transaction; Redis: one
  // pipeline; DynamoDB: requests in parallel). Each write is atomic on its
  // own; the batch is not (a failure leaves the others written). Returns one
  // result per write, in order. Throws only for a failure of the whole batch
  // (e.g. the connection), after which any subset may have been written.
  virtual std::vector<BatchResult> put_batch(const std::vector<BatchWrite>& writes);

  // Every (key, record) whose key starts with prefix; built on scan (damaged
  // records skipped).
  virtual std::vector<KeyedRecord> list_by_prefix(std::string_view prefix);

  // Removes every record whose expiresAt has passed (strictly) and any backend
  // debris (e.g. orphaned index entries). Returns how many records were removed
  // (or would be, on a dry run). A record rewritten meanwhile is not removed.
  std::size_t cleanup_expired() { return do_cleanup_expired(CleanupOptions{}); }
  std::size_t cleanup_expired(const CleanupOptions& options) { return do_cleanup_expired(options); }

  // The scheme-level name of this backend ("memory", "sqlite", "redis", "dynamodb").
  virtual std::string_view name() const = 0;

protected:
  virtual void do_scan(const ScanOptions& options, const ScanVisitor& visit, const DamageVisitor& damaged) = 0;
  virtual std::size_t do_cleanup_expired(const CleanupOptions& options) = 0;
};

// ---- shared algorithms over the contract ----

// The refusals every backend makes alike, in one wording:
// remove_if_version's expected 0 (InvalidArgument)...
void check_removal_version(std::string_view key, std::uint64_t expected);
// ...and a write to a key at the store's maximum version: the
// capacity_exceeded error to throw, naming where ("the memory backend",
// "sqlite store PATH (the largest SQLite integer)").
StorageError version_limit_error(std::string_view key, std::uint64_t max_version, std::string_view where);
// ...and a get() of a damaged record: "record KEY in WHERE is damaged: REASON"
// (a backend error: nothing but a repair of the stored bytes helps).
StorageError damaged_record_error(const DamagedRecord& record, std::string_view where);

// A record a cleanup walk judged expired, with the version it was judged at.
struct ExpiredRecord
{
  std::string key;
  std::uint64_t version = 0;
  Timestamp expires_at;
};

// The one cleanup algorithm, which every backend's do_cleanup_expired drives:
// the backend walks its records (with whatever coarse pre-filter it has) and
// offers each one; the driver judges it by the record's own expiresAt against
// options.now (strictly later, facts §2.4). At flush() the backend removes the
// expired ones that still have the version judged (unless options.dry_run),
// and the driver counts and reports each removed one to options.on_removed.
// A record rewritten or removed meanwhile is therefore never removed or counted.
class CleanupDriver
{
public:
  // Removes each record that still has its version, and erases from the
  // vector the ones that were not removed (rewritten or gone meanwhile).
  using RemoveUnchanged = std::function<void(std::vector<ExpiredRecord>& records)>;

  CleanupDriver(const CleanupOptions& options, RemoveUnchanged remove_unchanged);

  // Judges a record by the expiresAt in its bytes. Returns true when it is expired
  // and within options.max (it is then pending until the next flush).
  bool offer(std::string_view key, std::uint64_t version, std::string_view data);
  // Judges a record whose expiresAt the backend holds exactly (parsed from the record).
  bool offer_expiry(std::string_view key, std::uint64_t version, std::optional<Timestamp> expires_at);

  // Removes (unless a dry run) and reports the pending records; returns how
  // many this flush removed (or would remove).
  std::size_t flush();

  std::size_t pending() const { return m_pending.size(); }
  // Records removed (or, on a dry run, that would be) so far.
  std::size_t removed() const { return m_removed; }
  // Whether the walk should end (checked after a flush): options.should_stop
  // asks so, or options.max records have been removed.
  bool stop_requested() const
  {
    return m_removed >= m_options.max || (m_options.should_stop && m_options.should_stop());
  }

private:
  const CleanupOptions& m_options;
  RemoveUnchanged m_remove;
  std::vector<ExpiredRecord> m_pending;
  std::size_t m_removed = 0;
};

struct RemovePrefixOptions
{
  // Keys collected per scan round; the store is scanned again after each
  // round, so memory stays bounded whatever the number of records.
  std::size_t batch = 500;
  // Stop after removing this many.
  std::uint64_t max = UINT64_MAX;
  // Polled between records; returning true stops the removal (e.g. on SIGINT).
  std::function<bool()> should_stop;
  // Called for each record removed, with the version last read (0 for a
  // damaged record, which is removed too: the whole prefix is going).
  std::function<void(const std::string& key, std::uint64_t version)> on_removed;
};

// Removes every record whose key starts with prefix (one owner's: make_prefix),
// damaged ones included, in batches. Returns how many were removed; stops
// early when should_stop says so or max is reached. Throws what the backend throws.
std::uint64_t remove_prefix(StorageBackend& store, std::string_view prefix, const RemovePrefixOptions& options = {});

// ---- owners ----

struct OwnerListOptions
{
  // At most this many owners: the first ones in key order (0 = all).
  std::uint64_t limit = 0;
  // Polled between the steps of the walk (each seek, each batch, each key):
  // returning true ends it there, and the result says stopped (a time bound,
  // an interrupt).
  std::function<bool()> should_stop;
};

struct OwnerListResult
{
  // should_stop ended the walk: owners may be missing (in key order
  // backends, only owners after the last one given).
  bool stopped = false;
  // Keys the walk read: one per owner on a backend that seeks in key order,
  // every key under the prefix elsewhere.
  std::uint64_t keys_read = 0;
};

// Called for each owner, in key order (below); return false to stop.
using OwnerVisitor = std::function<bool(const std::string& owner)>;

// Gives visit the distinct owners of the records whose key starts with
// prefix ("user-": the owners whose name starts with "user-"; "alice:": alice
// when she has a record), damaged records included, in the order of their
// keys: by the bytes of OWNER + ":" (so user-10 comes before user-1, as ls
// lists their keys); an empty owner part (key ":t") names no owner. Where the store seeks in key
// order (seeks_in_key_order), one scan of one key per owner, each starting
// after the last owner's keys ("OWNER;" follows every "OWNER:..." key): 500
// owners cost 500 seeks whatever the record count. Elsewhere one keys-only
// scan of the prefix, the owners held in memory (with a limit N, the N
// smallest) and given at the end. Throws what the backend throws.
OwnerListResult list_owners(StorageBackend& store, std::string_view prefix, const OwnerVisitor& visit,
                            const OwnerListOptions& options = {});

// Counts the records whose key starts with prefix, damaged ones included;
// stops early (returning the count so far) when should_stop says so.
std::uint64_t count_prefix(StorageBackend& store, std::string_view prefix,
                           const std::function<bool()>& should_stop = {});

} // namespace taskstore
