#include "taskstore/error.hpp"
#include "taskstore/key.hpp"

#include <catch2/catch.hpp>

using namespace taskstore;

TEST_CASE("make_key")
{
  CHECK(make_key("owner", "task") == "owner:task");
  CHECK(make_key("o", "") == "o:");
  // Unlike the anchor, an empty owner is refused: "" is no owner.
  CHECK_THROWS_AS(make_key("", "t"), InvalidArgument);
  CHECK_THROWS_WITH(make_key("", ""), "invalid owner id: it must not be empty");
  CHECK(make_key("o", "t:x") == "o:t:x");
  CHECK(make_key("ünï #*?[", "t") == "ünï #*?[:t");

  SECTION("an owner id with ':' is rejected, naming the owner")
  {
    CHECK_THROWS_AS(make_key("a:b", "t"), InvalidArgument);
    CHECK_THROWS_WITH(make_key("a:b", "t"), Catch::Contains("\"a:b\"") && Catch::Contains("':'"));
  }
}

TEST_CASE("make_prefix")
{
  CHECK(make_prefix("owner") == "owner:");
  CHECK_THROWS_AS(make_prefix(""), InvalidArgument); // not every owner, not ":"
  CHECK_THROWS_AS(make_prefix("a:b"), InvalidArgument);
  CHECK(make_key("owner", "x").rfind(make_prefix("owner"), 0) == 0);
}

TEST_CASE("parse_key")
{
  auto parts = parse_key("owner:task");
  REQUIRE(parts);
  CHECK(parts->owner_id == "owner");
  CHECK(parts->task_id == "task");

  parts = parse_key("owner:task:extra");
  REQUIRE(parts);
  CHECK(parts->owner_id == "owner");
  CHECK(parts->task_id == "task:extra");

  parts = parse_key(":t");
  REQUIRE(parts);
  CHECK(parts->owner_id.empty());
  CHECK(parts->task_id == "t");

  parts = parse_key("o:");
  REQUIRE(parts);
  CHECK(parts->owner_id == "o");
  CHECK(parts->task_id.empty());

  CHECK_FALSE(parse_key("no-colon"));
  CHECK_FALSE(parse_key(""));
}

TEST_CASE("split_key")
{
  CHECK(split_key("a:b").owner_id == "a");
  CHECK_THROWS_AS(split_key("no-colon"), InvalidArgument);
  CHECK_THROWS_WITH(split_key("no-colon"), "invalid key format (missing ':'): no-colon");
}

TEST_CASE("make_key then parse_key round-trips")
{
  for (const auto& [owner, task] : std::vector<std::pair<std::string, std::string>>{
         {"user-123", "786512e2-9e0d-44bd-8f29-789f320fe840"}, {"o", ""}, {"o", "a:b:c"}}) {
    const auto parts = parse_key(make_key(owner, task));
    REQUIRE(parts);
    CHECK(parts->owner_id == owner);
    CHECK(parts->task_id == task);
  }
}
