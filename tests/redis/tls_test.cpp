// rediss:// against redis-servers of its own, TLS only, with the
// certificates make_certs.sh makes (the contract suite and the interop tests
// run over TLS too, on the shared TLS server: contract.redis-tls,
// redis.interop-tls). Every failure is judged by the error type and the
// reason it names; nothing is timed: a watchdog turns a hang into a failure.

#include "redis/support.hpp"

#include "support/env_guard.hpp"
#include "taskstore/error.hpp"
#include "taskstore/interrupt.hpp"
#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace taskstore;
using redis_test::RedisServer;

namespace {

// The certificates of make_certs.sh, made once per process.
const std::string&
certs()
{
  static redis_test::TempDir dir;
  static const bool made = [] {
    redis_test::make_certs(dir.path());
    return true;
  }();
  (void)made;
  return dir.path();
}

std::string
cert(const std::string& name)
{
  return certs() + "/" + name;
}

RedisServer::Options
tls_server(const std::string& presents = "server", const std::string& auth_clients = "no")
{
  RedisServer::Options o;
  o.tls_certs = certs();
  o.tls_server_cert = presents;
  o.tls_auth_clients = auth_clients;
  return o;
}

std::string
at(const RedisServer& server, const std::string& host = "127.0.0.1")
{
  return "rediss://" + host + ":" + std::to_string(server.port());
}

// Runs f; a watchdog requests an interrupt if it has not returned after 20 s,
// so a hang fails the test (an "interrupted" error) instead of blocking it.
template<typename F>
void
with_watchdog(F&& f)
{
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> fired{false};
  std::thread dog([&] {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return done; })) {
      fired = true;
      request_interrupt();
    }
  });
  auto finish = [&] {
    {
      std::lock_guard lock(m);
      done = true;
    }
    cv.notify_one();
    dog.join();
    clear_interrupt();
  };
  try {
    f();
  } catch (...) {
    finish();
    REQUIRE_FALSE(fired.load());
    throw;
  }
  finish();
  REQUIRE_FALSE(fired.load());
}

// The message of the error that opening uri (and one write) throws, which
// must be of type E; "" (and a failed check) when nothing is thrown.
template<typename E>
std::string
failure_of(const std::string& uri, OpenOptions options = {})
{
  std::string message;
  with_watchdog([&] {
    try {
      auto db = open_store(uri, options);
      db->put("o:t", "{}");
      FAIL("no error opening " + uri);
    } catch (const E& e) {
      message = e.what();
    }
  });
  return message;
}

} // namespace

TEST_CASE("rediss:// with ?cacert= verifies the server and works: put, get, list, a database, a password")
{
  RedisServer server(tls_server());
  const std::string ok = at(server) + "/3?cacert=" + cert("ca.crt");
  auto db = open_store(ok);
  CHECK(db->put("o:t", "{}") == 1);
  CHECK(db->get("o:t").version == 1);
  CHECK(db->list_by_prefix("o:").size() == 1);
  CHECK(db->name() == "redis");
  CHECK(server.cli()({"-n", "3", "HGET", "pmcp:tasks:o:t", "version"}) == "1");

  // A host name, verified as one (and sent as the server name).
  CHECK(open_store(at(server, "localhost") + "/3?cacert=" + cert("ca.crt"))->get("o:t").version == 1);

  // AUTH over TLS; the password is never in a message.
  server.cli()({"CONFIG", "SET", "requirepass", "tls-secret-pw"});
  CHECK(open_store("rediss://:tls-secret-pw@127.0.0.1:" + std::to_string(server.port()) + "/3?cacert=" +
                   cert("ca.crt"))
          ->get("o:t")
          .version == 1);
  const std::string wrong = failure_of<ConfigError>("rediss://:wrong-tls-pw@127.0.0.1:" +
                                                    std::to_string(server.port()) + "?cacert=" + cert("ca.crt"));
  CHECK_THAT(wrong, Catch::Contains("rejected the credentials") && !Catch::Contains("wrong-tls-pw"));
  const std::string untrusted = failure_of<ConfigError>("rediss://:tls-secret-pw@127.0.0.1:" +
                                                        std::to_string(server.port()) + "?cacert=" + cert("other-ca.crt"));
  CHECK_THAT(untrusted, Catch::Contains("unknown CA") && !Catch::Contains("tls-secret-pw"));
}

TEST_CASE("rediss:// trusts the system CA store by default (SSL_CERT_FILE names it here)")
{
  RedisServer server(tls_server());
  testing::EnvGuard env;
  env.set("SSL_CERT_FILE", cert("ca.crt")).set("SSL_CERT_DIR", cert("nowhere"));
  CHECK(open_store(at(server))->put("o:t", "{}") == 1);
  env.set("SSL_CERT_FILE", cert("other-ca.crt"));
  CHECK_THAT(failure_of<ConfigError>(at(server)),
             Catch::Contains("certificate was not accepted") && Catch::Contains("unknown CA"));
}

TEST_CASE("rediss:// refuses a server certificate of an unknown CA, for another name, or expired (ConfigError)")
{
  SECTION("an unrelated CA")
  {
    RedisServer server(tls_server());
    const std::string m = failure_of<ConfigError>(at(server) + "?cacert=" + cert("other-ca.crt"));
    // "unable to get local issuer certificate", or when the server sends its
    // CA along, "self-signed certificate in certificate chain".
    CHECK_THAT(m, Catch::Contains("certificate was not accepted") && Catch::Contains("unknown CA") &&
                    Catch::Contains("?cacert=FILE"));
  }
  SECTION("a certificate for other.example only")
  {
    RedisServer server(tls_server("other-name"));
    CHECK_THAT(failure_of<ConfigError>(at(server) + "?cacert=" + cert("ca.crt")),
               Catch::Contains("IP address mismatch") && Catch::Contains("127.0.0.1"));
    CHECK_THAT(failure_of<ConfigError>(at(server, "localhost") + "?cacert=" + cert("ca.crt")),
               Catch::Contains("hostname mismatch") && Catch::Contains("localhost"));
  }
  SECTION("an expired certificate")
  {
    RedisServer server(tls_server("expired"));
    CHECK_THAT(failure_of<ConfigError>(at(server) + "?cacert=" + cert("ca.crt")),
               Catch::Contains("certificate has expired"));
  }
}

TEST_CASE("rediss:// ?insecure=1 skips verification, and says so through OpenOptions::warn")
{
  RedisServer server(tls_server("other-name"));
  std::vector<std::string> warnings;
  OpenOptions options;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  auto db = open_store(at(server) + "?insecure=1&cacert=" + cert("other-ca.crt"), options);
  CHECK(db->put("o:t", "{}") == 1);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("verification is off") && Catch::Contains("insecure=1"));
  // Verification on: no warning.
  warnings.clear();
  RedisServer good(tls_server());
  open_store(at(good) + "?cacert=" + cert("ca.crt"), options);
  CHECK(warnings.empty());
  CHECK_THROWS_AS(open_store(at(good) + "?insecure=maybe"), InvalidArgument);
}

TEST_CASE("rediss:// client certificates: required by the server, sent with ?cert=&key=")
{
  RedisServer server(tls_server("server", "yes"));
  const std::string base = at(server) + "?cacert=" + cert("ca.crt");
  CHECK_THAT(failure_of<ConfigError>(base), Catch::Contains("requires a client certificate") &&
                                              Catch::Contains("?cert=FILE&key=FILE"));
  auto db = open_store(base + "&cert=" + cert("client.crt") + "&key=" + cert("client.key"));
  CHECK(db->put("o:t", "{}") == 1);
  // A certificate of a CA the server does not trust.
  CHECK_THAT(failure_of<ConfigError>(base + "&cert=" + cert("other-client.crt") + "&key=" + cert("other-client.key")),
             Catch::Contains("refused the TLS connection"));
}

TEST_CASE("rediss:// files that cannot be used are configuration errors that name them")
{
  RedisServer server(tls_server());
  const std::string base = at(server);
  CHECK_THAT(failure_of<ConfigError>(base + "?cacert=" + cert("missing.crt")),
             Catch::Contains("cannot read the CA certificate file") && Catch::Contains("No such file"));
  CHECK_THAT(failure_of<ConfigError>(base + "?cacert=" + cert("ca.key")),
             Catch::Contains("cannot load the CA certificates"));
  CHECK_THAT(failure_of<ConfigError>(base + "?cacert=" + cert("ca.crt") + "&cert=" + cert("client.crt")),
             Catch::Contains("both ?cert=FILE and ?key=FILE"));
  CHECK_THAT(failure_of<ConfigError>(base + "?cacert=" + cert("ca.crt") + "&cert=" + cert("client.crt") +
                                     "&key=" + cert("other-client.key")),
             Catch::Contains("does not match"));
  CHECK_THAT(failure_of<ConfigError>(base + "?cacert=" + cert("ca.crt") + "&cert=" + cert("nope.crt") +
                                     "&key=" + cert("client.key")),
             Catch::Contains("cannot read the client certificate file"));
}

TEST_CASE("TLS parameters need rediss://; rediss:// refuses unknown parameters")
{
  CHECK_THROWS_WITH(open_store("redis://127.0.0.1:1?cacert=/x"), Catch::Contains("rediss://"));
  CHECK_THROWS_AS(open_store("redis://127.0.0.1:1?insecure=1"), InvalidArgument);
  CHECK_THROWS_AS(open_store("redis+unix:///tmp/x.sock?cert=/x&key=/y"), InvalidArgument);
  CHECK_THROWS_WITH(open_store("rediss://127.0.0.1:1?bogus=1"), Catch::Contains("bogus"));
  CHECK_THROWS_AS(open_store("rediss://127.0.0.1:1?cacert="), InvalidArgument);
  CHECK_THROWS_AS(open_store("rediss://"), InvalidArgument);
}

TEST_CASE("TLS to a plain port, and plain to a TLS port, fail with a clear error, never a hang")
{
  OpenOptions quick;
  quick.timeout = std::chrono::milliseconds(3000);
  SECTION("rediss:// to a plain redis-server")
  {
    RedisServer plain;
    std::string message;
    with_watchdog([&] {
      try {
        open_store("rediss://127.0.0.1:" + std::to_string(plain.port()) + "?cacert=" + cert("ca.crt"), quick);
        FAIL("a TLS handshake with a plain server succeeded");
      } catch (const std::exception& e) {
        message = e.what();
      }
    });
    // Either the server answers the ClientHello ("does not speak TLS"), or
    // it waits for more and the handshake times out; both say what to use.
    CHECK_THAT(message, Catch::Contains("redis://") && Catch::Contains("TLS"));
  }
  SECTION("redis:// to a TLS-only redis-server")
  {
    RedisServer tls(tls_server());
    std::string message;
    with_watchdog([&] {
      try {
        open_store("redis://127.0.0.1:" + std::to_string(tls.port()), quick)->put("o:t", "{}");
        FAIL("a plain connection to a TLS port worked");
      } catch (const StorageError& e) {
        message = e.what();
      }
    });
    CHECK_THAT(message, Catch::Contains("use rediss://"));
  }
  SECTION("rediss:// to a dead port: unavailable")
  {
    const int port = redis_test::free_port();
    CHECK_THAT(failure_of<StorageError>("rediss://127.0.0.1:" + std::to_string(port) + "?cacert=" + cert("ca.crt")),
               Catch::Contains("cannot connect"));
  }
}

TEST_CASE("rediss:// carries large pipelines both ways: partial TLS writes, replies over many records")
{
  RedisServer server(tls_server());
  auto db = open_store(at(server) + "?cacert=" + cert("ca.crt"));
  // ~12 MB of commands in one pipeline: the socket fills, TLS writes are partial and repeated.
  const std::string data = "{\"pad\":\"" + std::string(4000, 'x') + "\"}";
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) {
    keys.push_back("big:t" + std::to_string(i));
  }
  std::vector<BatchWrite> writes;
  for (const auto& k : keys) {
    writes.push_back(BatchWrite{k, data, false});
  }
  for (const auto& r : db->put_batch(writes)) {
    REQUIRE_FALSE(r.error);
    CHECK(r.version == 1);
  }
  // Reading them back: each TLS read fills the 64 KiB buffer many times over.
  std::size_t seen = 0;
  std::size_t bytes = 0;
  db->scan("big:", [&](const std::string&, const VersionedRecord& record) {
    ++seen;
    bytes += record.data.size();
    return true;
  });
  CHECK(seen == keys.size());
  CHECK(bytes == keys.size() * data.size());
}

TEST_CASE("rediss:// waits like redis://: a server that stops answering times out, and an interrupt ends a handshake")
{
  SECTION("a TLS server paused after the handshake: the reply times out")
  {
    RedisServer server(tls_server());
    OpenOptions quick;
    quick.timeout = std::chrono::milliseconds(1000);
    auto db = open_store(at(server) + "?cacert=" + cert("ca.crt"), quick);
    db->put("o:t", "{}");
    server.pause();
    std::string message;
    with_watchdog([&] {
      try {
        db->get("o:t");
        FAIL("a paused server answered");
      } catch (const StorageError& e) {
        message = e.what();
      }
    });
    server.resume();
    CHECK_THAT(message, Catch::Contains("did not answer within 1000 ms"));
  }
  SECTION("a handshake with a paused server ends at request_interrupt()")
  {
    RedisServer server(tls_server());
    server.pause();
    OpenOptions slow;
    slow.timeout = std::chrono::milliseconds(60000);
    std::thread interrupter([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      request_interrupt();
    });
    std::string message;
    try {
      open_store(at(server) + "?cacert=" + cert("ca.crt"), slow);
    } catch (const StorageError& e) {
      message = e.what();
    }
    interrupter.join();
    clear_interrupt();
    server.resume();
    CHECK_THAT(message, Catch::Contains("interrupted"));
  }
}
