#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace taskstore;

TEST_CASE("available_backends lists what this build has, memory first")
{
  const auto backends = available_backends();
  REQUIRE_FALSE(backends.empty());
  CHECK(backends.front().name == "memory");
  const auto has = [&](std::string_view name) {
    return std::any_of(backends.begin(), backends.end(), [&](const auto& b) { return b.name == name; });
  };
#ifdef TASKSTORE_TEST_ALL_BACKENDS
  CHECK(has("sqlite"));
  CHECK(has("redis"));
  CHECK(has("dynamodb"));
#endif
  CHECK(has("memory"));
}

TEST_CASE("open_store refuses unknown and unsupported schemes clearly")
{
  CHECK_THROWS_AS(open_store("ftp://x"), InvalidArgument);
  CHECK_THROWS_WITH(open_store("ftp://x"),
                    Catch::Contains("unknown store scheme 'ftp'") && Catch::Contains("mem"));
#ifdef TASKSTORE_TEST_ALL_BACKENDS
  // rediss:// is the redis backend's (over TLS): its parameters are its own.
  CHECK_THROWS_WITH(open_store("rediss://h:6379?bogus=1"), Catch::Contains("bogus"));
#endif
  CHECK_THROWS_WITH(open_store("ftp://u:secret@x"), !Catch::Contains("secret"));
}

TEST_CASE("open_store opens a memory store")
{
  auto store = open_store("mem://");
  REQUIRE(store);
  CHECK(store->name() == "memory");
}

TEST_CASE("open_store refuses a timeout of 0, from the options or the URI")
{
  OpenOptions zero;
  zero.timeout = std::chrono::milliseconds(0);
  CHECK_THROWS_AS(open_store("mem://", zero), InvalidArgument);
  try {
    open_store("mem://?timeout=0ms");
    FAIL("a timeout of 0 was accepted");
  } catch (const InvalidArgument& e) {
    // Judged before any backend sees it (a backend would name the parameter unknown, or take 0).
    CHECK(std::string(e.what()) ==
          "invalid store URI 'mem://?timeout=0ms': its timeout parameter is '0ms'; a timeout must be positive "
          "(0 would never time out)");
  }
  OpenOptions small;
  small.timeout = std::chrono::milliseconds(1);
  CHECK(open_store("mem://", small)->name() == "memory");
}
