// The Redis backend, byte-compatible with the stores pmcp-tasks' RedisBackend
// writes (facts §5.2; the layout is in layout.hpp): a record is a hash
// {prefix}:tasks:{owner}:{task} (version, data, expires_at) with EXPIREAT (PERSIST
// when it does not expire), indexed in the sorted set {prefix}:idx:{owner}
// (member task id, score createdAt in epoch ms, added with ZADD NX).
//
// Differences from the anchor, all deliberate:
// * get and scan report expired records (Redis itself deletes a hash at its
//   EXPIREAT); no "expires_at <= now seconds" filtering.
// * EXPIREAT is the first whole second not before expiresAt (the anchor: the
//   floored second, up to 1 s early), and is not set at all when that second
//   has passed, so a record written already expired is kept (and reported)
//   until cleanup_expired removes it, instead of vanishing (see write_values).
// * remove always ZREMs the index entry, even when the hash already expired.
// * remove_if_version (no anchor equivalent) deletes the hash and its index
//   entry in one script, only at the expected version; a mismatch writes nothing.
// * cleanup_expired does work: it removes hashes whose record expiresAt is
//   strictly past CleanupOptions.now (with a per-key version check) and the
//   orphaned index entries whose hash is gone. Orphans are debris, not records:
//   they are not counted, not reported to on_removed, and left alone on a dry run.
// * Versions are compared and incremented as decimal strings in Lua, never as
//   Lua numbers (doubles), so they stay exact beyond 2^53 (scripts.hpp).
// * Listings and cleanup are pipelined (walk.hpp).
//
// Listing order: for a prefix containing ':' (one owner, "owner:" or
// "owner:taskprefix") the owner index order, createdAt ms ascending then task
// id (as the anchor); for any other prefix ("" or an owner prefix without
// ':'), SCAN MATCH {prefix}:tasks:{escaped prefix}* order (arbitrary). Hashes
// whose index entry is missing are only seen by the SCAN path. A hash that
// disappears between the index/SCAN and its HMGET is skipped.
//
// Visiting each key at most once. The one-owner path reads the index by rank,
// checking in the same MULTI that the entry before each page has not moved
// (else it locates the page again), and drops anything not strictly after the
// last (score, member) yielded: no key is visited twice and none present
// throughout is skipped (a task deleted and re-created with a later createdAt
// during the walk is a new record and may be reported in its new place). The
// SCAN path keeps no per-key memory (constant memory is required): Redis' SCAN
// never repeats a key unless the database's key table shrinks during the
// iteration (Redis' dict.c), which Redis only does when it falls below 10%
// full, i.e. after most of the database's keys were deleted or expired while
// the scan ran. In that case only, a key may be reported twice. We chose that
// over a set of seen keys (memory proportional to the record count).
// cleanup_expired is immune: a removal is counted only when the
// version-checked delete actually deleted the hash.
//
// Connections: see connection.hpp (a pool; every operation leases one).

#include "taskstore/backends/redis.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/backends/redis/connection.hpp"
#include "taskstore/backends/redis/layout.hpp"
#include "taskstore/backends/redis/scripts.hpp"
#include "taskstore/backends/redis/walk.hpp"
#include "taskstore/error.hpp"
#include "taskstore/json/peek.hpp"
#include "taskstore/key.hpp"
#include "taskstore/text.hpp"
#include "taskstore/time.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskstore {
namespace {

using namespace redis_detail;

// The values pmcp-tasks extracts on every write: the expires_at field (floored
// epoch seconds, "" when none) and the index score (createdAt epoch ms, "0"
// when none); plus the EXPIREAT second.
//
// EXPIREAT: the anchor sets it at the floored second, so Redis deletes a record
// up to a second before its expiresAt (facts §11.27), and a record written
// already expired vanishes at once while put reports success (§11.28). We set
// it at the first whole second not before expiresAt (= floor when expiresAt is
// a whole second), so Redis never deletes a record early, and the write
// script skips it (PERSIST) when that second has already passed on the server:
// such a record stays, is reported like any expired record, and is removed by
// cleanup_expired. pmcp-tasks cannot tell the difference: it judges expiry by
// the expires_at field (<= now), which is exactly the anchor's value.
struct WriteValues
{
  std::string expires;   // the hash field
  std::string expire_at; // the EXPIREAT argument
  std::string score;
};

WriteValues
write_values(std::string_view data)
{
  WriteValues v;
  if (auto e = extract_expires_at(data)) {
    v.expires = std::to_string(e->seconds);
    v.expire_at = std::to_string(e->seconds + (e->nanos > 0 ? 1 : 0));
  }
  auto c = extract_created_at(data);
  v.score = c ? std::to_string(c->epoch_millis()) : "0";
  return v;
}

// The largest version a record can have; a write past it is refused (the
// scripts compare it as a decimal string, never as a Lua double).
constexpr std::uint64_t k_max_version = std::numeric_limits<std::uint64_t>::max();

// Throws capacity_exceeded for a write to key, which is at k_max_version.
[[noreturn]] void
throw_at_max(std::string_view key)
{
  throw version_limit_error(key, k_max_version, "the redis backend");
}

// Throws StorageError backend with the anchor's message ("data is not valid
// UTF-8: {e}", Rust's Utf8Error text) when data is not valid UTF-8.
void
require_utf8(std::string_view data)
{
  if (auto fault = check_utf8(data)) {
    throw StorageError::backend("data is not valid UTF-8: " + fault->message);
  }
}

class RedisBackend final : public StorageBackend
{
public:
  explicit RedisBackend(Settings settings) : pool_(std::move(settings)), layout_(pool_.settings().prefix)
  {
    // Connect now: an unreachable server or rejected credentials surface at
    // open. The scripts are loaded once, here (a flushed script cache is
    // handled by the NOSCRIPT fallback).
    Pool::Lease lease = pool_.acquire();
    scripts_.load(*lease);
  }

  VersionedRecord get(std::string_view key) override
  {
    const KeyParts parts = split_key(key);
    Pool::Lease c = pool_.acquire();
    Command cmd{"HMGET", layout_.hash_key(parts), "version", "data"};
    cmd.key = std::string(key);
    Reply r = c->run(cmd);
    Fetched fetched = read_fetched(r.get(), cmd.key);
    if (!fetched.damage.empty()) {
      // The anchor's messages (facts §5.2); listings report the reason itself.
      throw StorageError::backend((fetched.damage == "the hash has no data field" ? "missing data field for key "
                                                                                  : "missing or invalid version field for key ") +
                                  std::string(key));
    }
    if (!fetched.record) {
      throw StorageError::not_found(std::string(key));
    }
    return std::move(*fetched.record);
  }

  std::uint64_t put(std::string_view key, std::string_view data) override
  {
    const Command cmd = write_command(ScriptId::put, key, data, std::nullopt);
    Pool::Lease c = pool_.acquire();
    Reply r = scripts_.run(*c, cmd);
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
      throw_at_max(key); // the script wrote nothing
    }
    return version_of(*c, r.get(), cmd.key);
  }

  std::uint64_t put_if_version(std::string_view key, std::string_view data, std::uint64_t expected) override
  {
    const Command cmd = write_command(ScriptId::cas, key, data, expected);
    if (expected == k_max_version) {
      throw_at_max(key); // the write would give the record version max + 1
    }
    Pool::Lease c = pool_.acquire();
    Reply r = scripts_.run(*c, cmd);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER) {
      c->fail("unexpected reply to the CAS script", cmd.key);
    }
    if (r->element[0]->integer == 2) {
      throw_at_max(key);
    }
    const std::uint64_t version = version_of(*c, r->element[1], cmd.key);
    if (r->element[0]->integer != 1) {
      throw StorageError::version_conflict(std::string(key), expected, version);
    }
    return version;
  }

  // The put and cas scripts (expected 0) of the writes, pipelined: up to
  // batch_size commands or about batch_bytes of data per round trip. A write
  // refused on its own (a bad key, data that is not UTF-8, the maximum
  // version, an error reply) is reported for that write.
  std::vector<BatchResult> put_batch(const std::vector<BatchWrite>& writes) override
  {
    std::vector<BatchResult> out(writes.size());
    Pool::Lease c = pool_.acquire();
    std::vector<Command> cmds;
    std::vector<std::size_t> index; // the write of each command
    const auto send = [&] {
      if (cmds.empty()) {
        return;
      }
      std::vector<Reply> replies = scripts_.pipeline(*c, cmds);
      for (std::size_t j = 0; j < replies.size(); ++j) {
        BatchResult& result = out[index[j]];
        try {
          result.version = batch_version(*c, std::move(replies[j]), cmds[j], writes[index[j]]);
        } catch (const StorageError&) {
          result.error = std::current_exception();
        }
      }
      cmds.clear();
      index.clear();
    };
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < writes.size(); ++i) {
      try {
        cmds.push_back(write_command(writes[i].if_absent ? ScriptId::cas : ScriptId::put, writes[i].key,
                                     writes[i].data,
                                     writes[i].if_absent ? std::optional<std::uint64_t>(0) : std::nullopt));
        index.push_back(i);
      } catch (const InvalidArgument&) {
        out[i].error = std::current_exception();
        continue;
      } catch (const StorageError&) {
        out[i].error = std::current_exception();
        continue;
      }
      bytes += writes[i].data.size();
      if (cmds.size() >= batch_size || bytes >= batch_bytes) {
        send();
        bytes = 0;
      }
    }
    send();
    return out;
  }

  bool remove(std::string_view key) override
  {
    const KeyParts parts = split_key(key);
    Pool::Lease c = pool_.acquire();
    Command cmd = scripts_.command(ScriptId::remove, {layout_.hash_key(parts), layout_.index_key(parts.owner_id)},
                                   {parts.task_id});
    cmd.key = std::string(key);
    Reply r = scripts_.run(*c, cmd);
    if (r->type != REDIS_REPLY_INTEGER) {
      c->fail("unexpected reply to the delete script", cmd.key);
    }
    return r->integer == 1;
  }

  // One script (the one cleanup uses) compares the version, and deletes the
  // hash and its index entry, atomically on the server; on a mismatch it
  // returns the current version (0 when absent) and writes nothing.
  void remove_if_version(std::string_view key, std::uint64_t expected) override
  {
    const KeyParts parts = split_key(key);
    check_removal_version(key, expected);
    Pool::Lease c = pool_.acquire();
    Command cmd = scripts_.command(ScriptId::remove_if_version,
                                   {layout_.hash_key(parts), layout_.index_key(parts.owner_id)},
                                   {std::to_string(expected), parts.task_id});
    cmd.key = std::string(key);
    Reply r = scripts_.run(*c, cmd);
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
      return;
    }
    if (r->type != REDIS_REPLY_STRING) {
      c->fail("unexpected reply to the conditional delete script", cmd.key);
    }
    throw StorageError::version_conflict(std::string(key), expected, version_of(*c, r.get(), cmd.key));
  }

  // Orders (ScanOptions): one owner's records in its index order, the
  // whole store in SCAN order; key order with start_after or key_order.
  // keys_only reads no hash: the keys of a SCAN MATCH.
  void do_scan(const ScanOptions& options, const ScanVisitor& visit, const DamageVisitor& damaged) override
  {
    Pool::Lease c = pool_.acquire();
    const std::string& prefix = options.prefix;
    if (options.keys_only && options.start_after.empty() && !options.key_order) {
      const VersionedRecord no_record;
      KeyScan scan(glob_escape(layout_.tasks_prefix()) + glob_escape(prefix) + "*");
      while (!scan.done() && !(options.should_stop && options.should_stop())) {
        for (const std::string& h : scan.accept(*c, scripts_.pipeline(*c, scan.next()))) {
          if (auto k = layout_.composite_of(h, prefix); k && !visit(*k, no_record)) {
            return;
          }
        }
      }
      return;
    }
    const Walk::Visit records = [&](const Item& item, const Fetched& fetched) {
      if (fetched.record) {
        return visit(item.key, *fetched.record);
      }
      return fetched.damage.empty() || !damaged || damaged(DamagedRecord{item.key, fetched.damage});
    };
    const auto walk = [&](Source& src) {
      Walk w(*c, scripts_, src);
      if (options.should_stop) {
        w.stop_when(options.should_stop);
      }
      w.run(records);
    };
    if (!options.start_after.empty() || options.key_order) {
      OrderedKeySource src(layout_, prefix, options.start_after);
      walk(src);
    } else if (auto parts = parse_key(prefix)) {
      OwnerSource src(layout_, std::move(*parts));
      walk(src);
    } else {
      KeySource src(layout_, prefix);
      walk(src);
    }
  }

  // SCAN MATCH *:tasks:* from the start, at most namespace_scan_steps steps
  // (about 10,000 keys examined) or namespace_scan_time, until a key of this
  // prefix is seen. The namespace of a key is the text before its first
  // ":tasks:" followed by OWNER:TASK (a prefix that itself holds ":tasks:" is
  // misread, harmlessly: the search only advises).
  NamespaceSearch search_namespaces() override
  {
    NamespaceSearch out;
    out.applies = true;
    out.own = pool_.settings().prefix;
    out.own_pattern = layout_.tasks_prefix() + "*";
    Pool::Lease c = pool_.acquire();
    const auto deadline = std::chrono::steady_clock::now() + namespace_scan_time;
    std::set<std::string> others;
    KeyScan scan("*:tasks:*");
    for (std::size_t step = 0; !scan.done(); ++step) {
      if (step == namespace_scan_steps || std::chrono::steady_clock::now() >= deadline) {
        out.cut_short = true;
        break;
      }
      const std::vector<std::string> keys = scan.accept(*c, scripts_.pipeline(*c, scan.next()));
      out.examined += scan_count;
      for (const std::string& key : keys) {
        auto ns = namespace_of(key);
        if (!ns) {
          continue;
        }
        if (*ns == out.own) {
          out.own_found = true;
          return out;
        }
        others.insert(std::move(*ns));
      }
    }
    out.others.assign(others.begin(), others.end());
    return out;
  }

  std::string_view name() const override { return "redis"; }

protected:
  std::size_t do_cleanup_expired(const CleanupOptions& options) override
  {
    Pool::Lease c = pool_.acquire();
    if (auto parts = parse_key(options.prefix)) {
      OwnerSource src(layout_, std::move(*parts));
      return cleanup(*c, src, options, src.index_key());
    }
    KeySource src(layout_, options.prefix);
    const std::size_t removed = cleanup(*c, src, options, std::string());
    if (!options.dry_run) {
      remove_orphans(*c, options.prefix);
    }
    return removed;
  }

private:
  // The version a batched write's script reply gives (put_batch): as put
  // and put_if_version read it; 0 for an if_absent write that found the key.
  // Throws StorageError for an error reply or the maximum version.
  std::uint64_t batch_version(Connection& c, Reply reply, const Command& cmd, const BatchWrite& w) const
  {
    Reply r = c.checked(std::move(reply), cmd.key);
    if (!w.if_absent) {
      if (r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
        throw_at_max(w.key);
      }
      return version_of(c, r.get(), cmd.key);
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER) {
      c.fail("unexpected reply to the CAS script", cmd.key);
    }
    if (r->element[0]->integer == 2) {
      throw_at_max(w.key);
    }
    return r->element[0]->integer == 1 ? version_of(c, r->element[1], cmd.key) : 0;
  }

  // The put or cas script's command writing data at key (expected: cas's
  // version). Throws InvalidArgument for a malformed key and StorageError
  // for data that is not UTF-8, before any connection is made.
  Command write_command(ScriptId id, std::string_view key, std::string_view data,
                        std::optional<std::uint64_t> expected) const
  {
    const KeyParts parts = split_key(key);
    require_utf8(data);
    const WriteValues v = write_values(data);
    Command cmd = scripts_.head(id, 2);
    cmd << layout_.hash_key(parts) << layout_.index_key(parts.owner_id) << data << v.expires << v.expire_at
        << parts.task_id << v.score;
    if (expected) {
      cmd << std::to_string(*expected);
    }
    cmd.key = std::string(key);
    return cmd;
  }

  // cleanup_expired over one source, the judging, dry run, counting and
  // reporting being the CleanupDriver's. The walk offers every record it
  // fetches; after each round trip's records the driver is flushed, and its
  // RemoveUnchanged sends their version-checked deletes at the head of the
  // next round trip (the next reads ride behind them), keeping those the
  // server deleted. With orphan_index set (an owner walk), the index entries
  // whose hash is gone are removed too (never on a dry run), with the deletes
  // or alone; they are not counted. Returns how many records were removed
  // (or would be).
  std::size_t cleanup(Connection& c, Source& src, const CleanupOptions& options, const std::string& orphan_index)
  {
    Walk walk(c, scripts_, src);
    std::vector<std::string> orphan_members;
    std::vector<std::string> orphan_hashes;
    auto take_orphans = [&](std::vector<Command>& writes) {
      if (!orphan_members.empty()) {
        writes.push_back(orphan_removal(orphan_index, orphan_members, orphan_hashes));
        orphan_members.clear();
        orphan_hashes.clear();
      }
    };
    CleanupDriver driver(options, [&](std::vector<ExpiredRecord>& records) {
      std::vector<Command> writes = deletes(records);
      take_orphans(writes);
      keep_removed(c, records, walk.write(std::move(writes)));
    });
    std::vector<DamagedRecord> damaged; // to remove (options.remove_damaged) after this round trip
    bool stop = false;                  // should_stop said so after a round trip
    auto settle_damaged = [&] {
      if (damaged.empty()) {
        return;
      }
      std::vector<Command> removals;
      for (const DamagedRecord& d : damaged) {
        const KeyParts parts = split_key(d.key);
        Command cmd = scripts_.command(ScriptId::remove_damaged,
                                       {layout_.hash_key(parts), layout_.index_key(parts.owner_id)}, {parts.task_id});
        cmd.key = d.key;
        removals.push_back(std::move(cmd));
      }
      std::vector<Reply> replies = walk.write(std::move(removals));
      for (std::size_t i = 0; i < damaged.size(); ++i) {
        Reply r = c.checked(std::move(replies[i]), damaged[i].key);
        if (r->type == REDIS_REPLY_INTEGER && r->integer == 1 && options.on_damaged) {
          options.on_damaged(damaged[i], true);
        }
      }
      damaged.clear();
    };
    walk.run(
      [&](const Item& item, const Fetched& fetched) {
        if (fetched.record) {
          driver.offer(item.key, fetched.record->version, fetched.record->data);
        } else if (!fetched.damage.empty()) {
          DamagedRecord d{item.key, fetched.damage};
          if (options.remove_damaged && !options.dry_run) {
            damaged.push_back(std::move(d));
          } else if (options.on_damaged) {
            options.on_damaged(d, options.remove_damaged);
          }
        } else if (!orphan_index.empty() && !options.dry_run) {
          orphan_members.push_back(item.member);
          orphan_hashes.push_back(item.hash);
        }
        return !stop;
      },
      [&] {
        driver.flush();
        settle_damaged();
        stop = driver.stop_requested();
        std::vector<Command> orphans;
        take_orphans(orphans); // the driver had no deletes to send them with
        if (!orphans.empty()) {
          std::vector<ExpiredRecord> none;
          keep_removed(c, none, walk.write(std::move(orphans)));
        }
      });
    return driver.removed();
  }

  // The version-checked delete of each record (the remove_if_version script).
  std::vector<Command> deletes(const std::vector<ExpiredRecord>& records) const
  {
    std::vector<Command> out;
    out.reserve(records.size() + 1);
    for (const ExpiredRecord& r : records) {
      const KeyParts parts = split_key(r.key);
      Command cmd = scripts_.command(ScriptId::remove_if_version,
                                     {layout_.hash_key(parts), layout_.index_key(parts.owner_id)},
                                     {std::to_string(r.version), parts.task_id});
      cmd.key = r.key;
      out.push_back(std::move(cmd));
    }
    return out;
  }

  // Settles the replies to deletes(records) (then any other writes), in
  // order: an error reply throws; records keeps those the server deleted.
  static void keep_removed(Connection& c, std::vector<ExpiredRecord>& records, std::vector<Reply> replies)
  {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      const bool is_delete = i < records.size();
      Reply r = c.checked(std::move(replies[i]), is_delete ? records[i].key : std::string());
      if (is_delete && r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        if (kept != i) {
          records[kept] = std::move(records[i]);
        }
        ++kept;
      }
    }
    records.erase(records.begin() + static_cast<std::ptrdiff_t>(kept), records.end());
  }

  // The command removing the entries of index whose hash does not exist
  // (checked server-side by the remove_orphans script).
  Command orphan_removal(const std::string& index, const std::vector<std::string>& members,
                         const std::vector<std::string>& hashes) const
  {
    Command cmd = scripts_.head(ScriptId::remove_orphans, 1 + hashes.size());
    cmd << index;
    for (const auto& h : hashes) {
      cmd << h;
    }
    for (const auto& m : members) {
      cmd << m;
    }
    return cmd;
  }

  // Orphaned index entries of every owner starting with prefix: each index
  // page goes to the orphan script, its removal riding with the next page's
  // request.
  void remove_orphans(Connection& c, std::string_view prefix)
  {
    const std::string& idx_prefix = layout_.index_prefix();
    KeyScan scan(glob_escape(idx_prefix) + glob_escape(prefix) + "*");
    while (!scan.done()) {
      for (const std::string& index : scan.accept(c, scripts_.pipeline(c, scan.next()))) {
        const std::string owner = index.substr(idx_prefix.size());
        if (owner.find(':') != std::string::npos) {
          continue; // not an index this layout writes
        }
        IndexWalk walk(index);
        std::vector<IndexEntry> entries = walk.accept(c, scripts_.pipeline(c, walk.next(scripts_)));
        while (!entries.empty() || !walk.done()) {
          std::vector<Command> cmds;
          if (!entries.empty()) {
            std::vector<std::string> members;
            std::vector<std::string> hashes;
            for (IndexEntry& e : entries) {
              hashes.push_back(layout_.hash_key(owner, e.member));
              members.push_back(std::move(e.member));
            }
            cmds.push_back(orphan_removal(index, members, hashes));
          }
          const std::size_t writes = cmds.size();
          if (!walk.done()) {
            for (Command& cmd : walk.next(scripts_)) {
              cmds.push_back(std::move(cmd));
            }
          }
          if (cmds.empty()) {
            break;
          }
          std::vector<Reply> replies = scripts_.pipeline(c, cmds);
          std::vector<Reply> page_replies;
          for (std::size_t i = 0; i < replies.size(); ++i) {
            if (i < writes) {
              c.checked(std::move(replies[i]), "");
            } else {
              page_replies.push_back(std::move(replies[i]));
            }
          }
          entries = page_replies.empty() ? std::vector<IndexEntry>() : walk.accept(c, std::move(page_replies));
        }
      }
    }
  }

  Pool pool_;
  Layout layout_;
  Scripts scripts_;
};

} // namespace

std::string
redis_library_version()
{
  return std::to_string(HIREDIS_MAJOR) + "." + std::to_string(HIREDIS_MINOR) + "." + std::to_string(HIREDIS_PATCH);
}

std::unique_ptr<StorageBackend>
open_redis(const StoreUri& uri, const OpenOptions& options)
{
  return std::make_unique<RedisBackend>(settings_from(uri, options));
}

} // namespace taskstore
