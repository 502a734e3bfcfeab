// Network faults against Redis: a redis-server of this test's own, paused
// (SIGSTOP) before or in the middle of a taskctl command, and signals sent
// to taskctl while it waits (issue 14: defect 7 and "Faults as tests").
#include "net_scenarios.hpp"

#include "redis/support.hpp"
#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>

#include <csignal>

namespace {

using taskstore::redis_test::RedisServer;

struct RedisTarget
{
  RedisServer server;
  faults::Target target;

  RedisTarget()
  {
    target.uri = server.url();
    target.pause = [this] { server.pause(); };
    target.resume = [this] { server.resume(); };
    target.lib = taskstore::open_store(target.uri);
    target.timeout_text = "did not answer within 2000 ms";
    target.ls_records = 10000; // ten round trips of 1000
    target.ls_filler = 0;
  }
};

} // namespace

TEST_CASE("redis faults: get and put on a paused server exit 5 within the timeout", "[redis]")
{
  RedisTarget r;
  faults::paused_get_put(r.target);
}

TEST_CASE("redis faults: ls paused mid-walk exits 5, records intact", "[redis]")
{
  RedisTarget r;
  faults::paused_mid_ls(r.target);
}

TEST_CASE("redis faults: gc --yes paused mid-operation reports exactly what it removed", "[redis]")
{
  RedisTarget r;
  faults::paused_mid_gc(r.target);
}

TEST_CASE("redis faults: delete --owner --yes paused mid-operation reports exactly what it removed", "[redis]")
{
  RedisTarget r;
  faults::paused_mid_delete_owner(r.target);
}

TEST_CASE("redis faults: one SIGINT ends a wait on a paused server at once (exit 130)", "[redis]")
{
  RedisTarget r;
  faults::signal_while_waiting(r.target, SIGINT);
}

TEST_CASE("redis faults: one SIGTERM ends a wait on a paused server at once (exit 143)", "[redis]")
{
  RedisTarget r;
  faults::signal_while_waiting(r.target, SIGTERM);
}
