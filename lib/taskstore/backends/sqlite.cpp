// The sqlite backend: one table in one database file, WAL mode.
//
// One backend, one file (DESIGN.md: one file pair per backend). It is
// about 1300 lines, one concern (this table in this file): the SQL statements
// stay beside the code that binds them, and opening the file (creation under
// concurrency, the schema check, WAL, read-only and immutable opens) beside
// the connection it sets up; split apart, each half is harder to read.
//
// Physical layout (schema version 1, PRAGMA user_version = 1, PRAGMA
// application_id = k_application_id):
//
//   CREATE TABLE tasks(
//     key        TEXT PRIMARY KEY NOT NULL,  -- "{owner}:{task}", compared byte-wise (BINARY)
//     owner      TEXT NOT NULL,              -- the part before the first ':'
//     version    INTEGER NOT NULL,           -- 1 on creation, +1 on every write
//     data       BLOB NOT NULL,              -- the record bytes, exactly as given
//     expires_s  INTEGER,                    -- the record's expiresAt: epoch seconds (UTC),
//     expires_ns INTEGER                     --   and nanoseconds; both NULL when it has none
//   ) WITHOUT ROWID;
//   CREATE INDEX tasks_expiry ON tasks(expires_s, expires_ns) WHERE expires_s IS NOT NULL;
//
// Keys are always bound as TEXT, so every comparison is memcmp order and a
// prefix is the key range [prefix, prefix with its last byte incremented).
// The expiry columns keep expiresAt at full nanosecond precision over its whole
// range, so "now strictly later than expiresAt" is exact in SQL.
//
// One StorageBackend instance owns one connection and its cached prepared
// statements; a mutex makes the instance safe to share between threads (other
// processes and connections are serialised by SQLite's own locking, waiting up
// to the busy timeout).

#include "taskstore/backends/sqlite.hpp"

#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/time.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace taskstore {

namespace {

constexpr int k_schema_version = 1;
// "tkct": marks a database file as a taskctl store.
constexpr std::int32_t k_application_id = 0x746b6374;
// Rows per SELECT of a scan or cleanup, and the byte budget of one scan batch.
constexpr int k_batch_rows = 1000;
constexpr std::size_t k_kept_row_bytes = 64 << 10; // a scan row keeps a buffer up to this size
constexpr std::size_t k_batch_bytes = 8 * 1024 * 1024;
// The largest version a record can have: SQLite's largest integer (version + 1
// would become a REAL). A write past it is refused (the put statement's WHERE
// spells the same number).
constexpr std::uint64_t k_max_version = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// ---------------------------------------------------------------------------
// Errors

// Which call failed, for the message: "sqlite store P: <what> failed: ...".
struct Failure
{
  const std::string& path;
  std::string_view what;
  std::chrono::milliseconds busy_timeout{0}; // how long SQLite waited for a lock
};

// "5s", "1500ms": a busy timeout as the user wrote it with --timeout.
std::string
format_wait(std::chrono::milliseconds wait)
{
  return wait.count() % 1000 == 0 ? std::to_string(wait.count() / 1000) + "s" : std::to_string(wait.count()) + "ms";
}

// The one place sqlite result codes become taskstore errors. The sqlite
// message and extended code are kept as the nested cause.
//   SQLITE_BUSY/LOCKED (after the busy timeout)  -> StorageError backend, unavailable
//   SQLITE_CANTOPEN/NOTADB                       -> ConfigError
//   SQLITE_FULL                                  -> StorageError capacity_exceeded
//   anything else                                -> StorageError backend
[[noreturn]] void
throw_sqlite_error(sqlite3* db, int rc, const Failure& failure)
{
  const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  const int primary = rc & 0xff;
  const std::string cause = "SQLite error " + std::to_string(extended) + " (" + sqlite3_errstr(extended) +
                            "): " + message;
  const std::string where = "sqlite store " + failure.path + ": " + std::string(failure.what) + " failed: ";
  try {
    throw std::runtime_error(cause);
  } catch (...) {
    switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      // Not the statement: what the operator needs is who holds the store
      // and how long was waited (the SQLite message stays the cause).
      std::throw_with_nested(StorageError::backend(
        "sqlite store " + failure.path + " is locked by another process (a writer, or a reader holding a "
          "transaction open): waited " + format_wait(failure.busy_timeout) + " for it to be released",
        true));
    case SQLITE_CANTOPEN:
      std::throw_with_nested(ConfigError(where + message));
    case SQLITE_NOTADB:
      std::throw_with_nested(ConfigError("sqlite store " + failure.path + " is not an SQLite database (" +
                                         message + ")"));
    case SQLITE_FULL:
      std::throw_with_nested(StorageError::capacity_exceeded(where + message));
    case SQLITE_READONLY:
      std::throw_with_nested(ConfigError("sqlite store " + failure.path +
                                         " is read-only (the file, its directory or its file system cannot be "
                                         "written by this user): the write was refused; nothing was written"));
    default:
      std::throw_with_nested(StorageError::backend(where + message));
    }
  }
}

// ---------------------------------------------------------------------------
// RAII handles

struct DbCloser
{
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer
{
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// The cached statements. Each is prepared on first use and kept for the
// lifetime of the connection.
enum class Sql : std::size_t
{
  begin_immediate,
  commit,
  get,
  put,
  cas_update,
  cas_create,
  version_of,
  remove,
  remove_version,
  scan_from,          // key >= ?1, unbounded
  scan_after,         // key > ?1, unbounded
  scan_from_until,    // key >= ?1 AND key < ?2
  scan_after_until,   // key > ?1 AND key < ?2
  keys_from,          // the same four, keys only
  keys_after,
  keys_from_until,
  keys_after_until,
  expired_first,        // cleanup candidates in (expires_s, expires_ns, key) order, key >= ?1
  expired_next,         // the same after the cursor (?6, ?7, ?8)
  expired_first_until,  // key >= ?1 AND key < ?2
  expired_next_until,
  delete_expired,        // one-statement cleanup, key >= ?1
  delete_expired_until,  // key >= ?1 AND key < ?2
  damaged_from,          // damaged rows (key, version, data IS NULL), key >= ?1
  damaged_from_until,    // key >= ?1 AND key < ?2
  remove_damaged,        // key = ?1, only while it is still damaged
  count_,
};

// Row columns are (key, version, data) for scans; (key, version, expires_s,
// expires_ns) for expiry candidates. In the expiry statements ?3/?4 are now
// (seconds, nanoseconds), ?5 the LIMIT and (?6, ?7, ?8) the cursor. Expiry
// candidates are walked in the order of the expiry index, which holds
// (expires_s, expires_ns, key), so a sweep reads only expired entries.
#define TASKSTORE_EXPIRED "expires_s <= ?3 AND (expires_s < ?3 OR expires_ns < ?4)"
// A row no write of ours leaves: its version is not a positive integer, or it has no data.
#define TASKSTORE_DAMAGED "NOT (typeof(version) = 'integer' AND version > 0 AND data IS NOT NULL)"
#define TASKSTORE_CANDIDATES "SELECT key, version, expires_s, expires_ns FROM tasks WHERE "
#define TASKSTORE_CURSOR "(expires_s, expires_ns, key) > (?6, ?7, ?8) AND "
#define TASKSTORE_BY_EXPIRY " ORDER BY expires_s, expires_ns, key LIMIT ?5"
constexpr std::array<const char*, static_cast<std::size_t>(Sql::count_)> k_sql = {
  "BEGIN IMMEDIATE",
  "COMMIT",
  "SELECT version, data FROM tasks WHERE key = ?1",
  "INSERT INTO tasks(key, owner, version, data, expires_s, expires_ns) VALUES(?1, ?2, 1, ?3, ?4, ?5)"
  " ON CONFLICT(key) DO UPDATE SET version = version + 1, data = excluded.data,"
  " expires_s = excluded.expires_s, expires_ns = excluded.expires_ns"
  " WHERE tasks.version < 9223372036854775807 RETURNING version",
  "UPDATE tasks SET version = version + 1, data = ?3, expires_s = ?4, expires_ns = ?5"
  " WHERE key = ?1 AND version = ?2 RETURNING version",
  "INSERT INTO tasks(key, owner, version, data, expires_s, expires_ns) VALUES(?1, ?2, 1, ?3, ?4, ?5)"
  " ON CONFLICT(key) DO NOTHING RETURNING version",
  "SELECT version FROM tasks WHERE key = ?1",
  "DELETE FROM tasks WHERE key = ?1",
  "DELETE FROM tasks WHERE key = ?1 AND version = ?2",
  "SELECT key, version, data FROM tasks WHERE key >= ?1 ORDER BY key LIMIT ?3",
  "SELECT key, version, data FROM tasks WHERE key > ?1 ORDER BY key LIMIT ?3",
  "SELECT key, version, data FROM tasks WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
  "SELECT key, version, data FROM tasks WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3",
  "SELECT key FROM tasks WHERE key >= ?1 ORDER BY key LIMIT ?3",
  "SELECT key FROM tasks WHERE key > ?1 ORDER BY key LIMIT ?3",
  "SELECT key FROM tasks WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
  "SELECT key FROM tasks WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3",
  TASKSTORE_CANDIDATES "key >= ?1 AND " TASKSTORE_EXPIRED TASKSTORE_BY_EXPIRY,
  TASKSTORE_CANDIDATES TASKSTORE_CURSOR "key >= ?1 AND " TASKSTORE_EXPIRED TASKSTORE_BY_EXPIRY,
  TASKSTORE_CANDIDATES "key >= ?1 AND key < ?2 AND " TASKSTORE_EXPIRED TASKSTORE_BY_EXPIRY,
  TASKSTORE_CANDIDATES TASKSTORE_CURSOR "key >= ?1 AND key < ?2 AND " TASKSTORE_EXPIRED TASKSTORE_BY_EXPIRY,
  "DELETE FROM tasks WHERE key >= ?1 AND " TASKSTORE_EXPIRED " AND NOT " TASKSTORE_DAMAGED,
  "DELETE FROM tasks WHERE key >= ?1 AND key < ?2 AND " TASKSTORE_EXPIRED " AND NOT " TASKSTORE_DAMAGED,
  "SELECT key, version, data IS NULL FROM tasks WHERE key >= ?1 AND " TASKSTORE_DAMAGED " ORDER BY key",
  "SELECT key, version, data IS NULL FROM tasks WHERE key >= ?1 AND key < ?2 AND " TASKSTORE_DAMAGED
  " ORDER BY key",
  "DELETE FROM tasks WHERE key = ?1 AND " TASKSTORE_DAMAGED,
};
#undef TASKSTORE_EXPIRED
#undef TASKSTORE_CANDIDATES
#undef TASKSTORE_CURSOR
#undef TASKSTORE_BY_EXPIRY
#undef TASKSTORE_DAMAGED

constexpr const char* k_schema_sql =
  "CREATE TABLE tasks("
  " key TEXT PRIMARY KEY NOT NULL,"
  " owner TEXT NOT NULL,"
  " version INTEGER NOT NULL,"
  " data BLOB NOT NULL,"
  " expires_s INTEGER,"
  " expires_ns INTEGER"
  ") WITHOUT ROWID;"
  "CREATE INDEX tasks_expiry ON tasks(expires_s, expires_ns) WHERE expires_s IS NOT NULL;";

// Returns the smallest string greater than every string that starts with
// prefix, or nullopt when there is none (empty prefix, or only 0xFF bytes).
std::optional<std::string>
prefix_upper_bound(std::string_view prefix)
{
  std::string bound(prefix);
  while (!bound.empty() && static_cast<unsigned char>(bound.back()) == 0xff) {
    bound.pop_back();
  }
  if (bound.empty()) {
    return std::nullopt;
  }
  bound.back() = static_cast<char>(static_cast<unsigned char>(bound.back()) + 1);
  return bound;
}

class SqliteBackend;

// A cached statement in use: binds, steps, reads columns, and resets the
// statement (releasing its read snapshot) when it goes out of scope.
class Query
{
public:
  Query(SqliteBackend& backend, Sql sql);
  ~Query()
  {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // Text parameters (keys) must outlive the step: they are bound SQLITE_STATIC.
  Query&
  text(int index, std::string_view value)
  {
    check(sqlite3_bind_text64(m_stmt, index, value.empty() ? "" : value.data(), value.size(), SQLITE_STATIC,
                              SQLITE_UTF8));
    return *this;
  }
  Query&
  blob(int index, std::string_view value)
  {
    // A null pointer would bind NULL; an empty value must stay an empty blob.
    check(sqlite3_bind_blob64(m_stmt, index, value.empty() ? "" : value.data(), value.size(), SQLITE_STATIC));
    return *this;
  }
  Query&
  integer(int index, std::int64_t value)
  {
    check(sqlite3_bind_int64(m_stmt, index, value));
    return *this;
  }
  Query&
  null(int index)
  {
    check(sqlite3_bind_null(m_stmt, index));
    return *this;
  }

  // Returns true when a row is available, false when the statement is done.
  bool step();

  // Runs a statement that returns at most one row to completion, so an
  // autocommit write has committed (and any commit error has been thrown)
  // before it returns; returns column 0 of the row, nullopt when there was none.
  std::optional<std::int64_t>
  single_int()
  {
    std::optional<std::int64_t> value;
    if (step()) {
      value = column_int(0);
      while (step()) {
      }
    }
    return value;
  }

  std::int64_t
  column_int(int index) const
  {
    return sqlite3_column_int64(m_stmt, index);
  }
  // Why column index, a version, is not one a write leaves (an integer of at
  // least 1), or nullopt when it is one.
  std::optional<std::string>
  version_damage(int index) const
  {
    switch (sqlite3_column_type(m_stmt, index)) {
    case SQLITE_INTEGER: {
      const std::int64_t v = sqlite3_column_int64(m_stmt, index);
      if (v >= 1) {
        return std::nullopt;
      }
      return "the version is " + std::to_string(v) + ", not a positive integer";
    }
    case SQLITE_NULL:
      return std::string("the version is NULL");
    case SQLITE_FLOAT:
      return "the version is the real number " + column_bytes(index) + ", not a positive integer";
    default: {
      std::string text = column_bytes(index);
      if (text.size() > 40) {
        text = text.substr(0, 40) + "...";
      }
      return "the version is the text \"" + text + "\", not a positive integer";
    }
    }
  }
  // Why the row is damaged (version column vi, data column di), or nullopt.
  std::optional<std::string>
  row_damage(int vi, int di) const
  {
    if (auto reason = version_damage(vi)) {
      return reason;
    }
    if (sqlite3_column_type(m_stmt, di) == SQLITE_NULL) {
      return std::string("the data is NULL");
    }
    return std::nullopt;
  }
  std::string
  column_bytes(int index) const
  {
    std::string out;
    column_bytes_into(index, out);
    return out;
  }
  // The same into out, reusing its buffer (a scan's rows are refilled batch
  // after batch without allocating).
  void
  column_bytes_into(int index, std::string& out) const
  {
    // sqlite3_column_blob before sqlite3_column_bytes, as the documentation asks.
    const void* bytes = sqlite3_column_blob(m_stmt, index);
    const int size = sqlite3_column_bytes(m_stmt, index);
    if (bytes == nullptr) {
      out.clear();
    } else {
      out.assign(static_cast<const char*>(bytes), static_cast<std::size_t>(size));
    }
  }

private:
  void check(int rc);
  SqliteBackend& m_backend;
  sqlite3_stmt* m_stmt;
};

class SqliteBackend final : public StorageBackend
{
public:
  SqliteBackend(std::string path, std::chrono::milliseconds timeout, bool create_if_missing)
    : m_path(std::move(path)), m_timeout(timeout)
  {
    open(create_if_missing);
  }

  VersionedRecord
  get(std::string_view key) override
  {
    split_key(key);
    std::lock_guard lock(m_mutex);
    Query query(*this, Sql::get);
    query.text(1, key);
    if (!query.step()) {
      throw StorageError::not_found(std::string(key));
    }
    if (auto reason = query.row_damage(0, 1)) {
      throw damaged_record_error(DamagedRecord{std::string(key), std::move(*reason)}, "sqlite store " + m_path);
    }
    return VersionedRecord{query.column_bytes(1), to_version(query.column_int(0))};
  }

  std::uint64_t
  put(std::string_view key, std::string_view data) override
  {
    const KeyParts parts = split_key(key);
    const auto expires_at = extract_expires_at(data);
    std::lock_guard lock(m_mutex);
    Query query(*this, Sql::put);
    query.text(1, key).text(2, parts.owner_id).blob(3, data);
    bind_expiry(query, 4, expires_at);
    // The upsert does not update a row at the maximum version (its WHERE), so
    // the refusal and the comparison are one statement: nothing is written.
    const auto version = query.single_int();
    if (!version) {
      throw_at_max(key);
    }
    return to_version(*version);
  }

  // The write is one autocommit statement; only when it matches no row does a
  // transaction follow, which tries the write once more and otherwise reads
  // the actual version, so a reported conflict is real at one instant.
  std::uint64_t
  put_if_version(std::string_view key, std::string_view data, std::uint64_t expected) override
  {
    const KeyParts parts = split_key(key);
    if (expected == k_max_version) {
      throw_at_max(key); // the write would give the record version max + 1
    }
    const auto expires_at = extract_expires_at(data);
    std::lock_guard lock(m_mutex);
    if (auto written = try_conditional_write(key, parts.owner_id, data, expires_at, expected)) {
      return *written;
    }
    Transaction transaction(*this);
    if (auto written = try_conditional_write(key, parts.owner_id, data, expires_at, expected)) {
      transaction.commit();
      return *written;
    }
    const std::uint64_t actual = stored_version(key);
    transaction.commit();
    throw StorageError::version_conflict(std::string(key), expected, actual);
  }

  // One transaction for the whole batch (BEGIN IMMEDIATE, so it waits for
  // the write lock once); each write is the statement put or
  // put_if_version(…, 0) runs. A write refused on its own (a bad key, the
  // maximum version) is reported for that write; an SQLite error rolls the
  // whole batch back and is thrown.
  std::vector<BatchResult>
  put_batch(const std::vector<BatchWrite>& writes) override
  {
    std::vector<BatchResult> out(writes.size());
    // In key order: the rows of a batch from a SCAN (Redis, DynamoDB) land
    // all over the tree; sorted, neighbours share pages, which are then
    // read and written once per batch rather than once per row.
    std::vector<std::size_t> order(writes.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return writes[a].key < writes[b].key; });
    std::lock_guard lock(m_mutex);
    if (!m_batch_cache) {
      // Batches rewrite the table and the expiry index page by page, and
      // revisit those pages batch after batch: up to 16 MiB of page cache
      // (allocated only as pages are read) makes an import ~20% faster.
      exec("PRAGMA cache_size=-16384", "setting the cache size");
      m_batch_cache = true;
    }
    Transaction transaction(*this);
    for (const std::size_t i : order) {
      const BatchWrite& w = writes[i];
      try {
        const KeyParts parts = split_key(w.key);
        const auto expires_at = extract_expires_at(w.data);
        if (w.if_absent) {
          out[i].version = try_conditional_write(w.key, parts.owner_id, w.data, expires_at, 0).value_or(0);
          continue;
        }
        Query query(*this, Sql::put);
        query.text(1, w.key).text(2, parts.owner_id).blob(3, w.data);
        bind_expiry(query, 4, expires_at);
        const auto version = query.single_int();
        if (!version) {
          throw_at_max(w.key);
        }
        out[i].version = to_version(*version);
      } catch (const InvalidArgument&) {
        out[i].error = std::current_exception();
      } catch (const StorageError& e) {
        if (e.kind() != StorageErrorKind::capacity_exceeded) {
          throw;
        }
        out[i].error = std::current_exception();
      }
    }
    transaction.commit();
    return out;
  }

  bool
  remove(std::string_view key) override
  {
    split_key(key);
    std::lock_guard lock(m_mutex);
    Query query(*this, Sql::remove);
    query.text(1, key);
    query.step();
    return sqlite3_changes64(m_db.get()) > 0;
  }

  // The key's version, 0 when it does not exist (call under m_mutex).
  std::uint64_t
  stored_version(std::string_view key)
  {
    Query query(*this, Sql::version_of);
    query.text(1, key);
    return query.step() ? to_version(query.column_int(0)) : 0;
  }

  // The removal is one autocommit statement (DELETE ... WHERE key AND
  // version), atomic by itself. Only when it deletes nothing does a
  // transaction follow, which tries once more and otherwise reads the actual
  // version, so a reported conflict is real at one instant (as put_if_version).
  void
  remove_if_version(std::string_view key, std::uint64_t expected) override
  {
    split_key(key);
    check_removal_version(key, expected);
    std::lock_guard lock(m_mutex);
    if (try_conditional_remove(key, expected)) {
      return;
    }
    Transaction transaction(*this);
    if (try_conditional_remove(key, expected)) {
      transaction.commit();
      return;
    }
    const std::uint64_t actual = stored_version(key);
    transaction.commit();
    throw StorageError::version_conflict(std::string(key), expected, actual);
  }

  // Visits keys in ascending byte order, k_batch_rows per SELECT; each batch
  // is its own read snapshot, taken and released before the visitor runs.
  void
  do_scan(const ScanOptions& options, const ScanVisitor& visit, const DamageVisitor& damaged) override
  {
    const auto upper = prefix_upper_bound(options.prefix);
    // Resuming after a key before the prefix starts at the prefix.
    const bool resume = options.start_after >= options.prefix && !options.start_after.empty();
    std::string cursor(resume ? options.start_after : options.prefix);
    bool first = !resume;
    const bool keys = options.keys_only;
    struct Row
    {
      std::string key;
      VersionedRecord record;
      std::optional<std::string> damage;
    };
    // The rows are reused batch after batch (their buffers kept), so a scan
    // allocates only while its rows grow.
    std::vector<Row> batch;
    std::size_t rows = 0;
    // A scan that wants few rows (limit) selects no more than that: a scan
    // for one key is one index seek.
    const int batch_rows = options.limit != 0 && options.limit < static_cast<std::uint64_t>(k_batch_rows)
                             ? static_cast<int>(options.limit)
                             : k_batch_rows;
    for (;;) {
      rows = 0;
      bool more = false;
      if (options.should_stop && options.should_stop()) {
        return;
      }
      {
        std::lock_guard lock(m_mutex);
        const Sql sql = keys ? (upper ? (first ? Sql::keys_from_until : Sql::keys_after_until)
                                      : (first ? Sql::keys_from : Sql::keys_after))
                             : (upper ? (first ? Sql::scan_from_until : Sql::scan_after_until)
                                      : (first ? Sql::scan_from : Sql::scan_after));
        Query query(*this, sql);
        query.text(1, cursor).integer(3, batch_rows);
        if (upper) {
          query.text(2, *upper);
        }
        std::size_t bytes = 0;
        while (query.step()) {
          if (rows == batch.size()) {
            batch.emplace_back();
          }
          Row& row = batch[rows++];
          query.column_bytes_into(0, row.key);
          if (keys) {
            row.record.version = 0;
            row.record.data.clear();
            row.damage.reset();
            continue;
          }
          row.damage = query.row_damage(1, 2);
          row.record.version = row.damage ? 0 : static_cast<std::uint64_t>(query.column_int(1));
          query.column_bytes_into(2, row.record.data);
          bytes += row.key.size() + row.record.data.size();
          if (bytes >= k_batch_bytes) {
            break; // the rest follows in the next batch
          }
        }
        more = rows == static_cast<std::size_t>(batch_rows) || bytes >= k_batch_bytes;
      }
      for (std::size_t i = 0; i < rows; ++i) {
        Row& row = batch[i];
        if (row.damage) {
          if (damaged && !damaged(DamagedRecord{row.key, std::move(*row.damage)})) {
            return;
          }
        } else if (!visit(row.key, row.record)) {
          return;
        }
        if (row.record.data.capacity() > k_kept_row_bytes) {
          std::string().swap(row.record.data); // large records keep no buffer: memory stays bounded
        }
      }
      if (!more || rows == 0) {
        return;
      }
      cursor = batch[rows - 1].key;
      first = false;
    }
  }

  std::string_view
  name() const override
  {
    return "sqlite";
  }

  // A scan with start_after is one seek in the primary key's index.
  bool
  seeks_in_key_order() const override
  {
    return true;
  }

protected:
  std::size_t
  do_cleanup_expired(const CleanupOptions& options) override
  {
    const auto upper = prefix_upper_bound(options.prefix);
    if (options.remove_damaged) {
      remove_damaged(options, upper);
    }
    if (!options.dry_run && !options.on_removed && !options.on_damaged && !options.should_stop) {
      // One statement: nothing to report per record.
      std::lock_guard lock(m_mutex);
      Query query(*this, upper ? Sql::delete_expired_until : Sql::delete_expired);
      query.text(1, options.prefix).integer(3, options.now.seconds).integer(4, options.now.nanos);
      if (upper) {
        query.text(2, *upper);
      }
      query.step();
      return static_cast<std::size_t>(sqlite3_changes64(m_db.get()));
    }

    // Pages of candidates by (expires_at, key), judged and reported by the
    // shared CleanupDriver; each removed only if not rewritten since.
    CleanupDriver driver(options, [this](std::vector<ExpiredRecord>& records) {
      std::lock_guard lock(m_mutex);
      Transaction transaction(*this);
      std::erase_if(records, [&](const ExpiredRecord& r) {
        Query query(*this, Sql::remove_version);
        query.text(1, r.key).integer(2, static_cast<std::int64_t>(r.version));
        query.step();
        return sqlite3_changes64(m_db.get()) == 0;
      });
      transaction.commit();
    });
    std::optional<ExpiredRecord> cursor; // the last candidate judged
    std::vector<DamagedRecord> damaged;  // met among the candidates, reported after each page
    for (;;) {
      std::size_t rows = 0;
      {
        std::lock_guard lock(m_mutex);
        {
          Query query(*this, upper ? (cursor ? Sql::expired_next_until : Sql::expired_first_until)
                                   : (cursor ? Sql::expired_next : Sql::expired_first));
          query.text(1, options.prefix)
            .integer(3, options.now.seconds)
            .integer(4, options.now.nanos)
            .integer(5, k_batch_rows);
          if (upper) {
            query.text(2, *upper);
          }
          if (cursor) {
            query.integer(6, cursor->expires_at.seconds).integer(7, cursor->expires_at.nanos).text(8, cursor->key);
          }
          while (query.step()) {
            ++rows;
            auto damage = query.version_damage(1);
            ExpiredRecord r{query.column_bytes(0), damage ? 0 : to_version(query.column_int(1)),
                            Timestamp{query.column_int(2), static_cast<std::uint32_t>(query.column_int(3))}};
            if (!damage) {
              driver.offer_expiry(r.key, r.version, r.expires_at);
            } else if (!options.remove_damaged) {
              damaged.push_back(DamagedRecord{r.key, std::move(*damage)});
            }
            cursor = std::move(r);
          }
        }
      }
      driver.flush(); // reported outside the lock: a visitor may use the store
      for (const auto& d : damaged) {
        if (options.on_damaged) {
          options.on_damaged(d, false);
        }
      }
      damaged.clear();
      if (rows < static_cast<std::size_t>(k_batch_rows) || driver.stop_requested()) {
        return driver.removed();
      }
    }
  }

private:
  friend class Query;

  // cleanup's remove_damaged: every damaged row under the prefix (a walk of
  // the whole key range, reading no data), each removed only while still
  // damaged, and reported to on_damaged (removed, or would be on a dry run).
  void
  remove_damaged(const CleanupOptions& options, const std::optional<std::string>& upper)
  {
    std::vector<DamagedRecord> found;
    {
      std::lock_guard lock(m_mutex);
      Query query(*this, upper ? Sql::damaged_from_until : Sql::damaged_from);
      query.text(1, options.prefix);
      if (upper) {
        query.text(2, *upper);
      }
      while (query.step()) {
        auto reason = query.version_damage(1);
        found.push_back(DamagedRecord{query.column_bytes(0),
                                      reason ? std::move(*reason) : std::string("the data is NULL")});
      }
    }
    for (const auto& d : found) {
      bool removed = options.dry_run;
      if (!options.dry_run) {
        std::lock_guard lock(m_mutex);
        Query query(*this, Sql::remove_damaged);
        query.text(1, d.key);
        query.step();
        removed = sqlite3_changes64(m_db.get()) > 0;
      }
      if (removed && options.on_damaged) {
        options.on_damaged(d, true);
      }
    }
  }

  // BEGIN IMMEDIATE (waiting up to the busy timeout for the write lock);
  // rolled back unless commit() was called.
  class Transaction
  {
  public:
    explicit Transaction(SqliteBackend& backend) : m_backend(backend)
    {
      Query(m_backend, Sql::begin_immediate).step();
    }
    ~Transaction()
    {
      if (!m_done) {
        // Never throws: an error here leaves SQLite to roll back on its own.
        sqlite3_exec(m_backend.m_db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void
    commit()
    {
      Query(m_backend, Sql::commit).step();
      m_done = true;
    }

  private:
    SqliteBackend& m_backend;
    bool m_done = false;
  };

  // Throws capacity_exceeded for a write to key, which is at k_max_version.
  [[noreturn]] void
  throw_at_max(std::string_view key) const
  {
    throw version_limit_error(key, k_max_version, "sqlite store " + m_path + " (the largest SQLite integer)");
  }

  [[noreturn]] void
  fail(int rc, std::string_view what) const
  {
    throw_sqlite_error(m_db.get(), rc, Failure{m_path, what, m_timeout});
  }

  // Returns the cached statement, preparing it on first use.
  sqlite3_stmt*
  statement(Sql sql)
  {
    auto& slot = m_statements[static_cast<std::size_t>(sql)];
    if (!slot) {
      sqlite3_stmt* stmt = nullptr;
      const int rc = sqlite3_prepare_v3(m_db.get(), k_sql[static_cast<std::size_t>(sql)], -1,
                                        SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) {
        fail(rc, "preparing a statement");
      }
      slot.reset(stmt);
    }
    return slot.get();
  }

  // Runs SQL text that returns no rows (schema, pragmas); not cached.
  void
  exec(const char* sql, std::string_view what)
  {
    const int rc = sqlite3_exec(m_db.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      fail(rc, what);
    }
  }

  // Runs a one-off query and hands its first row's statement to read (not
  // called when there is no row). Throws on failure.
  template <typename Read>
  void
  query_first_row(const char* sql, std::string_view what, Read&& read)
  {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(m_db.get(), sql, -1, &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) {
      fail(rc, what);
    }
    rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_ROW) {
      read(stmt.get());
    } else if (rc != SQLITE_DONE) {
      fail(rc, what);
    }
  }

  // Returns the first column of the first row of a one-off query (0 without a row).
  std::int64_t
  query_int(const char* sql, std::string_view what)
  {
    std::int64_t value = 0;
    query_first_row(sql, what, [&](sqlite3_stmt* stmt) { value = sqlite3_column_int64(stmt, 0); });
    return value;
  }



  // Writes when the current version is expected (0: the key is absent) and
  // returns the new version; nullopt when no row matched. Caller holds m_mutex.
  std::optional<std::uint64_t>
  try_conditional_write(std::string_view key, std::string_view owner, std::string_view data,
                        const std::optional<Timestamp>& expires_at, std::uint64_t expected)
  {
    if (expected > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt; // no stored version is that large
    }
    Query query(*this, expected == 0 ? Sql::cas_create : Sql::cas_update);
    query.text(1, key).blob(3, data);
    if (expected == 0) {
      query.text(2, owner);
    } else {
      query.integer(2, static_cast<std::int64_t>(expected));
    }
    bind_expiry(query, 4, expires_at);
    const auto version = query.single_int();
    if (!version) {
      return std::nullopt;
    }
    return to_version(*version);
  }

  // Deletes the row when its version is expected; returns whether it did.
  // Caller holds m_mutex.
  bool
  try_conditional_remove(std::string_view key, std::uint64_t expected)
  {
    if (expected > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return false; // no stored version is that large
    }
    Query query(*this, Sql::remove_version);
    query.text(1, key).integer(2, static_cast<std::int64_t>(expected));
    query.step();
    return sqlite3_changes64(m_db.get()) > 0;
  }

  static void
  bind_expiry(Query& query, int index, const std::optional<Timestamp>& expires_at)
  {
    if (expires_at) {
      query.integer(index, expires_at->seconds).integer(index + 1, expires_at->nanos);
    } else {
      query.null(index).null(index + 1);
    }
  }

  std::uint64_t
  to_version(std::int64_t value) const
  {
    if (value < 0) {
      throw StorageError::backend("sqlite store " + m_path + ": negative version " + std::to_string(value) +
                                  " in the tasks table");
    }
    return static_cast<std::uint64_t>(value);
  }

  // Creates the file (0600) when allowed, opens it, checks or creates the schema.
  void
  open(bool create_if_missing)
  {
    const bool in_memory = m_path == ":memory:";
    bool created = false;
    if (!in_memory) {
      created = create_file(create_if_missing);
      m_read_only = !created && !writable();
    }
    try {
      sqlite3* raw = nullptr;
      // A store this process cannot write is opened read-only, so that reads
      // work; where not even SQLite's shared-memory file can be created (a
      // read-only directory or mount, no WAL left over) it is opened
      // immutable: nothing can write it then.
      const std::string name = m_read_only ? read_only_uri() : m_path;
      const int rc = sqlite3_open_v2(name.c_str(), &raw,
                                     (m_read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI : SQLITE_OPEN_READWRITE) |
                                       SQLITE_OPEN_NOMUTEX | (in_memory ? SQLITE_OPEN_CREATE : 0),
                                     nullptr);
      m_db.reset(raw);
      if (rc != SQLITE_OK) {
        fail(rc, "opening the database");
      }
      sqlite3_extended_result_codes(m_db.get(), 1);
      sqlite3_busy_timeout(m_db.get(), static_cast<int>(std::min<std::chrono::milliseconds::rep>(
                                         m_timeout.count(), std::numeric_limits<int>::max())));
      check_schema(create_if_missing);
      // WAL + NORMAL: a commit is durable against crashes of this process,
      // and against power loss once the next checkpoint has synced.
      exec("PRAGMA synchronous=NORMAL", "setting synchronous=NORMAL");
      // SQLite's default page cache (2 MiB) until put_batch: a scan reads
      // every page once, and a larger cache only costs it a page fault per
      // page (a 100k-record ls took 1.6x as long with 16 MiB).
    } catch (...) {
      m_statements = {};
      m_db.reset();
      // Remove the file this call created, unless a store was committed into
      // it meanwhile (by this call or another process, which may be using it).
      if (created && file_size() == 0) {
        ::unlink(m_path.c_str());
      }
      throw;
    }
  }

  // Returns true when this call created the file. Throws ConfigError when the
  // file is missing and may not be created, or cannot be created.
  bool
  create_file(bool create_if_missing)
  {
    if (!create_if_missing) {
      struct stat info{};
      if (::stat(m_path.c_str(), &info) != 0) {
        if (errno == ENOENT) {
          throw ConfigError("store file " + m_path + " does not exist (open it with create_if_missing to create it)");
        }
        throw ConfigError("cannot access store file " + m_path + ": " + std::strerror(errno));
      }
      require_regular_file(info);
      return false;
    }
    const int fd = ::open(m_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      const int error = errno;
      if (error == EEXIST) {
        struct stat info{};
        if (::stat(m_path.c_str(), &info) != 0) {
          throw ConfigError("cannot access store file " + m_path + ": " + std::strerror(errno));
        }
        require_regular_file(info);
        return false;
      }
      if (error == ENOENT) {
        const auto slash = m_path.rfind('/');
        const std::string directory = slash == std::string::npos ? "." : m_path.substr(0, slash == 0 ? 1 : slash);
        throw ConfigError("cannot create store file " + m_path + ": directory " + directory +
                          " does not exist (create it first)");
      }
      throw ConfigError("cannot create store file " + m_path + ": " + std::strerror(error));
    }
    // Whatever the umask, the file holds task data: owner read/write only.
    const bool ok = ::fchmod(fd, 0600) == 0;
    const int error = errno;
    ::close(fd);
    if (!ok) {
      ::unlink(m_path.c_str());
      throw ConfigError("cannot set mode 0600 on store file " + m_path + ": " + std::strerror(error));
    }
    return true;
  }

  // Throws ConfigError unless info (the store path's, symlinks followed) is a
  // regular file: SQLite would open a device such as /dev/null and create its
  // journal beside it, or fail obscurely on a directory.
  void
  require_regular_file(const struct stat& info) const
  {
    if (!S_ISREG(info.st_mode)) {
      const char* what = S_ISDIR(info.st_mode)   ? "a directory"
                         : S_ISCHR(info.st_mode) ? "a character device"
                         : S_ISBLK(info.st_mode) ? "a block device"
                         : S_ISFIFO(info.st_mode) ? "a FIFO"
                         : S_ISSOCK(info.st_mode) ? "a socket"
                                                  : "of another kind";
      throw ConfigError("store file " + m_path + " is not a regular file (it is " + what +
                        "); point --store at a taskctl store file or a new path");
    }
  }

  // The three values that say what a database is, read in one transaction
  // (one snapshot): never half of another process's initialization.
  struct Header
  {
    std::int64_t application_id = 0;
    std::int64_t user_version = 0;
    std::int64_t objects = 0;
    bool empty() const { return application_id == 0 && user_version == 0 && objects == 0; }
  };
  Header
  read_header()
  {
    exec("BEGIN", "starting a read transaction");
    try {
      Header h;
      h.application_id = query_int("PRAGMA application_id", "reading the application id");
      h.user_version = query_int("PRAGMA user_version", "reading the schema version");
      h.objects = query_int("SELECT count(*) FROM sqlite_schema", "reading the schema");
      exec("COMMIT", "ending a read transaction");
      return h;
    } catch (...) {
      sqlite3_exec(m_db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  // Creates the schema, the application id and the schema version in one
  // exclusive transaction (waiting up to the busy timeout for the lock), unless
  // another process has done so first: the store appears whole or not at all.
  void
  initialize()
  {
    exec("BEGIN EXCLUSIVE", "starting the store initialization");
    try {
      if (query_int("SELECT count(*) FROM sqlite_schema", "reading the schema") == 0 &&
          query_int("PRAGMA application_id", "reading the application id") == 0 &&
          query_int("PRAGMA user_version", "reading the schema version") == 0) {
        exec(k_schema_sql, "creating the schema");
        exec(("PRAGMA application_id=" + std::to_string(k_application_id)).c_str(), "setting the application id");
        exec(("PRAGMA user_version=" + std::to_string(k_schema_version)).c_str(), "setting the schema version");
      }
      exec("COMMIT", "committing the store initialization");
    } catch (...) {
      sqlite3_exec(m_db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  // Switches the file to WAL (a no-op when it is already). The switch needs
  // the database to itself, and SQLite may answer BUSY at once instead of
  // calling the busy handler (another connection switching or initializing),
  // so it is retried until the busy timeout.
  void
  switch_to_wal()
  {
    const auto deadline = std::chrono::steady_clock::now() + m_timeout;
    for (auto pause = std::chrono::milliseconds(1);; pause = std::min(pause * 2, std::chrono::milliseconds(50))) {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v2(m_db.get(), "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
      StmtPtr stmt(raw);
      if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt.get());
        if (rc == SQLITE_ROW) {
          // The mode now in force: "wal", or the old one where the file cannot
          // have WAL (SQLite then keeps it, as taskctl always has).
          return;
        }
      }
      const int primary = rc & 0xff;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline) {
        fail(rc, "switching to WAL mode");
      }
      std::this_thread::sleep_for(pause);
    }
  }

  // Creates the schema in an empty database (when allowed) or checks that the
  // database is a taskctl store of a schema version this build understands.
  // Safe under concurrency: several processes may open a new file at once.
  // A reader that finds an empty file (another process may be initializing
  // it) waits up to the busy timeout for the store to appear.
  void
  check_schema(bool create_if_missing)
  {
    const bool in_memory = m_path == ":memory:";
    Header h = read_header();
    if (h.empty() && create_if_missing) {
      initialize();
      h = read_header();
    } else if (h.empty() && !in_memory) {
      const auto deadline = std::chrono::steady_clock::now() + m_timeout;
      while (h.empty() && file_size() == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        h = read_header();
      }
    }
    if (h.empty()) {
      throw ConfigError("store file " + m_path +
                        " is an empty database, not yet a taskctl store (a write command creates the schema)");
    }
    const std::int64_t application_id = h.application_id;
    const std::int64_t user_version = h.user_version;
    if (application_id != k_application_id) {
      throw ConfigError("sqlite store " + m_path +
                        " is an SQLite database but not a taskctl store (application_id " +
                        std::to_string(application_id) + ", user_version " + std::to_string(user_version) +
                        "); point --store at a taskctl store or a new file");
    }
    if (user_version > k_schema_version) {
      throw ConfigError("sqlite store " + m_path + " has schema version " + std::to_string(user_version) +
                        ", newer than this build of taskctl understands (" + std::to_string(k_schema_version) +
                        "); upgrade taskctl");
    }
    if (user_version < 1) {
      throw ConfigError("sqlite store " + m_path + " has unknown schema version " + std::to_string(user_version) +
                        " (expected " + std::to_string(k_schema_version) + ")");
    }
    // Only a taskctl store is switched: a foreign database is left as it is.
    if (!in_memory && !m_read_only) {
      switch_to_wal();
    }
  }

  // Whether this process can write the store: the file and its directory
  // (where SQLite keeps its -wal and -shm files) are writable.
  bool
  writable() const
  {
    return ::access(m_path.c_str(), W_OK) == 0 && ::access(directory().c_str(), W_OK) == 0;
  }

  std::string
  directory() const
  {
    const auto slash = m_path.rfind('/');
    return slash == std::string::npos ? "." : m_path.substr(0, slash == 0 ? 1 : slash);
  }

  // The SQLite URI of the store opened read-only: mode=ro, and immutable=1
  // when the directory cannot be written and no -wal file is left (SQLite
  // could not create the -shm file a WAL reader needs; nothing can write there).
  std::string
  read_only_uri() const
  {
    std::string uri = "file:";
    for (const char c : m_path) {
      if (c == '%' || c == '?' || c == '#' || static_cast<unsigned char>(c) < 0x20) {
        static constexpr char k_hex[] = "0123456789ABCDEF";
        uri += '%';
        uri += k_hex[static_cast<unsigned char>(c) >> 4];
        uri += k_hex[static_cast<unsigned char>(c) & 0xf];
      } else {
        uri += c;
      }
    }
    uri += "?mode=ro";
    struct stat info{};
    if (::access(directory().c_str(), W_OK) != 0 && ::stat((m_path + "-wal").c_str(), &info) != 0) {
      uri += "&immutable=1";
    }
    return uri;
  }

  // The store file's size in bytes (-1 when it cannot be read).
  long long
  file_size() const
  {
    struct stat info{};
    return ::stat(m_path.c_str(), &info) == 0 ? static_cast<long long>(info.st_size) : -1;
  }

  std::string m_path;
  std::chrono::milliseconds m_timeout;
  bool m_read_only = false; // opened read-only: this process cannot write the store
  bool m_batch_cache = false; // put_batch has raised the page cache
  std::mutex m_mutex;
  DbPtr m_db;  // declared before the statements: finalized after them
  std::array<StmtPtr, static_cast<std::size_t>(Sql::count_)> m_statements;
};

Query::Query(SqliteBackend& backend, Sql sql) : m_backend(backend), m_stmt(backend.statement(sql)) {}

bool
Query::step()
{
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  m_backend.fail(rc, sqlite3_sql(m_stmt));
}

void
Query::check(int rc)
{
  if (rc != SQLITE_OK) {
    m_backend.fail(rc, "binding a parameter");
  }
}

} // namespace

// Opens sqlite:PATH or sqlite:///ABS/PATH. Throws InvalidArgument for a URI
// naming a host, without a path, or with a parameter other than timeout;
// ConfigError for a file that is missing (create_if_missing false), cannot be
// created, or is not a taskctl store of a known schema version.
std::string
sqlite_library_version()
{
  return sqlite3_libversion();
}

std::unique_ptr<StorageBackend>
open_sqlite(const StoreUri& uri, const OpenOptions& options)
{
  uri.require_params({"timeout"});
  if ((!uri.host.empty() && uri.host != "localhost") || !uri.user.empty() || uri.password || uri.port) {
    throw InvalidArgument("invalid sqlite store URI '" + uri.redacted() +
                          "': expected sqlite:PATH or sqlite:///ABSOLUTE/PATH (no host)");
  }
  if (uri.path.empty()) {
    throw InvalidArgument("invalid sqlite store URI '" + uri.redacted() +
                          "': no file path (expected sqlite:PATH or sqlite:///ABSOLUTE/PATH)");
  }
  std::chrono::milliseconds timeout = options.timeout;
  if (auto text = uri.param("timeout")) {
    timeout = std::chrono::milliseconds(parse_duration_ms(*text));
  }
  return std::make_unique<SqliteBackend>(uri.path, timeout, options.create_if_missing);
}

} // namespace taskstore
