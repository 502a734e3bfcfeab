// search_namespaces (a read that found nothing asks where the records are:
// a mistyped ?prefix=) against a redis-server of the test's own, so that the
// keyspace holds only what each test wrote; and the pure namespace_of.

#include "redis/support.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/backends/redis/layout.hpp"
#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace taskstore;
using taskstore::redis_test::RedisServer;

namespace {

std::unique_ptr<StorageBackend>
open_prefix(const RedisServer& server, const std::string& prefix)
{
  return open_store(redis_test::with_prefix(server.url(), prefix));
}

} // namespace

TEST_CASE("namespace_of: the text before the first :tasks: that is followed by OWNER:TASK")
{
  using redis_detail::namespace_of;
  CHECK(namespace_of("pmcp:tasks:alice:t1") == "pmcp");
  CHECK(namespace_of("app:prod:tasks:alice:t1") == "app:prod");
  CHECK(namespace_of(":tasks:alice:t1") == "");
  CHECK(namespace_of("pmcp:tasks:alice:t:x") == "pmcp");
  CHECK(namespace_of("a:tasks:b:tasks:c:d") == "a"); // the first reading wins
  CHECK(namespace_of("a:tasks:bc:tasks:d") == "a");
  CHECK(namespace_of("pmcp:tasks:alice") == std::nullopt); // no task part
  CHECK(namespace_of("pmcp:tasks:") == std::nullopt);
  CHECK(namespace_of("pmcp:idx:alice") == std::nullopt);
  CHECK(namespace_of("cache:x") == std::nullopt);
}

TEST_CASE("search_namespaces: an empty prefix names the prefixes that hold records; a used one finds itself")
{
  RedisServer server;
  const std::string record = R"({"task":{"taskId":"t1"},"ownerId":"alice"})";
  open_prefix(server, "pmcp")->put("alice:t1", record);
  open_prefix(server, "other")->put("bob:t1", record);
  open_prefix(server, "app:prod")->put("carol:t1", record);
  // Keys of no pmcp-tasks store, and an index alone: no namespace.
  server.cli()({"SET", "cache:tasks", "x"});
  server.cli()({"SET", "junk", "x"});
  server.cli()({"ZADD", "lonely:idx:dave", "0", "t1"});

  const NamespaceSearch typo = open_prefix(server, "pcmp")->search_namespaces();
  CHECK(typo.applies);
  CHECK(typo.own == "pcmp");
  CHECK(typo.own_pattern == "pcmp:tasks:*");
  CHECK_FALSE(typo.own_found);
  CHECK_FALSE(typo.cut_short);
  CHECK(typo.examined > 0);
  CHECK(typo.others == std::vector<std::string>{"app:prod", "other", "pmcp"});

  const NamespaceSearch used = open_prefix(server, "other")->search_namespaces();
  CHECK(used.own_found);
  CHECK_FALSE(used.cut_short);

  // An empty server: nothing anywhere.
  server.cli()({"FLUSHALL"});
  const NamespaceSearch none = open_prefix(server, "pmcp")->search_namespaces();
  CHECK_FALSE(none.own_found);
  CHECK_FALSE(none.cut_short);
  CHECK(none.others.empty());
}

TEST_CASE("search_namespaces is bounded: on a large keyspace it stops after about 10,000 keys and says so")
{
  RedisServer server;
  // 40,000 keys of no store, one record of "other" among them.
  server.cli()({"EVAL", "for i = 1, 40000 do redis.call('SET', 'junk:' .. i, 'x') end return 1", "0"});
  open_prefix(server, "other")->put("bob:t1", R"({"task":{"taskId":"t1"},"ownerId":"bob"})");
  const NamespaceSearch r = open_prefix(server, "pcmp")->search_namespaces();
  CHECK(r.cut_short);
  CHECK_FALSE(r.own_found);
  CHECK(r.examined <= 10000);
}
