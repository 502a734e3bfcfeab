// The memory backend's own behaviour, beyond the contract suite.

#include "contract/stores.hpp"
#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>

using namespace taskstore;

TEST_CASE("memory: mem:// is a fresh store per open, mem://NAME is shared in the process")
{
  auto fresh1 = open_store("mem://");
  auto fresh2 = open_store("mem://");
  fresh1->put("o:t", "x");
  CHECK(fresh2->list_by_prefix("").empty());
  const auto name = "mem://" + taskstore::testing::unique_name("shared");
  auto named1 = open_store(name);
  named1->put("o:t", "x");
  named1.reset();
  auto named2 = open_store(name);
  CHECK(named2->get("o:t") == VersionedRecord{"x", 1});
  CHECK_THROWS_AS(open_store("mem://?size=1"), InvalidArgument);
}
