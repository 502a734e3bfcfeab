// rediss:// through the real taskctl ([redis-tls-cli], ctest cli.redis_tls):
// put, get, ls and gc over TLS, and the exit status and message of each TLS
// failure, against TLS-only redis-servers of the test's own with the
// certificates of tests/redis/make_certs.sh. (cli.redis-tls runs the
// store-agnostic [backend] suite on the shared TLS server as well.)

#include "cli_support.hpp"

#include "redis/support.hpp"

#include <catch2/catch.hpp>

using namespace clitest;
using taskstore::redis_test::RedisServer;

namespace {

const std::string&
certs()
{
  static taskstore::redis_test::TempDir dir;
  static const bool made = [] {
    taskstore::redis_test::make_certs(dir.path());
    return true;
  }();
  (void)made;
  return dir.path();
}

RedisServer::Options
tls_server(const std::string& presents = "server")
{
  RedisServer::Options o;
  o.tls_certs = certs();
  o.tls_server_cert = presents;
  return o;
}

std::string
rediss(const RedisServer& server, const std::string& query, const std::string& userinfo = "")
{
  return "rediss://" + userinfo + "127.0.0.1:" + std::to_string(server.port()) + "?" + query;
}

} // namespace

TEST_CASE("taskctl over rediss://: put, get, ls and gc; exit codes as over redis://", "[redis-tls-cli]")
{
  RedisServer server(tls_server());
  const std::string uri = rediss(server, "cacert=" + certs() + "/ca.crt");
  auto r = taskctl({"-s", uri, "put", "alice:t1"}, with_input(record_json("alice", "t1")));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  r = taskctl({"-s", uri, "put", "alice:old"}, with_input(record_json("alice", "old", "working", k_past)));
  REQUIRE(r.exit_code == 0);
  r = taskctl({"-s", uri, "-o", "raw", "get", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "\"taskId\":\"t1\""));
  CHECK(taskctl({"-s", uri, "get", "alice:nope"}).exit_code == 3);
  r = taskctl({"-s", uri, "ls", "--count"});
  CHECK(r.out == "2\n");
  r = taskctl({"-s", uri, "-o", "json", "gc", "--yes"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["deleted"] == 1);
  CHECK(taskctl({"-s", uri, "ls", "--count"}).out == "1\n");
  CHECK(r.err.find("warning") == std::string::npos);
}

TEST_CASE("taskctl over rediss://: a certificate failure is exit 7 naming the reason; the password is not shown",
          "[redis-tls-cli]")
{
  RedisServer server(tls_server());
  RunOptions env;
  env.env["TASKCTL_STORE"] = rediss(server, "cacert=" + certs() + "/other-ca.crt", ":hush-tls-pw@");
  auto r = taskctl({"get", "alice:t1"}, env);
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "unknown CA"));
  CHECK_FALSE(contains(r.err, "hush-tls-pw"));
  CHECK(contains(r.err, "********"));

  RedisServer other(tls_server("other-name"));
  r = taskctl({"-s", rediss(other, "cacert=" + certs() + "/ca.crt"), "get", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "IP address mismatch"));

  r = taskctl({"-s", rediss(server, "cacert=" + certs() + "/missing.crt"), "get", "alice:t1"});
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "cannot read the CA certificate file"));

  r = taskctl({"-s", "redis://127.0.0.1:" + std::to_string(server.port()) + "?cacert=/x", "get", "alice:t1"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "rediss://"));
}

TEST_CASE("taskctl over rediss://?insecure=1: works against an unknown CA, and warns on every run",
          "[redis-tls-cli]")
{
  RedisServer server(tls_server("other-name"));
  const std::string uri = rediss(server, "insecure=1");
  for (int run = 0; run < 2; ++run) {
    auto r = taskctl({"-s", uri, "ls", "--count"});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "0\n");
    CHECK(contains(r.err, "warning: TLS certificate verification is off"));
  }
  // -q silences it, as it silences every warning.
  auto r = taskctl({"-q", "-s", uri, "ls", "--count"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("taskctl: rediss:// to a plain port and redis:// to a TLS port fail clearly, not by hanging",
          "[redis-tls-cli]")
{
  RunOptions watchdog;
  watchdog.timeout = std::chrono::seconds(20);
  RedisServer plain;
  auto r = taskctl({"--timeout", "3s", "-s", "rediss://127.0.0.1:" + std::to_string(plain.port()), "ls"}, watchdog);
  INFO(describe(r));
  CHECK_FALSE(r.timed_out);
  CHECK((r.exit_code == 7 || r.exit_code == 5));
  CHECK(contains(r.err, "redis://"));

  RedisServer tls(tls_server());
  r = taskctl({"--timeout", "3s", "-s", "redis://127.0.0.1:" + std::to_string(tls.port()), "ls"}, watchdog);
  INFO(describe(r));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 5);
  CHECK(contains(r.err, "rediss://"));
}
