// Unit tests of cli/store: where the store comes from (--store, then
// TASKCTL_STORE, then the default file), the password sources, --timeout,
// and what a run remembers (the resolved store, the secrets to scrub).

#include "store.hpp"
#include "unit_support.hpp"

#include "support/temp_dir.hpp"

#include "taskstore/error.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace taskctl;
using clitest::ScopedEnv;
using taskstore::testing::TempDir;

namespace {

// An environment with no store settings: HOME as given, nothing else.
void
clear_store_environment(ScopedEnv& env, const std::string& home)
{
  env.set("TASKCTL_STORE", std::nullopt)
    .set("TASKCTL_STORE_PASSWORD", std::nullopt)
    .set("TASKCTL_STORE_PASSWORD_FILE", std::nullopt)
    .set("XDG_DATA_HOME", std::nullopt)
    .set("XDG_CONFIG_HOME", std::nullopt) // no config file: no default entry
    .set("HOME", home);
}

} // namespace

TEST_CASE("locate_store: --store, then TASKCTL_STORE, then the default store", "[unit]")
{
  ScopedEnv env;
  clear_store_environment(env, "/home/alice");

  auto r = locate_store("");
  CHECK(r.source == StoreSource::default_store);
  CHECK(r.default_path == "/home/alice/.local/share/taskctl/tasks.db");
  CHECK(r.uri_text == "sqlite:///home/alice/.local/share/taskctl/tasks.db");
  CHECK(r.uri.scheme == "sqlite");

  env.set("TASKCTL_STORE", "mem://");
  r = locate_store("");
  CHECK(r.source == StoreSource::environment);
  CHECK(r.uri_text == "mem://");
  CHECK(r.default_path.empty());

  r = locate_store("redis://127.0.0.1:6379/0");
  CHECK(r.source == StoreSource::flag);
  CHECK(r.uri_text == "redis://127.0.0.1:6379/0");
  CHECK(r.uri.scheme == "redis");

  env.set("TASKCTL_STORE", ""); // empty counts as unset
  CHECK(locate_store("").source == StoreSource::default_store);
}

TEST_CASE("the default store: XDG_DATA_HOME when absolute, else HOME; the path percent-encoded in the URI", "[unit]")
{
  ScopedEnv env;
  clear_store_environment(env, "/home/a b%c");

  auto r = locate_store("");
  CHECK(r.default_path == "/home/a b%c/.local/share/taskctl/tasks.db");
  CHECK(r.uri_text == "sqlite:///home/a%20b%25c/.local/share/taskctl/tasks.db");
  CHECK(r.uri.path == "/home/a b%c/.local/share/taskctl/tasks.db");

  env.set("XDG_DATA_HOME", "/data/x-y_z.~");
  r = locate_store("");
  CHECK(r.default_path == "/data/x-y_z.~/taskctl/tasks.db");
  CHECK(r.uri_text == "sqlite:///data/x-y_z.~/taskctl/tasks.db"); // unreserved characters stay
  CHECK(default_store_path() == "/data/x-y_z.~/taskctl/tasks.db");

  env.set("XDG_DATA_HOME", "relative/data"); // not absolute: ignored
  CHECK(default_store_path() == "/home/a b%c/.local/share/taskctl/tasks.db");
}

TEST_CASE("locate_store: a malformed URI is a usage error with a hint", "[unit]")
{
  ScopedEnv env;
  clear_store_environment(env, "/home/alice");
  auto error = clitest::cli_error([] { locate_store("nocolon"); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_usage);
  CHECK(error->code() == "invalid_store_uri");
  CHECK_THAT(error->hint, Catch::Contains("--store URI or TASKCTL_STORE"));

  env.set("TASKCTL_STORE", "foo://host/x");
  // An unknown scheme parses; opening it fails later. A bad one fails here.
  CHECK(locate_store("").uri.scheme == "foo");
  env.set("TASKCTL_STORE", "nocolon");
  CHECK(clitest::cli_error([] { locate_store(""); }));
}

TEST_CASE("password_from_environment: TASKCTL_STORE_PASSWORD, else the file, trailing newlines stripped", "[unit]")
{
  ScopedEnv env;
  clear_store_environment(env, "/home/alice");
  CHECK_FALSE(password_from_environment());

  TempDir dir;
  const std::string file = dir.write("pw", "fi le\tpw\r\n\n");
  env.set("TASKCTL_STORE_PASSWORD_FILE", file);
  CHECK(password_from_environment() == std::optional<std::string>("fi le\tpw"));

  env.set("TASKCTL_STORE_PASSWORD", "envpw");
  CHECK(password_from_environment() == std::optional<std::string>("envpw"));
  env.set("TASKCTL_STORE_PASSWORD", ""); // empty: the file again
  CHECK(password_from_environment() == std::optional<std::string>("fi le\tpw"));

  const std::string empty = dir.write("empty", "\n");
  env.set("TASKCTL_STORE_PASSWORD_FILE", empty);
  CHECK(password_from_environment() == std::optional<std::string>(""));

  env.set("TASKCTL_STORE_PASSWORD_FILE", dir.file("missing"));
  CHECK_THROWS_AS(password_from_environment(), taskstore::ConfigError);
  try {
    password_from_environment();
  } catch (const taskstore::ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("cannot read TASKCTL_STORE_PASSWORD_FILE " + dir.file("missing")));
  }
}

TEST_CASE("parse_timeout: durations, and a usage error for anything else", "[unit]")
{
  Context ctx;
  CHECK(parse_timeout(ctx) == std::chrono::seconds(5));
  ctx.global.timeout = "500ms";
  CHECK(parse_timeout(ctx) == std::chrono::milliseconds(500));
  ctx.global.timeout = "1m";
  CHECK(parse_timeout(ctx) == std::chrono::minutes(1));
  ctx.global.timeout = "soon";
  auto error = clitest::cli_error([&] { parse_timeout(ctx); });
  REQUIRE(error);
  CHECK(error->exit_code() == exit_usage);
  CHECK_THAT(error->what(), Catch::StartsWith("--timeout: "));
}

TEST_CASE("check_key splits at the first ':'; a key without one, or with an empty part, is InvalidArgument",
          "[unit]")
{
  const auto parts = check_key("alice:t1:x");
  CHECK(parts.owner_id == "alice");
  CHECK(parts.task_id == "t1:x");
  CHECK_THROWS_AS(check_key("nocolon"), taskstore::InvalidArgument);
  for (const char* empty : {":", ":t1", "alice:"}) {
    INFO(empty);
    CHECK_THROWS_AS(check_key(empty), taskstore::InvalidArgument);
  }
}

// Last: resolve_store remembers the first store for the rest of the process.
TEST_CASE("resolve_store: once per run; store_display redacts; known_secrets lists every password", "[unit]")
{
  ScopedEnv env;
  clear_store_environment(env, "/home/alice");
  Context bad;
  bad.global.store = "nocolon";
  CHECK(store_display(bad) == "(invalid store URI)"); // never throws, remembers nothing

  env.set("TASKCTL_STORE_PASSWORD", "envs3cret");
  Context ctx;
  ctx.global.store = "redis://admin:s3cretpw@127.0.0.1:1/0";
  ctx.global.quiet = true;
  const auto r = resolve_store(ctx);
  CHECK(r.source == StoreSource::flag);
  CHECK(store_display(ctx) == "redis://admin:********@127.0.0.1:1/0");

  Context other;
  other.global.store = "mem://";
  CHECK(resolve_store(other).uri_text == ctx.global.store); // the run's store, resolved once
  CHECK(store_display(bad) == "redis://admin:********@127.0.0.1:1/0");

  const auto secrets = known_secrets();
  CHECK(std::count(secrets.begin(), secrets.end(), "s3cretpw") == 1);
  CHECK(std::count(secrets.begin(), secrets.end(), "envs3cret") == 1);
  env.set("TASKCTL_STORE_PASSWORD", std::nullopt); // read when asked, not remembered
  const auto later = known_secrets();
  CHECK(std::count(later.begin(), later.end(), "envs3cret") == 0);
  CHECK(std::count(later.begin(), later.end(), "s3cretpw") == 1);
}
