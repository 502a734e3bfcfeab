// The AWS credential chain: the order of the sources, profiles with role
// chains, STS (AssumeRole and AssumeRoleWithWebIdentity) against a fake STS
// on 127.0.0.1 that checks each request, refresh before expiry, and the error
// that lists every source tried. The credentials the fake hands out must sign
// DynamoDB requests that the SigV4 oracle verifies.
#include "dynamodb/sigv4_oracle.hpp"
#include "dynamodb/support.hpp"

#include "taskstore/backends/aws_config.hpp"
#include "taskstore/backends/aws_credentials.hpp"
#include "taskstore/backends/aws_sts.hpp"
#include "taskstore/backends/aws_transport.hpp"
#include "taskstore/error.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>

using namespace taskstore;
using namespace taskstore::testing::dynamo;

namespace {

std::string
url_decode(const std::string& text)
{
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

std::map<std::string, std::string>
form_of(const std::string& body)
{
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < body.size()) {
    auto amp = body.find('&', start);
    if (amp == std::string::npos) {
      amp = body.size();
    }
    const std::string pair = body.substr(start, amp - start);
    const auto eq = pair.find('=');
    out[url_decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1));
    start = amp + 1;
  }
  return out;
}

// A fake STS: each AssumeRole / AssumeRoleWithWebIdentity gets credentials
// numbered from 1 (ASIASTS1 / sts-secret-1 / sts-token-1), valid for
// `lifetime`; or, while `refuse` is set, an ErrorResponse with that code.
struct FakeSts
{
  std::atomic<int> issued{0};
  std::atomic<int> lifetime_seconds{3600};
  std::string refuse; // set before requests are made
  CaptureServer server;

  FakeSts()
    : server([this](int, const CapturedRequest& r) { return answer(r); })
  {
  }

  CannedResponse answer(const CapturedRequest& r)
  {
    CannedResponse out;
    out.content_type = "text/xml";
    const auto form = form_of(r.body);
    const auto action = form.count("Action") ? form.at("Action") : "";
    if (!refuse.empty()) {
      out.status = 403;
      out.body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
                 "<Code>" + refuse + "</Code><Message>not allowed to assume " + form.at("RoleArn") +
                 "</Message></Error><RequestId>req-1</RequestId></ErrorResponse>";
      return out;
    }
    const int n = ++issued;
    const auto expires = std::chrono::system_clock::now() + std::chrono::seconds(lifetime_seconds.load());
    out.body = "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
               "Result><Credentials><AccessKeyId>ASIASTS" + std::to_string(n) +
               "</AccessKeyId><SecretAccessKey>sts-secret-" + std::to_string(n) +
               "</SecretAccessKey><SessionToken>sts-token-" + std::to_string(n) +
               "</SessionToken><Expiration>" + aws::format_iso8601(expires) +
               "</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:x</AssumedRoleId><Arn>"
               "arn:aws:sts::123456789012:assumed-role/" + form.at("RoleSessionName") +
               "</Arn></AssumedRoleUser></" + action + "Result><ResponseMetadata><RequestId>r" +
               std::to_string(n) + "</RequestId></ResponseMetadata></" + action + "Response>";
    return out;
  }
};

aws::Credentials
issued(int n)
{
  aws::Credentials c;
  c.access_key_id = "ASIASTS" + std::to_string(n);
  c.secret_access_key = "sts-secret-" + std::to_string(n);
  c.session_token = "sts-token-" + std::to_string(n);
  return c;
}

// An environment where nothing answers but what a test adds: no files, no
// container variables, instance metadata at a port nothing listens on.
Env
bare_env(const TempDir& dir, const FakeSts* sts = nullptr)
{
  Env env;
  env.vars = {{"HOME", dir.path()},
              {"AWS_REGION", "eu-west-3"},
              {"AWS_CONFIG_FILE", dir.path() + "/config"},
              {"AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/credentials"},
              {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(unused_port())}};
  if (sts != nullptr) {
    env.vars["AWS_ENDPOINT_URL_STS"] = sts->server.endpoint();
  }
  return env;
}

// A chain request for profile in eu-west-3 that refreshes whenever the
// credentials are within the window (no min_interval).
aws::ChainRequest
chain_request(const std::string& profile, const std::string& profile_source)
{
  aws::ChainRequest request;
  request.what = "dynamodb://t";
  request.profile = profile;
  request.profile_source = profile_source;
  request.region = "eu-west-3";
  request.refresh.min_interval = std::chrono::seconds(0);
  return request;
}

aws::ResolvedConfig
resolve(const Env& env)
{
  aws::ConfigRequest request;
  request.what = "dynamodb://t";
  return aws::resolve_config(request, env.lookup());
}


// Signs one GetItem with provider against a capturing DynamoDB endpoint and
// returns the captured request.
CapturedRequest
signed_dynamodb_request(const std::shared_ptr<aws::CredentialProvider>& provider)
{
  CaptureServer dynamo([](int, const CapturedRequest&) { return CannedResponse{200, "{}"}; });
  aws::ClientOptions options;
  options.endpoint = dynamo.endpoint();
  options.region = "eu-west-3";
  options.provider = provider;
  aws::JsonClient client(options);
  client.call("GetItem", nlohmann::json::object());
  REQUIRE(dynamo.requests().size() == 1);
  return dynamo.requests()[0];
}

// Checks that request is a DynamoDB request signed with credentials.
void
check_signed_with(const CapturedRequest& request, const aws::Credentials& credentials)
{
  REQUIRE(request.header("Authorization"));
  const auto auth = aws::parse_authorization(*request.header("Authorization"));
  CHECK(auth.credential.rfind(credentials.access_key_id + "/", 0) == 0);
  CHECK(request.header("X-Amz-Security-Token") == credentials.session_token);
  CHECK(*request.header("Authorization") ==
        aws::expected_authorization(request, credentials, "eu-west-3", "dynamodb"));
}

} // namespace

TEST_CASE("chain: a role assumed with a source profile's keys signs DynamoDB requests", "[chain]")
{
  TempDir dir;
  FakeSts sts;
  Env env = bare_env(dir, &sts);
  dir.write("credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = secret-base\n"
                           "aws_session_token = token-base\n");
  dir.write("config", "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = base\n"
                      "role_session_name = nightly-gc\nexternal_id = ext-42\nduration_seconds = 1800\n");
  env.vars["AWS_PROFILE"] = "ops";

  const auto config = resolve(env);
  CHECK(config.credentials.access_key_id == "ASIASTS1");
  CHECK(config.credentials.identity == "arn:aws:sts::123456789012:assumed-role/nightly-gc");
  CHECK(config.credentials.expiration.has_value());
  CHECK(config.credentials.source.find("role arn:aws:iam::123456789012:role/ops of profile \"ops\"") !=
        std::string::npos);
  CHECK(config.credentials.source.find("profile \"base\"") != std::string::npos);
  CHECK(config.provider->tried().size() == 2); // the environment, web identity

  // The AssumeRole request: a signed form post with the profile's settings.
  const auto requests = sts.server.requests();
  REQUIRE(requests.size() == 1);
  const CapturedRequest& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.path == "/");
  CHECK(r.header("Content-Type")->rfind("application/x-www-form-urlencoded", 0) == 0);
  const auto form = form_of(r.body);
  CHECK(form.at("Action") == "AssumeRole");
  CHECK(form.at("Version") == "2011-06-15");
  CHECK(form.at("RoleArn") == "arn:aws:iam::123456789012:role/ops");
  CHECK(form.at("RoleSessionName") == "nightly-gc");
  CHECK(form.at("ExternalId") == "ext-42");
  CHECK(form.at("DurationSeconds") == "1800");
  const aws::Credentials base{"AKIDBASE", "secret-base", std::string("token-base"), ""};
  CHECK(r.header("X-Amz-Security-Token") == std::optional<std::string>("token-base"));
  CHECK(aws::parse_authorization(*r.header("Authorization")).credential.find("/eu-west-3/sts/aws4_request") !=
        std::string::npos);
  CHECK(*r.header("Authorization") == aws::expected_authorization(r, base, "eu-west-3", "sts"));

  // The role's credentials sign DynamoDB requests.
  check_signed_with(signed_dynamodb_request(config.provider), issued(1));
}

TEST_CASE("chain: web identity from the environment: unsigned, the token read from its file", "[chain]")
{
  TempDir dir;
  FakeSts sts;
  Env env = bare_env(dir, &sts);
  env.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir.write("token", "eyJ.first.token\n");
  env.vars["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/irsa";
  env.vars["AWS_ROLE_SESSION_NAME"] = "pod-1";
  // A profile with static keys comes after web identity.
  dir.write("credentials", "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n");

  const auto config = resolve(env);
  CHECK(config.credentials.access_key_id == "ASIASTS1");
  CHECK(config.credentials.source.find("web identity") != std::string::npos);
  auto requests = sts.server.requests();
  REQUIRE(requests.size() == 1);
  CHECK_FALSE(requests[0].header("Authorization"));
  auto form = form_of(requests[0].body);
  CHECK(form.at("Action") == "AssumeRoleWithWebIdentity");
  CHECK(form.at("RoleArn") == "arn:aws:iam::123456789012:role/irsa");
  CHECK(form.at("RoleSessionName") == "pod-1");
  CHECK(form.at("WebIdentityToken") == "eyJ.first.token");
  check_signed_with(signed_dynamodb_request(config.provider), issued(1));

  SECTION("the token file is read again on refresh (Kubernetes rotates it)")
  {
    dir.write("token", "eyJ.second.token");
    sts.lifetime_seconds = 60;
    aws::SharedFiles files(env.lookup());
    const auto request = chain_request("default", "the default profile");
    auto provider = aws::resolve_credentials(request, files, env.lookup());
    CHECK(provider->current().access_key_id == "ASIASTS3");
    requests = sts.server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(form_of(requests[2].body).at("WebIdentityToken") == "eyJ.second.token");
  }
  SECTION("only one of the two variables is an error")
  {
    env.vars.erase("AWS_ROLE_ARN");
    CHECK(message_of<ConfigError>([&] { resolve(env); }).find("only AWS_WEB_IDENTITY_TOKEN_FILE is set") !=
          std::string::npos);
  }
  SECTION("an unreadable token file is an error naming it")
  {
    env.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir.path() + "/missing-token";
    CHECK(message_of<ConfigError>([&] { resolve(env); }).find(dir.path() + "/missing-token") != std::string::npos);
  }
}

TEST_CASE("chain: precedence: environment, web identity, the profile", "[chain]")
{
  TempDir dir;
  FakeSts sts;
  Env env = bare_env(dir, &sts);
  dir.write("credentials", "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n");
  env.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir.write("token", "tok");
  env.vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  env.vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env.vars["AWS_SECRET_ACCESS_KEY"] = "secret-env";

  CHECK(resolve(env).credentials.access_key_id == "AKIDENV");
  CHECK(sts.server.requests().empty());
  env.vars.erase("AWS_ACCESS_KEY_ID");
  env.vars.erase("AWS_SECRET_ACCESS_KEY");
  CHECK(resolve(env).credentials.access_key_id == "ASIASTS1");
  env.vars.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
  env.vars.erase("AWS_ROLE_ARN");
  const auto config = resolve(env);
  CHECK(config.credentials.access_key_id == "AKIDPROFILE");
  CHECK(config.provider->tried().size() == 2);
  CHECK(sts.server.requests().size() == 1);

  SECTION("in a profile, role_arn wins over the profile's own static keys when the source is another profile")
  {
    dir.write("config", "[profile both]\nrole_arn = arn:aws:iam::1:role/both\nsource_profile = default\n");
    dir.write("credentials", "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n"
                             "[both]\naws_access_key_id = AKIDBOTH\naws_secret_access_key = s2\n");
    env.vars["AWS_PROFILE"] = "both";
    CHECK(resolve(env).credentials.access_key_id == "ASIASTS2");
    const auto requests = sts.server.requests();
    CHECK(aws::parse_authorization(*requests.back().header("Authorization")).credential.rfind("AKIDPROFILE/", 0) ==
          0);
  }
  SECTION("a profile that is its own source_profile assumes its role with its own keys")
  {
    dir.write("credentials", "[self]\naws_access_key_id = AKIDSELF\naws_secret_access_key = s3\n");
    dir.write("config", "[profile self]\nrole_arn = arn:aws:iam::1:role/self\nsource_profile = self\n");
    env.vars["AWS_PROFILE"] = "self";
    CHECK(resolve(env).credentials.access_key_id == "ASIASTS2");
    CHECK(aws::parse_authorization(*sts.server.requests().back().header("Authorization")).credential.rfind("AKIDSELF/", 0) ==
          0);
  }
}

TEST_CASE("chain: role chains, credential_source, and the profiles taskctl refuses", "[chain]")
{
  TempDir dir;
  FakeSts sts;
  Env env = bare_env(dir, &sts);
  dir.write("credentials", "[root]\naws_access_key_id = AKIDROOT\naws_secret_access_key = secret-root\n");
  dir.write("config",
            "[profile middle]\nrole_arn = arn:aws:iam::1:role/middle\nsource_profile = root\n"
            "[profile top]\nrole_arn = arn:aws:iam::2:role/top\nsource_profile = middle\n"
            "[profile loop-a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop-b\n"
            "[profile loop-b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = loop-a\n"
            "[profile orphan]\nrole_arn = arn:aws:iam::1:role/o\nsource_profile = nosuch\n"
            "[profile mfa]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = root\n"
            "mfa_serial = arn:aws:iam::1:mfa/me\n"
            "[profile keysmfa]\naws_access_key_id = AKIDKEYSMFA\naws_secret_access_key = s\n"
            "mfa_serial = arn:aws:iam::1:mfa/me\n"
            "[profile fromenv]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = Environment\n"
            "[profile badsource]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Laptop\n"
            "[profile longrole]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = root\nduration_seconds = 99\n"
            "[profile noroot]\nrole_arn = arn:aws:iam::1:role/n\n");

  SECTION("top -> middle -> root: two AssumeRole calls, each signed with the previous credentials")
  {
    env.vars["AWS_PROFILE"] = "top";
    const auto config = resolve(env);
    CHECK(config.credentials.access_key_id == "ASIASTS2");
    const auto requests = sts.server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(form_of(requests[0].body).at("RoleArn") == "arn:aws:iam::1:role/middle");
    CHECK(*requests[0].header("Authorization") ==
          aws::expected_authorization(requests[0], {"AKIDROOT", "secret-root", std::nullopt, ""}, "eu-west-3",
                                      "sts"));
    CHECK(form_of(requests[1].body).at("RoleArn") == "arn:aws:iam::2:role/top");
    CHECK(*requests[1].header("Authorization") == aws::expected_authorization(requests[1], issued(1), "eu-west-3", "sts"));
    check_signed_with(signed_dynamodb_request(config.provider), issued(2));
  }
  SECTION("mfa_serial beside static keys and no role_arn is ignored, as in the SDKs")
  {
    env.vars["AWS_PROFILE"] = "keysmfa";
    CHECK(resolve(env).credentials.access_key_id == "AKIDKEYSMFA");
  }
  SECTION("credential_source = Environment")
  {
    env.vars["AWS_PROFILE"] = "fromenv";
    CHECK(message_of<ConfigError>([&] { resolve(env); }).find("credential_source = Environment") !=
          std::string::npos);
    // With the variables set, the environment comes first in the chain; the
    // profile's role is only used through credential_source when they are
    // the source, which is the same keys: so check the request's signer.
    aws::SharedFiles files(env.lookup());
    const auto request = chain_request("fromenv", "AWS_PROFILE");
    env.vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
    env.vars["AWS_SECRET_ACCESS_KEY"] = "secret-env";
    CHECK(aws::resolve_credentials(request, files, env.lookup())->current().access_key_id == "AKIDENV");
  }
  SECTION("errors: a cycle, a missing source profile, mfa_serial, a bad credential_source, bad duration")
  {
    const auto error_for = [&](const std::string& profile) {
      env.vars["AWS_PROFILE"] = profile;
      return message_of<ConfigError>([&] { resolve(env); });
    };
    CHECK(error_for("loop-a").find("cycle: profile \"loop-a\" -> profile \"loop-b\" -> profile \"loop-a\"") !=
          std::string::npos);
    CHECK(error_for("orphan").find("source_profile \"nosuch\"") != std::string::npos);
    const auto mfa = error_for("mfa");
    CHECK(mfa.find("mfa_serial") != std::string::npos);
    CHECK(mfa.find("aws sts get-session-token") != std::string::npos);
    CHECK(error_for("badsource").find("'Laptop' is not one of Environment, Ec2InstanceMetadata, EcsContainer") !=
          std::string::npos);
    CHECK(error_for("longrole").find("duration_seconds '99'") != std::string::npos);
    CHECK(error_for("noroot").find("neither source_profile nor credential_source") != std::string::npos);
    CHECK(error_for("nosuchprofile").find("profile \"nosuchprofile\" (from AWS_PROFILE) is in neither") !=
          std::string::npos);
    CHECK(sts.server.requests().empty());
  }
}

TEST_CASE("chain: STS refusing names its code, never a secret", "[chain]")
{
  TempDir dir;
  FakeSts sts;
  sts.refuse = "AccessDenied";
  Env env = bare_env(dir, &sts);
  dir.write("credentials", "[root]\naws_access_key_id = AKIDROOT\naws_secret_access_key = secret-root-XYZ\n"
                           "aws_session_token = token-root-XYZ\n");
  dir.write("config", "[profile ops]\nrole_arn = arn:aws:iam::1:role/ops\nsource_profile = root\n");
  env.vars["AWS_PROFILE"] = "ops";
  const auto message = message_of<ConfigError>([&] { resolve(env); });
  CHECK(message.find("assuming role arn:aws:iam::1:role/ops") != std::string::npos);
  CHECK(message.find("AccessDenied: not allowed to assume arn:aws:iam::1:role/ops") != std::string::npos);
  CHECK(message.find("req-1") != std::string::npos);
  CHECK(message.find("secret-root-XYZ") == std::string::npos);
  CHECK(message.find("token-root-XYZ") == std::string::npos);

  SECTION("an STS that does not answer")
  {
    env.vars["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:" + std::to_string(unused_port());
    CHECK(message_of<ConfigError>([&] { resolve(env); }).find("STS could not be reached") != std::string::npos);
  }
  SECTION("an STS that answers without end is cut off at 1 MiB, not read into memory")
  {
    CaptureServer flood([](int, const CapturedRequest&) {
      CannedResponse out;
      out.content_type = "text/xml";
      out.body = "<AssumeRoleResponse>" + std::string(4 << 20, ' ') + "</AssumeRoleResponse>";
      return out;
    });
    env.vars["AWS_ENDPOINT_URL_STS"] = flood.endpoint();
    const auto flooded = message_of<ConfigError>([&] { resolve(env); });
    CHECK(flooded.find("STS could not be reached") != std::string::npos);
    CHECK(flooded.find("larger than 1048576 bytes") != std::string::npos);
  }
  SECTION("an answer that is not XML, or holds no credentials")
  {
    CHECK_THROWS_AS(aws::parse_sts_answer("{\"json\": true}"), ConfigError);
    CHECK(aws::parse_sts_answer("<AssumeRoleResponse/>").access_key_id.empty());
  }
}

TEST_CASE("chain: temporary credentials are fetched again before they expire", "[chain]")
{
  TempDir dir;
  FakeSts sts;
  sts.lifetime_seconds = 120; // inside the 5-minute refresh window
  Env env = bare_env(dir, &sts);
  dir.write("credentials", "[root]\naws_access_key_id = AKIDROOT\naws_secret_access_key = secret-root\n");
  dir.write("config", "[profile ops]\nrole_arn = arn:aws:iam::1:role/ops\nsource_profile = root\n");
  aws::SharedFiles files(env.lookup());
  auto request = chain_request("ops", "AWS_PROFILE");
  auto provider = aws::resolve_credentials(request, files, env.lookup());
  CHECK(provider->fetches() == 1);

  // Each DynamoDB request is signed with credentials fetched for it.
  check_signed_with(signed_dynamodb_request(provider), issued(2));
  check_signed_with(signed_dynamodb_request(provider), issued(3));
  CHECK(provider->fetches() == 3);

  SECTION("long-lived credentials are not fetched again")
  {
    sts.lifetime_seconds = 3600;
    auto lasting = aws::resolve_credentials(request, files, env.lookup());
    const int before = sts.issued;
    check_signed_with(signed_dynamodb_request(lasting), issued(before));
    CHECK(lasting->fetches() == 1);
  }
  SECTION("a failed refresh keeps credentials that still work")
  {
    sts.refuse = "ServiceUnavailable";
    CHECK(provider->current().access_key_id == "ASIASTS3");
  }
  SECTION("a failed refresh of expired credentials is an error")
  {
    sts.lifetime_seconds = -5;
    auto expired = aws::resolve_credentials(request, files, env.lookup());
    sts.refuse = "ExpiredToken";
    CHECK_THROWS_AS(expired->current(), ConfigError);
  }
  SECTION("min_interval: credentials that still work are not fetched on every request")
  {
    request.refresh.min_interval = std::chrono::seconds(3600);
    auto calm = aws::resolve_credentials(request, files, env.lookup());
    calm->current();
    calm->current();
    CHECK(calm->fetches() == 1);
  }
}

TEST_CASE("chain: when no source applies, the error lists every source tried", "[chain]")
{
  TempDir dir;
  Env env = bare_env(dir);
  const auto message = message_of<ConfigError>([&] { resolve(env); });
  INFO(message);
  CHECK(message.find("no AWS credentials for dynamodb://t; tried, in order:") != std::string::npos);
  CHECK(message.find("1. environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: not set") !=
        std::string::npos);
  CHECK(message.find("2. web identity AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN: not set") != std::string::npos);
  CHECK(message.find("3. profile \"default\" (the default profile): in neither the shared credentials file " +
                     dir.path() + "/credentials (not found) nor the config file " + dir.path() +
                     "/config (not found)") != std::string::npos);
  CHECK(message.find("4. container credentials AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI: not set") !=
        std::string::npos);
  CHECK(message.find("5. EC2 instance metadata: ") != std::string::npos);
  CHECK(message.find("aws configure") != std::string::npos);

  SECTION("a default profile with no credentials says so")
  {
    dir.write("config", "[default]\nregion = eu-west-1\n");
    CHECK(message_of<ConfigError>([&] { resolve(env); }).find("3. profile \"default\" (the default profile): it sets no credentials") !=
          std::string::npos);
  }
}
