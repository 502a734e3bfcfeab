// DynamoDB-specific behaviour of the backend: against the shared dynalite
// (fresh table per test), and against a scripted local server for the
// translation of every kind of DynamoDB error.
#include "contract/stores.hpp"
#include "dynamodb/support.hpp"

#include "support/expect.hpp"
#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

using namespace taskstore;
using taskstore::testing::storage_error_of;
using namespace taskstore::testing::dynamo;

namespace {

struct Fresh : taskstore::testing::ScopedTestStore
{
  Fresh() : ScopedTestStore(taskstore::testing::make_dynamodb_test_store()) {}
};

std::string
with_expiry(Timestamp t)
{
  return R"({"ownerId":"o","expiresAt":")" + format_autosi(t) + R"("})";
}

CannedResponse
error(int status, const std::string& type, const std::string& message, nlohmann::json extra = {})
{
  nlohmann::json body{{"__type", "com.amazonaws.dynamodb.v20120810#" + type}, {"message", message}};
  if (extra.is_object()) {
    body.update(extra);
  }
  return CannedResponse{status, body.dump()};
}

} // namespace

TEST_CASE("ids with '#', spaces and non-ASCII round-trip; listings stay per owner", "[backend]")
{
  Fresh s;
  const std::vector<std::string> keys = {"a#b:TASK#1", "a#b:with space", "a:b#c",
                                         "gr\xc3\xbc\xc3\x9f:\xe6\x97\xa5\xe6\x9c\xac",
                                         "gr\xc3\xbc\xc3\x9f:\xf0\x9f\x98\x80 x", " :"};
  for (const auto& key : keys) {
    REQUIRE(s.db().put(key, "data of " + key) == 1);
  }
  for (const auto& key : keys) {
    CHECK(s.db().get(key) == VersionedRecord{"data of " + key, 1});
  }
  std::set<std::string> all;
  for (const auto& entry : s.db().list_by_prefix("")) {
    all.insert(entry.key);
  }
  CHECK(all == std::set<std::string>(keys.begin(), keys.end()));
  const auto a_hash_b = s.db().list_by_prefix("a#b:");
  REQUIRE(a_hash_b.size() == 2);
  // One owner is a Query: ascending task id (byte order).
  CHECK(a_hash_b[0].key == "a#b:TASK#1");
  CHECK(a_hash_b[1].key == "a#b:with space");
  CHECK(s.db().list_by_prefix("a:").size() == 1);
  // An owner-id prefix (no ':') is a Scan with a filter on PK.
  CHECK(s.db().list_by_prefix("a").size() == 3);
  CHECK(s.db().list_by_prefix("gr\xc3\xbc").size() == 2);
  // A task-id prefix after the owner.
  CHECK(s.db().list_by_prefix("gr\xc3\xbc\xc3\x9f:\xf0\x9f\x98\x80").size() == 1);
  // A prefix must be UTF-8 too: one cut inside a character is refused.
  CHECK_THROWS_AS(s.db().list_by_prefix("gr\xc3\xbc\xc3\x9f:\xf0"), InvalidArgument);
  for (const auto& key : keys) {
    CHECK(s.db().remove(key));
  }
  CHECK(s.db().list_by_prefix("").empty());
}

TEST_CASE("data and keys must be UTF-8", "[backend]")
{
  Fresh s;
  const auto e = storage_error_of([&] { s.db().put("o:t", std::string("ok \xff not")); });
  CHECK(e.kind() == StorageErrorKind::backend);
  CHECK(std::string(e.what()) == "backend error: data is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 3");
  CHECK(storage_error_of([&] { s.db().put_if_version("o:t", "\xc0\x80", 0); }).kind() ==
        StorageErrorKind::backend);
  CHECK_THROWS_AS(s.db().put("o\xfe:t", "x"), InvalidArgument);
  CHECK_THROWS_AS(s.db().get("no-colon"), InvalidArgument);
  CHECK(s.db().list_by_prefix("").empty());
}

TEST_CASE("the 400 KB item limit: capacity_exceeded, nothing written; just under it works", "[backend]")
{
  Fresh s;
  const std::string big(400 * 1024, 'x');
  const auto e = storage_error_of([&] { s.db().put("o:big", big); });
  CHECK(e.kind() == StorageErrorKind::capacity_exceeded);
  CHECK(std::string(e.what()).find("400 KB") != std::string::npos);
  CHECK(storage_error_of([&] { s.db().get("o:big"); }).kind() == StorageErrorKind::not_found);
  const std::string fits(390 * 1024, 'y');
  CHECK(s.db().put("o:fits", fits) == 1);
  CHECK(s.db().get("o:fits").data == fits);
}

TEST_CASE("put_if_version with expected 0 on an existing key reports the real version", "[backend]")
{
  Fresh s;
  CHECK(s.db().put_if_version("o:t", "a", 0) == 1);
  CHECK(s.db().put("o:t", "b") == 2);
  const auto e = storage_error_of([&] { s.db().put_if_version("o:t", "c", 0); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.expected() == 0);
  CHECK(e.actual() == 2);
  CHECK(s.db().get("o:t") == VersionedRecord{"b", 2});
}

TEST_CASE("cleanup: a record rewritten while the cleanup runs survives", "[backend]")
{
  Fresh s;
  const Timestamp now = now_utc();
  constexpr int k_records = 200;
  for (int i = 0; i < k_records; ++i) {
    REQUIRE(s.db().put("o:t" + std::to_string(i), with_expiry(Timestamp{now.seconds - 60, 0})) == 1);
  }
  auto other = open_store(s.store.uri);
  std::set<std::string> removed;
  std::set<std::string> refreshed;
  const std::string fresh = with_expiry(Timestamp{now.seconds + 3600, 0});
  CleanupOptions options;
  options.now = now;
  options.on_removed = [&](const std::string& key, std::uint64_t version, Timestamp expires_at) {
    CHECK(version == 1);
    CHECK(expires_at == Timestamp{now.seconds - 60, 0});
    removed.insert(key);
    if (removed.size() == 1) {
      // Rewrite (refresh) every record not reported yet, from another client.
      for (int i = 0; i < k_records; ++i) {
        const std::string k = "o:t" + std::to_string(i);
        if (k != key) {
          other->put(k, fresh);
          refreshed.insert(k);
        }
      }
    }
  };
  const std::size_t count = s.db().cleanup_expired(options);
  CHECK(count == removed.size());
  // At most the requests already in flight (16) could still remove a refreshed record.
  CHECK(count <= 17);
  for (int i = 0; i < k_records; ++i) {
    const std::string k = "o:t" + std::to_string(i);
    if (removed.count(k) == 0) {
      INFO(k);
      CHECK(s.db().get(k) == VersionedRecord{fresh, 2});
    }
  }
  CHECK(s.db().cleanup_expired(options) == 0);
}

TEST_CASE("cleanup of many records, per owner prefix and across pages", "[backend]")
{
  Fresh s;
  const Timestamp now = now_utc();
  // ~600 bytes per record: 3,000 of them span two 1 MB scan pages.
  const std::string padding(500, 'p');
  for (int i = 0; i < 3000; ++i) {
    const std::string owner = i % 2 == 0 ? "even" : "odd";
    const Timestamp expiry{now.seconds + (i % 3 == 0 ? 3600 : -3600), 0};
    std::string data = with_expiry(expiry);
    data.insert(1, R"("pad":")" + padding + R"(",)");
    REQUIRE(s.db().put(owner + ":t" + std::to_string(i), data) == 1);
  }
  CleanupOptions dry;
  dry.now = now;
  dry.dry_run = true;
  dry.prefix = "even:";
  CHECK(s.db().cleanup_expired(dry) == 1000);
  CleanupOptions real;
  real.now = now;
  real.prefix = "even:";
  CHECK(s.db().cleanup_expired(real) == 1000);
  real.prefix = "";
  CHECK(s.db().cleanup_expired(real) == 1000);
  CHECK(s.db().list_by_prefix("").size() == 1000);
}

TEST_CASE("DynamoDB errors are translated: ConfigError, capacity, unavailable, conflicts", "[backend]")
{
  EnvGuard guard;
  guard.set("AWS_ACCESS_KEY_ID", "AKID");
  guard.set("AWS_SECRET_ACCESS_KEY", "secret");
  std::string scenario;
  std::atomic<int> deletes{0};
  CaptureServer server([&](int, const CapturedRequest& request) -> CannedResponse {
    const std::string target = *request.header("X-Amz-Target");
    if (scenario == "no-table") {
      return error(400, "ResourceNotFoundException", "Requested resource not found");
    }
    if (scenario == "bad-key") {
      return error(400, "UnrecognizedClientException", "The security token included in the request is invalid.");
    }
    if (scenario == "signature") {
      return error(403, "InvalidSignatureException", "Signature expired");
    }
    if (scenario == "access") {
      return error(400, "AccessDeniedException", "not authorized to perform dynamodb:GetItem");
    }
    if (scenario == "too-big") {
      return error(400, "ValidationException", "Item size has exceeded the maximum allowed size");
    }
    if (scenario == "validation") {
      return error(400, "ValidationException", "One or more parameter values were invalid");
    }
    if (scenario == "down") {
      return error(503, "ServiceUnavailable", "try later");
    }
    const bool conditional = target.find("PutItem") != std::string::npos || target.find("DeleteItem") != std::string::npos;
    if (target.find("DeleteItem") != std::string::npos) {
      ++deletes;
    }
    if (scenario == "delete-lost-answer" && target.find("DeleteItem") != std::string::npos) {
      // The first attempt deleted, but its answer was lost (a 500); the retry's check fails.
      if (deletes == 1) {
        return error(500, "InternalServerError", "lost");
      }
      return error(400, "ConditionalCheckFailedException", "The conditional request failed");
    }
    if (scenario == "delete-expected-after-read") {
      // The check fails, then a write brings the item to the expected version: the delete is tried again.
      if (target.find("DeleteItem") != std::string::npos) {
        return deletes == 1 ? error(400, "ConditionalCheckFailedException", "The conditional request failed")
                            : CannedResponse{200, "{}"};
      }
      return CannedResponse{200, R"({"Item":{"version":{"N":"3"},"data":{"S":"y"}}})"};
    }
    if (scenario == "conflict" && conditional) {
      return error(400, "ConditionalCheckFailedException", "The conditional request failed",
                   nlohmann::json{{"Item", {{"PK", {{"S", "OWNER#o"}}}, {"SK", {{"S", "TASK#t"}}},
                                            {"version", {{"N", "7"}}}, {"data", {{"S", "x"}}}}}});
    }
    if (scenario == "conflict-no-item") {
      if (conditional) {
        return error(400, "ConditionalCheckFailedException", "The conditional request failed");
      }
      return CannedResponse{200, R"({"Item":{"version":{"N":"9"},"data":{"S":"y"}}})"};
    }
    return CannedResponse{200, "{}"};
  });
  auto store = open_store("dynamodb://tasks?region=eu-west-1&timeout=2s&endpoint=" + server.endpoint());

  scenario = "no-table";
  try {
    store->get("o:t");
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("DynamoDB table tasks does not exist in region eu-west-1") == 0);
    CHECK(describe(e).find("ResourceNotFoundException") != std::string::npos);
  }
  for (const char* s : {"bad-key", "signature", "access"}) {
    scenario = s;
    INFO(scenario);
    CHECK_THROWS_AS(store->get("o:t"), ConfigError);
  }
  scenario = "too-big";
  CHECK(storage_error_of([&] { store->put("o:t", "x"); }).kind() == StorageErrorKind::capacity_exceeded);
  scenario = "validation";
  auto e = storage_error_of([&] { store->remove("o:t"); });
  CHECK(e.kind() == StorageErrorKind::backend);
  CHECK_FALSE(e.unavailable());
  scenario = "down";
  e = storage_error_of([&] { store->get("o:t"); });
  CHECK(e.kind() == StorageErrorKind::backend);
  CHECK(e.unavailable());
  CHECK(std::string(e.what()).find("after 3 attempts") != std::string::npos);
  scenario = "conflict";
  e = storage_error_of([&] { store->put_if_version("o:t", "z", 3); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.expected() == 3);
  CHECK(e.actual() == 7);
  scenario = "conflict-no-item";
  e = storage_error_of([&] { store->put_if_version("o:t", "z", 3); });
  CHECK(e.actual() == 9);
  // remove_if_version: one DeleteItem conditioned on the version, asking for
  // the item on a failed check; the actual version from it, else from GetItem.
  scenario = "conflict";
  const std::size_t before = server.requests().size();
  e = storage_error_of([&] { store->remove_if_version("o:t", 3); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.key() == "o:t");
  CHECK(e.expected() == 3);
  CHECK(e.actual() == 7);
  const auto sent = server.requests();
  REQUIRE(sent.size() == before + 1); // ALL_OLD answered: no GetItem
  CHECK(*sent.back().header("X-Amz-Target") == "DynamoDB_20120810.DeleteItem");
  const auto body = nlohmann::json::parse(sent.back().body);
  CHECK(body.at("ConditionExpression") == "#v = :expected");
  CHECK(body.at("ExpressionAttributeNames") == nlohmann::json{{"#v", "version"}});
  CHECK(body.at("ExpressionAttributeValues") == nlohmann::json{{":expected", {{"N", "3"}}}});
  CHECK(body.at("ReturnValuesOnConditionCheckFailure") == "ALL_OLD");
  CHECK(body.at("Key") == nlohmann::json{{"PK", {{"S", "OWNER#o"}}}, {"SK", {{"S", "TASK#t"}}}});
  scenario = "conflict-no-item";
  e = storage_error_of([&] { store->remove_if_version("o:t", 3); });
  CHECK(e.kind() == StorageErrorKind::version_conflict);
  CHECK(e.actual() == 9);
  scenario = "delete-expected-after-read";
  deletes = 0;
  store->remove_if_version("o:t", 3);
  CHECK(deletes == 2);
  scenario = "delete-lost-answer";
  deletes = 0;
  store->remove_if_version("o:t", 3);
  CHECK(deletes == 2);
  scenario = "validation";
  e = storage_error_of([&] { store->remove_if_version("o:t", 3); });
  CHECK(e.kind() == StorageErrorKind::backend);
  CHECK_FALSE(e.unavailable());
  scenario = "down";
  e = storage_error_of([&] { store->remove_if_version("o:t", 3); });
  CHECK(e.kind() == StorageErrorKind::backend);
  CHECK(e.unavailable());
  scenario = "no-table";
  CHECK_THROWS_AS(store->remove_if_version("o:t", 3), ConfigError);
  CHECK_THROWS_AS(store->remove_if_version("o:t", 0), InvalidArgument);
  CHECK_THROWS_AS(store->remove_if_version("o:t\xff", 1), InvalidArgument);

  scenario = "ok";
  CHECK_FALSE(store->remove("o:t"));
  CHECK(storage_error_of([&] { store->get("o:t"); }).kind() == StorageErrorKind::not_found);
}

TEST_CASE("one backend shared by 8 threads: operations lease their own connections", "[backend]")
{
  Fresh s;
  constexpr int k_threads = 8;
  constexpr int k_puts = 20;
  std::vector<std::vector<std::uint64_t>> versions(k_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_puts; ++i) {
        versions[t].push_back(s.db().put("o:shared", "w" + std::to_string(t)));
        s.db().put("o:own-" + std::to_string(t), std::to_string(i));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::set<std::uint64_t> all;
  for (const auto& mine : versions) {
    all.insert(mine.begin(), mine.end());
  }
  CHECK(all.size() == k_threads * k_puts);
  CHECK(*all.rbegin() == k_threads * k_puts);
  CHECK(s.db().list_by_prefix("o:").size() == k_threads + 1);
}
