// Network faults against DynamoDB: a dynalite of this test's own, paused
// (SIGSTOP) before or in the middle of a taskctl command, and signals sent
// to taskctl while it waits (issue 14: defects 7 and 8, "Faults as tests").
#include "net_scenarios.hpp"

#include "taskstore/backends/dynamodb.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/uri.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>

namespace {

struct DynamoTarget
{
  faults::Dynalite server;
  faults::Target target;

  DynamoTarget()
  {
    ::setenv("AWS_ACCESS_KEY_ID", "taskctl-fault-key", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "taskctl-fault-secret", 1);
    target.uri = "dynamodb://faults?region=us-east-1&endpoint=" + server.endpoint();
    taskstore::OpenOptions options;
    options.timeout = std::chrono::seconds(30);
    taskstore::create_dynamodb_table(taskstore::StoreUri::parse(target.uri), options);
    target.pause = [this] { server.pause(); };
    target.resume = [this] { server.resume(); };
    target.lib = taskstore::open_store(target.uri, options);
    // The deadline covers the whole operation, retries included (defect 8).
    target.timeout_text = "did not complete within the timeout of 2000 ms";
  }
};

} // namespace

TEST_CASE("dynamodb faults: get and put on a paused server exit 5 within the timeout", "[dynamodb]")
{
  DynamoTarget d;
  faults::paused_get_put(d.target);
}

TEST_CASE("dynamodb faults: --timeout 1s is the deadline of the operation, retries included", "[dynamodb]")
{
  DynamoTarget d;
  faults::seed(*d.target.lib, "alice", 1, false);
  faults::Plan plan;
  plan.args = {"-s", d.target.uri, "--timeout", "1s", "get", "alice:t0"};
  plan.on_trigger = [&] { d.server.pause(); };
  const faults::Outcome o = faults::run(plan);
  d.server.resume();
  INFO(faults::describe(o));
  CHECK_FALSE(o.killed);
  CHECK(o.exit_code == 5);
  CHECK(o.after_trigger < 1.0 + 5.0);
  CHECK(clitest::contains(o.err, "did not complete within the timeout of 1000 ms"));
}

TEST_CASE("dynamodb faults: ls paused mid-scan exits 5, records intact", "[dynamodb]")
{
  DynamoTarget d;
  faults::paused_mid_ls(d.target);
}

TEST_CASE("dynamodb faults: gc --yes paused mid-operation reports exactly what it removed", "[dynamodb]")
{
  DynamoTarget d;
  faults::paused_mid_gc(d.target);
}

TEST_CASE("dynamodb faults: delete --owner --yes paused mid-operation reports exactly what it removed",
          "[dynamodb]")
{
  DynamoTarget d;
  faults::paused_mid_delete_owner(d.target);
}

TEST_CASE("dynamodb faults: one SIGINT ends a wait on a paused server at once (exit 130)", "[dynamodb]")
{
  DynamoTarget d;
  faults::signal_while_waiting(d.target, SIGINT);
}

TEST_CASE("dynamodb faults: one SIGTERM ends a wait on a paused server at once (exit 143)", "[dynamodb]")
{
  DynamoTarget d;
  faults::signal_while_waiting(d.target, SIGTERM);
}
