// Unit tests of cli/namespaces: the warning for each outcome of a
// search_namespaces (a read that found nothing on a Redis prefix).

#include "namespaces.hpp"

#include "taskstore/backend.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace taskctl;

namespace {

taskstore::NamespaceSearch
search(bool own_found, bool cut_short, std::vector<std::string> others)
{
  taskstore::NamespaceSearch s;
  s.applies = true;
  s.own = "pcmp";
  s.own_pattern = "pcmp:tasks:*";
  s.own_found = own_found;
  s.cut_short = cut_short;
  s.examined = 10000;
  s.others = std::move(others);
  return s;
}

} // namespace

TEST_CASE("namespace_warning: nothing to say when the backend has no namespaces or its own was seen")
{
  CHECK(namespace_warning("sqlite", taskstore::NamespaceSearch{}).empty());
  CHECK(namespace_warning("redis", search(true, false, {"other"})).empty());
  CHECK(namespace_warning("redis", search(true, true, {})).empty());
  // Cut short before any record was seen: it cannot tell.
  CHECK(namespace_warning("redis", search(false, true, {})).empty());
}

TEST_CASE("namespace_warning: the prefixes that hold records, at most 10 named")
{
  CHECK(namespace_warning("redis", search(false, false, {"other", "pmcp"})) ==
        "redis prefix \"pcmp\" holds no pmcp-tasks keys (no key matches pcmp:tasks:*); prefixes with such keys: "
        "\"other\", \"pmcp\" (name one with ?prefix= in the store URI)");
  CHECK(namespace_warning("redis", search(false, false, {})) ==
        "redis prefix \"pcmp\" holds no pmcp-tasks keys (no key matches pcmp:tasks:*), nor does any other prefix in "
        "this database");
  CHECK(namespace_warning("redis", search(false, true, {"pmcp"})) ==
        "redis prefix \"pcmp\": no pmcp-tasks key (pcmp:tasks:*) among the first 10000 keys examined (the search was "
        "cut short); prefixes seen with such keys: \"pmcp\" (name one with ?prefix= in the store URI)");
  std::vector<std::string> many;
  for (int i = 0; i < 13; ++i) {
    many.push_back("p" + std::to_string(10 + i));
  }
  const std::string text = namespace_warning("redis", search(false, false, many));
  CHECK(text.find("\"p19\" and 3 more (name one") != std::string::npos);
  CHECK(text.find("\"p20\"") == std::string::npos);
  // An empty or odd prefix is shown quoted.
  auto odd = search(false, false, {"", "a\"b"});
  CHECK(namespace_warning("redis", odd).find("keys: \"\", \"a\\\"b\" (") != std::string::npos);
}
