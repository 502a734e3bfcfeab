// Interoperability with pmcp-tasks' layout (facts §5.3), checked with another
// DynamoDB client, the aws CLI: items it writes in that layout are read,
// listed, CAS-updated and deleted by taskstore, and items taskstore writes
// have exactly that layout.
#include "contract/stores.hpp"
#include "dynamodb/support.hpp"

#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"
#include "taskstore/uri.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace taskstore;
using namespace taskstore::testing::dynamo;
using nlohmann::json;

namespace {

struct Fresh : taskstore::testing::ScopedTestStore
{
  Fresh()
    : ScopedTestStore(taskstore::testing::make_dynamodb_test_store())
    , endpoint(shared_endpoint())
    , table(StoreUri::parse(store.uri).host)
  {
  }

  // Writes items with one aws CLI call (batch-write-item: at most 25).
  void put_items(const std::vector<json>& items) const
  {
    json puts = json::array();
    for (const auto& item : items) {
      puts.push_back(json{{"PutRequest", {{"Item", item}}}});
    }
    const json out = aws_dynamodb(endpoint, {"batch-write-item", "--request-items", json{{table, puts}}.dump()});
    REQUIRE(out.value("UnprocessedItems", json::object()).empty());
  }
  // The raw items of several (PK, SK) keys with one consistent batch-get-item;
  // absent items are null.
  std::map<std::pair<std::string, std::string>, json>
  get_items(const std::vector<std::pair<std::string, std::string>>& keys) const
  {
    json request_keys = json::array();
    std::map<std::pair<std::string, std::string>, json> out;
    for (const auto& [pk, sk] : keys) {
      request_keys.push_back(json{{"PK", {{"S", pk}}}, {"SK", {{"S", sk}}}});
      out[{pk, sk}] = nullptr;
    }
    const json response = aws_dynamodb(
      endpoint, {"batch-get-item", "--request-items",
                 json{{table, {{"Keys", request_keys}, {"ConsistentRead", true}}}}.dump()});
    for (const auto& item : response.at("Responses").at(table)) {
      out[{item.at("PK").at("S").get<std::string>(), item.at("SK").at("S").get<std::string>()}] = item;
    }
    return out;
  }
  // The raw item, as the aws CLI sees it (null when absent).
  json get_item(const std::string& pk, const std::string& sk) const
  {
    const json out = aws_dynamodb(endpoint, {"get-item", "--consistent-read", "--table-name", table,
                                             "--key", json{{"PK", {{"S", pk}}}, {"SK", {{"S", sk}}}}.dump()});
    return out.is_object() && out.contains("Item") ? out["Item"] : json(nullptr);
  }

  std::string endpoint;
  std::string table;
};

json
pmcp_item(const std::string& owner, const std::string& task, std::uint64_t version,
          const std::string& data, std::optional<std::int64_t> expires_at)
{
  json item{{"PK", {{"S", "OWNER#" + owner}}},
            {"SK", {{"S", "TASK#" + task}}},
            {"version", {{"N", std::to_string(version)}}},
            {"data", {{"S", data}}}};
  if (expires_at) {
    item["expires_at"] = {{"N", std::to_string(*expires_at)}};
  }
  return item;
}

std::string
record(const std::string& owner, const std::string& task, std::optional<std::string> expires_at)
{
  json r{{"task", {{"taskId", task}, {"status", "working"}, {"createdAt", "2025-11-25T10:30:00.123Z"},
                   {"lastUpdatedAt", "2025-11-25T10:30:00.123Z"}, {"ttl", 3600000}}},
         {"ownerId", owner},
         {"variables", json::object()},
         {"result", nullptr},
         {"requestMethod", "tools/call"},
         {"expiresAt", expires_at ? json(*expires_at) : json(nullptr)}};
  return r.dump();
}

std::set<std::string>
attribute_names(const json& item)
{
  std::set<std::string> out;
  for (const auto& [name, value] : item.items()) {
    out.insert(name);
  }
  return out;
}

} // namespace

TEST_CASE("items written by another client in pmcp-tasks' layout are read, listed, CAS-updated and deleted",
          "[interop]")
{
  Fresh s;
  const std::string owner2 = "bob#1 \xc3\xbc";
  const std::string t1 = record("alice", "t1", "2025-11-25T11:30:00.123Z");
  const std::string t2 = record("alice", "t2", std::nullopt);
  const std::string t3 = record(owner2, "x y", std::nullopt);
  s.put_items({pmcp_item("alice", "t1", 3, t1, 1764070200), pmcp_item("alice", "t2", 1, t2, std::nullopt),
               pmcp_item(owner2, "x y", 12, t3, std::nullopt),
               // Not pmcp items: another entity of a single-table design, and
               // a malformed task item; none of these is listed.
               json{{"PK", {{"S", "CONFIG#x"}}}, {"SK", {{"S", "META"}}}, {"v", {{"S", "1"}}}},
               json{{"PK", {{"S", "OWNER#alice"}}}, {"SK", {{"S", "TASK#broken"}}}, {"version", {{"S", "one"}}}},
               // An owner id with ':' that no "owner:task" key can address.
               pmcp_item("x:y", "t", 1, "{}", std::nullopt)});

  CHECK(s.db().get("alice:t1") == VersionedRecord{t1, 3});
  CHECK(s.db().get(owner2 + ":x y") == VersionedRecord{t3, 12});
  // get reports a malformed item instead of guessing.
  const auto broken = [&] {
    try {
      s.db().get("alice:broken");
    } catch (const StorageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  }();
  CHECK(broken == "backend error: missing or invalid version attribute for key alice:broken");

  const auto alice = s.db().list_by_prefix("alice:");
  REQUIRE(alice.size() == 2);
  CHECK(alice[0].key == "alice:t1");
  CHECK(alice[0].record == VersionedRecord{t1, 3});
  CHECK(alice[1].key == "alice:t2");
  std::set<std::string> everything;
  for (const auto& entry : s.db().list_by_prefix("")) {
    everything.insert(entry.key);
  }
  CHECK(everything == std::set<std::string>{"alice:t1", "alice:t2", owner2 + ":x y"});
  // The malformed item is not skipped silently any more (issue 14 #3): a
  // scan reports it as damaged, with the reason; foreign items stay unseen.
  std::vector<DamagedRecord> damaged;
  s.db().scan(
    "", [](const std::string&, const VersionedRecord&) { return true; },
    [&](const DamagedRecord& d) {
      damaged.push_back(d);
      return true;
    });
  REQUIRE(damaged.size() == 1);
  CHECK(damaged[0].key == "alice:broken");
  CHECK_THAT(damaged[0].reason, Catch::Contains("\"one\"") && Catch::Contains("version"));

  // CAS on the other client's item; the item keeps the layout.
  const std::string t1b = record("alice", "t1", "2025-11-25T12:30:00.5Z");
  CHECK(s.db().put_if_version("alice:t1", t1b, 3) == 4);
  const json item = s.get_item("OWNER#alice", "TASK#t1");
  CHECK(item == pmcp_item("alice", "t1", 4, t1b, 1764073800));
  try {
    s.db().put_if_version("alice:t1", t1, 3);
    FAIL("expected a version conflict");
  } catch (const StorageError& e) {
    CHECK(e.kind() == StorageErrorKind::version_conflict);
    CHECK(e.actual() == 4);
  }
  // An unconditional put continues the other client's version.
  CHECK(s.db().put(owner2 + ":x y", t3) == 13);

  CHECK(s.db().remove(owner2 + ":x y"));
  CHECK_FALSE(s.db().remove(owner2 + ":x y"));
  // A conditional delete of the other client's item: at a stale version it
  // leaves the item as it is; at its version the item is gone.
  s.put_items({pmcp_item("alice", "t3", 5, t2, std::nullopt)});
  try {
    s.db().remove_if_version("alice:t3", 4);
    FAIL("expected a version conflict");
  } catch (const StorageError& e) {
    CHECK(e.kind() == StorageErrorKind::version_conflict);
    CHECK(e.actual() == 5);
  }
  CHECK(s.get_item("OWNER#alice", "TASK#t3") == pmcp_item("alice", "t3", 5, t2, std::nullopt));
  s.db().remove_if_version("alice:t3", 5);
  auto items = s.get_items({{"OWNER#" + owner2, "TASK#x y"}, {"CONFIG#x", "META"}, {"OWNER#alice", "TASK#t3"}});
  CHECK(items[{"OWNER#alice", "TASK#t3"}].is_null());
  CHECK(items[{"OWNER#" + owner2, "TASK#x y"}].is_null());
  // The foreign item is untouched.
  CHECK(items[{"CONFIG#x", "META"}].is_object());
}

TEST_CASE("items taskstore writes have exactly pmcp-tasks' layout", "[interop]")
{
  Fresh s;
  const std::string owner = "carol #\xe6\x97\xa5";
  const std::string key = owner + ":task 1";
  // expiresAt with a fraction: expires_at is its floor in epoch seconds.
  const std::string expiring = record(owner, "task 1", "2025-11-25T11:30:00.999999Z");
  CHECK(s.db().put(key, expiring) == 1);
  json item = s.get_item("OWNER#" + owner, "TASK#task 1");
  CHECK(attribute_names(item) == std::set<std::string>{"PK", "SK", "version", "data", "expires_at"});
  CHECK(item == pmcp_item(owner, "task 1", 1, expiring, 1764070200));

  // A rewrite without expiresAt drops the attribute (as PutItem would).
  const std::string forever = record(owner, "task 1", std::nullopt);
  CHECK(s.db().put(key, forever) == 2);
  item = s.get_item("OWNER#" + owner, "TASK#task 1");
  CHECK(attribute_names(item) == std::set<std::string>{"PK", "SK", "version", "data"});
  CHECK(item == pmcp_item(owner, "task 1", 2, forever, std::nullopt));

  // CAS writes the whole item the same way; an offset is converted to UTC.
  const std::string offset = record(owner, "task 1", "2025-11-25T12:30:00+01:00");
  CHECK(s.db().put_if_version(key, offset, 2) == 3);
  // A create-only CAS.
  CHECK(s.db().put_if_version(owner + ":new", forever, 0) == 1);
  auto items = s.get_items({{"OWNER#" + owner, "TASK#task 1"}, {"OWNER#" + owner, "TASK#new"}});
  CHECK(items[{"OWNER#" + owner, "TASK#task 1"}] == pmcp_item(owner, "task 1", 3, offset, 1764070200));
  CHECK(items[{"OWNER#" + owner, "TASK#new"}] == pmcp_item(owner, "new", 1, forever, std::nullopt));
}

TEST_CASE("cleanup judges the data's expiresAt, the expires_at attribute only preselects", "[interop]")
{
  Fresh s;
  const Timestamp now = now_utc();
  const std::string past = format_autosi(Timestamp{now.seconds - 100, 0});
  const std::string future = format_autosi(Timestamp{now.seconds + 3600, 0});
  s.put_items({// Attribute and data agree: expired.
               pmcp_item("o", "expired", 5, record("o", "expired", past), now.seconds - 100),
               // The attribute says expired, the data does not: kept.
               pmcp_item("o", "stale-attribute", 2, record("o", "stale-attribute", future), now.seconds - 100),
               // Not expiring at all.
               pmcp_item("o", "forever", 1, record("o", "forever", std::nullopt), std::nullopt)});
  std::vector<std::pair<std::string, std::uint64_t>> removed;
  CleanupOptions options;
  options.now = now;
  options.on_removed = [&](const std::string& key, std::uint64_t version, Timestamp) {
    removed.emplace_back(key, version);
  };
  CHECK(s.db().cleanup_expired(options) == 1);
  CHECK(removed == std::vector<std::pair<std::string, std::uint64_t>>{{"o:expired", 5}});
  auto items = s.get_items({{"OWNER#o", "TASK#expired"}, {"OWNER#o", "TASK#stale-attribute"},
                            {"OWNER#o", "TASK#forever"}});
  CHECK(items[{"OWNER#o", "TASK#expired"}].is_null());
  CHECK(items[{"OWNER#o", "TASK#stale-attribute"}].is_object());
  CHECK(items[{"OWNER#o", "TASK#forever"}].is_object());
}
