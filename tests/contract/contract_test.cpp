// The storage contract (DESIGN.md "The storage contract"), written once and
// run against every backend: the backend comes from TASKCTL_TEST_BACKEND and
// every TEST_CASE gets a fresh, isolated store.
//
// Data volumes are modest so the suite stays fast against real servers.

#include "contract/stores.hpp"

#include "support/expect.hpp"
#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/record.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <barrier>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace taskstore;
using taskstore::testing::storage_error_of;
using taskstore::testing::TestStore;

namespace {

// A fresh store of the backend under test, removed again at the end.
struct Fresh
{
  Fresh()
    : backend_name(taskstore::testing::backend_of(taskstore::testing::current_backend()))
    , store(taskstore::testing::make_test_store(taskstore::testing::current_backend()))
  {
  }
  ~Fresh()
  {
    store.backend.reset();
    if (store.cleanup) {
      try {
        store.cleanup();
      } catch (...) {
        // Leftovers of a test store must not mask the test's own result.
      }
    }
  }
  Fresh(const Fresh&) = delete;
  Fresh& operator=(const Fresh&) = delete;

  StorageBackend&
  db()
  {
    return *store.backend;
  }

  // Another client of the same store (its own connection).
  std::unique_ptr<StorageBackend>
  open_another() const
  {
    return open_store(store.uri);
  }

  // memory and sqlite promise more than the network stores: any bytes, and key order.
  bool
  is_local() const
  {
    return backend_name == "memory" || backend_name == "sqlite";
  }

  std::string backend_name;
  TestStore store;
};

Timestamp
plus_seconds(Timestamp t, std::int64_t seconds)
{
  return Timestamp{t.seconds + seconds, t.nanos};
}

Timestamp
plus_nanos(Timestamp t, std::int64_t nanos)
{
  std::int64_t total = static_cast<std::int64_t>(t.nanos) + nanos;
  std::int64_t carry = total >= 0 ? total / 1'000'000'000 : -((-total + 999'999'999) / 1'000'000'000);
  return Timestamp{t.seconds + carry, static_cast<std::uint32_t>(total - carry * 1'000'000'000)};
}

// A pmcp-shaped record (facts §2.5) with the given expiresAt (null when absent).
std::string
record_json(const std::string& owner, const std::string& task_id, std::optional<Timestamp> expires_at,
            const Json& variables = Json::object())
{
  Json task = {{"taskId", task_id},
               {"status", "working"},
               {"createdAt", "2025-11-25T10:30:00.123Z"},
               {"lastUpdatedAt", "2025-11-25T10:30:00.123Z"},
               {"ttl", 3'600'000},
               {"pollInterval", 500}};
  Json record = {{"task", task},
                 {"ownerId", owner},
                 {"variables", variables},
                 {"result", nullptr},
                 {"requestMethod", "tools/call"},
                 {"expiresAt", expires_at ? Json(format_autosi(*expires_at)) : Json(nullptr)}};
  return record.dump();
}

std::map<std::string, VersionedRecord>
listing(StorageBackend& db, std::string_view prefix)
{
  std::map<std::string, VersionedRecord> out;
  for (auto& [key, record] : db.list_by_prefix(prefix)) {
    INFO("key listed twice: " << key);
    CHECK(out.emplace(key, record).second);
  }
  return out;
}

std::set<std::string>
keys_of(const std::map<std::string, VersionedRecord>& records)
{
  std::set<std::string> out;
  for (const auto& entry : records) {
    out.insert(entry.first);
  }
  return out;
}

} // namespace

TEST_CASE("put: a new key gets version 1, every write +1; get returns the last bytes")
{
  Fresh s;
  CHECK(s.db().put("owner:t1", "first") == 1);
  CHECK(s.db().get("owner:t1") == VersionedRecord{"first", 1});
  CHECK(s.db().put("owner:t1", "second") == 2);
  CHECK(s.db().put("owner:t1", "third") == 3);
  CHECK(s.db().get("owner:t1") == VersionedRecord{"third", 3});
  // Versions are per key.
  CHECK(s.db().put("owner:t2", "other") == 1);
  CHECK(s.db().get("owner:t1").version == 3);
}

TEST_CASE("get of a missing key is not_found with the anchor's message")
{
  Fresh s;
  s.db().put("owner:present", "x");
  auto e = storage_error_of([&] { s.db().get("owner:missing"); });
  CHECK(e.kind() == StorageErrorKind::not_found);
  CHECK(e.key() == "owner:missing");
  CHECK(std::string(e.what()) == "key not found: owner:missing");
}

TEST_CASE("put_if_version: a match writes and returns expected+1")
{
  Fresh s;
  REQUIRE(s.db().put("o:t", "v1") == 1);
  CHECK(s.db().put_if_version("o:t", "v2", 1) == 2);
  CHECK(s.db().get("o:t") == VersionedRecord{"v2", 2});
  CHECK(s.db().put_if_version("o:t", "v3", 2) == 3);
  CHECK(s.db().get("o:t") == VersionedRecord{"v3", 3});
  CHECK(s.db().put("o:t", "v4") == 4);
  CHECK(s.db().put_if_version("o:t", "v5", 4) == 5);
}

TEST_CASE("put_if_version: a mismatch reports the real version and writes nothing")
{
  Fresh s;
  s.db().put("o:t", "v1");
  s.db().put("o:t", "v2");
  for (std::uint64_t expected : {std::uint64_t{1}, std::uint64_t{3}, std::uint64_t{999}}) {
    auto e = storage_error_of([&] { s.db().put_if_version("o:t", "lost", expected); });
    CHECK(e.kind() == StorageErrorKind::version_conflict);
    CHECK(e.key() == "o:t");
    CHECK(e.expected() == expected);
    CHECK(e.actual() == 2);
    CHECK(std::string(e.what()) ==
          "version conflict on key o:t: expected " + std::to_string(expected) + ", found 2");
  }
  CHECK(s.db().get("o:t") == VersionedRecord{"v2", 2});
}

TEST_CASE("put_if_version on a missing key is version_conflict with actual 0")
{
  Fresh s;
  auto e = storage_error_of([&] { s.db().put_if_version("o:missing", "x", 1); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.expected() == 1);
  CHECK(e.actual() == 0);
  CHECK(std::string(e.what()) == "version conflict on key o:missing: expected 1, found 0");
  CHECK_THROWS_AS(s.db().get("o:missing"), StorageError);
}

TEST_CASE("put_if_version with expected 0 creates only if absent")
{
  Fresh s;
  CHECK(s.db().put_if_version("o:new", "created", 0) == 1);
  CHECK(s.db().get("o:new") == VersionedRecord{"created", 1});
  auto e = storage_error_of([&] { s.db().put_if_version("o:new", "again", 0); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.expected() == 0);
  CHECK(e.actual() == 1);
  CHECK(s.db().get("o:new") == VersionedRecord{"created", 1});
}

TEST_CASE("remove: true when the key existed, then false; a recreated key starts at version 1")
{
  Fresh s;
  s.db().put("o:t", "a");
  s.db().put("o:t", "b");
  s.db().put("o:keep", "k");
  CHECK(s.db().remove("o:t"));
  CHECK_FALSE(s.db().remove("o:t"));
  CHECK_FALSE(s.db().remove("o:never"));
  CHECK(storage_error_of([&] { s.db().get("o:t"); }).kind() == StorageErrorKind::not_found);
  CHECK(keys_of(listing(s.db(), "o:")) == std::set<std::string>{"o:keep"});
  CHECK(s.db().put("o:t", "again") == 1);
}

TEST_CASE("remove_if_version: the matching version removes the record; listings no longer show it")
{
  Fresh s;
  REQUIRE(s.db().put("o:t", record_json("o", "t", std::nullopt)) == 1);
  REQUIRE(s.db().put("o:t", record_json("o", "t", std::nullopt)) == 2);
  REQUIRE(s.db().put("o:keep", record_json("o", "keep", std::nullopt)) == 1);
  REQUIRE(s.db().put("other:t", record_json("other", "t", std::nullopt)) == 1);
  s.db().remove_if_version("o:t", 2);
  CHECK(storage_error_of([&] { s.db().get("o:t"); }).kind() == StorageErrorKind::not_found);
  // One owner (Redis: its index) and every owner (Redis: SCAN).
  CHECK(keys_of(listing(s.db(), "o:")) == std::set<std::string>{"o:keep"});
  CHECK(keys_of(listing(s.db(), "o:t")).empty());
  CHECK(keys_of(listing(s.db(), "")) == std::set<std::string>{"o:keep", "other:t"});
  CHECK_FALSE(s.db().remove("o:t"));
  // Seen by another client too; a recreated key starts at version 1 again.
  auto other = s.open_another();
  CHECK(storage_error_of([&] { other->get("o:t"); }).kind() == StorageErrorKind::not_found);
  CHECK(s.db().put("o:t", "again") == 1);
  other->remove_if_version("o:t", 1);
  CHECK(s.db().list_by_prefix("o:t").empty());
  CHECK(s.db().get("o:keep").version == 1);
}

TEST_CASE("remove_if_version: a wrong version is version_conflict with the real version; nothing is removed")
{
  Fresh s;
  const std::string data = record_json("o", "t", std::nullopt);
  s.db().put("o:t", data);
  s.db().put("o:t", data);
  s.db().put("o:t", data);
  for (std::uint64_t expected : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{4}, std::uint64_t{999},
                                 std::uint64_t{UINT64_MAX}}) {
    INFO("expected " << expected);
    auto e = storage_error_of([&] { s.db().remove_if_version("o:t", expected); });
    CHECK(e.kind() == StorageErrorKind::version_conflict);
    CHECK(e.key() == "o:t");
    CHECK(e.expected() == expected);
    CHECK(e.actual() == 3);
    CHECK(std::string(e.what()) ==
          "version conflict on key o:t: expected " + std::to_string(expected) + ", found 3");
  }
  CHECK(s.db().get("o:t") == VersionedRecord{data, 3});
  CHECK(keys_of(listing(s.db(), "o:")) == std::set<std::string>{"o:t"});
  CHECK(keys_of(listing(s.db(), "")) == std::set<std::string>{"o:t"});
  // The record is still writable at its version, and removable at it.
  CHECK(s.db().put_if_version("o:t", data, 3) == 4);
  s.db().remove_if_version("o:t", 4);
  CHECK(s.db().list_by_prefix("").empty());
}

TEST_CASE("remove_if_version on a missing key is version_conflict with actual 0")
{
  Fresh s;
  s.db().put("o:present", "x");
  auto e = storage_error_of([&] { s.db().remove_if_version("o:missing", 1); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.key() == "o:missing");
  CHECK(e.expected() == 1);
  CHECK(e.actual() == 0);
  CHECK(std::string(e.what()) == "version conflict on key o:missing: expected 1, found 0");
  // Removed already: the second removal of the same version conflicts the same way.
  s.db().remove_if_version("o:present", 1);
  e = storage_error_of([&] { s.db().remove_if_version("o:present", 1); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.actual() == 0);
  CHECK(storage_error_of([&] { s.db().get("o:missing"); }).kind() == StorageErrorKind::not_found);
  CHECK(s.db().list_by_prefix("").empty());
}

TEST_CASE("remove_if_version with expected 0 is InvalidArgument; nothing is removed")
{
  Fresh s;
  s.db().put("o:t", "x");
  CHECK_THROWS_AS(s.db().remove_if_version("o:t", 0), InvalidArgument);
  CHECK_THROWS_WITH(s.db().remove_if_version("o:t", 0), Catch::Contains("o:t") && Catch::Contains("version 0"));
  // Not a "remove if absent" either.
  CHECK_THROWS_AS(s.db().remove_if_version("o:missing", 0), InvalidArgument);
  CHECK(s.db().get("o:t") == VersionedRecord{"x", 1});
}

TEST_CASE("remove_if_version after a write: the version read before it conflicts")
{
  Fresh s;
  const auto read = s.db().put("o:t", "v1");
  auto other = s.open_another();
  CHECK(other->put("o:t", "v2") == 2); // a put lands after the read
  auto e = storage_error_of([&] { s.db().remove_if_version("o:t", read); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.expected() == 1);
  CHECK(e.actual() == 2);
  CHECK(s.db().get("o:t") == VersionedRecord{"v2", 2});
  CHECK(other->put_if_version("o:t", "v3", 2) == 3); // and a CAS
  e = storage_error_of([&] { s.db().remove_if_version("o:t", 2); });
  CHECK(e.actual() == 3);
  CHECK(s.db().get("o:t") == VersionedRecord{"v3", 3});
  s.db().remove_if_version("o:t", 3);
  CHECK(storage_error_of([&] { other->get("o:t"); }).kind() == StorageErrorKind::not_found);
}

TEST_CASE("keys without ':' are rejected with InvalidArgument")
{
  Fresh s;
  CHECK_THROWS_AS(s.db().get("no-colon"), InvalidArgument);
  CHECK_THROWS_AS(s.db().put("no-colon", "x"), InvalidArgument);
  CHECK_THROWS_AS(s.db().put_if_version("no-colon", "x", 1), InvalidArgument);
  CHECK_THROWS_AS(s.db().remove("no-colon"), InvalidArgument);
  CHECK_THROWS_AS(s.db().remove_if_version("no-colon", 1), InvalidArgument);
  CHECK_THROWS_WITH(s.db().get("no-colon"), Catch::Contains("no-colon"));
  CHECK(s.db().list_by_prefix("").empty());
}

TEST_CASE("prefix listing is exact: owners never mix, special characters are literal")
{
  Fresh s;
  const std::vector<std::string> owners = {
    "a", "ab", "a_", "a%", "a*", "a?", "a[", "a]", "a\\", "a#", "a b", "a.", "a-", "_", "%", "*",
    "user_1", "user%1", "user[1]", "\xc3\xa4", "\xc3\xa4x", "\xe6\x97\xa5\xe6\x9c\xac", "A",
  };
  const std::vector<std::string> tasks = {"t", "t_1", "t%1", "*", "?", "[x]", "back\\slash", "#h", "sp ace",
                                          "t:with:colons", "\xc3\xa9t\xc3\xa9"};
  std::map<std::string, std::set<std::string>> expected;
  std::set<std::string> all;
  for (const auto& owner : owners) {
    for (const auto& task : tasks) {
      const auto key = make_key(owner, task);
      REQUIRE(s.db().put(key, record_json(owner, task, std::nullopt)) == 1);
      expected[owner].insert(key);
      all.insert(key);
    }
  }
  for (const auto& owner : owners) {
    INFO("owner '" << owner << "'");
    const auto listed = listing(s.db(), make_prefix(owner));
    CHECK(keys_of(listed) == expected[owner]);
    for (const auto& [key, record] : listed) {
      const auto parts = parse_key(key);
      REQUIRE(parts);
      CHECK(record.data == record_json(parts->owner_id, parts->task_id, std::nullopt));
      CHECK(record.version == 1);
    }
  }
  CHECK(keys_of(listing(s.db(), "")) == all);
  CHECK(listing(s.db(), make_prefix("nobody")).empty());
  CHECK(listing(s.db(), make_prefix("a%b")).empty());
}

TEST_CASE("listing returns the latest data and version of each record")
{
  Fresh s;
  s.db().put("o:one", "1a");
  s.db().put("o:one", "1b");
  s.db().put("o:two", "2a");
  s.db().put_if_version("o:two", "2b", 1);
  s.db().put_if_version("o:two", "2c", 2);
  s.db().put("p:three", "3a");
  const auto listed = listing(s.db(), "o:");
  REQUIRE(listed.size() == 2);
  CHECK(listed.at("o:one") == VersionedRecord{"1b", 2});
  CHECK(listed.at("o:two") == VersionedRecord{"2c", 3});
}

TEST_CASE("listing returns every key exactly once; the local backends in ascending byte order")
{
  Fresh s;
  if (!s.is_local()) {
    // Order is the backend's own (DESIGN.md): compare the sets, and that no
    // key is listed twice. (Network stores hold UTF-8 keys only.)
    const std::vector<std::string> keys = {"b:2", "a:1", "a:\xc3\xa9", "a:\x01", "ab:0", "a:10", "a:~"};
    for (const auto& key : keys) {
      s.db().put(key, "x");
    }
    std::multiset<std::string> seen;
    for (const auto& entry : s.db().list_by_prefix("")) {
      seen.insert(entry.key);
    }
    CHECK(seen == std::multiset<std::string>(keys.begin(), keys.end()));
    std::multiset<std::string> under_a;
    for (const auto& entry : s.db().list_by_prefix("a:")) {
      under_a.insert(entry.key);
    }
    CHECK(under_a == std::multiset<std::string>{"a:1", "a:\xc3\xa9", "a:\x01", "a:10", "a:~"});
    return;
  }
  const std::vector<std::string> keys = {"b:2", "a:1", "a:\xff", "a:\x01", "ab:0", "a:10", "a:~"};
  for (const auto& key : keys) {
    s.db().put(key, "x");
  }
  std::vector<std::string> seen;
  for (const auto& entry : s.db().list_by_prefix("")) {
    seen.push_back(entry.key);
  }
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  CHECK(seen == sorted);
  // Raw prefixes, including a last byte of 0xFF, are ranges of that order.
  std::vector<std::string> under_a_ff;
  for (const auto& entry : s.db().list_by_prefix("a:\xff")) {
    under_a_ff.push_back(entry.key);
  }
  CHECK(under_a_ff == std::vector<std::string>{"a:\xff"});
}

TEST_CASE("data round-trips exactly: UTF-8 JSON and a 1 MiB value")
{
  Fresh s;
  const std::string utf8 =
    R"({"text":"gr\u00fc\u00df \u65e5\u672c","raw":"gr)"
    "\xc3\xbc\xc3\x9f \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"
    R"(","quote":"\"","nl":"a\nb"})";
  REQUIRE(s.db().put("o:utf8", utf8) == 1);
  CHECK(s.db().get("o:utf8").data == utf8);
  CHECK(s.db().put("o:empty", "") == 1);
  CHECK(s.db().get("o:empty") == VersionedRecord{"", 1});

  std::string big = R"({"blob":")";
  while (big.size() < 1024 * 1024 - 2) {
    big += static_cast<char>('a' + big.size() % 26);
  }
  big += "\"}";
  REQUIRE(big.size() == 1024 * 1024);
  try {
    // Outside CHECK, which would swallow the exception the catch below judges.
    const auto version = s.db().put("o:big", big);
    CHECK(version == 1);
    CHECK(s.db().get("o:big").data == big);
    CHECK(listing(s.db(), "o:").at("o:big").data == big);
  } catch (const StorageError& e) {
    // A store with an item size limit (DynamoDB: 400 KB) may refuse, but
    // cleanly: a StorageError and nothing half-written.
    INFO(e.what());
    CHECK_FALSE(s.is_local());
    CHECK((e.kind() == StorageErrorKind::capacity_exceeded || e.kind() == StorageErrorKind::backend));
    CHECK(storage_error_of([&] { s.db().get("o:big"); }).kind() == StorageErrorKind::not_found);
  }
}

TEST_CASE("data round-trips exactly: every byte value, embedded NULs")
{
  Fresh s;
  std::string binary;
  for (int i = 0; i < 256; ++i) {
    binary += static_cast<char>(i);
  }
  binary += std::string("\0\0mid\0", 6);
  try {
    // Outside CHECK, which would swallow the exception the catch below judges.
    const auto version = s.db().put("o:bin", binary);
    CHECK(version == 1);
    CHECK(s.db().get("o:bin").data == binary);
    const auto next = s.db().put_if_version("o:bin", binary + binary, 1);
    CHECK(next == 2);
    CHECK(s.db().get("o:bin").data == binary + binary);
    CHECK(listing(s.db(), "o:").at("o:bin").data == binary + binary);
  } catch (const StorageError& e) {
    // The pmcp Redis and DynamoDB layouts hold UTF-8 only: they must refuse,
    // not corrupt. memory and sqlite keep any bytes.
    INFO(e.what());
    CHECK_FALSE(s.is_local());
    CHECK(e.kind() == StorageErrorKind::backend);
    CHECK(storage_error_of([&] { s.db().get("o:bin"); }).kind() == StorageErrorKind::not_found);
  }
}

TEST_CASE("expired records are still read and listed; cleanup_expired removes exactly them")
{
  Fresh s;
  const Timestamp now = now_utc();
  const auto past = plus_seconds(now, -3600);
  const auto future = plus_seconds(now, 3600);
  const std::map<std::string, std::string> expired = {
    {"alice:old1", record_json("alice", "old1", past)},
    {"alice:old2", record_json("alice", "old2", plus_nanos(now, -1))},
    {"bob:old3", record_json("bob", "old3", plus_seconds(now, -86'400 * 400))},
  };
  const std::map<std::string, std::string> alive = {
    {"alice:live", record_json("alice", "live", future)},
    {"alice:forever", record_json("alice", "forever", std::nullopt)},
    {"bob:no-field", R"({"task":{"taskId":"no-field"},"ownerId":"bob"})"},
    {"bob:not-json", "this is not a record"},
    {"bob:bad-time", R"({"ownerId":"bob","expiresAt":"yesterday"})"},
  };
  for (const auto& [key, data] : expired) {
    s.db().put(key, data);
  }
  for (const auto& [key, data] : alive) {
    s.db().put(key, data);
  }
  // Backends report records whether expired or not.
  for (const auto& [key, data] : expired) {
    CHECK(s.db().get(key) == VersionedRecord{data, 1});
  }
  CHECK(listing(s.db(), "").size() == expired.size() + alive.size());

  CleanupOptions options;
  options.now = now;
  CHECK(s.db().cleanup_expired(options) == expired.size());
  for (const auto& [key, data] : expired) {
    CHECK(storage_error_of([&] { s.db().get(key); }).kind() == StorageErrorKind::not_found);
  }
  for (const auto& [key, data] : alive) {
    CHECK(s.db().get(key) == VersionedRecord{data, 1});
  }
  CHECK(s.db().cleanup_expired(options) == 0);
  // Without options: judged against the current time.
  CHECK(s.db().cleanup_expired() == 0);
  CHECK(listing(s.db(), "").size() == alive.size());
}

TEST_CASE("cleanup_expired on an empty store removes nothing")
{
  Fresh s;
  CHECK(s.db().cleanup_expired() == 0);
}

TEST_CASE("cleanup_expired with a prefix, a dry run and a callback per record")
{
  Fresh s;
  const Timestamp now = now_utc();
  const auto past = plus_seconds(now, -60);
  s.db().put("alice:a1", record_json("alice", "a1", past));
  s.db().put("alice:a1", record_json("alice", "a1", past)); // version 2
  s.db().put("alice:a2", record_json("alice", "a2", plus_seconds(past, -1)));
  s.db().put("alice:live", record_json("alice", "live", plus_seconds(now, 60)));
  s.db().put("alicia:x", record_json("alicia", "x", past));
  s.db().put("bob:b1", record_json("bob", "b1", past));

  struct Removed
  {
    std::uint64_t version;
    Timestamp expires_at;
  };
  std::map<std::string, Removed> reported;
  CleanupOptions options;
  options.now = now;
  options.prefix = make_prefix("alice");
  options.dry_run = true;
  options.on_removed = [&](const std::string& key, std::uint64_t version, Timestamp expires_at) {
    CHECK(reported.emplace(key, Removed{version, expires_at}).second);
  };

  SECTION("a dry run reports without removing")
  {
    CHECK(s.db().cleanup_expired(options) == 2);
    REQUIRE(reported.size() == 2);
    CHECK(reported.at("alice:a1").version == 2);
    CHECK(reported.at("alice:a1").expires_at == past);
    CHECK(reported.at("alice:a2").version == 1);
    CHECK(reported.at("alice:a2").expires_at == plus_seconds(past, -1));
    CHECK(listing(s.db(), "").size() == 5);
  }
  SECTION("a real run removes only that owner's expired records")
  {
    options.dry_run = false;
    CHECK(s.db().cleanup_expired(options) == 2);
    CHECK(keys_of(listing(s.db(), "")) == std::set<std::string>{"alice:live", "alicia:x", "bob:b1"});
    CHECK(reported.size() == 2);
    CHECK(reported.count("alice:a1") == 1);
    CHECK(reported.count("alice:a2") == 1);
    // The rest, without a callback.
    CleanupOptions rest;
    rest.now = now;
    CHECK(s.db().cleanup_expired(rest) == 2);
    CHECK(keys_of(listing(s.db(), "")) == std::set<std::string>{"alice:live"});
  }
}

TEST_CASE("expiry is strict at nanosecond precision (ttl 0: not expired at creation, expired 1 ns later)")
{
  Fresh s;
  const Timestamp at{1'764'066'600, 123'456'789}; // 2025-11-25T10:30:00.123456789Z
  const Timestamp edge{1'764'066'600, 999'999'999};
  s.db().put("o:t", record_json("o", "t", at));
  s.db().put("o:edge", record_json("o", "edge", edge));

  CleanupOptions options;
  options.now = at;
  CHECK(s.db().cleanup_expired(options) == 0);
  options.now = plus_nanos(at, -1);
  CHECK(s.db().cleanup_expired(options) == 0);
  options.now = plus_nanos(at, 1);
  CHECK(s.db().cleanup_expired(options) == 1);
  CHECK(keys_of(listing(s.db(), "o:")) == std::set<std::string>{"o:edge"});
  options.now = edge;
  CHECK(s.db().cleanup_expired(options) == 0);
  options.now = plus_nanos(edge, 1); // carries into the next second
  CHECK(options.now == Timestamp{1'764'066'601, 0});
  CHECK(s.db().cleanup_expired(options) == 1);
  CHECK(listing(s.db(), "").empty());

  // A record created with ttl 0 expires exactly at its creation instant.
  const Timestamp created = now_utc();
  const auto record = TaskRecord::create("o", "tools/call", 0, created);
  REQUIRE(record.expires_at);
  CHECK(*record.expires_at == created);
  s.db().put(make_key("o", record.task.task_id), serialize_record(record));
  options.now = created;
  CHECK(s.db().cleanup_expired(options) == 0);
  options.now = plus_nanos(created, 1);
  CHECK(s.db().cleanup_expired(options) == 1);
}

TEST_CASE("expiry follows the latest write: put and put_if_version re-index expiresAt")
{
  Fresh s;
  const Timestamp now = now_utc();
  s.db().put("o:revived", record_json("o", "revived", plus_seconds(now, -10)));
  s.db().put("o:cas-revived", record_json("o", "cas-revived", plus_seconds(now, -10)));
  s.db().put("o:cas-expired", record_json("o", "cas-expired", plus_seconds(now, 3600)));
  s.db().put("o:cleared", record_json("o", "cleared", plus_seconds(now, -10)));
  CHECK(s.db().put("o:revived", record_json("o", "revived", plus_seconds(now, 3600))) == 2);
  CHECK(s.db().put_if_version("o:cas-revived", record_json("o", "cas-revived", plus_seconds(now, 3600)), 1) == 2);
  CHECK(s.db().put_if_version("o:cas-expired", record_json("o", "cas-expired", plus_seconds(now, -10)), 1) == 2);
  CHECK(s.db().put("o:cleared", record_json("o", "cleared", std::nullopt)) == 2);

  CleanupOptions options;
  options.now = now;
  CHECK(s.db().cleanup_expired(options) == 1);
  CHECK(keys_of(listing(s.db(), "")) == std::set<std::string>{"o:revived", "o:cas-revived", "o:cleared"});
}

TEST_CASE("a record built by TaskRecord round-trips through the store")
{
  Fresh s;
  auto record = TaskRecord::create("user-123", "tools/call", 3'600'000);
  record.variables = Json{{"tool_name", "analyze"}, {"arguments", {{"path", "/data/x"}}}};
  const auto key = make_key(record.owner_id, record.task.task_id);
  const auto data = serialize_record(record);
  REQUIRE(s.db().put(key, data) == 1);
  const auto stored = s.db().get(key);
  CHECK(stored.data == data);
  auto parsed = parse_record(stored.data);
  CHECK(parsed.task == record.task);
  CHECK(parsed.expires_at == record.expires_at);
  CHECK(s.db().cleanup_expired() == 0);
}

TEST_CASE("scan stops when the visitor returns false")
{
  Fresh s;
  for (int i = 0; i < 20; ++i) {
    s.db().put("o:t" + std::to_string(i), "x");
  }
  int visited = 0;
  s.db().scan("o:", [&](const std::string&, const VersionedRecord&) { return ++visited < 3; });
  CHECK(visited == 3);
  visited = 0;
  s.db().scan("", [&](const std::string&, const VersionedRecord&) {
    ++visited;
    return false;
  });
  CHECK(visited == 1);
  visited = 0;
  s.db().scan("none:", [&](const std::string&, const VersionedRecord&) { return ++visited > 0; });
  CHECK(visited == 0);
}

TEST_CASE("scan of 3,000 records visits each exactly once, across batch boundaries")
{
  Fresh s;
  std::set<std::string> big;
  std::set<std::string> other;
  for (int i = 0; i < 3000; ++i) {
    const bool in_big = i % 3 != 0;
    const auto key = make_key(in_big ? "big" : "other", "task-" + std::to_string(i));
    REQUIRE(s.db().put(key, std::to_string(i)) == 1);
    (in_big ? big : other).insert(key);
  }
  auto scan_all = [&](std::string_view prefix) {
    std::map<std::string, int> seen;
    s.db().scan(prefix, [&](const std::string& key, const VersionedRecord& record) {
      ++seen[key];
      CHECK(record.version == 1);
      CHECK((key == "big:task-" + record.data || key == "other:task-" + record.data));
      return true;
    });
    return seen;
  };
  const auto everything = scan_all("");
  CHECK(everything.size() == 3000);
  CHECK(std::all_of(everything.begin(), everything.end(), [](const auto& e) { return e.second == 1; }));
  const auto only_big = scan_all(make_prefix("big"));
  CHECK(only_big.size() == big.size());
  CHECK(std::all_of(only_big.begin(), only_big.end(), [&](const auto& e) { return e.second == 1 && big.count(e.first); }));
  CHECK(listing(s.db(), make_prefix("other")).size() == other.size());
}

TEST_CASE("a scan visitor may modify the store: removing every visited key empties it")
{
  Fresh s;
  for (int i = 0; i < 120; ++i) {
    s.db().put("o:t" + std::to_string(i), "x");
  }
  int visited = 0;
  s.db().scan("o:", [&](const std::string& key, const VersionedRecord&) {
    ++visited;
    CHECK(s.db().remove(key));
    return true;
  });
  CHECK(visited == 120);
  CHECK(s.db().list_by_prefix("").empty());
}

// Runs client(t, store) on n threads, each with its own connection to the
// store; returns what each thread threw ("" when it did not).
template <typename Client>
std::vector<std::string>
run_clients(const Fresh& s, int n, Client&& client)
{
  std::vector<std::string> failures(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto store = s.open_another();
        client(t, *store);
      } catch (const std::exception& e) {
        failures[static_cast<std::size_t>(t)] = describe(e);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  return failures;
}

TEST_CASE("concurrent read-modify-CAS from 8 clients loses no update")
{
  Fresh s;
  constexpr int k_threads = 8;
  constexpr int k_increments = 25;
  REQUIRE(s.db().put("o:counter", "0") == 1);
  const auto failures = run_clients(s, k_threads, [&](int, StorageBackend& client) {
    for (int done = 0; done < k_increments;) {
      const auto current = client.get("o:counter");
      const auto next = std::to_string(std::stoi(current.data) + 1);
      try {
        client.put_if_version("o:counter", next, current.version);
        ++done;
      } catch (const StorageError& e) {
        if (e.kind() != StorageErrorKind::version_conflict) {
          throw;
        }
        if (e.actual() <= current.version) {
          throw std::runtime_error("conflict reported a version that is not newer: " + std::string(e.what()));
        }
      }
    }
  });
  for (const auto& failure : failures) {
    CHECK(failure.empty());
  }
  const auto final_record = s.db().get("o:counter");
  CHECK(final_record.data == std::to_string(k_threads * k_increments));
  CHECK(final_record.version == 1 + k_threads * k_increments);
}

TEST_CASE("concurrent puts from 8 clients never share a version")
{
  Fresh s;
  constexpr int k_threads = 8;
  constexpr int k_puts = 25;
  std::vector<std::vector<std::uint64_t>> versions(k_threads);
  const auto failures = run_clients(s, k_threads, [&](int t, StorageBackend& client) {
    for (int i = 0; i < k_puts; ++i) {
      versions[static_cast<std::size_t>(t)].push_back(client.put("o:hot", "writer " + std::to_string(t)));
    }
  });
  for (const auto& failure : failures) {
    CHECK(failure.empty());
  }
  std::set<std::uint64_t> all;
  std::size_t total = 0;
  for (const auto& mine : versions) {
    // Each client sees its own versions strictly increasing.
    CHECK(std::is_sorted(mine.begin(), mine.end()));
    all.insert(mine.begin(), mine.end());
    total += mine.size();
  }
  CHECK(total == k_threads * k_puts);
  CHECK(all.size() == total);
  CHECK(*all.begin() == 1);
  CHECK(*all.rbegin() == total);
  CHECK(s.db().get("o:hot").version == total);
}

// Each round: the coordinator (thread 0) writes the key, then every remover
// tries remove_if_version at that version at once. In odd rounds the
// coordinator puts again meanwhile. Exactly one remover of a version wins,
// and a put is never lost: it lands either before every removal (then all
// conflict with its version) or after the winning one (then it recreates the
// key at version 1, which no remover asks for). Every client has its own connection; every failure is
// recorded (a thread never skips the barrier) and judged after the join.
TEST_CASE("concurrent remove_if_version: exactly one remover of a version wins; no racing put is lost")
{
  Fresh s;
  constexpr int k_removers = 4;
  constexpr int k_rounds = 30;
  constexpr int k_clients = k_removers + 1;
  const std::string key = "o:contested";

  struct Round
  {
    std::uint64_t version = 0;     // the version the removers race for
    std::uint64_t put_version = 0; // what the racing put returned (odd rounds)
    std::uint64_t after = 0;       // the version after the round, 0 when absent
    std::vector<int> winners;
    std::vector<std::uint64_t> conflicts; // the actual versions reported
    std::vector<std::string> errors;
  };
  std::vector<Round> rounds(k_rounds);
  std::mutex mutex;
  auto record_error = [&](Round& round, const std::string& what) {
    std::lock_guard lock(mutex);
    round.errors.push_back(what);
  };

  std::vector<std::unique_ptr<StorageBackend>> clients;
  for (int t = 0; t < k_clients; ++t) {
    clients.push_back(s.open_another());
  }
  std::barrier sync(k_clients);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_clients; ++t) {
    threads.emplace_back([&, t] {
      StorageBackend& client = *clients[static_cast<std::size_t>(t)];
      for (int r = 0; r < k_rounds; ++r) {
        Round& round = rounds[static_cast<std::size_t>(r)];
        if (t == 0) {
          try {
            // Twice: the version raced for is at least 2, so a key the racing
            // put recreates (version 1) can never be taken for it.
            client.put(key, "round " + std::to_string(r));
            round.version = client.put(key, "round " + std::to_string(r));
          } catch (const std::exception& e) {
            record_error(round, "setup put: " + describe(e));
          }
        }
        sync.arrive_and_wait();
        try {
          if (t == 0) {
            if (r % 2 == 1) {
              round.put_version = client.put(key, "racing put " + std::to_string(r));
            }
          } else {
            client.remove_if_version(key, round.version);
            std::lock_guard lock(mutex);
            round.winners.push_back(t);
          }
        } catch (const StorageError& e) {
          std::lock_guard lock(mutex);
          if (e.kind() == StorageErrorKind::version_conflict && e.key() == key && e.expected() == round.version) {
            round.conflicts.push_back(e.actual());
          } else {
            round.errors.push_back(describe(e));
          }
        } catch (const std::exception& e) {
          record_error(round, describe(e));
        }
        sync.arrive_and_wait();
        if (t == 0) {
          try {
            round.after = client.get(key).version;
          } catch (const StorageError& e) {
            if (e.kind() != StorageErrorKind::not_found) {
              record_error(round, "get after the round: " + describe(e));
            }
          } catch (const std::exception& e) {
            record_error(round, "get after the round: " + describe(e));
          }
        }
        sync.arrive_and_wait(); // the next round's setup put waits for the get
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  int put_first = 0;
  int remove_first = 0;
  for (int r = 0; r < k_rounds; ++r) {
    const Round& round = rounds[static_cast<std::size_t>(r)];
    INFO("round " << r << ", version " << round.version << ", racing put " << round.put_version << ", after "
                  << round.after);
    for (const auto& error : round.errors) {
      FAIL_CHECK(error);
    }
    REQUIRE(round.version >= 2);
    CHECK(round.winners.size() + round.conflicts.size() == k_removers);
    for (std::uint64_t actual : round.conflicts) {
      CHECK(actual != round.version);
    }
    if (r % 2 == 0) {
      CHECK(round.winners.size() == 1);
      CHECK(std::all_of(round.conflicts.begin(), round.conflicts.end(), [](std::uint64_t a) { return a == 0; }));
      CHECK(round.after == 0);
    } else if (round.put_version == 1) {
      // The put came after the winning removal and recreated the key.
      ++remove_first;
      CHECK(round.winners.size() == 1);
      CHECK(round.after == 1);
      CHECK(std::all_of(round.conflicts.begin(), round.conflicts.end(), [](std::uint64_t a) { return a <= 1; }));
    } else {
      // The put came first: every removal conflicts with its version, and it is kept.
      ++put_first;
      CHECK(round.put_version == round.version + 1);
      CHECK(round.winners.empty());
      CHECK(round.after == round.put_version);
      CHECK(std::all_of(round.conflicts.begin(), round.conflicts.end(),
                        [&](std::uint64_t a) { return a == round.put_version; }));
    }
  }
  CHECK(put_first + remove_first == k_rounds / 2);
}

TEST_CASE("two clients of one store see each other's writes")
{
  Fresh s;
  auto other = s.open_another();
  CHECK(s.db().put("o:shared", "from one") == 1);
  CHECK(other->get("o:shared") == VersionedRecord{"from one", 1});
  CHECK(other->put_if_version("o:shared", "from two", 1) == 2);
  CHECK(s.db().get("o:shared") == VersionedRecord{"from two", 2});
  CHECK(other->remove("o:shared"));
  CHECK_FALSE(s.db().remove("o:shared"));
}

TEST_CASE("the backend names itself")
{
  Fresh s;
  CHECK(s.db().name() == s.backend_name);
}

// The maximum version (u64 max; INT64_MAX on SQLite, its largest integer): a
// write that would go past it is refused as capacity_exceeded, atomically,
// with nothing written. Records are seeded at a version no sequence of writes
// reaches, straight into the store (TestStore::seed). memory has no raw access,
// so no record there can reach its maximum; its check is not exercised here.
TEST_CASE("a write that would overflow the version is refused and writes nothing")
{
  Fresh s;
  if (!s.store.seed) {
    REQUIRE(s.backend_name == "memory");
    return;
  }
  const std::uint64_t max = s.store.max_version;
  REQUIRE(max != 0);
  const auto refused = [&](const StorageError& e, const std::string& key) {
    CHECK(e.kind() == StorageErrorKind::capacity_exceeded);
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains(key) && Catch::Contains(std::to_string(max)) && Catch::Contains("maximum"));
  };

  SECTION("at the maximum: put and put_if_version(max) are refused")
  {
    s.store.seed("o:top", "seeded", max);
    REQUIRE(s.db().get("o:top") == VersionedRecord{"seeded", max});
    refused(storage_error_of([&] { s.db().put("o:top", "new"); }), "o:top");
    CHECK(s.db().get("o:top") == VersionedRecord{"seeded", max});
    refused(storage_error_of([&] { s.db().put_if_version("o:top", "new", max); }), "o:top");
    CHECK(s.db().get("o:top") == VersionedRecord{"seeded", max});
    // A conflicting expected version is still a conflict, reporting max.
    auto e = storage_error_of([&] { s.db().put_if_version("o:top", "new", max - 1); });
    CHECK(e.kind() == StorageErrorKind::version_conflict);
    CHECK(e.actual() == max);
    CHECK(s.db().get("o:top") == VersionedRecord{"seeded", max});
    // The record still reads, lists and deletes normally.
    std::size_t seen = 0;
    s.db().scan("o:", [&](const std::string& key, const VersionedRecord& r) {
      CHECK(key == "o:top");
      CHECK(r.version == max);
      ++seen;
      return true;
    });
    CHECK(seen == 1);
    s.db().remove_if_version("o:top", max);
    CHECK_FALSE(s.db().remove("o:top"));
  }

  SECTION("one below: one put reaches the maximum, the next is refused")
  {
    s.store.seed("o:near", "seeded", max - 1);
    CHECK(s.db().put("o:near", "reached") == max);
    CHECK(s.db().get("o:near") == VersionedRecord{"reached", max});
    refused(storage_error_of([&] { s.db().put("o:near", "past"); }), "o:near");
    CHECK(s.db().get("o:near") == VersionedRecord{"reached", max});
  }

  SECTION("one below: put_if_version(max - 1) reaches the maximum, the next is refused")
  {
    s.store.seed("o:near", "seeded", max - 1);
    CHECK(s.db().put_if_version("o:near", "reached", max - 1) == max);
    CHECK(s.db().get("o:near") == VersionedRecord{"reached", max});
    refused(storage_error_of([&] { s.db().put_if_version("o:near", "past", max); }), "o:near");
    refused(storage_error_of([&] { s.db().put("o:near", "past"); }), "o:near");
    CHECK(s.db().get("o:near") == VersionedRecord{"reached", max});
  }
}

// A damaged record (issue 14 #3): a version the store cannot read, left by
// another writer. One rule on every backend: a scan reports it (key and
// reason) to the damage visitor and goes on, never giving it to the record
// visitor; a cleanup never removes it unless remove_damaged (and then only
// while it is still damaged); remove_prefix removes it and count_prefix
// counts it; get refuses it. memory has no raw access, so holds none.
TEST_CASE("a damaged record is reported by scans and kept by cleanup")
{
  Fresh s;
  if (!s.store.seed_bad_version) {
    REQUIRE(s.backend_name == "memory");
    return;
  }
  const Timestamp now = now_utc();
  REQUIRE(s.db().put("o:a", record_json("o", "a", std::nullopt)) == 1);
  REQUIRE(s.db().put("o:old", record_json("o", "old", plus_seconds(now, -60))) == 1);
  s.store.seed_bad_version("o:bad", "abc");
  REQUIRE(s.db().put("o:z", record_json("o", "z", std::nullopt)) == 1);

  std::vector<std::string> keys;
  std::vector<DamagedRecord> damaged;
  s.db().scan(
    "o:",
    [&](const std::string& key, const VersionedRecord& record) {
      CHECK(record.version >= 1);
      keys.push_back(key);
      return true;
    },
    [&](const DamagedRecord& d) {
      damaged.push_back(d);
      return true;
    });
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"o:a", "o:old", "o:z"});
  REQUIRE(damaged.size() == 1);
  CHECK(damaged[0].key == "o:bad");
  CHECK_THAT(damaged[0].reason, Catch::Contains("abc") && Catch::Contains("version"));

  // Without a damage visitor the walk skips it; so does list_by_prefix.
  std::size_t seen = 0;
  s.db().scan("", [&](const std::string&, const VersionedRecord&) { return ++seen, true; });
  CHECK(seen == 3);
  CHECK(s.db().list_by_prefix("o:").size() == 3);
  // A damage visitor returning false stops the scan.
  std::size_t after_stop = 0;
  s.db().scan(
    "o:b", [&](const std::string&, const VersionedRecord&) { return ++after_stop, true; },
    [&](const DamagedRecord&) { return false; });
  CHECK(after_stop == 0);

  // get refuses it as a backend error naming the key.
  const auto e = storage_error_of([&] { s.db().get("o:bad"); });
  CHECK(e.kind() == StorageErrorKind::backend);
  CHECK_THAT(std::string(e.what()), Catch::Contains("o:bad"));

  // cleanup removes the expired record, never the damaged one...
  CleanupOptions plain;
  plain.now = now;
  std::vector<std::string> kept;
  plain.on_damaged = [&](const DamagedRecord& d, bool removed) {
    CHECK_FALSE(removed);
    kept.push_back(d.key);
  };
  CHECK(s.db().cleanup_expired(plain) == 1);
  CHECK(kept.size() <= 1); // SQLite meets only what its expiry index lists
  CHECK(count_prefix(s.db(), "o:") == 3);
  CHECK(storage_error_of([&] { s.db().get("o:old"); }).kind() == StorageErrorKind::not_found);

  // ...unless remove_damaged: a dry run reports it, keeping it; then it goes.
  CleanupOptions include;
  include.now = now;
  include.remove_damaged = true;
  include.dry_run = true;
  std::vector<std::pair<std::string, bool>> reported;
  include.on_damaged = [&](const DamagedRecord& d, bool removed) { reported.emplace_back(d.key, removed); };
  CHECK(s.db().cleanup_expired(include) == 0);
  CHECK(reported == std::vector<std::pair<std::string, bool>>{{"o:bad", true}});
  CHECK(count_prefix(s.db(), "o:") == 3);
  include.dry_run = false;
  reported.clear();
  CHECK(s.db().cleanup_expired(include) == 0);
  CHECK(reported == std::vector<std::pair<std::string, bool>>{{"o:bad", true}});
  CHECK(count_prefix(s.db(), "o:") == 2);
  CHECK(s.db().get("o:a").version == 1);

  // remove_prefix takes damaged records with the rest.
  s.store.seed_bad_version("o:bad2", "-1");
  CHECK(count_prefix(s.db(), "o:") == 3);
  CHECK(remove_prefix(s.db(), "o:") == 3);
  CHECK(count_prefix(s.db(), "o:") == 0);
}

// A cleanup stops between batches when should_stop says so, and every
// record it removed was reported (issue 14 #4).
TEST_CASE("a stopped cleanup reports every record it removed")
{
  Fresh s;
  const Timestamp now = now_utc();
  for (int i = 0; i < 2500; ++i) {
    const std::string task = "t" + std::to_string(i);
    s.db().put("o:" + task, record_json("o", task, plus_seconds(now, -60)));
  }
  CleanupOptions options;
  options.now = now;
  std::set<std::string> reported;
  options.on_removed = [&](const std::string& key, std::uint64_t, Timestamp) { reported.insert(key); };
  options.should_stop = [&] { return !reported.empty(); };
  const std::size_t removed = s.db().cleanup_expired(options);
  CHECK(removed == reported.size());
  CHECK(removed > 0);
  CHECK(removed < 2500);
  // Exactly the reported ones are gone.
  std::size_t left = 0;
  s.db().scan("o:", [&](const std::string& key, const VersionedRecord&) {
    CHECK(reported.count(key) == 0);
    ++left;
    return true;
  });
  CHECK(left + removed == 2500);
}

// CleanupOptions::max bounds a run (gc --batch): at most max expired records
// go (or are counted, on a dry run), each reported; the next run takes the rest.
TEST_CASE("a cleanup with max removes at most max records, and the next run goes on")
{
  Fresh s;
  const Timestamp now = now_utc();
  for (int i = 0; i < 1200; ++i) {
    const std::string task = "t" + std::to_string(i);
    s.db().put("o:" + task, record_json("o", task, plus_seconds(now, -60)));
  }
  s.db().put("o:live", record_json("o", "live", plus_seconds(now, 3600)));
  CleanupOptions options;
  options.now = now;
  options.max = 500;
  std::set<std::string> reported;
  options.on_removed = [&](const std::string& key, std::uint64_t, Timestamp) { reported.insert(key); };

  CleanupOptions dry = options;
  dry.dry_run = true;
  CHECK(s.db().cleanup_expired(dry) == 500);
  CHECK(reported.size() == 500);
  CHECK(count_prefix(s.db(), "o:") == 1201);

  reported.clear();
  CHECK(s.db().cleanup_expired(options) == 500);
  CHECK(reported.size() == 500);
  CHECK(count_prefix(s.db(), "o:") == 701);
  for (const auto& key : reported) {
    CHECK_THROWS(s.db().get(key));
  }
  CHECK(s.db().cleanup_expired(options) == 500);
  CHECK(s.db().cleanup_expired(options) == 200);
  CHECK(s.db().cleanup_expired(options) == 0);
  CHECK(count_prefix(s.db(), "o:") == 1);
  CHECK(s.db().get("o:live").version == 1);
}

// ---------------------------------------------------------------- ScanOptions

namespace {

// Pages of `page` records through ScanOptions::start_after (key_order set, as
// ls --limit asks), each resumed after the last key of the one before.
std::vector<std::string>
paged_keys(StorageBackend& db, const std::string& prefix, std::size_t page,
           const std::function<void(int)>& between_pages = {})
{
  std::vector<std::string> keys;
  std::string after;
  for (int round = 0;; ++round) {
    ScanOptions options;
    options.prefix = prefix;
    options.start_after = after;
    options.key_order = true;
    std::size_t n = 0;
    db.scan(options, [&](const std::string& key, const VersionedRecord&) {
      keys.push_back(key);
      after = key;
      return ++n < page;
    });
    if (n < page) {
      return keys;
    }
    REQUIRE(round < 1000);
    if (between_pages) {
      between_pages(round);
    }
  }
}

} // namespace

TEST_CASE("scan resumes after a key: pages cover every record once, with writes between the pages")
{
  Fresh s;
  std::set<std::string> all;
  std::set<std::string> owner;
  for (int i = 0; i < 700; ++i) {
    const std::string o = "p" + std::to_string(i % 5);
    const std::string key = o + ":t" + std::to_string(1000 + i);
    s.db().put(key, "x");
    all.insert(key);
    if (o == "p2") {
      owner.insert(key);
    }
  }
  for (const auto& [prefix, expected] :
       std::vector<std::pair<std::string, std::set<std::string>>>{{"", all}, {"p2:", owner}}) {
    INFO("prefix " << prefix);
    std::set<std::string> added;
    const auto keys = paged_keys(s.db(), prefix, 64, [&](int round) {
      // A write between two pages: seen at most once, never twice.
      const std::string key = (prefix.empty() ? "p" + std::to_string(round % 5) : std::string("p2")) + ":new" +
                              std::to_string(round) + prefix;
      s.db().put(key, "y");
      added.insert(key);
    });
    std::map<std::string, int> seen;
    for (const auto& k : keys) {
      ++seen[k];
    }
    for (const auto& k : expected) {
      INFO(k);
      CHECK(seen[k] == 1);
    }
    for (const auto& [k, n] : seen) {
      INFO(k);
      CHECK(n == 1);
      CHECK((expected.count(k) == 1 || added.count(k) == 1));
      CHECK(k.starts_with(prefix));
    }
    for (const auto& k : added) {
      s.db().remove(k);
    }
  }
  // The start key need not exist; one after every key gives nothing.
  ScanOptions options;
  options.start_after = "p0:t1500x";
  options.key_order = true;
  std::set<std::string> after;
  s.db().scan(options, [&](const std::string& key, const VersionedRecord&) {
    after.insert(key);
    return true;
  });
  for (const auto& k : after) {
    CHECK(all.count(k) == 1);
  }
  if (s.backend_name != "dynamodb") { // key order: every key after the start, none before
    std::set<std::string> expected_after;
    for (const auto& k : all) {
      if (k > "p0:t1500x") {
        expected_after.insert(k);
      }
    }
    CHECK(after == expected_after);
  }
  options.prefix = "p1:";
  options.start_after = "p9:zzz";
  int n = 0;
  s.db().scan(options, [&](const std::string&, const VersionedRecord&) { return ++n, true; });
  CHECK(n == 0);
  // A start key before the prefix starts at the prefix.
  options.start_after = "a:a";
  s.db().scan(options, [&](const std::string&, const VersionedRecord&) { return ++n, true; });
  CHECK(n == 140);
}

TEST_CASE("scan keys_only visits every key once, records unread")
{
  Fresh s;
  std::set<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "k" + std::to_string(i % 3) + ":t" + std::to_string(i);
    s.db().put(key, "data-" + std::to_string(i));
    expected.insert(key);
  }
  for (const std::string prefix : {"", "k1:", "k"}) {
    ScanOptions options;
    options.prefix = prefix;
    options.keys_only = true;
    std::map<std::string, int> seen;
    s.db().scan(options, [&](const std::string& key, const VersionedRecord& record) {
      ++seen[key];
      // Either unread (empty, version 0) or the record itself: the backend's choice.
      CHECK((record.version == 0 ? record.data.empty() : record.data.starts_with("data-")));
      return true;
    });
    for (const auto& k : expected) {
      if (k.starts_with(prefix)) {
        INFO(k);
        CHECK(seen[k] == 1);
      }
    }
    for (const auto& [k, n] : seen) {
      CHECK(k.starts_with(prefix));
      CHECK(n == 1);
    }
  }
}

// ---------------------------------------------------------------- put_batch

TEST_CASE("put_batch writes each record as put or put_if_version(0) would, and reports each")
{
  Fresh s;
  s.db().put("b:present", "old");
  s.db().put("b:present", "old2"); // version 2
  std::vector<std::string> keys;
  std::vector<std::string> data;
  for (int i = 0; i < 2500; ++i) {
    keys.push_back("b:t" + std::to_string(i));
    data.push_back("{\"n\":" + std::to_string(i) + "}");
  }
  std::vector<BatchWrite> writes;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    writes.push_back(BatchWrite{keys[i], data[i], i % 2 == 0});
  }
  writes.push_back(BatchWrite{"b:present", "new", true});   // if_absent on a present key: not written
  writes.push_back(BatchWrite{"b:present", "newer", false}); // put: version 3
  writes.push_back(BatchWrite{"nocolon", "x", false});       // refused on its own
  const auto results = s.db().put_batch(writes);
  REQUIRE(results.size() == writes.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    INFO(keys[i]);
    CHECK_FALSE(results[i].error);
    CHECK(results[i].version == 1);
    CHECK(s.db().get(keys[i]) == VersionedRecord{data[i], 1});
  }
  CHECK_FALSE(results[keys.size()].error);
  CHECK(results[keys.size()].version == 0);
  CHECK(results[keys.size() + 1].version == 3);
  CHECK(s.db().get("b:present") == VersionedRecord{"newer", 3});
  REQUIRE(results[keys.size() + 2].error);
  CHECK_THROWS_AS(std::rethrow_exception(results[keys.size() + 2].error), InvalidArgument);
  // Again, unconditionally: every record version 2.
  for (auto& w : writes) {
    w.if_absent = false;
  }
  writes.resize(keys.size());
  const auto again = s.db().put_batch(writes);
  for (const auto& r : again) {
    CHECK(r.version == 2);
  }
  CHECK(s.db().put_batch({}).empty());
}

// ---------------------------------------------------------------- bounded scans

TEST_CASE("scan limit visits at most N records, in every mode, across batch boundaries")
{
  Fresh s;
  std::vector<std::string> keys;
  std::vector<BatchWrite> writes;
  for (int i = 0; i < 1300; ++i) {
    keys.push_back("lim:t" + std::to_string(10000 + i));
  }
  for (const auto& k : keys) {
    writes.push_back(BatchWrite{k, "data", false});
  }
  for (const auto& r : s.db().put_batch(writes)) {
    REQUIRE_FALSE(r.error);
  }
  for (const std::uint64_t limit : {1, 7, 1100, 5000}) {
    for (int mode = 0; mode < 3; ++mode) {
      ScanOptions options;
      options.prefix = mode == 2 ? "lim:" : "";
      options.keys_only = mode == 1;
      options.key_order = mode == 1;
      options.limit = limit;
      std::set<std::string> seen;
      s.db().scan(options, [&](const std::string& key, const VersionedRecord&) {
        CHECK(seen.insert(key).second);
        return true;
      });
      INFO("limit " << limit << ", mode " << mode);
      CHECK(seen.size() == std::min<std::uint64_t>(limit, keys.size()));
      if (s.is_local() || (mode == 1 && s.backend_name == "redis")) {
        // Key order: the first N keys.
        CHECK(std::equal(seen.begin(), seen.end(), keys.begin()));
      }
    }
  }
}

TEST_CASE("scan should_stop: polled even when nothing matches; true ends the scan with no visit after it")
{
  Fresh s;
  std::vector<BatchWrite> writes;
  std::vector<std::string> keys;
  for (int i = 0; i < 1200; ++i) {
    keys.push_back("stop:t" + std::to_string(i));
  }
  for (const auto& k : keys) {
    writes.push_back(BatchWrite{k, "data", false});
  }
  for (const auto& r : s.db().put_batch(writes)) {
    REQUIRE_FALSE(r.error);
  }
  for (int mode = 0; mode < 4; ++mode) {
    INFO("mode " << mode);
    ScanOptions options;
    options.prefix = mode == 3 ? "stop:" : "";
    options.keys_only = mode == 1;
    options.key_order = mode == 2;
    int visited = 0;
    bool stop = false;
    int polls_after_stop = 0;
    options.should_stop = [&] {
      if (stop) {
        ++polls_after_stop;
      }
      return stop;
    };
    s.db().scan(options, [&](const std::string&, const VersionedRecord&) {
      CHECK_FALSE(stop);
      if (++visited == 10) {
        stop = true;
      }
      return true;
    });
    CHECK(visited == 10);
    CHECK(polls_after_stop >= 1);

    // Stopped at once: nothing visited.
    options.should_stop = [] { return true; };
    visited = 0;
    s.db().scan(options, [&](const std::string&, const VersionedRecord&) {
      ++visited;
      return true;
    });
    CHECK(visited == 0);
  }
  // A prefix nothing matches: no visit, yet the scan polls.
  ScanOptions none;
  none.prefix = "zz-nobody";
  none.keys_only = true;
  int polls = 0;
  none.should_stop = [&] {
    ++polls;
    return false;
  };
  s.db().scan(none, [&](const std::string&, const VersionedRecord&) {
    FAIL("nothing matches");
    return true;
  });
  CHECK(polls >= 1);
}

// ---------------------------------------------------------------- owners

namespace {

// The owners of a list_owners call, in the order given.
std::vector<std::string>
owners_of(StorageBackend& db, std::string_view prefix, const OwnerListOptions& options = {},
          OwnerListResult* result = nullptr)
{
  std::vector<std::string> out;
  const OwnerListResult r = list_owners(
    db, prefix,
    [&](const std::string& owner) {
      out.push_back(owner);
      return true;
    },
    options);
  if (result != nullptr) {
    *result = r;
  }
  return out;
}

// The message of an error of put_batch ("" for none).
std::string
error_text(const std::exception_ptr& error)
{
  if (!error) {
    return {};
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  }
}

// owners sorted as their keys are: by OWNER + ":".
std::vector<std::string>
in_key_order(std::vector<std::string> owners)
{
  std::sort(owners.begin(), owners.end(), [](const std::string& a, const std::string& b) { return a + ":" < b + ":"; });
  return owners;
}

} // namespace

TEST_CASE("list_owners: the distinct owners of a prefix, in key order; glob characters literal")
{
  Fresh s;
  const std::vector<std::string> owners = {"user",   "user*",  "user-1", "user-10", "user-2", "user;x", "user?",
                                           "user[x]", "user\\", "usera",  "us",      "alice",  "bob"};
  std::vector<std::string> keys;
  for (const auto& o : owners) {
    for (int t = 0; t < 3; ++t) {
      keys.push_back(o + ":t" + std::to_string(t));
    }
  }
  // One owner with many records: a walk in key order still reads one key of it.
  for (int t = 0; t < 60; ++t) {
    keys.push_back("user-10:many" + std::to_string(t));
  }
  std::vector<std::string> data; // BatchWrite holds views: the texts live here
  for (const auto& k : keys) {
    data.push_back(record_json(k.substr(0, k.find(':')), k.substr(k.find(':') + 1), std::nullopt));
  }
  std::vector<BatchWrite> writes;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    writes.push_back(BatchWrite{keys[i], data[i], false});
  }
  const auto written = s.db().put_batch(writes);
  for (std::size_t i = 0; i < written.size(); ++i) {
    INFO(keys[i] << ": " << error_text(written[i].error));
    REQUIRE_FALSE(written[i].error);
  }

  OwnerListResult result;
  CHECK(owners_of(s.db(), "", {}, &result) == in_key_order(owners));
  CHECK_FALSE(result.stopped);
  if (s.db().seeks_in_key_order()) {
    CHECK(result.keys_read == owners.size()); // one seek per owner
  } else {
    CHECK(result.keys_read == keys.size());
  }
  const std::vector<std::string> users = in_key_order(
    {"user", "user*", "user-1", "user-10", "user-2", "user;x", "user?", "user[x]", "user\\", "usera"});
  CHECK(owners_of(s.db(), "user") == users);
  CHECK(owners_of(s.db(), "user-") == in_key_order({"user-1", "user-10", "user-2"}));
  CHECK(owners_of(s.db(), "user-1") == in_key_order({"user-1", "user-10"}));
  CHECK(owners_of(s.db(), "user*") == std::vector<std::string>{"user*"});
  CHECK(owners_of(s.db(), "user[") == std::vector<std::string>{"user[x]"});
  CHECK(owners_of(s.db(), "user\\") == std::vector<std::string>{"user\\"});
  CHECK(owners_of(s.db(), "user-1:") == std::vector<std::string>{"user-1"});
  CHECK(owners_of(s.db(), "user-10:many5") == std::vector<std::string>{"user-10"});
  CHECK(owners_of(s.db(), "user-1:nothing").empty());
  CHECK(owners_of(s.db(), "nobody").empty());

  // A limit: the first N in key order.
  OwnerListOptions two;
  two.limit = 2;
  CHECK(owners_of(s.db(), "user", two) == std::vector<std::string>(users.begin(), users.begin() + 2));
  // The visitor stops the walk.
  int given = 0;
  const auto r = list_owners(s.db(), "", [&](const std::string&) { return ++given < 3; });
  CHECK(given == 3);
  CHECK_FALSE(r.stopped);
}

TEST_CASE("list_owners: should_stop ends the walk and says so; damaged records name their owner")
{
  Fresh s;
  for (int o = 0; o < 30; ++o) {
    const std::string owner = "o" + std::to_string(100 + o);
    REQUIRE(s.db().put(owner + ":t", record_json(owner, "t", std::nullopt)) == 1);
  }
  OwnerListOptions at_once;
  at_once.should_stop = [] { return true; };
  OwnerListResult result;
  CHECK(owners_of(s.db(), "", at_once, &result).empty());
  CHECK(result.stopped);

  // Stopped after some polls: what was given is in key order, and fewer than all.
  OwnerListOptions later;
  int polls = 0;
  later.should_stop = [&] { return ++polls > 12; };
  const auto some = owners_of(s.db(), "o", later, &result);
  CHECK(result.stopped);
  CHECK(some.size() < 30);
  CHECK(std::is_sorted(some.begin(), some.end()));

  if (s.store.seed_bad_version) {
    s.store.seed_bad_version("dmg:bad", "abc");
    CHECK(owners_of(s.db(), "d") == std::vector<std::string>{"dmg"});
  }
}

TEST_CASE("search_namespaces: a store's own records are found; where there are no namespaces it does not apply")
{
  Fresh s;
  const NamespaceSearch empty = s.db().search_namespaces();
  CHECK_FALSE(empty.own_found);
  if (!empty.applies) {
    CHECK(empty.others.empty());
    CHECK(empty.own.empty());
    return;
  }
  CHECK(s.backend_name == "redis");
  CHECK(empty.own_pattern == empty.own + ":tasks:*");
  CHECK(std::find(empty.others.begin(), empty.others.end(), empty.own) == empty.others.end());
  REQUIRE(s.db().put("alice:t1", record_json("alice", "t1", std::nullopt)) == 1);
  const NamespaceSearch found = s.db().search_namespaces();
  CHECK(found.own == empty.own);
  // The shared test server may hold more keys than one search examines.
  CHECK((found.own_found || found.cut_short));
}
