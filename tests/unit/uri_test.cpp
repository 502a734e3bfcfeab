#include "taskstore/error.hpp"
#include "taskstore/uri.hpp"

#include "taskstore/text.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace taskstore;

TEST_CASE("StoreUri::parse opaque and hierarchical forms")
{
  auto uri = StoreUri::parse("sqlite:data/tasks.db");
  CHECK(uri.scheme == "sqlite");
  CHECK_FALSE(uri.has_authority);
  CHECK(uri.path == "data/tasks.db");

  uri = StoreUri::parse("sqlite:///var/lib/taskctl/tasks%20v2.db");
  CHECK(uri.has_authority);
  CHECK(uri.host.empty());
  CHECK(uri.path == "/var/lib/taskctl/tasks v2.db");

  uri = StoreUri::parse("mem://");
  CHECK(uri.scheme == "mem");
  CHECK(uri.has_authority);

  uri = StoreUri::parse("REDIS://app:s%40cret@cache.local:6380/2?prefix=pmcp&timeout=2s");
  CHECK(uri.scheme == "redis");
  CHECK(uri.user == "app");
  CHECK(uri.password == "s@cret");
  CHECK(uri.host == "cache.local");
  CHECK(uri.port == 6380);
  CHECK(uri.path == "/2");
  CHECK(uri.param("prefix") == "pmcp");
  CHECK(uri.param("timeout") == "2s");
  CHECK_FALSE(uri.param("db"));

  uri = StoreUri::parse("redis://:only-pass@127.0.0.1");
  CHECK(uri.user.empty());
  CHECK(uri.password == "only-pass");
  CHECK_FALSE(uri.port);

  uri = StoreUri::parse("redis://[::1]:7000");
  CHECK(uri.host == "::1");
  CHECK(uri.port == 7000);

  uri = StoreUri::parse("redis+unix:///run/redis.sock?db=3");
  CHECK(uri.scheme == "redis+unix");
  CHECK(uri.path == "/run/redis.sock");
  CHECK(uri.param("db") == "3");

  uri = StoreUri::parse("dynamodb://pmcp_tasks?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A8000");
  CHECK(uri.host == "pmcp_tasks");
  CHECK(uri.param("endpoint") == "http://127.0.0.1:8000");
}

TEST_CASE("StoreUri::parse rejects malformed input")
{
  for (const char* bad : {"", "no-scheme", ":x", "1abc:x", "redis://h:notaport", "redis://h:0",
                          "redis://h:70000", "sqlite:a%zz", "sqlite:a%4", "sqlite:x#frag",
                          "redis://h?prefix=a&prefix=b", "redis://[::1"}) {
    INFO(bad);
    CHECK_THROWS_AS(StoreUri::parse(bad), InvalidArgument);
  }
}

TEST_CASE("StoreUri::redacted never shows secrets")
{
  const auto uri = StoreUri::parse("redis://admin:hunter2@db.example:6379/0?prefix=p&password=x&api_token=y");
  const auto text = uri.redacted();
  CHECK(text == "redis://admin:********@db.example:6379/0?prefix=p&password=********&api_token=********");
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(StoreUri::parse("sqlite:///tmp/a b.db").redacted() == "sqlite:///tmp/a%20b.db");
  CHECK(StoreUri::parse("mem://").redacted() == "mem://");
  CHECK(StoreUri::parse("redis://:p@h").redacted() == "redis://:********@h");
}

TEST_CASE("StoreUri::require_params")
{
  const auto uri = StoreUri::parse("redis://h?prefix=p&bogus=1");
  CHECK_THROWS_AS(uri.require_params({"prefix", "timeout"}), InvalidArgument);
  CHECK_THROWS_WITH(uri.require_params({"prefix", "timeout"}),
                    Catch::Contains("'bogus'") && Catch::Contains("prefix, timeout"));
  CHECK_NOTHROW(uri.require_params({"prefix", "bogus"}));
  CHECK_THROWS_WITH(StoreUri::parse("mem://?x=1").require_params({}), Catch::Contains("allowed: none"));
}

TEST_CASE("parse_duration_ms")
{
  CHECK(parse_duration_ms("500ms") == 500);
  CHECK(parse_duration_ms("2s") == 2000);
  CHECK(parse_duration_ms("2") == 2000);
  CHECK(parse_duration_ms("1.5s") == 1500);
  CHECK(parse_duration_ms("1m") == 60000);
  CHECK(parse_duration_ms("1h") == 3600000);
  for (const char* bad : {"", "s", "-1s", "2x", "1e30h", "nan"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_duration_ms(bad), InvalidArgument);
  }
}

namespace {

// Whether any of the forms of secret (decoded, percent-encoded either case,
// encoded twice) occurs in text.
bool
shows(const std::string& text, const std::string& secret)
{
  for (const auto& form : secret_forms(secret)) {
    if (text.find(form) != std::string::npos) {
      return true;
    }
  }
  return false;
}

bool
holds(const std::vector<std::string>& secrets, const std::string& secret)
{
  return std::find(secrets.begin(), secrets.end(), secret) != secrets.end();
}

} // namespace

TEST_CASE("StoreUri::redacted hides the password of a URL-valued query parameter, however encoded (issue 14 #10)")
{
  // The defect: the endpoint's password was printed decoded.
  const auto uri = StoreUri::parse("dynamodb://t?endpoint=http://alice:a%2Fb9Secret@127.0.0.1:1/&region=x");
  CHECK(uri.param("endpoint") == "http://alice:a/b9Secret@127.0.0.1:1/");
  const auto text = uri.redacted();
  CHECK(text == "dynamodb://t?endpoint=http://alice:********@127.0.0.1:1/&region=x");
  CHECK_FALSE(shows(text, "a/b9Secret"));
  CHECK(text.find("b9Secret") == std::string::npos);

  // Encoded whole, and encoded twice (the endpoint's own escape).
  for (const char* given : {"dynamodb://t?endpoint=http%3A%2F%2Falice%3Ap%40ss%2Fw0rd%40127.0.0.1%3A1%2F",
                            "dynamodb://t?endpoint=http://alice:p%2540ss%252Fw0rd@127.0.0.1:1/"}) {
    INFO(given);
    const auto redacted = StoreUri::parse(given).redacted();
    CHECK(redacted.find("w0rd") == std::string::npos);
    CHECK(redacted.find("alice") != std::string::npos); // the user and host stay readable
    CHECK(redacted.find("127.0.0.1") != std::string::npos);
    CHECK(StoreUri::parse(redacted).redacted() == redacted); // stable
  }

  // Secret-looking parameters of the nested URL; a URL in a URL.
  const auto nested = StoreUri::parse(
    "dynamodb://t?endpoint=" + percent_encode("http://h:1/?X-Amz-Security-Token=tok3n&a=http://u:deep3r@h2/", ""));
  CHECK(nested.redacted().find("tok3n") == std::string::npos);
  CHECK(nested.redacted().find("deep3r") == std::string::npos);
  CHECK(holds(nested.secrets(), "tok3n"));
  CHECK(holds(nested.secrets(), "deep3r"));

  // A value without userinfo or parameters is shown as before.
  CHECK(StoreUri::parse("dynamodb://t?endpoint=http://127.0.0.1:8000&region=eu-west-1").redacted() ==
        "dynamodb://t?endpoint=http://127.0.0.1:8000&region=eu-west-1");
  // Short passwords too.
  CHECK(StoreUri::parse("dynamodb://t?endpoint=http://u:Q@h/").redacted() == "dynamodb://t?endpoint=http://u:********@h/");
  CHECK(StoreUri::parse("redis://u:%25@h").redacted() == "redis://u:********@h");
}

TEST_CASE("StoreUri::redacted: a scheme forgotten ('user:pass@host') does not show the password")
{
  const auto uri = StoreUri::parse("alice:hunter2@127.0.0.1");
  CHECK(uri.redacted() == "alice:********@127.0.0.1");
  CHECK(holds(uri.secrets(), "hunter2"));
  // The password percent-encoded, '/' and '@' in it.
  const auto encoded = StoreUri::parse("u:uR%2Fi%25P%3Aw%40Zq7@127.0.0.1:1");
  CHECK(encoded.redacted() == "u:********@127.0.0.1:1");
  CHECK(holds(encoded.secrets(), "uR/i%P:w@Zq7"));
  CHECK(holds(encoded.secrets(), "uR%2Fi%25P%3Aw%40Zq7"));
}

TEST_CASE("StoreUri::secrets: every secret, decoded, as written and percent-encoded")
{
  const auto uri =
    StoreUri::parse("redis://admin:p%2Fw%3A1@h:1/0?password=q%40z&prefix=p&endpoint=http://e:f%252Fg@x/");
  const auto secrets = uri.secrets();
  for (const char* s : {"p/w:1", "p%2Fw%3A1", "p%2fw%3a1", "p%252Fw%253A1", "q@z", "q%40z", "f%2Fg", "f/g"}) {
    INFO(s);
    CHECK(holds(secrets, s));
  }
  CHECK_FALSE(holds(secrets, "admin"));
  CHECK_FALSE(holds(secrets, "p")); // the prefix is not a secret
  CHECK_FALSE(holds(secrets, ""));
  for (std::size_t i = 1; i < secrets.size(); ++i) {
    CHECK(secrets[i - 1].size() >= secrets[i].size()); // longest first
  }
  CHECK(StoreUri::parse("redis://h:1").secrets().empty());
  CHECK(StoreUri::parse("redis://u:x@h").secrets() == std::vector<std::string>{"x"});
  CHECK(secret_forms("").empty());
  CHECK(secret_forms("a/") == std::vector<std::string>{"a/", "a%2F", "a%2f", "a%252F"});
}

TEST_CASE("StoreUri::parse never quotes the text raw: its errors show redact_text")
{
  // Each malformed URI holds the password "Pw/9?x" (or part of it) somewhere;
  // the message must not show it.
  for (const char* bad : {"redis://u:Pw/9x@h", "redis://u:Pw?9x@h", "redis://u:Pw#9x@h", "redis://u:Pw9x%zz@h",
                          "redis://u:1/Pw9x@h", "redis://u:1?Pw9x@h", ":Pw9x@h", "1redis://u:Pw9x@h:99999",
                          "redis://u:Pw9x@[::1", "redis://u:Pw9x@h:x", "redis://u:Pw9x@h?a=1&a=2",
                          "dynamodb://t?endpoint=http://u:Pw9x@h&endpoint=x", "Pw9x"}) {
    INFO(bad);
    try {
      StoreUri::parse(bad);
      FAIL("parsed");
    } catch (const InvalidArgument& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.rfind("invalid store URI '", 0) == 0);
      if (std::string_view(bad) != "Pw9x") { // no structure: nothing marks it as a password
        CHECK(message.find("Pw9x") == std::string::npos);
        CHECK(message.find("9x") == std::string::npos);
      }
    }
  }
  CHECK(StoreUri::redact_text("redis://u:Pw/9x@h:1/0?prefix=a") == "redis://u:********@h:1/0?prefix=a");
  CHECK(StoreUri::redact_text("redis://u:pw@h?password=x%zz&prefix=p") == "redis://u:********@h?password=********&prefix=p");
  CHECK(StoreUri::redact_text("dynamodb://t?endpoint=http://a:b@c/&x=%") == "dynamodb://t?endpoint=http://a:********@c/&x=%");
  CHECK(StoreUri::redact_text("no-scheme") == "no-scheme");
  CHECK(StoreUri::redact_text("") == "");
  const auto lenient = StoreUri::secrets_in("redis://u:Pw/9x@h:1");
  CHECK(holds(lenient, "Pw/9x"));
  CHECK(holds(lenient, "Pw%2F9x"));
  CHECK(holds(StoreUri::secrets_in("redis://u:ok@h"), "ok"));
  CHECK(StoreUri::secrets_in("sqlite:tasks.db").empty());
  CHECK_THROWS_WITH(StoreUri::parse("redis://h:0"), Catch::Contains("bad port"));
  CHECK_THROWS_WITH(StoreUri::parse("nocolon"), Catch::Contains("expected SCHEME:"));
}

TEST_CASE("StoreUri::parse refuses a NUL byte where no backend can take one, and says so (issue 14 #15)")
{
  CHECK_THROWS_WITH(StoreUri::parse("redis://%00@127.0.0.1:1"),
                    "invalid store URI 'redis://%00@127.0.0.1:1': the user name holds a NUL byte (%00)");
  CHECK_THROWS_WITH(StoreUri::parse("redis://u:a%00b@h"), Catch::Contains("the password holds a NUL byte") &&
                                                             !Catch::Contains("a%00b"));
  CHECK_THROWS_WITH(StoreUri::parse("sqlite:/tmp/a%00.db"), Catch::Contains("the path holds a NUL byte"));
  CHECK_THROWS_WITH(StoreUri::parse("redis://h%00st"), Catch::Contains("the host holds a NUL byte"));
  CHECK(StoreUri::parse("redis://h?prefix=a%00").param("prefix") == std::string("a\0", 2)); // a key prefix may
}
