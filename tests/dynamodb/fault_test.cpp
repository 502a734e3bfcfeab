// A server that is gone: nothing listening, or a dynalite that stops
// answering (SIGSTOP). Both are StorageError backend with unavailable set
// (CLI exit 5), within the timeout plus the retries.
#include "dynamodb/support.hpp"

#include "taskstore/backends/dynamodb.hpp"
#include "support/expect.hpp"
#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/uri.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace taskstore;
using taskstore::testing::storage_error_of;
using namespace taskstore::testing::dynamo;

namespace {

using Clock = std::chrono::steady_clock;

double
seconds_since(Clock::time_point start)
{
  return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

TEST_CASE("fault: nothing listening on the endpoint is unavailable", "[fault]")
{
  EnvGuard guard;
  guard.set("AWS_ACCESS_KEY_ID", "AKID");
  guard.set("AWS_SECRET_ACCESS_KEY", "secret");
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(unused_port());
  auto store = open_store("dynamodb://tasks?region=us-east-1&timeout=500ms&endpoint=" + endpoint);
  const auto start = Clock::now();
  const auto e = storage_error_of([&] { store->get("o:t"); });
  CHECK(e.kind() == StorageErrorKind::backend);
  CHECK(e.unavailable());
  CHECK(std::string(e.what()).find(endpoint) != std::string::npos);
  CHECK(std::string(e.what()).find("after 3 attempts") != std::string::npos);
  // Refused connections fail fast; 3 attempts and their short backoffs.
  CHECK(seconds_since(start) < 5.0);
  for (auto&& op : std::vector<std::function<void()>>{
         [&] { store->put("o:t", "x"); }, [&] { store->put_if_version("o:t", "x", 1); },
         [&] { store->remove("o:t"); }, [&] { store->list_by_prefix(""); },
         [&] { store->cleanup_expired(); }}) {
    const auto err = storage_error_of(op);
    CHECK(err.kind() == StorageErrorKind::backend);
    CHECK(err.unavailable());
  }
}

TEST_CASE("fault: a server that stops answering times out, then recovers", "[fault]")
{
  DynaliteProcess dynalite;
  EnvGuard guard;
  guard.set("AWS_ACCESS_KEY_ID", "AKID");
  guard.set("AWS_SECRET_ACCESS_KEY", "secret");
  const std::string uri = "dynamodb://fault-test?region=us-east-1&timeout=400ms&endpoint=" + dynalite.endpoint();
  OpenOptions options;
  options.timeout = std::chrono::seconds(10);
  create_dynamodb_table(StoreUri::parse(uri), options);
  auto store = open_store(uri);
  REQUIRE(store->put("o:t", "before") == 1);

  dynalite.pause();
  const auto start = Clock::now();
  const auto e = storage_error_of([&] { store->get("o:t"); });
  const double elapsed = seconds_since(start);
  CHECK(e.kind() == StorageErrorKind::backend);
  CHECK(e.unavailable());
  CHECK(std::string(e.what()).find("timed out") != std::string::npos);
  // The 400 ms are the deadline of the whole get, retries included (issue 14 #8).
  CHECK(std::string(e.what()).find("did not complete within the timeout of 400 ms") != std::string::npos);
  CHECK(elapsed >= 0.35);
  CHECK(elapsed < 4.0);
  // The concurrent path (cleanup's deletes) reports the same.
  const auto cleanup_error = storage_error_of([&] { store->cleanup_expired(); });
  CHECK(cleanup_error.unavailable());

  dynalite.resume();
  CHECK(store->get("o:t") == VersionedRecord{"before", 1});
  CHECK(store->put("o:t", "after") == 2);
}
