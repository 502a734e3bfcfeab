// The AWS credential chain through the real taskctl binary: whoami, a role
// assumed through a fake STS on 127.0.0.1 whose credentials then work against
// dynalite, the exit-7 error listing every source tried, and no secret in any
// output.
#include "cli_support.hpp"

#include "dynamodb/sigv4_oracle.hpp"
#include "dynamodb/support.hpp"

#include "taskstore/backends/aws_config.hpp"
#include "taskstore/registry.hpp"

#include "contract/stores.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <functional>

using namespace clitest;
using taskstore::testing::dynamo::CannedResponse;
using taskstore::testing::dynamo::CapturedRequest;
using taskstore::testing::dynamo::CaptureServer;
using taskstore::testing::dynamo::unused_port;

namespace {

// Answers AssumeRole and AssumeRoleWithWebIdentity with credentials numbered
// from 1, valid for an hour.
struct Sts
{
  std::atomic<int> issued{0};
  CaptureServer server{[this](int, const CapturedRequest& r) {
    const std::string action =
      r.body.find("Action=AssumeRoleWithWebIdentity") != std::string::npos ? "AssumeRoleWithWebIdentity" : "AssumeRole";
    const int n = ++issued;
    CannedResponse out;
    out.content_type = "text/xml";
    out.body = "<" + action + "Response><" + action + "Result><Credentials><AccessKeyId>ASIACLI0000" +
               std::to_string(n) + "</AccessKeyId><SecretAccessKey>cli-sts-secret-" + std::to_string(n) +
               "</SecretAccessKey><SessionToken>cli-sts-token-" + std::to_string(n) +
               "</SessionToken><Expiration>" +
               taskstore::aws::format_iso8601(std::chrono::system_clock::now() + std::chrono::hours(1)) +
               "</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/ops/"
               "taskctl</Arn></AssumedRoleUser></" + action + "Result></" + action + "Response>";
    return out;
  }};
};

// An environment with no AWS source but what a test adds: every AWS variable
// unset, HOME an empty directory, instance metadata at a dead port.
RunOptions
aws_env(const TempDir& home)
{
  RunOptions options;
  for (const char* name :
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_EC2_METADATA_DISABLED"}) {
    options.env[name] = std::nullopt;
  }
  options.env["HOME"] = home.path();
  options.env["AWS_REGION"] = "us-east-1";
  options.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:" + std::to_string(unused_port());
  return options;
}

void
check_no_secret(const RunResult& r, const std::vector<std::string>& secrets)
{
  for (const auto& secret : secrets) {
    INFO("secret " << secret);
    CHECK_FALSE(contains(r.out, secret));
    CHECK_FALSE(contains(r.err, secret));
  }
}

} // namespace

TEST_CASE("whoami: environment keys, masked; json; no secret", "[aws-cli]")
{
  TempDir home;
  RunOptions options = aws_env(home);
  options.env["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE";
  options.env["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  options.env["AWS_SESSION_TOKEN"] = "session-token-never-shown";

  auto r = taskctl({"-s", "dynamodb://tasks", "whoami"}, options);
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"));
  CHECK(contains(r.out, "AKIA************MPLE"));
  CHECK(contains(r.out, "us-east-1"));
  CHECK_FALSE(contains(r.out, "AKIAIOSFODNN7EXAMPLE"));
  check_no_secret(r, {"wJalrXUtnFEMI", "session-token-never-shown"});

  r = taskctl({"-s", "dynamodb://tasks?region=eu-west-3", "-o", "json", "whoami"}, options);
  REQUIRE(r.exit_code == 0);
  const Json doc = parse_json(r.out);
  CHECK(doc["backend"] == "dynamodb");
  CHECK(doc["facts"]["region"] == "eu-west-3");
  CHECK(doc["facts"]["region_source"] == "the store URI");
  CHECK(doc["facts"]["access_key_id"] == "AKIA************MPLE");
  CHECK(doc["tried"].empty());
}

TEST_CASE("whoami and a store used through a role assumed with a profile's keys", "[aws-cli]")
{
  const char* endpoint = std::getenv("TASKCTL_TEST_DYNAMODB_ENDPOINT");
  REQUIRE(endpoint != nullptr); // scripts/test starts dynalite
  TempDir home;
  Sts sts;
  RunOptions options = aws_env(home);
  write_file(home.path() + "/credentials", "[base]\naws_access_key_id = AKIDCLIBASE\n"
                                           "aws_secret_access_key = cli-base-secret\n");
  write_file(home.path() + "/config", "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\n"
                                      "source_profile = base\nrole_session_name = taskctl\n");
  options.env["AWS_SHARED_CREDENTIALS_FILE"] = home.path() + "/credentials";
  options.env["AWS_CONFIG_FILE"] = home.path() + "/config";
  options.env["AWS_PROFILE"] = "ops";
  options.env["AWS_ENDPOINT_URL_STS"] = sts.server.endpoint();

  auto r = taskctl({"-s", "dynamodb://tasks", "whoami"}, options);
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "role arn:aws:iam::123456789012:role/ops of profile \"ops\""));
  CHECK(contains(r.out, "arn:aws:sts::123456789012:assumed-role/ops/taskctl"));
  CHECK(contains(r.out, "ASIA****0001"));
  CHECK(contains(r.out, "refreshed before then"));
  check_no_secret(r, {"cli-base-secret", "cli-sts-secret-1", "cli-sts-token-1", "ASIACLI00001"});
  // STS got an AssumeRole signed with the base profile's keys.
  auto requests = sts.server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(*requests[0].header("Authorization") ==
        taskstore::aws::expected_authorization(requests[0], {"AKIDCLIBASE", "cli-base-secret", std::nullopt, ""},
                                               "us-east-1", "sts"));

  // The role's credentials work against DynamoDB (dynalite) for a write and a read.
  auto store = taskstore::testing::make_dynamodb_test_store();
  struct Cleanup
  {
    std::function<void()> run;
    ~Cleanup()
    {
      if (run) {
        run();
      }
    }
  } cleanup{store.cleanup};
  RunOptions put = options;
  put.input = record_json("alice", "t1");
  r = taskctl({"-s", store.uri, "put", "alice:t1"}, put);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  r = taskctl({"-s", store.uri, "-o", "json", "get", "alice:t1"}, options);
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["version"] == 1);
  check_no_secret(r, {"cli-base-secret", "cli-sts-secret"});
  CHECK(sts.server.requests().size() == 3); // one AssumeRole per run
}

TEST_CASE("no AWS credentials: exit 7 listing every source tried", "[aws-cli]")
{
  TempDir home;
  const auto r = taskctl({"-s", "dynamodb://tasks", "ls"}, aws_env(home));
  INFO(describe(r));
  CHECK(r.exit_code == 7);
  for (const char* source : {"1. environment variables", "2. web identity", "3. profile \"default\"",
                             "4. container credentials", "5. EC2 instance metadata"}) {
    CHECK(contains(r.err, source));
  }
  const auto w = taskctl({"-s", "dynamodb://tasks", "-o", "json", "whoami"}, aws_env(home));
  CHECK(w.exit_code == 7);
  CHECK(contains(w.out + w.err, "tried, in order"));
}

TEST_CASE("profiles taskctl refuses: mfa_serial, a source_profile cycle", "[aws-cli]")
{
  TempDir home;
  RunOptions options = aws_env(home);
  write_file(home.path() + "/config", "[profile mfa]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = base\n"
                                      "mfa_serial = arn:aws:iam::1:mfa/me\n"
                                      "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
                                      "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n");
  options.env["AWS_CONFIG_FILE"] = home.path() + "/config";
  options.env["AWS_PROFILE"] = "mfa";
  auto r = taskctl({"-s", "dynamodb://tasks", "whoami"}, options);
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "aws sts get-session-token"));
  options.env["AWS_PROFILE"] = "a";
  r = taskctl({"-s", "dynamodb://tasks", "whoami"}, options);
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "cycle"));
}

TEST_CASE("whoami on Redis and SQLite stores: the user, where the password comes from", "[aws-cli]")
{
  TempDir home;
  RunOptions options = aws_env(home);
  options.env["TASKCTL_STORE_PASSWORD"] = "redis-password-never-shown";
  auto r = taskctl({"-s", "redis://ops@127.0.0.1:1/0", "whoami"}, options);
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "ops"));
  CHECK(contains(r.out, "TASKCTL_STORE_PASSWORD"));
  check_no_secret(r, {"redis-password-never-shown"});
  r = taskctl({"-s", "sqlite://" + home.path() + "/none.db", "whoami"}, options);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "none (a local store"));
}
