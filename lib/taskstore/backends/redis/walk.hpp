#pragma once
// The Redis backend's walks (private to backends/redis/): where the records of
// a listing or a cleanup come from (an owner index read page by page, or a
// SCAN MATCH of the record hashes), and the pipelined machinery that fetches
// them: HMGET version data for up to 1000 records per round trip (fewer for
// large records: about 4 MiB of data per round trip), two round trips in
// flight, the next index page or SCAN step riding along. Memory stays
// constant whatever the record count.

#include "taskstore/backend.hpp"
#include "taskstore/backends/redis/connection.hpp"
#include "taskstore/backends/redis/layout.hpp"
#include "taskstore/backends/redis/scripts.hpp"
#include "taskstore/key.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore::redis_detail {

inline constexpr std::size_t batch_size = 1000;      // most records fetched per round trip
inline constexpr std::size_t batch_bytes = 4u << 20; // about this much data per round trip
inline constexpr std::size_t first_chunk = 32;       // records in the first round trip of a walk
inline constexpr std::size_t min_chunk = 4;          // fewest records per round trip
inline constexpr std::size_t page_size = 1000;       // owner-index entries per page
inline constexpr std::size_t scan_count = 1000;      // SCAN COUNT hint
inline constexpr std::size_t anchor_candidates = 32; // members passed to the locate script
inline constexpr std::size_t ordered_round_keys = 5000; // keys yielded per SCAN in key order
// The bound of search_namespaces: SCAN steps (scan_count keys each) and time.
inline constexpr std::size_t namespace_scan_steps = 10;
inline constexpr std::chrono::milliseconds namespace_scan_time{200};

// One index entry (member, score).
struct IndexEntry
{
  std::string member;
  double score = 0;
  std::string score_text;
};

// Walks one owner index in (score, member) order, a page of entries per
// request, never yielding an entry that is not strictly after the last one
// yielded.
//
// A page is read by rank: MULTI, a check that the entry before the page is
// still where it was (ZRANK of the last member read), ZRANGE by rank, EXEC.
// When the check fails (entries before the page were added or removed), the
// start is located again with a script (ZRANK of the last members read, or
// ZCOUNT below the last score when all of them are gone) and the page is read
// from there. No Lua runs on the common path: converting a page through Lua
// costs more than the page itself.
class IndexWalk
{
public:
  explicit IndexWalk(std::string index_key) : index_key_(std::move(index_key)) {}

  bool done() const { return done_; }
  const std::string& index_key() const { return index_key_; }

  // The request for what comes next.
  std::vector<Command> next(const Scripts& scripts) const;

  // Takes the replies to next(): returns the entries not yet seen (maybe
  // none while the walk goes on). Throws StorageError for an error or
  // unexpected reply.
  std::vector<IndexEntry> accept(Connection& c, std::vector<Reply> replies);

private:
  std::vector<IndexEntry> page(Connection& c, const redisReply* reply);

  std::string index_key_;
  bool started_ = false;
  bool done_ = false;
  bool locate_ = false;             // the next request locates the start
  long long start_ = 0;             // rank of the next page
  std::string check_;               // the member (or, by score, the score) checked before a page
  bool check_by_rank_ = true;
  long long check_value_ = 0;       // what the check must answer
  IndexEntry last_;                 // the last entry yielded
  std::vector<std::string> recent_; // the last members read, in order
};

// One SCAN iteration over a MATCH pattern.
class KeyScan
{
public:
  explicit KeyScan(std::string pattern) : pattern_(std::move(pattern)) {}
  bool done() const { return done_; }
  std::vector<Command> next() const;
  // Takes the reply to next(): returns the keys of this step.
  std::vector<std::string> accept(Connection& c, std::vector<Reply> replies);

private:
  std::string pattern_;
  std::string cursor_ = "0";
  bool done_ = false;
};

// An item of a walk: a record key and where it lives.
struct Item
{
  std::string key;    // the composite key "owner:task"
  std::string hash;   // its Redis hash
  std::string member; // its owner-index member (task id); "" from SCAN
};

// Where a walk's items come from: an owner index or a SCAN of the hashes.
class Source
{
public:
  virtual ~Source() = default;
  virtual bool done() const = 0;
  // The request for more items (one or more commands).
  virtual std::vector<Command> next(const Scripts& scripts) const = 0;
  // The items in the replies to next() (maybe none while not done).
  virtual std::vector<Item> accept(Connection& c, std::vector<Reply> replies) = 0;
};

// The members of one owner index whose task id starts with a prefix
// (parts: the owner and that prefix).
class OwnerSource final : public Source
{
public:
  OwnerSource(const Layout& layout, KeyParts parts);
  bool done() const override { return walk_.done(); }
  std::vector<Command> next(const Scripts& scripts) const override { return walk_.next(scripts); }
  std::vector<Item> accept(Connection& c, std::vector<Reply> replies) override;
  const std::string& index_key() const { return walk_.index_key(); }

private:
  const Layout& layout_;
  KeyParts parts_;
  IndexWalk walk_;
};

// The record hashes whose key starts with a prefix, by SCAN MATCH.
class KeySource final : public Source
{
public:
  KeySource(const Layout& layout, std::string_view prefix);
  bool done() const override { return scan_.done(); }
  std::vector<Command> next(const Scripts&) const override { return scan_.next(); }
  std::vector<Item> accept(Connection& c, std::vector<Reply> replies) override;

private:
  const Layout& layout_;
  std::string prefix_;
  KeyScan scan_;
};

// The record hashes whose key starts with a prefix, in key order (as
// memcmp), after a start key: rounds of one whole SCAN MATCH each, keeping
// the round_keys smallest keys after the cursor (SCAN's duplicates dropped),
// then yielding them sorted; the next round starts after the last key
// yielded. Memory: round_keys keys. A key present for the whole walk is
// yielded once; one written meanwhile at most once.
class OrderedKeySource final : public Source
{
public:
  OrderedKeySource(const Layout& layout, std::string_view prefix, std::string start_after,
                   std::size_t round_keys = ordered_round_keys);
  bool done() const override { return done_; }
  std::vector<Command> next(const Scripts&) const override { return scan_.next(); }
  std::vector<Item> accept(Connection& c, std::vector<Reply> replies) override;

private:
  const Layout& layout_;
  std::string prefix_;
  std::string pattern_;
  std::string cursor_; // yield only keys after this one
  std::size_t round_keys_;
  KeyScan scan_;
  std::set<std::string> round_; // the smallest keys after cursor_ seen in this round
  bool done_ = false;
};

// Streams the records of a source: HMGET version data in pipelined round
// trips, two in flight so the client works while the server does. The
// source's next request rides with a round trip as soon as the previous one
// has been answered. Writes (cleanup's deletes) go at the head of a round
// trip, the next reads behind them (write()). The connection is left clean
// (every reply due read) however the walk ends.
class Walk
{
public:
  // Gets each item with what was found (a record, a hash that is gone, or a
  // damaged one); returns false to stop the walk.
  using Visit = std::function<bool(const Item& item, const Fetched& fetched)>;

  Walk(Connection& c, const Scripts& scripts, Source& source) : c_(c), scripts_(scripts), source_(source) {}
  ~Walk();
  Walk(const Walk&) = delete;
  Walk& operator=(const Walk&) = delete;

  // Runs the walk: visit for every item of a round trip, in order, then
  // batch_end (when set), which may call write(). Throws what the connection
  // throws, and what visit and batch_end throw.
  void run(const Visit& visit, const std::function<void()>& batch_end = {});

  // Sends writes at the head of the next round trip, the next chunk of reads
  // riding behind them, and returns the writes' replies in order (NOSCRIPT
  // fixed, otherwise unchecked). For batch_end.
  std::vector<Reply> write(std::vector<Command> writes);

  // Polled before each round trip's records are visited: returning true ends
  // run() there (ScanOptions::should_stop), as a visitor returning false does.
  void stop_when(std::function<bool()> should_stop) { stop_ = std::move(should_stop); }

private:
  // How many hashes one round trip fetches: up to batch_size, fewer when the
  // records are large, so that a round trip holds about batch_bytes of data.
  // The estimate is the largest record of the previous round trip; the count
  // at most doubles from one round trip to the next. (A run of records far
  // larger than any before can exceed batch_bytes, for one round trip.)
  class Sizer
  {
  public:
    std::size_t chunk() const { return chunk_; }
    void observe(std::size_t largest);

  private:
    std::size_t chunk_ = first_chunk;
  };

  // One pipelined round trip: writes, HMGETs for a chunk of items, and maybe
  // the source's next request, sent in that order.
  struct Flight
  {
    std::vector<Command> writes;
    std::vector<Item> items;
    std::vector<Command> ask;   // the source's request
    std::vector<Reply> replies; // the replies read so far, in order
    std::size_t size() const { return writes.size() + items.size() + ask.size(); }
    // The record key of the i-th command, for messages.
    const std::string& key_at(std::size_t i) const;
    // The commands aligned with the replies (a default Command for each HMGET).
    std::vector<Command> aligned() const;
  };

  // Sends a round trip: writes, the next chunk of the queue, and the
  // source's next request when due. Returns false when there was nothing to send.
  bool launch(std::vector<Command> writes);
  // Reads replies until flights_[index] holds count of them (the flights
  // before it are read whole: replies arrive in order).
  void read_until(std::size_t index, std::size_t count);
  // Sends the scripts of flights_[index]'s NOSCRIPT replies again (after
  // reading every reply still due).
  void fix_noscript(std::size_t index);

  Connection& c_;
  const Scripts& scripts_;
  Source& source_;
  std::deque<Item> queue_;
  std::deque<Flight> flights_;
  bool asking_ = false; // a source request is in flight
  Sizer sizer_;
  std::function<bool()> stop_;
};

} // namespace taskstore::redis_detail
