#include "taskstore/error.hpp"
#include "taskstore/uri.hpp"

#include <catch2/catch.hpp>

using namespace taskstore;

TEST_CASE("StoreUri::parse opaque and hierarchical forms")
{
  auto uri = StoreUri::parse("sqlite:data/tasks.db");
  CHECK(uri.scheme == "sqlite");
  CHECK_FALSE(uri.has_authority);
  CHECK(uri.path == "data/tasks.db");

  uri = StoreUri::parse("sqlite:///var/lib/taskctl/tasks%20v2.db");
  CHECK(uri.has_authority);
  CHECK(uri.host.empty());
  CHECK(uri.path == "/var/lib/taskctl/tasks v2.db");

  uri = StoreUri::parse("mem://");
  CHECK(uri.scheme == "mem");
  CHECK(uri.has_authority);

  uri = StoreUri::parse("REDIS://app:s%40cret@cache.local:6380/2?prefix=pmcp&timeout=2s");
  CHECK(uri.scheme == "redis");
  CHECK(uri.user == "app");
  CHECK(uri.password == "s@cret");
  CHECK(uri.host == "cache.local");
  CHECK(uri.port == 6380);
  CHECK(uri.path == "/2");
  CHECK(uri.param("prefix") == "pmcp");
  CHECK(uri.param("timeout") == "2s");
  CHECK_FALSE(uri.param("db"));

  uri = StoreUri::parse("redis://:only-pass@127.0.0.1");
  CHECK(uri.user.empty());
  CHECK(uri.password == "only-pass");
  CHECK_FALSE(uri.port);

  uri = StoreUri::parse("redis://[::1]:7000");
  CHECK(uri.host == "::1");
  CHECK(uri.port == 7000);

  uri = StoreUri::parse("redis+unix:///run/redis.sock?db=3");
  CHECK(uri.scheme == "redis+unix");
  CHECK(uri.path == "/run/redis.sock");
  CHECK(uri.param("db") == "3");

  uri = StoreUri::parse("dynamodb://pmcp_tasks?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A8000");
  CHECK(uri.host == "pmcp_tasks");
  CHECK(uri.param("endpoint") == "http://127.0.0.1:8000");
}

TEST_CASE("StoreUri::parse rejects malformed input")
{
  for (const char* bad : {"", "no-scheme", ":x", "1abc:x", "redis://h:notaport", "redis://h:0",
                          "redis://h:70000", "sqlite:a%zz", "sqlite:a%4", "sqlite:x#frag",
                          "redis://h?prefix=a&prefix=b", "redis://[::1"}) {
    INFO(bad);
    CHECK_THROWS_AS(StoreUri::parse(bad), InvalidArgument);
  }
}

TEST_CASE("StoreUri::redacted never shows secrets")
{
  const auto uri = StoreUri::parse("redis://admin:hunter2@db.example:6379/0?prefix=p&password=x&api_token=y");
  const auto text = uri.redacted();
  CHECK(text == "redis://admin:********@db.example:6379/0?prefix=p&password=********&api_token=********");
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(StoreUri::parse("sqlite:///tmp/a b.db").redacted() == "sqlite:///tmp/a%20b.db");
  CHECK(StoreUri::parse("mem://").redacted() == "mem://");
  CHECK(StoreUri::parse("redis://:p@h").redacted() == "redis://:********@h");
}

TEST_CASE("StoreUri::require_params")
{
  const auto uri = StoreUri::parse("redis://h?prefix=p&bogus=1");
  CHECK_THROWS_AS(uri.require_params({"prefix", "timeout"}), InvalidArgument);
  CHECK_THROWS_WITH(uri.require_params({"prefix", "timeout"}),
                    Catch::Contains("'bogus'") && Catch::Contains("prefix, timeout"));
  CHECK_NOTHROW(uri.require_params({"prefix", "bogus"}));
  CHECK_THROWS_WITH(StoreUri::parse("mem://?x=1").require_params({}), Catch::Contains("allowed: none"));
}

TEST_CASE("parse_duration_ms")
{
  CHECK(parse_duration_ms("500ms") == 500);
  CHECK(parse_duration_ms("2s") == 2000);
  CHECK(parse_duration_ms("2") == 2000);
  CHECK(parse_duration_ms("1.5s") == 1500);
  CHECK(parse_duration_ms("1m") == 60000);
  CHECK(parse_duration_ms("1h") == 3600000);
  for (const char* bad : {"", "s", "-1s", "2x", "1e30h", "nan"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_duration_ms(bad), InvalidArgument);
  }
}
