// No secret reaches stdout or stderr (issue 14 #10 and "The machinery:
// Secrets"): every subcommand in every output format, on success and on the
// error paths (a dead server, a wrong password, a malformed URI or query),
// with the password in the URI, in TASKCTL_STORE_PASSWORD and in the password
// file, a password in a DynamoDB endpoint's userinfo, and AWS secrets in the
// environment. Every byte of both streams is searched for every secret, in
// each of its forms (as is, percent-encoded either case, encoded twice).
// Real services: the shared redis-server (TASKCTL_TEST_REDIS_URL; users of
// its own made with ACL SETUSER and removed after) and dynalite
// (TASKCTL_TEST_DYNAMODB_ENDPOINT); scripts/test starts both.
//
// Also ([sqlite-cli]): terminal escapes and NUL bytes from stored data or
// input are shown escaped in tables and diagnostics (issue 14 #15).

#include "cli_support.hpp"
#include "contract/stores.hpp"

#include "taskstore/text.hpp"
#include "taskstore/uri.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace clitest;

namespace {

using Env = std::map<std::string, std::optional<std::string>>;

// The secrets, each of which would show if leaked: '/', '%', '@' and ':' in
// them, and short ones of 1 and 2 bytes.
const std::string k_uri_password = "uR/i%P:w@Zq7";   // inline in the URI, percent-encoded
const std::string k_env_password = "eN/v%P:w@Zq8";   // TASKCTL_STORE_PASSWORD
const std::string k_file_password = "fI/l%P:w@Zq9";  // TASKCTL_STORE_PASSWORD_FILE
const std::string k_wrong_password = "wR/o%N:g@Zq6"; // refused by the server
const std::string k_short_uri = "^";                // 1 byte, inline in the URI
const std::string k_short_env = "\xC2\xA7";         // 2 bytes (U+00A7), TASKCTL_STORE_PASSWORD
const std::string k_aws_secret = "aW/s%S:k@Zq5";     // AWS_SECRET_ACCESS_KEY
const std::string k_aws_token = "tO/k%S:t@Zq4";      // AWS_SESSION_TOKEN
const std::string k_endpoint_password = "dY/n%E:p@Zq3"; // userinfo of the DynamoDB endpoint
const std::string k_issue_password = "a/b9Secret";  // issue 14 #10's own example
const std::string k_query_secret = "qS/e%C:r@Zq2";   // a secret-looking query parameter

const std::vector<std::string>&
all_secrets()
{
  static const std::vector<std::string> s = {k_uri_password, k_env_password,    k_file_password,
                                             k_wrong_password, k_short_uri,     k_short_env,
                                             k_aws_secret,    k_aws_token,      k_endpoint_password,
                                             k_issue_password, k_query_secret};
  return s;
}

// Every form of secret a leak could take: as is, percent-encoded (upper and
// lower case hex), encoded twice, and (for the longer ones) its distinctive
// tail after the last special character, which a half-redaction would show.
std::vector<std::string>
leak_forms(const std::string& secret)
{
  auto forms = taskstore::secret_forms(secret);
  if (secret.size() > 3) {
    const auto cut = secret.find_last_of("/%:@");
    if (cut != std::string::npos && secret.size() - cut > 2) {
      forms.push_back(secret.substr(cut + 1));
    }
    forms.push_back(secret.substr(0, 4)); // the head
  }
  return forms;
}

// The first secret form found in text, or "".
std::string
leaked(const std::string& text)
{
  for (const auto& secret : all_secrets()) {
    for (const auto& form : leak_forms(secret)) {
      if (text.find(form) != std::string::npos) {
        return form;
      }
    }
  }
  return {};
}

std::string
redis_base()
{
  const char* url = std::getenv("TASKCTL_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error("TASKCTL_TEST_REDIS_URL is not set (scripts/test starts a redis-server)");
  }
  return url;
}

// host:port of the shared redis-server.
std::string
redis_address()
{
  const auto uri = taskstore::StoreUri::parse(redis_base());
  return uri.host + ":" + std::to_string(uri.port.value_or(6379));
}

// A Redis ACL user with a password, removed on destruction.
struct RedisUser
{
  RedisUser(std::string user, const std::string& password) : name(std::move(user))
  {
    taskstore::testing::run_program(
      {"redis-cli", "-u", redis_base(), "ACL", "SETUSER", name, "reset", "on", ">" + password, "~*", "&*", "+@all"});
  }
  ~RedisUser()
  {
    try {
      taskstore::testing::run_program({"redis-cli", "-u", redis_base(), "ACL", "DELUSER", name});
    } catch (...) {
    }
  }
  RedisUser(const RedisUser&) = delete;
  RedisUser& operator=(const RedisUser&) = delete;
  std::string name;
};

// One way of naming a store: the URI and the environment that goes with it.
struct StoreCase
{
  std::string label;
  std::string uri;
  Env env;
  bool live = false; // the store works: seed records first
};

// The subcommands, each with arguments that make it do its work on a store
// holding KEY (the owner "sec") when the store is live.
std::vector<std::vector<std::string>>
commands(const std::string& record_file, const std::string& key)
{
  return {
    {"put", key, record_file},
    {"get", key},
    {"cas", "-e", "1", key, record_file},
    {"ls"},
    {"ls", "--owner", "sec"},
    {"validate", record_file},
    {"validate", "--stored"},
    {"cancel", key},
    {"set-status", key, "working", "--force"},
    {"vars", key},
    {"vars", key, "set", "n=1"},
    {"expire", key, "--in", "1h"},
    {"edit", key},
    {"gc", "--yes"},
    {"delete", key},
    {"delete", "--owner", "sec", "--yes"},
    {"get", "sec:missing"},
  };
}

// Runs every command in every format against store; returns the number of runs.
int
run_everything(const StoreCase& store, const std::string& record_file, const std::string& editor)
{
  int runs = 0;
  const std::string key = "sec:t1";
  for (const auto& command : commands(record_file, key)) {
    if (store.live && command[0] != "put") {
      // The record back as it was for each command (the formats after the
      // first then see what the first left: more error paths).
      RunOptions seed;
      seed.env = store.env;
      taskctl({"-s", store.uri, "--timeout", "2s", "put", key, record_file}, seed);
    }
    for (const char* format : {"table", "json", "jsonl", "raw"}) {
      std::vector<std::string> args = {"-s", store.uri, "--timeout", store.live ? "5s" : "500ms", "-o", format};
      args.insert(args.end(), command.begin(), command.end());
      RunOptions options;
      options.env = store.env;
      options.env["EDITOR"] = editor;
      options.env["VISUAL"] = std::nullopt;
      options.timeout = std::chrono::milliseconds(60'000);
      const auto r = taskctl(args, options);
      ++runs;
      std::string shown_args;
      for (const auto& a : command) {
        shown_args += " " + a;
      }
      INFO(store.label << ": taskctl -o " << format << shown_args << "\n" << describe(r));
      CHECK_FALSE(r.timed_out);
      CHECK(r.term_signal == 0);
      const auto form = leaked(r.out + r.err);
      INFO("leaked: " << form);
      CHECK(form.empty());
    }
  }
  return runs;
}

std::string
encoded(const std::string& text)
{
  return taskstore::percent_encode(text, "");
}

} // namespace

TEST_CASE("secrets: no subcommand in any format shows a secret, in any form", "[secrets]")
{
  TempDir dir;
  const std::string record_file = dir.write("record.json", record_json("sec", "t1"));
  const std::string editor = dir.write("editor.sh", "#!/bin/sh\nexit 0\n");
  REQUIRE(::chmod(editor.c_str(), 0755) == 0);
  const std::string password_file = dir.write("password", k_file_password + "\n");

  const std::string address = redis_address();
  const std::string prefix = taskstore::testing::unique_name("taskctl-secrets");
  RedisUser uri_user(prefix + "-uri", k_uri_password);
  RedisUser env_user(prefix + "-env", k_env_password);
  RedisUser file_user(prefix + "-file", k_file_password);
  RedisUser short_uri_user(prefix + "-s1", k_short_uri);
  RedisUser short_env_user(prefix + "-s2", k_short_env);

  // AWS secrets in the environment of every run.
  const Env aws = {{"AWS_ACCESS_KEY_ID", "AKIDTASKCTLSECRETS"},
                   {"AWS_SECRET_ACCESS_KEY", k_aws_secret},
                   {"AWS_SESSION_TOKEN", k_aws_token},
                   {"AWS_REGION", "us-east-1"}};
  const auto with = [&aws](Env extra) {
    Env env = aws;
    for (auto& [name, value] : extra) {
      env[name] = value;
    }
    return env;
  };
  const std::string query = "?prefix=" + prefix;

  // DynamoDB: a fresh table on dynalite, named through an endpoint with a
  // password in its userinfo (dynalite takes any credentials).
  taskstore::testing::ScopedTestStore dynamo(taskstore::testing::make_dynamodb_test_store());
  const auto dynamo_uri = taskstore::StoreUri::parse(dynamo.store.uri);
  const std::string endpoint = *dynamo_uri.param("endpoint");
  const std::string endpoint_host = endpoint.substr(endpoint.find("://") + 3);
  const std::string endpoint_with_password = "http://alice:" + encoded(k_endpoint_password) + "@" + endpoint_host;

  std::vector<StoreCase> stores = {
    {"redis, password in the URI", "redis://" + uri_user.name + ":" + encoded(k_uri_password) + "@" + address + query,
     with({}), true},
    {"redis, TASKCTL_STORE_PASSWORD", "redis://" + env_user.name + "@" + address + query,
     with({{"TASKCTL_STORE_PASSWORD", k_env_password}}), true},
    {"redis, TASKCTL_STORE_PASSWORD_FILE", "redis://" + file_user.name + "@" + address + query,
     with({{"TASKCTL_STORE_PASSWORD_FILE", password_file}}), true},
    {"redis, a 1-byte password in the URI",
     "redis://" + short_uri_user.name + ":" + encoded(k_short_uri) + "@" + address + query, with({}), true},
    {"redis, a 2-byte TASKCTL_STORE_PASSWORD", "redis://" + short_env_user.name + "@" + address + query,
     with({{"TASKCTL_STORE_PASSWORD", k_short_env}}), true},
    {"redis, the store in TASKCTL_STORE", "", with({{"TASKCTL_STORE", "redis://" + uri_user.name + ":" +
                                                                          encoded(k_uri_password) + "@" + address +
                                                                          query}}),
     false},
    {"redis, a wrong password", "redis://" + uri_user.name + ":" + encoded(k_wrong_password) + "@" + address + query,
     with({}), false},
    {"redis, a wrong TASKCTL_STORE_PASSWORD", "redis://" + env_user.name + "@" + address + query,
     with({{"TASKCTL_STORE_PASSWORD", k_wrong_password}}), false},
    {"redis, a dead server", "redis://u:" + encoded(k_uri_password) + "@127.0.0.1:1" + query, with({}), false},
    {"redis, a dead server, the password file", "redis://u@127.0.0.1:1",
     with({{"TASKCTL_STORE_PASSWORD_FILE", password_file}}), false},
    {"bad URI: the password not encoded", "redis://u:" + k_uri_password + "@127.0.0.1:1", with({}), false},
    {"bad URI: a bad percent-escape", "redis://u:" + encoded(k_uri_password) + "%zz@127.0.0.1:1", with({}), false},
    {"bad URI: no scheme", "u:" + encoded(k_uri_password) + "@127.0.0.1:1", with({}), false},
    {"bad URI: bad port", "redis://u:" + encoded(k_uri_password) + "@127.0.0.1:99999", with({}), false},
    {"malformed query: a parameter twice",
     "redis://u:" + encoded(k_uri_password) + "@127.0.0.1:1?prefix=a&prefix=b", with({}), false},
    {"malformed query: unknown parameter, secret value",
     "redis://u:" + encoded(k_uri_password) + "@127.0.0.1:1?password=" + encoded(k_query_secret) + "&bogus=1",
     with({}), false},
    {"malformed query: a bad escape", "redis://127.0.0.1:1?token=" + encoded(k_query_secret) + "%", with({}), false},
    {"dynamodb, the endpoint's userinfo",
     "dynamodb://" + dynamo_uri.host + "?region=us-east-1&endpoint=" + encoded(endpoint_with_password), with({}),
     true},
    {"dynamodb, issue 14 #10's URI", "dynamodb://t?endpoint=http://alice:a%2Fb9Secret@127.0.0.1:1/&region=x",
     with({}), false},
    {"dynamodb, the endpoint's userinfo written raw",
     "dynamodb://tbl?region=x&endpoint=http://alice:" + encoded(k_endpoint_password) + "@127.0.0.1:1/", with({}),
     false},
  };

  int runs = 0;
  for (auto& store : stores) {
    if (store.uri.empty()) {
      // The store from TASKCTL_STORE: no -s.
      RunOptions options;
      options.env = store.env;
      for (const char* format : {"table", "json"}) {
        for (const auto& command : commands(record_file, "sec:t1")) {
          std::vector<std::string> args = {"--timeout", "2s", "-o", format};
          args.insert(args.end(), command.begin(), command.end());
          const auto r = taskctl(args, options);
          ++runs;
          INFO(store.label << ": " << command[0] << "\n" << describe(r));
          CHECK(leaked(r.out + r.err).empty());
        }
      }
      continue;
    }
    runs += run_everything(store, record_file, editor);
  }
  CHECK(runs > 1000);
}

TEST_CASE("secrets: the scrubber catches what the structure cannot know (a password quoted as input)", "[secrets]")
{
  // The password file named as the input of put and validate: its text must
  // not be echoed back in a parse error.
  TempDir dir;
  const std::string password_file = dir.write("password", k_file_password + "\n");
  SqliteStore store;
  for (const char* format : {"table", "json"}) {
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"put", "sec:t1", password_file}, {"validate", password_file},
          {"validate", "--record", password_file}}) {
      std::vector<std::string> args = {"-o", format};
      args.insert(args.end(), command.begin(), command.end());
      RunOptions options;
      options.env["TASKCTL_STORE_PASSWORD_FILE"] = password_file;
      const auto r = store.run(args, options);
      INFO(describe(r));
      CHECK(r.exit_code != 0);
      CHECK(leaked(r.out + r.err).empty());
    }
  }
}

// ---------------------------------------------------------------- escapes

TEST_CASE("escapes: terminal escapes in a stored statusMessage are shown escaped by get and ls tables",
          "[sqlite-cli]")
{
  SqliteStore store;
  Json record = parse_json(record_json("esc", "t1"));
  record["task"]["statusMessage"] = std::string("\x1b]0;pwned\x07 and \x1b[31mred\tcell\nrow \xc2\x9b""2J \0!", 40);
  store.seed("esc:t1", record.dump());

  const auto get = store.run({"get", "-o", "table", "esc:t1"});
  INFO(describe(get));
  REQUIRE(get.exit_code == 0);
  CHECK(get.out.find('\x1b') == std::string::npos);
  CHECK(get.out.find('\x07') == std::string::npos);
  CHECK(get.out.find("\xc2\x9b") == std::string::npos);
  CHECK(contains(get.out, "\\x1b]0;pwned\\x07 and \\x1b[31mred\\tcell\\nrow \\u009b2J \\x00!\n"));
  CHECK(get.out.find('\0') == std::string::npos);

  const auto ls = store.run({"ls", "-o", "table"});
  INFO(describe(ls));
  REQUIRE(ls.exit_code == 0);
  CHECK(ls.out.find('\x1b') == std::string::npos);
  CHECK(ls.out.find('\x07') == std::string::npos);

  // JSON stays JSON (escaped by its writer), raw stays byte-exact.
  const auto json = store.run({"get", "-o", "json", "esc:t1"});
  CHECK(json.out.find('\x1b') == std::string::npos);
  CHECK(parse_json(json.out)["record"]["task"]["statusMessage"] == record["task"]["statusMessage"]);
  const auto raw = store.run({"get", "-o", "raw", "esc:t1"});
  CHECK(raw.out == record.dump());
}

TEST_CASE("escapes: a key or status with terminal escapes is escaped in error and warning lines", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("esc:t1", record_json("esc", "t1"));
  const auto missing = store.run({"get", "-o", "table", "esc:\x1b]0;pwned\x07\x1b[31m"});
  INFO(describe(missing));
  CHECK(missing.exit_code == 3);
  CHECK(missing.err.find('\x1b') == std::string::npos);
  CHECK(missing.err.find('\x07') == std::string::npos);
  CHECK(contains(missing.err, "\\x1b]0;pwned\\x07\\x1b[31m"));

  // A stored statusMessage quoted by a refusal.
  TempDir dir;
  Json bad = parse_json(record_json("esc", "t2"));
  bad["task"]["status"] = "\x1b[31mworking";
  const auto put = store.run({"put", "esc:t2", dir.write("bad.json", bad.dump())});
  INFO(describe(put));
  CHECK(put.exit_code != 0);
  CHECK(put.err.find('\x1b') == std::string::npos);

  // A JSON error is escaped by the JSON writer and keeps every character.
  const auto json = store.run({"-o", "json", "get", "esc:\x1b[31m"});
  CHECK(json.err.find('\x1b') == std::string::npos);
  CHECK(contains(json.err, "\\u001b[31m"));
}

TEST_CASE("escapes: a NUL in a store URI is shown, not lost (redis://%00@host)", "[sqlite-cli]")
{
  // It used to print only "taskctl: error: Redis user '": the message was
  // cut at the NUL.
  const auto r = taskctl({"-s", "redis://%00@127.0.0.1:1", "--timeout", "1s", "get", "a:b"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find('\0') == std::string::npos);
  const std::string first_line = r.err.substr(0, r.err.find('\n'));
  CHECK(first_line == "taskctl: error: invalid store URI 'redis://%00@127.0.0.1:1': the user name holds a NUL "
                      "byte (%00)");
}
