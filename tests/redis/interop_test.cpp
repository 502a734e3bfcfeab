// Interoperability with the layout pmcp-tasks writes (facts §5.2), checked
// against the shared test server (TASKCTL_TEST_REDIS_URL) with the real
// redis-cli: records redis-cli writes the way pmcp-tasks does are read, listed,
// CAS-updated and deleted by the backend; records the backend writes have
// exactly pmcp-tasks' hash fields, index entry, score and TTL.

#include "contract/stores.hpp"
#include "redis/support.hpp"

#include "support/expect.hpp"
#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/record.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace taskstore;
using taskstore::testing::storage_error_of;
using taskstore::redis_test::RedisCli;

namespace {

// A store on the shared server under a key prefix of its own; every key under
// the prefix is deleted at the end.
struct Shared
{
  explicit Shared(std::string key_prefix = taskstore::testing::unique_name("interop"))
    : url(redis_test::shared_url()), prefix(std::move(key_prefix)), cli(RedisCli::url(url)),
      db(open_store(redis_test::with_prefix(url, prefix)))
  {
  }
  ~Shared()
  {
    try {
      auto keys = cli.lines({"--scan", "--pattern", redis_test::glob_escape(prefix) + ":*"});
      for (std::size_t i = 0; i < keys.size(); i += 200) {
        std::vector<std::string> del{"DEL"};
        for (std::size_t j = i; j < std::min(keys.size(), i + 200); ++j) {
          del.push_back(keys[j]);
        }
        cli(del);
      }
    } catch (...) {
      // The prefix is unique: a leftover never affects another test.
    }
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  std::string hash(const std::string& owner, const std::string& task) const
  {
    return prefix + ":tasks:" + owner + ":" + task;
  }
  std::string index(const std::string& owner) const { return prefix + ":idx:" + owner; }

  // HGETALL as a map.
  std::map<std::string, std::string> hgetall(const std::string& key) const
  {
    const auto lines = cli.lines({"HGETALL", key});
    REQUIRE(lines.size() % 2 == 0);
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < lines.size(); i += 2) {
      out[lines[i]] = lines[i + 1];
    }
    return out;
  }

  std::string url;
  std::string prefix;
  RedisCli cli;
  std::unique_ptr<StorageBackend> db;
};

// A pmcp-shaped record (facts §2.5) with the given createdAt and expiresAt.
std::string
record_json(const std::string& owner, const std::string& task_id, const std::string& created_at,
            std::optional<Timestamp> expires_at, const std::string& note = "")
{
  Json task = {{"taskId", task_id},
               {"status", "working"},
               {"createdAt", created_at},
               {"lastUpdatedAt", created_at},
               {"ttl", 3'600'000},
               {"pollInterval", 500}};
  Json record = {{"task", task},
                 {"ownerId", owner},
                 {"variables", note.empty() ? Json::object() : Json{{"note", note}}},
                 {"result", nullptr},
                 {"requestMethod", "tools/call"},
                 {"expiresAt", expires_at ? Json(format_autosi(*expires_at)) : Json(nullptr)}};
  return record.dump();
}

std::vector<std::string>
scan_keys(StorageBackend& db, std::string_view prefix)
{
  std::vector<std::string> keys;
  db.scan(prefix, [&](const std::string& key, const VersionedRecord&) {
    keys.push_back(key);
    return true;
  });
  return keys;
}

std::set<std::string>
as_set(const std::vector<std::string>& keys)
{
  return {keys.begin(), keys.end()};
}

const std::string k_created = "2025-11-25T10:30:00.500Z"; // 1764066600500 ms
const std::string k_created_earlier = "2025-11-25T10:29:00Z";

} // namespace

TEST_CASE("records redis-cli writes in pmcp-tasks' layout are read, listed, CAS-updated and deleted")
{
  Shared s;
  const Timestamp expires{now_utc().seconds + 3600, 250'000'000};
  const std::string exp_data = record_json("own", "t-exp", k_created, expires);
  const std::string forever_data = record_json("own", "t-forever", k_created_earlier, std::nullopt);

  // Exactly what pmcp-tasks' PUT script leaves behind.
  s.cli({"HSET", s.hash("own", "t-exp"), "version", "3", "data", exp_data, "expires_at",
         std::to_string(expires.seconds)});
  s.cli({"EXPIREAT", s.hash("own", "t-exp"), std::to_string(expires.seconds)});
  s.cli({"ZADD", s.index("own"), "NX", "1764066600500", "t-exp"});
  s.cli({"HSET", s.hash("own", "t-forever"), "version", "1", "data", forever_data});
  s.cli({"ZADD", s.index("own"), "NX", "1764066540000", "t-forever"});
  s.cli({"HSET", s.hash("other", "x"), "version", "7", "data", "{}"});
  s.cli({"ZADD", s.index("other"), "NX", "0", "x"});

  CHECK(s.db->get("own:t-exp") == VersionedRecord{exp_data, 3});
  CHECK(s.db->get("own:t-forever") == VersionedRecord{forever_data, 1});
  CHECK(s.db->get("other:x") == VersionedRecord{"{}", 7});

  // One owner: the index order, createdAt ascending.
  CHECK(scan_keys(*s.db, "own:") == std::vector<std::string>{"own:t-forever", "own:t-exp"});
  CHECK(scan_keys(*s.db, "own:t-e") == std::vector<std::string>{"own:t-exp"});
  // Every owner, and an owner prefix: SCAN.
  CHECK(as_set(scan_keys(*s.db, "")) == std::set<std::string>{"own:t-exp", "own:t-forever", "other:x"});
  CHECK(as_set(scan_keys(*s.db, "ow")) == std::set<std::string>{"own:t-exp", "own:t-forever"});

  // CAS on the version pmcp-tasks wrote.
  const std::string updated = record_json("own", "t-exp", k_created, expires, "updated");
  CHECK(s.db->put_if_version("own:t-exp", updated, 3) == 4);
  CHECK(s.cli({"HGET", s.hash("own", "t-exp"), "version"}) == "4");
  CHECK(s.cli({"HGET", s.hash("own", "t-exp"), "data"}) == updated);
  CHECK(s.cli({"ZSCORE", s.index("own"), "t-exp"}) == "1764066600500");
  auto conflict = storage_error_of([&] { s.db->put_if_version("own:t-exp", "{}", 3); });
  CHECK(conflict.kind() == StorageErrorKind::version_conflict);
  CHECK(conflict.actual() == 4);
  CHECK(s.db->put("other:x", "{\"a\":1}") == 8);

  CHECK(s.db->remove("own:t-exp"));
  CHECK(s.cli({"EXISTS", s.hash("own", "t-exp")}) == "0");
  CHECK(s.cli({"ZSCORE", s.index("own"), "t-exp"}).empty());
  CHECK_FALSE(s.db->remove("own:t-exp"));
  CHECK(scan_keys(*s.db, "own:") == std::vector<std::string>{"own:t-forever"});
}

TEST_CASE("records the backend writes have exactly pmcp-tasks' fields, index entry, score and TTL")
{
  Shared s;
  const std::string key = "own:t1";
  const std::string hash = s.hash("own", "t1");
  const Timestamp now = now_utc();

  SECTION("an expiring record: version, data, expires_at = floor(expiresAt); EXPIREAT")
  {
    const Timestamp expires{now.seconds + 3600, 750'000'000};
    const std::string data = record_json("own", "t1", k_created, expires);
    REQUIRE(s.db->put(key, data) == 1);
    CHECK(s.hgetall(hash) == std::map<std::string, std::string>{
                               {"version", "1"}, {"data", data}, {"expires_at", std::to_string(expires.seconds)}});
    CHECK(s.cli({"ZSCORE", s.index("own"), "t1"}) == "1764066600500");
    CHECK(s.cli({"ZCARD", s.index("own")}) == "1");
    CHECK(s.cli({"TTL", s.index("own")}) == "-1"); // the index never expires
    // Redis deletes the hash at the first whole second not before expiresAt:
    // never early (pmcp-tasks uses the floored second, up to 1 s early; it
    // judges expiry by the expires_at field, which is the same).
    CHECK(s.cli({"EXPIRETIME", hash}) == std::to_string(expires.seconds + 1));
    const long ttl = std::stol(s.cli({"TTL", hash}));
    CHECK(ttl > 3590);
    CHECK(ttl <= 3601);

    // A whole-second expiresAt: EXPIREAT is exactly pmcp-tasks' value.
    const Timestamp whole{now.seconds + 7200, 0};
    CHECK(s.db->put_if_version(key, record_json("own", "t1", k_created, whole), 1) == 2);
    CHECK(s.cli({"EXPIRETIME", hash}) == std::to_string(whole.seconds));
    CHECK(s.cli({"HGET", hash, "expires_at"}) == std::to_string(whole.seconds));

    // No expiry any more: HDEL expires_at + PERSIST.
    const std::string forever = record_json("own", "t1", "2030-01-01T00:00:00Z", std::nullopt);
    CHECK(s.db->put(key, forever) == 3);
    CHECK(s.hgetall(hash) == std::map<std::string, std::string>{{"version", "3"}, {"data", forever}});
    CHECK(s.cli({"TTL", hash}) == "-1");
    // ZADD NX: the first score stays although createdAt changed.
    CHECK(s.cli({"ZSCORE", s.index("own"), "t1"}) == "1764066600500");
  }

  SECTION("an unparsable createdAt scores 0; data that is not JSON gets no expiry")
  {
    CHECK(s.db->put("own:bad-time", R"({"task":{"createdAt":"yesterday"},"expiresAt":"soon"})") == 1);
    CHECK(s.cli({"ZSCORE", s.index("own"), "bad-time"}) == "0");
    CHECK(s.cli({"TTL", s.hash("own", "bad-time")}) == "-1");
    CHECK(s.cli({"HEXISTS", s.hash("own", "bad-time"), "expires_at"}) == "0");
    CHECK(s.db->put("own:text", "plain text") == 1);
    CHECK(s.hgetall(s.hash("own", "text")) ==
          std::map<std::string, std::string>{{"version", "1"}, {"data", "plain text"}});
    CHECK(s.cli({"ZSCORE", s.index("own"), "text"}) == "0");
  }

  SECTION("a record written already expired is kept (no TTL) until cleanup_expired")
  {
    // pmcp-tasks would EXPIREAT a past second: Redis deletes the hash at once
    // while put reports success (facts §11.28). We keep it: the expires_at
    // field still tells pmcp-tasks it has expired.
    const Timestamp past{now.seconds - 30, 5};
    const std::string data = record_json("own", "t1", k_created, past);
    REQUIRE(s.db->put(key, data) == 1);
    CHECK(s.hgetall(hash) == std::map<std::string, std::string>{
                               {"version", "1"}, {"data", data}, {"expires_at", std::to_string(past.seconds)}});
    CHECK(s.cli({"TTL", hash}) == "-1");
    CHECK(s.db->get(key) == VersionedRecord{data, 1});
    CHECK(scan_keys(*s.db, "own:") == std::vector<std::string>{key});
    CHECK(s.db->cleanup_expired() == 1);
    CHECK(s.cli({"EXISTS", hash}) == "0");
    CHECK(s.cli({"EXISTS", s.index("own")}) == "0");
  }
}

TEST_CASE("remove_if_version deletes the hash and its owner index entry in one script; a mismatch touches neither")
{
  Shared s;
  const std::string data = record_json("own", "t", k_created, std::nullopt);
  REQUIRE(s.db->put("own:t", data) == 1);
  REQUIRE(s.db->put("own:t", data) == 2);
  REQUIRE(s.db->put("own:keep", record_json("own", "keep", k_created_earlier, std::nullopt)) == 1);
  REQUIRE(s.cli({"ZSCORE", s.index("own"), "t"}) == "1764066600500");

  // A mismatch: the hash, its fields and its index entry are untouched.
  auto e = storage_error_of([&] { s.db->remove_if_version("own:t", 1); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.actual() == 2);
  CHECK(s.hgetall(s.hash("own", "t")) == std::map<std::string, std::string>{{"version", "2"}, {"data", data}});
  CHECK(s.cli({"ZSCORE", s.index("own"), "t"}) == "1764066600500");

  s.db->remove_if_version("own:t", 2);
  CHECK(s.cli({"EXISTS", s.hash("own", "t")}) == "0");
  CHECK(s.cli({"ZSCORE", s.index("own"), "t"}).empty());
  CHECK(s.cli({"ZRANGE", s.index("own"), "0", "-1"}) == "keep");
  CHECK(scan_keys(*s.db, "own:") == std::vector<std::string>{"own:keep"});
  // The last record of an owner: Redis drops the emptied index key.
  s.db->remove_if_version("own:keep", 1);
  CHECK(s.cli({"EXISTS", s.index("own")}) == "0");
  CHECK(scan_keys(*s.db, "").empty());

  // A version pmcp-tasks wrote with leading zeros is compared as a number.
  s.cli({"HSET", s.hash("own", "padded"), "version", "007", "data", "{}"});
  s.cli({"ZADD", s.index("own"), "NX", "0", "padded"});
  e = storage_error_of([&] { s.db->remove_if_version("own:padded", 70); });
  CHECK(e.actual() == 7);
  s.db->remove_if_version("own:padded", 7);
  CHECK(s.cli({"EXISTS", s.hash("own", "padded")}) == "0");
  CHECK(s.cli({"EXISTS", s.index("own")}) == "0");

  // An index entry whose hash is gone (expired): a conflict with actual 0
  // that writes nothing; the entry is debris for cleanup_expired.
  s.cli({"ZADD", s.index("own"), "3", "ghost"});
  e = storage_error_of([&] { s.db->remove_if_version("own:ghost", 1); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.actual() == 0);
  CHECK(s.cli({"ZSCORE", s.index("own"), "ghost"}) == "3");
  CHECK(s.db->cleanup_expired() == 0);
  CHECK(s.cli({"EXISTS", s.index("own")}) == "0");
}

TEST_CASE("orphaned index entries are skipped by listings and removed by cleanup_expired (not counted)")
{
  Shared s;
  REQUIRE(s.db->put("own:live", record_json("own", "live", k_created, std::nullopt)) == 1);
  // What pmcp-tasks leaves behind when a hash expired: the index entry alone.
  s.cli({"ZADD", s.index("own"), "1", "ghost1", "2", "ghost2"});
  s.cli({"ZADD", s.index("other"), "5", "ghost3"});
  s.cli({"ZADD", s.index("third"), "5", "ghost4"});

  CHECK(scan_keys(*s.db, "own:") == std::vector<std::string>{"own:live"});
  CHECK(scan_keys(*s.db, "other:").empty());

  CleanupOptions dry;
  dry.dry_run = true;
  CHECK(s.db->cleanup_expired(dry) == 0);
  CHECK(s.cli({"ZCARD", s.index("own")}) == "3"); // a dry run removes nothing

  CleanupOptions own;
  own.prefix = "own:";
  CHECK(s.db->cleanup_expired(own) == 0); // orphans are debris, not records
  CHECK(s.cli({"ZRANGE", s.index("own"), "0", "-1"}) == "live");
  CHECK(s.cli({"ZCARD", s.index("other")}) == "1");

  CleanupOptions some;
  some.prefix = "oth";
  CHECK(s.db->cleanup_expired(some) == 0);
  CHECK(s.cli({"EXISTS", s.index("other")}) == "0");
  CHECK(s.cli({"EXISTS", s.index("third")}) == "1");

  CHECK(s.db->cleanup_expired() == 0);
  CHECK(s.cli({"EXISTS", s.index("third")}) == "0");
  CHECK(s.db->get("own:live").version == 1);

  // remove drops the index entry even when the hash is already gone (the
  // anchor's DELETE keeps it).
  s.cli({"ZADD", s.index("own"), "3", "ghost5"});
  CHECK_FALSE(s.db->remove("own:ghost5"));
  CHECK(s.cli({"ZSCORE", s.index("own"), "ghost5"}).empty());
}

TEST_CASE("cleanup_expired removes expired records in batches with a per-key version check")
{
  Shared s;
  const Timestamp now = now_utc();
  const Timestamp past{now.seconds - 60, 0};
  const Timestamp future{now.seconds + 3600, 0};
  auto created = [](int i) {
    return format_millis(Timestamp{1'764'066'600 + i, 0});
  };
  for (int i = 0; i < 1200; ++i) {
    const std::string id = "t" + std::to_string(i);
    REQUIRE(s.db->put("own:" + id, record_json("own", id, created(i), past)) == 1);
    REQUIRE(s.db->put("many:" + id, record_json("many", id, created(i), past)) == 1);
  }
  for (int i = 0; i < 10; ++i) {
    const std::string id = "live" + std::to_string(i);
    REQUIRE(s.db->put("own:" + id, record_json("own", id, created(i), future)) == 1);
  }

  // When the first removal is reported, every later record still there (index
  // order: createdAt) is rewritten, still expired, as version 2. The round
  // trip that carried the first deletes also read the next records (version
  // 1): their version-checked deletes must fail; records read after the
  // rewrite are removed as version 2.
  std::map<std::string, std::uint64_t> reported;
  std::set<std::string> rewritten;
  CleanupOptions options;
  options.now = now;
  options.prefix = "own:";
  options.on_removed = [&](const std::string& key, std::uint64_t version, Timestamp expires_at) {
    CHECK(expires_at == past);
    CHECK(reported.emplace(key, version).second);
    if (rewritten.empty()) {
      const int first = std::stoi(key.substr(key.find(":t") + 2));
      auto other = open_store(redis_test::with_prefix(s.url, s.prefix));
      for (int i = first + 1; i < 1200; ++i) {
        const std::string id = "t" + std::to_string(i);
        try {
          // Only those still there: the same round trip may have removed some.
          const auto written = other->put_if_version("own:" + id, record_json("own", id, created(i), past, "rewritten"), 1);
          CHECK(written == 2);
          rewritten.insert("own:" + id);
        } catch (const StorageError& e) {
          CHECK(e.actual() == 0);
        }
      }
    }
  };
  const std::size_t removed = s.db->cleanup_expired(options);
  CHECK(removed == reported.size());
  REQUIRE(!rewritten.empty());
  std::size_t kept = 0;
  for (int i = 0; i < 1200; ++i) {
    const std::string key = "own:t" + std::to_string(i);
    INFO(key);
    if (reported.count(key) != 0) {
      CHECK(reported.at(key) == (rewritten.count(key) != 0 ? 2U : 1U));
    } else {
      // Read as version 1, rewritten before its delete: kept.
      CHECK(rewritten.count(key) == 1);
      CHECK(s.db->get(key).version == 2);
      ++kept;
    }
  }
  CHECK(kept > 0);
  CHECK(removed + kept == 1200);
  CHECK(scan_keys(*s.db, "own:").size() == 10 + kept);
  CHECK(s.cli({"ZCARD", s.index("own")}) == std::to_string(10 + kept));

  // Every owner: SCAN, the same checks.
  CleanupOptions all;
  all.now = now;
  CHECK(s.db->cleanup_expired(all) == 1200 + kept);
  CHECK(scan_keys(*s.db, "").size() == 10);
  CHECK(s.cli({"EXISTS", s.index("many")}) == "0");
}

TEST_CASE("ids with glob characters, spaces, '#' and non-ASCII work for every operation")
{
  // The store's own key prefix has glob characters too; a second store whose
  // prefix an unescaped pattern would match must stay invisible.
  const std::string base = taskstore::testing::unique_name("glob");
  Shared s(base + "*[x]?");
  Shared decoy(base + "-Zx?");
  const std::string owner = "o*[1]?\\ #\xc3\xa9";
  const std::string task = "t?*[]\\ #\xc3\xbc\xe6\x97\xa5";
  const std::string key = make_key(owner, task);
  const std::string data = record_json(owner, task, k_created, std::nullopt);

  REQUIRE(s.db->put(key, data) == 1);
  REQUIRE(s.db->put(make_key("oX", "t"), "{}") == 1);
  REQUIRE(decoy.db->put(make_key(owner, task), "decoy") == 1);
  REQUIRE(decoy.db->put(make_key("o*[1]?\\ #\xc3\xa9x", "t"), "decoy") == 1);

  CHECK(s.cli({"HGET", s.hash(owner, task), "data"}) == data);
  CHECK(s.db->get(key) == VersionedRecord{data, 1});
  CHECK(scan_keys(*s.db, make_prefix(owner)) == std::vector<std::string>{key});
  CHECK(scan_keys(*s.db, key) == std::vector<std::string>{key});
  CHECK(as_set(scan_keys(*s.db, "")) == std::set<std::string>{key, "oX:t"});
  CHECK(scan_keys(*s.db, "o*") == std::vector<std::string>{key});
  CHECK(scan_keys(*s.db, "o*[1]?\\ #\xc3\xa9") == std::vector<std::string>{key});
  CHECK(as_set(scan_keys(*decoy.db, "o*")).size() == 2);
  CHECK(s.db->put_if_version(key, data, 1) == 2);
  CleanupOptions options;
  options.prefix = "o*";
  options.now = Timestamp{253'402'300'799, 0};
  CHECK(s.db->cleanup_expired(options) == 0);
  CHECK(s.db->remove(key));
  CHECK(scan_keys(*s.db, "").size() == 1);
  CHECK(scan_keys(*decoy.db, "").size() == 2);
}

TEST_CASE("versions beyond 2^53 are compared and incremented exactly")
{
  Shared s;
  s.cli({"HSET", s.hash("o", "big"), "version", "9007199254740993", "data", "{}"});
  s.cli({"ZADD", s.index("o"), "0", "big"});
  CHECK(s.db->get("o:big").version == 9'007'199'254'740'993ULL);
  // As doubles, 2^53+1 and 2^53 compare equal: the anchor would accept this.
  auto e = storage_error_of([&] { s.db->put_if_version("o:big", "{}", 9'007'199'254'740'992ULL); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.actual() == 9'007'199'254'740'993ULL);
  CHECK(s.db->put_if_version("o:big", "{}", 9'007'199'254'740'993ULL) == 9'007'199'254'740'994ULL);
  CHECK(s.cli({"HGET", s.hash("o", "big"), "version"}) == "9007199254740994");
  // remove_if_version compares exactly too.
  e = storage_error_of([&] { s.db->remove_if_version("o:big", 9'007'199'254'740'993ULL); });
  CHECK(e.actual() == 9'007'199'254'740'994ULL);
  s.db->remove_if_version("o:big", 9'007'199'254'740'994ULL);
  CHECK(s.cli({"EXISTS", s.hash("o", "big")}) == "0");

  s.cli({"HSET", s.hash("o", "max"), "version", "18446744073709551614", "data", "{}"});
  CHECK(s.db->put("o:max", "{}") == 18'446'744'073'709'551'615ULL);
  CHECK(s.cli({"HGET", s.hash("o", "max"), "version"}) == "18446744073709551615");
  s.cli({"HSET", s.hash("o", "carry"), "version", "1999", "data", "{}"});
  CHECK(s.db->put("o:carry", "{}") == 2000);
}

TEST_CASE("data must be valid UTF-8, as pmcp-tasks requires; nothing is written otherwise")
{
  Shared s;
  auto e = storage_error_of([&] { s.db->put("o:t", std::string("ab\x80z")); });
  CHECK(e.kind() == StorageErrorKind::backend);
  CHECK(std::string(e.what()) == "backend error: data is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 2");
  e = storage_error_of([&] { s.db->put("o:t", std::string("ok\xe6\x97")); });
  CHECK(std::string(e.what()) == "backend error: data is not valid UTF-8: incomplete utf-8 byte sequence from index 2");
  e = storage_error_of([&] { s.db->put_if_version("o:t", std::string("\xed\xa0\x80"), 0); }); // a surrogate
  CHECK(std::string(e.what()) == "backend error: data is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 0");
  e = storage_error_of([&] { s.db->put("o:t", std::string("\xf0\x9f\x98x")); });
  CHECK(std::string(e.what()) == "backend error: data is not valid UTF-8: invalid utf-8 sequence of 3 bytes from index 0");
  CHECK(s.cli({"EXISTS", s.hash("o", "t")}) == "0");
  CHECK(s.db->put("o:t", std::string("\xf0\x9f\x98\x80 \xc3\xa9 \0 nul", 12)) == 1);
}

TEST_CASE("a hash without a valid version or data is reported, not guessed")
{
  Shared s;
  s.cli({"HSET", s.hash("o", "no-version"), "data", "{}"});
  s.cli({"HSET", s.hash("o", "bad-version"), "version", "x1", "data", "{}"});
  s.cli({"HSET", s.hash("o", "no-data"), "version", "1"});
  CHECK_THROWS_WITH(s.db->get("o:no-version"), "backend error: missing or invalid version field for key o:no-version");
  CHECK_THROWS_WITH(s.db->get("o:bad-version"), "backend error: missing or invalid version field for key o:bad-version");
  CHECK_THROWS_WITH(s.db->get("o:no-data"), "backend error: missing data field for key o:no-data");
  // A listing is never blocked by them (issue 14 #3): each is reported as
  // damaged, with the reason, and the walk goes on past it.
  s.db->put("o:good", "{}");
  CHECK(scan_keys(*s.db, "") == std::vector<std::string>{"o:good"});
  // Index entries too, as pmcp-tasks writes them, so the owner walk meets them.
  for (const char* task : {"no-version", "bad-version", "no-data"}) {
    s.cli({"ZADD", s.index("o"), "0", task});
  }
  for (const std::string prefix : {"", "o:"}) {
    std::map<std::string, std::string> damaged;
    std::vector<std::string> good;
    s.db->scan(
      prefix,
      [&](const std::string& key, const VersionedRecord&) {
        good.push_back(key);
        return true;
      },
      [&](const DamagedRecord& d) {
        damaged[d.key] = d.reason;
        return true;
      });
    CHECK(good == std::vector<std::string>{"o:good"});
    REQUIRE(damaged.size() == 3);
    CHECK_THAT(damaged["o:no-version"], Catch::Contains("no version field"));
    CHECK_THAT(damaged["o:bad-version"], Catch::Contains("\"x1\""));
    CHECK_THAT(damaged["o:no-data"], Catch::Contains("no data field"));
  }
  // A key of another Redis type is damaged too (WRONGTYPE), never fatal.
  s.cli({"SET", s.hash("o", "a-string"), "x"});
  std::size_t wrong_type = 0;
  s.db->scan(
    "", [](const std::string&, const VersionedRecord&) { return true; },
    [&](const DamagedRecord& d) {
      wrong_type += d.key == "o:a-string" && d.reason.find("WRONGTYPE") != std::string::npos;
      return true;
    });
  CHECK(wrong_type == 1);
  CHECK(s.db->remove("o:a-string"));
  CHECK(s.db->remove("o:good"));
  // A write refuses to guess a version too; remove works regardless.
  CHECK_THROWS_WITH(s.db->put("o:bad-version", "{}"), Catch::Contains("invalid version field"));
  CHECK_THROWS_WITH(s.db->remove_if_version("o:bad-version", 1), Catch::Contains("invalid version field"));
  CHECK(storage_error_of([&] { s.db->remove_if_version("o:bad-version", 1); }).kind() == StorageErrorKind::backend);
  // No version field reads as no record, as for put_if_version.
  CHECK(storage_error_of([&] { s.db->remove_if_version("o:no-version", 1); }).actual() == 0);
  CHECK(s.cli({"EXISTS", s.hash("o", "bad-version")}) == "1");
  CHECK(s.db->remove("o:no-version"));
  CHECK(s.db->remove("o:bad-version"));
  CHECK(s.db->remove("o:no-data"));
  CHECK(scan_keys(*s.db, "").empty());
}

TEST_CASE("one owner lists in createdAt order, then task id, across pages")
{
  Shared s;
  std::vector<std::pair<std::int64_t, std::string>> expected;
  for (int i = 0; i < 1300; ++i) {
    const std::string id = "t" + std::to_string(i);
    // Scores go down as ids go up, with ties every 3 records.
    const std::int64_t ms = 1'764'066'600'000 - (i / 3) * 1000;
    REQUIRE(s.db->put("own:" + id, record_json("own", id, format_millis(Timestamp{ms / 1000, 0}), std::nullopt)) == 1);
    expected.emplace_back(ms, "own:" + id);
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> order;
  for (const auto& e : expected) {
    order.push_back(e.second);
  }
  CHECK(scan_keys(*s.db, "own:") == order);
}

TEST_CASE("an owner walk visits each key at most once while the index changes under it")
{
  Shared s;
  // Every score 0 (no createdAt): the index order is the task id.
  std::vector<std::string> keys;
  for (int i = 0; i < 2600; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "t%04d", i);
    keys.push_back(std::string("own:") + id);
    REQUIRE(s.db->put(keys.back(), "{}") == 1);
  }
  auto other = open_store(redis_test::with_prefix(s.url, s.prefix));
  std::map<std::string, int> seen;
  std::set<std::string> removed;
  s.db->scan("own:", [&](const std::string& key, const VersionedRecord&) {
    if (seen.empty()) {
      // Index pages hold 1000 entries; the third page is requested after the
      // first has been visited, anchored on the last members of the second.
      // Remove the second half of the second page (every anchor: the walk
      // falls back to the score and must skip what it has seen) and a stretch
      // of the third.
      for (int i = 1500; i < 2000; ++i) {
        CHECK(other->remove(keys[i]));
        removed.insert(keys[i]);
      }
      for (int i = 2200; i < 2250; ++i) {
        CHECK(other->remove(keys[i]));
        removed.insert(keys[i]);
      }
    }
    ++seen[key];
    return true;
  });
  for (const auto& [key, count] : seen) {
    INFO(key);
    CHECK(count == 1);
  }
  for (const auto& key : keys) {
    if (removed.count(key) == 0) {
      INFO(key);
      CHECK(seen.count(key) == 1);
    }
  }
  // Removed before their hashes were fetched: never visited.
  for (const auto& key : removed) {
    CHECK(seen.count(key) == 0);
  }
  CHECK(seen.size() == keys.size() - removed.size());
}

TEST_CASE("a walk stopped early or by a throwing visitor leaves the backend usable")
{
  Shared s;
  for (int i = 0; i < 3000; ++i) {
    REQUIRE(s.db->put("o:t" + std::to_string(i), "{}") == 1);
  }
  for (const std::string prefix : {"", "o:"}) {
    int visited = 0;
    s.db->scan(prefix, [&](const std::string&, const VersionedRecord&) { return ++visited < 40; });
    CHECK(visited == 40);
    CHECK(s.db->get("o:t2").version == 1);
    CHECK_THROWS_WITH(s.db->scan(prefix, [&](const std::string&, const VersionedRecord&) -> bool {
                        throw std::runtime_error("visitor gave up");
                      }),
                      "visitor gave up");
    CHECK(s.db->put("o:t1", "{}") >= 2);
    CHECK(scan_keys(*s.db, prefix).size() == 3000);
  }
}

TEST_CASE("an owner walk whose visitor removes every visited key still visits every key once")
{
  // Each removal shifts the ranks of the pages still to come: every page
  // request must notice and locate its start again.
  Shared s;
  std::set<std::string> keys;
  for (int i = 0; i < 2600; ++i) {
    const std::string id = "t" + std::to_string(i);
    REQUIRE(s.db->put("own:" + id, record_json("own", id, format_millis(Timestamp{1'764'066'600 + i % 7, 0}), std::nullopt)) == 1);
    keys.insert("own:" + id);
  }
  auto other = open_store(redis_test::with_prefix(s.url, s.prefix));
  std::map<std::string, int> seen;
  s.db->scan("own:", [&](const std::string& key, const VersionedRecord&) {
    ++seen[key];
    CHECK(other->remove(key));
    return true;
  });
  CHECK(seen.size() == keys.size());
  CHECK(std::all_of(seen.begin(), seen.end(), [](const auto& e) { return e.second == 1; }));
  CHECK(s.cli({"EXISTS", s.index("own")}) == "0");
}
