// Faults, against redis-server processes of our own on 127.0.0.1: a server
// that hangs (SIGSTOP) or goes away (SIGKILL) in the middle of a listing or a
// cleanup; restarts with every record intact; authentication with an ACL user;
// URI checks; a Unix socket; a flushed script cache.

#include "redis/support.hpp"

#include "support/expect.hpp"
#include "taskstore/backends/redis.hpp"
#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/record.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace taskstore;
using redis_test::RedisServer;
using taskstore::testing::storage_error_of;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int k_records = 3000; // several round trips of 500

std::string
record_json(const std::string& owner, const std::string& task_id, std::optional<Timestamp> expires_at)
{
  Json record = {{"task",
                  {{"taskId", task_id},
                   {"status", "working"},
                   {"createdAt", "2025-11-25T10:30:00.123Z"},
                   {"lastUpdatedAt", "2025-11-25T10:30:00.123Z"},
                   {"ttl", 3'600'000},
                   {"pollInterval", 500}}},
                 {"ownerId", owner},
                 {"variables", Json{{"n", task_id}}},
                 {"result", nullptr},
                 {"requestMethod", "tools/call"},
                 {"expiresAt", expires_at ? Json(format_autosi(*expires_at)) : Json(nullptr)}};
  return record.dump();
}

// Fills a store: k_records records, half of them in owner0 (several pages of
// its index), the rest over 9 owners; every third one written twice (version
// 2); with `expired`, half of them already expired (i % 4 < 2).
std::map<std::string, VersionedRecord>
fill(StorageBackend& db, bool expired = false)
{
  const Timestamp now = now_utc();
  std::map<std::string, VersionedRecord> written;
  for (int i = 0; i < k_records; ++i) {
    const std::string owner = i % 2 == 0 ? "owner0" : "owner" + std::to_string(1 + i % 9);
    const std::string task = "task-" + std::to_string(i);
    const auto expires = expired && i % 4 < 2 ? std::optional<Timestamp>(Timestamp{now.seconds - 60, 0})
                                               : std::optional<Timestamp>(Timestamp{now.seconds + 86'400, 0});
    const std::string data = record_json(owner, task, expires);
    const std::string key = make_key(owner, task);
    std::uint64_t version = db.put(key, data);
    if (i % 3 == 0) {
      version = db.put(key, data);
    }
    written[key] = VersionedRecord{data, version};
  }
  return written;
}

std::map<std::string, VersionedRecord>
everything(StorageBackend& db)
{
  std::map<std::string, VersionedRecord> out;
  db.scan("", [&](const std::string& key, const VersionedRecord& record) {
    CHECK(out.emplace(key, record).second);
    return true;
  });
  return out;
}

// Runs f, which must throw an unavailable StorageError; returns it.
StorageError
unavailable_error_of(const std::function<void()>& f)
{
  try {
    f();
  } catch (const StorageError& e) {
    INFO(describe(e));
    CHECK(e.kind() == StorageErrorKind::backend);
    CHECK(e.unavailable());
    return e;
  }
  FAIL("expected StorageError (unavailable)");
  throw std::logic_error("unreachable");
}

double
seconds_since(Clock::time_point start)
{
  return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

TEST_CASE("a server that hangs mid-listing times out within the configured timeout")
{
  RedisServer server;
  auto db = open_store(server.url() + "?timeout=500ms");
  const auto written = fill(*db);

  for (const std::string prefix : {"", "owner0:"}) {
    INFO("prefix '" << prefix << "'");
    Clock::time_point paused_at;
    int visited = 0;
    const auto e = unavailable_error_of([&] {
      db->scan(prefix, [&](const std::string&, const VersionedRecord&) {
        if (visited++ == 0) {
          server.pause();
          paused_at = Clock::now();
        }
        return true;
      });
    });
    const double waited = seconds_since(paused_at);
    server.resume();
    CHECK(waited >= 0.4);
    CHECK(waited < 2.5);
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("127.0.0.1:" + std::to_string(server.port())));
    CHECK_THAT(message, Catch::Contains("timed out"));
    CHECK_THAT(message, Catch::Contains("500 ms"));
    CHECK(visited < k_records);
  }
  // The same backend connects again once the server answers; nothing was lost.
  CHECK(everything(*db) == written);
}

TEST_CASE("a server that goes away mid-listing is unavailable; after a restart every record is intact")
{
  redis_test::TempDir dir;
  RedisServer::Options options;
  options.dir = dir.path();
  options.persistent = true;
  RedisServer server(options);
  auto db = open_store(server.url() + "?timeout=2s");
  const auto written = fill(*db);
  server.make_durable();

  int visited = 0;
  const auto e = unavailable_error_of([&] {
    db->scan("", [&](const std::string&, const VersionedRecord&) {
      if (visited++ == 0) {
        server.kill_now();
      }
      return true;
    });
  });
  CHECK_THAT(std::string(e.what()), Catch::Contains("127.0.0.1:" + std::to_string(server.port())));
  CHECK(visited < k_records);

  // While it is down: refused at once, naming the address.
  const auto start = Clock::now();
  const auto refused = unavailable_error_of([&] { db->get("owner1:task-1"); });
  CHECK(seconds_since(start) < 4.0); // not the 5 s default timeout: refused at once (wide margin)
  CHECK_THAT(std::string(refused.what()), Catch::Contains("cannot connect to Redis at redis://127.0.0.1:" +
                                                          std::to_string(server.port())));
  CHECK_THROWS_AS(open_store(server.url()), StorageError);

  server.start();
  CHECK(everything(*db) == written);
  auto reopened = open_store(server.url());
  CHECK(everything(*reopened) == written);
  CHECK(reopened->get("owner0:task-0") == written.at("owner0:task-0"));
}

TEST_CASE("a server that hangs or goes away mid-cleanup fails cleanly; records are intact or removed, never damaged")
{
  redis_test::TempDir dir;
  RedisServer::Options options;
  options.dir = dir.path();
  options.persistent = true;
  RedisServer server(options);
  auto db = open_store(server.url() + "?timeout=500ms");
  const auto written = fill(*db, /*expired=*/true);
  server.make_durable();
  const Timestamp now = now_utc();
  auto is_expired = [&](const VersionedRecord& r) { return is_expired_at(extract_expires_at(r.data), now); };
  std::size_t expired_count = 0;
  for (const auto& [key, record] : written) {
    expired_count += is_expired(record) ? 1 : 0;
  }
  REQUIRE(expired_count == k_records / 2);

  // Every record present is the one written; every one missing was expired.
  auto check_state = [&] {
    const auto present = everything(*db);
    for (const auto& [key, record] : written) {
      INFO(key);
      auto it = present.find(key);
      if (it == present.end()) {
        CHECK(is_expired(record));
      } else {
        CHECK(it->second == record);
      }
    }
    return present.size();
  };

  std::size_t removed = 0;
  CleanupOptions gc;
  gc.now = now;

  SECTION("hang")
  {
    Clock::time_point paused_at;
    gc.on_removed = [&](const std::string&, std::uint64_t, Timestamp) {
      if (removed++ == 0) {
        server.pause();
        paused_at = Clock::now();
      }
    };
    const auto e = unavailable_error_of([&] { db->cleanup_expired(gc); });
    const double waited = seconds_since(paused_at);
    server.resume();
    CHECK(waited < 2.5);
    CHECK_THAT(std::string(e.what()), Catch::Contains("timed out"));
    CHECK_THAT(std::string(e.what()), Catch::Contains("127.0.0.1:" + std::to_string(server.port())));
  }
  SECTION("gone, then restarted")
  {
    gc.prefix = "owner0:";
    gc.on_removed = [&](const std::string&, std::uint64_t, Timestamp) {
      if (removed++ == 0) {
        server.kill_now();
      }
    };
    const auto e = unavailable_error_of([&] { db->cleanup_expired(gc); });
    CHECK_THAT(std::string(e.what()), Catch::Contains("127.0.0.1:" + std::to_string(server.port())));
    server.start();
    gc.prefix.clear();
  }
  const std::size_t before = check_state();
  CHECK(before < written.size());
  CHECK(before >= written.size() - expired_count);
  gc.on_removed = nullptr;
  CHECK(db->cleanup_expired(gc) == before - (written.size() - expired_count));
  CHECK(check_state() == written.size() - expired_count);
}

TEST_CASE("opening a server that is down or hangs is unavailable, fast")
{
  const int port = redis_test::free_port();
  auto start = Clock::now();
  const auto refused = unavailable_error_of([&] { open_store("redis://127.0.0.1:" + std::to_string(port)); });
  CHECK(seconds_since(start) < 4.0); // not the 5 s default timeout: refused at once (wide margin)
  CHECK_THAT(std::string(refused.what()), Catch::Contains("cannot connect to Redis at redis://127.0.0.1:" +
                                                          std::to_string(port)));

  RedisServer server;
  server.pause();
  start = Clock::now();
  const auto hung = unavailable_error_of([&] { open_store(server.url() + "?timeout=300ms"); });
  CHECK(seconds_since(start) < 4.0); // the 300 ms / 250 ms timeout, not the 5 s default (wide margin)
  CHECK_THAT(std::string(hung.what()), Catch::Contains("timed out"));
  OpenOptions options;
  options.timeout = std::chrono::milliseconds(250);
  start = Clock::now();
  unavailable_error_of([&] { open_store(server.url(), options); });
  CHECK(seconds_since(start) < 4.0); // the 300 ms / 250 ms timeout, not the 5 s default (wide margin)
  server.resume();
}

TEST_CASE("AUTH: an ACL user with the password from the URI or from OpenOptions; bad credentials are ConfigError")
{
  RedisServer server;
  server.cli()({"ACL", "SETUSER", "alice", "on", ">s3cret-pw", "~*", "&*", "+@all"});
  server.cli()({"ACL", "SETUSER", "bob", "on", ">bob-pw", "~elsewhere:*", "+@all"});
  const std::string base = "redis://alice@127.0.0.1:" + std::to_string(server.port());

  OpenOptions with_password;
  with_password.password = "s3cret-pw";
  auto db = open_store(base, with_password);
  CHECK(db->put("o:t", "{}") == 1);
  auto in_uri = open_store("redis://alice:s3cret-pw@127.0.0.1:" + std::to_string(server.port()));
  CHECK(in_uri->get("o:t") == VersionedRecord{"{}", 1});

  auto config_error = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    FAIL("expected ConfigError");
    return std::string();
  };
  OpenOptions wrong;
  wrong.password = "not-the-password";
  std::string message = config_error([&] { open_store(base, wrong); });
  CHECK_THAT(message, Catch::Contains("rejected the credentials for user 'alice'"));
  CHECK_THAT(message, Catch::Contains("127.0.0.1:" + std::to_string(server.port())));
  CHECK_THAT(message, !Catch::Contains("not-the-password"));
  message = config_error([&] { open_store("redis://alice:wrong-in-uri@127.0.0.1:" + std::to_string(server.port())); });
  CHECK_THAT(message, !Catch::Contains("wrong-in-uri"));
  CHECK_THAT(message, Catch::Contains("********"));
  message = config_error([&] { open_store(base); });
  CHECK_THAT(message, Catch::Contains("without a password"));

  // A user whose ACL does not cover the key prefix.
  OpenOptions bob;
  bob.password = "bob-pw";
  message = config_error([&] {
    auto limited = open_store("redis://bob@127.0.0.1:" + std::to_string(server.port()), bob);
    limited->put("o:t", "{}");
  });
  CHECK_THAT(message, Catch::Contains("NOPERM"));

  // The default user with a password: none given -> NOAUTH.
  server.cli()({"CONFIG", "SET", "requirepass", "admin-pw"});
  auto cli = redis_test::RedisCli::url("redis://default:admin-pw@127.0.0.1:" + std::to_string(server.port()));
  message = config_error([&] { open_store(server.url()); });
  CHECK_THAT(message, Catch::Contains("requires authentication"));
  OpenOptions admin;
  admin.password = "admin-pw";
  CHECK(open_store(server.url(), admin)->get("o:t").version == 1);
  CHECK(cli({"HGET", "pmcp:tasks:o:t", "version"}) == "1");
}

TEST_CASE("store URIs: unknown parameters refused, /N and ?db=N select a database")
{
  // rediss:// is Redis over TLS (tls_test.cpp): a dead port is unavailable, not refused.
  OpenOptions quick;
  quick.timeout = std::chrono::milliseconds(2000);
  const std::string dead = "rediss://127.0.0.1:" + std::to_string(redis_test::free_port());
  CHECK_THROWS_WITH(open_store(dead, quick), Catch::Contains("cannot connect"));
  CHECK_THROWS_AS(open_redis(StoreUri::parse(dead), quick), StorageError);
  CHECK_THROWS_WITH(open_store("redis://127.0.0.1:1?bogus=1"), Catch::Contains("bogus"));
  CHECK_THROWS_AS(open_store("redis://127.0.0.1:1?bogus=1"), InvalidArgument);
  CHECK_THROWS_AS(open_store("redis://127.0.0.1:1?db=2"), InvalidArgument); // the path selects the db
  CHECK_THROWS_AS(open_store("redis://127.0.0.1:1/two"), InvalidArgument);
  CHECK_THROWS_AS(open_store("redis://127.0.0.1:1/-1"), InvalidArgument);
  CHECK_THROWS_AS(open_store("redis://127.0.0.1:1?timeout=soon"), InvalidArgument);
  CHECK_THROWS_AS(open_store("redis+unix:///tmp/x.sock?bogus=1"), InvalidArgument);
  CHECK_THROWS_AS(open_store("redis+unix:///tmp/x.sock?db=x"), InvalidArgument);

  RedisServer server;
  auto db = open_store(server.url() + "/5?prefix=app");
  CHECK(db->put("o:t", "{}") == 1);
  CHECK(redis_test::RedisCli::url(server.url() + "/5")({"HGET", "app:tasks:o:t", "version"}) == "1");
  CHECK(server.cli()({"EXISTS", "app:tasks:o:t"}) == "0");
  CHECK(redis_test::RedisCli::url(server.url() + "/5")({"ZSCORE", "app:idx:o", "t"}) == "0");
  // A database the server does not have is a configuration error.
  CHECK_THROWS_AS(open_store(server.url() + "/999"), ConfigError);
}

TEST_CASE("redis+unix: a Unix socket with ?db=N")
{
  redis_test::TempDir dir;
  RedisServer::Options options;
  options.dir = dir.path();
  options.tcp = false;
  options.unix_socket = dir.path() + "/redis.sock";
  RedisServer server(options);
  auto db = open_store("redis+unix://" + options.unix_socket + "?db=3&prefix=sock&timeout=2s");
  CHECK(db->name() == "redis");
  CHECK(db->put("o:t", record_json("o", "t", std::nullopt)) == 1);
  CHECK(db->get("o:t").version == 1);
  CHECK(redis_test::RedisCli::socket(options.unix_socket, 3)({"HGET", "sock:tasks:o:t", "version"}) == "1");
  CHECK(redis_test::RedisCli::socket(options.unix_socket, 0)({"EXISTS", "sock:tasks:o:t"}) == "0");
  const auto missing = unavailable_error_of([&] { open_store("redis+unix://" + dir.path() + "/nothing.sock"); });
  CHECK_THAT(std::string(missing.what()), Catch::Contains("nothing.sock"));
}

TEST_CASE("a flushed script cache (NOSCRIPT) is reloaded transparently")
{
  RedisServer server;
  auto db = open_store(server.url());
  CHECK(db->put("o:t", "{}") == 1);
  server.cli()({"SCRIPT", "FLUSH"});
  CHECK(db->put("o:t", "{}") == 2);
  server.cli()({"SCRIPT", "FLUSH"});
  CHECK(db->put_if_version("o:t", "{}", 2) == 3);
  server.cli()({"SCRIPT", "FLUSH"});
  server.cli()({"ZADD", "pmcp:idx:o", "0", "ghost"});
  CHECK(db->cleanup_expired() == 0);
  CHECK(server.cli()({"ZCARD", "pmcp:idx:o"}) == "1");
  server.cli()({"SCRIPT", "FLUSH"});
  CHECK(db->remove("o:t"));
  CHECK(server.cli()({"EXISTS", "pmcp:idx:o"}) == "0");
  CHECK(db->put("o:t", "{}") == 1);
  server.cli()({"SCRIPT", "FLUSH"});
  CHECK(storage_error_of([&] { db->remove_if_version("o:t", 2); }).actual() == 1);
  server.cli()({"SCRIPT", "FLUSH"});
  db->remove_if_version("o:t", 1);
  CHECK(server.cli()({"EXISTS", "pmcp:tasks:o:t"}) == "0");
  CHECK(server.cli()({"EXISTS", "pmcp:idx:o"}) == "0");
}
