// A Redis prefix with nothing under it (?prefix=pcmp for pmcp) looks like an
// empty store: a read that finds nothing warns and names the prefixes that
// hold records. The real taskctl against a redis-server of the test's own
// ([redis-prefix], ctest cli.redis_prefix), so the keyspace holds only what
// the test wrote.

#include "cli_support.hpp"

#include "redis/support.hpp"

#include <catch2/catch.hpp>

using namespace clitest;
using taskstore::redis_test::RedisServer;

namespace {

struct Server
{
  RedisServer server;

  std::string uri(const std::string& prefix) const { return server.url() + "/0?prefix=" + prefix; }
  RunResult run(const std::string& prefix, std::vector<std::string> args, const std::string& input = {})
  {
    args.insert(args.begin(), {"-s", uri(prefix)});
    return taskctl(args, with_input(input));
  }
};

const char* const k_warning = "warning: redis prefix \"pcmp\" holds no pmcp-tasks keys (no key matches pcmp:tasks:*); "
                              "prefixes with such keys: \"other\", \"pmcp\" (name one with ?prefix= in the store URI)";

} // namespace

TEST_CASE("redis: a read under a prefix that holds nothing warns, naming the prefixes that do; exit codes unchanged",
          "[redis-prefix]")
{
  Server s;
  REQUIRE(s.run("pmcp", {"put", "alice:t1"}, record_json("alice", "t1")).exit_code == 0);
  REQUIRE(s.run("other", {"put", "bob:t1"}, record_json("bob", "t1")).exit_code == 0);
  s.server.cli()({"SET", "unrelated", "x"});

  struct Read
  {
    std::vector<std::string> args;
    int exit_code;
    std::string out; // "" = not checked
  };
  const std::vector<Read> reads = {
    {{"ls", "--count"}, 0, "0\n"},
    {{"ls", "--keys-only"}, 0, ""},
    {{"ls"}, 0, ""},
    {{"ls", "--owner", "alice"}, 0, ""},
    {{"ls", "--owners"}, 0, ""},
    {{"-o", "json", "ls", "--count"}, 0, ""},
    {{"stats"}, 0, ""},
    {{"export"}, 0, ""},
    {{"get", "alice:t1"}, 3, ""},
  };
  for (const auto& read : reads) {
    auto r = s.run("pcmp", read.args);
    INFO(describe(r));
    CHECK(r.exit_code == read.exit_code);
    CHECK(contains(r.err, k_warning));
    if (!read.out.empty()) {
      CHECK(r.out == read.out);
    }
    // -q silences the warning; the exit status is the same.
    auto args = read.args;
    args.insert(args.begin(), "-q");
    r = s.run("pcmp", args);
    INFO(describe(r));
    CHECK(r.exit_code == read.exit_code);
    CHECK_FALSE(contains(r.err, "warning"));
  }
  // get with JSON errors: stderr stays one JSON object; the advice is its hint.
  auto r = s.run("pcmp", {"-o", "json", "get", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 3);
  const Json error = parse_json(r.err)["error"];
  CHECK(error["code"] == "not_found");
  CHECK(error["key"] == "alice:t1");
  CHECK(std::string(k_warning).ends_with(error["hint"].get<std::string>()));
  r = s.run("pcmp", {"-q", "-o", "json", "get", "alice:t1"});
  CHECK(r.exit_code == 3);
  CHECK_FALSE(parse_json(r.err)["error"].contains("hint"));

  // A read that finds something, under the prefix that holds it: no warning.
  r = s.run("pmcp", {"ls", "--count"});
  CHECK(r.out == "1\n");
  CHECK(r.err.empty());
  r = s.run("pmcp", {"get", "alice:t1"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  // Nothing found, but the prefix holds records: no warning either.
  for (const std::vector<std::string>& args : {std::vector<std::string>{"get", "alice:nope"},
                                               {"ls", "--owner", "nobody", "--count"},
                                               {"ls", "--owners", "zz"},
                                               {"stats", "--owner", "nobody"},
                                               {"export", "--owner", "nobody"}}) {
    r = s.run("pmcp", args);
    INFO(describe(r));
    CHECK((r.exit_code == 0 || r.exit_code == 3));
    CHECK_FALSE(contains(r.err, "warning"));
  }
}

TEST_CASE("redis: a database with no pmcp-tasks keys at all says so", "[redis-prefix]")
{
  Server s;
  s.server.cli()({"SET", "unrelated", "x"});
  const auto r = s.run("pmcp", {"ls", "--count"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "0\n");
  CHECK(contains(r.err, "warning: redis prefix \"pmcp\" holds no pmcp-tasks keys (no key matches pmcp:tasks:*), nor "
                        "does any other prefix in this database"));
}

TEST_CASE("redis: on a large keyspace the search is cut short and says so", "[redis-prefix]")
{
  Server s;
  s.server.cli()({"EVAL", "for i = 1, 40000 do redis.call('SET', 'junk:' .. i, 'x') end return 1", "0"});
  // Many keys of prefix "other", so the bounded search meets some.
  s.server.cli()({"EVAL", "for i = 1, 20000 do redis.call('HSET', 'other:tasks:bob:t' .. i, 'version', '1', 'data', "
                          "'{}') end return 1",
                  "0"});
  const auto r = s.run("pcmp", {"ls", "--count"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "warning: redis prefix \"pcmp\": no pmcp-tasks key (pcmp:tasks:*) among the first 10000 keys "
                        "examined (the search was cut short); prefixes seen with such keys: \"other\""));
}
