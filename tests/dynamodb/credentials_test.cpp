// Credentials, region and endpoint resolution in AWS's order of precedence,
// with temporary AWS config files and environments; and the URI checks of
// open_store("dynamodb://...").
#include "dynamodb/support.hpp"

#include "taskstore/backends/aws_config.hpp"
#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

using namespace taskstore;
using namespace taskstore::testing::dynamo;

namespace {

aws::ResolvedConfig
resolve(const Env& env, std::optional<std::string> region = std::nullopt,
        std::optional<std::string> endpoint = std::nullopt)
{
  aws::ConfigRequest request;
  request.region = std::move(region);
  request.endpoint = std::move(endpoint);
  request.what = "dynamodb://t";
  return aws::resolve_config(request, env.lookup());
}


const char* k_credentials_file = R"(# shared credentials
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret-default

[work]
aws_access_key_id=AKIDWORK
aws_secret_access_key=secret/work+x
aws_session_token = token-work
)";

const char* k_config_file = R"(; config
[default]
region = eu-west-1

[profile work]
region = ap-southeast-2
s3 =
  addressing_style = path

[profile cfgonly]
region = us-west-2
aws_access_key_id = AKIDCFG
aws_secret_access_key = secret-cfg
endpoint_url = http://127.0.0.1:9999

[profile assumed]
role_arn = arn:aws:iam::123456789012:role/x
source_profile = default
)";

} // namespace

TEST_CASE("credentials: environment variables come first", "[credentials]")
{
  TempDir dir;
  Env env;
  env.vars = {{"HOME", dir.path()},
              {"AWS_ACCESS_KEY_ID", "AKIDENV"},
              {"AWS_SECRET_ACCESS_KEY", "secret-env"},
              {"AWS_SESSION_TOKEN", "token-env"},
              {"AWS_PROFILE", "work"},
              {"AWS_SHARED_CREDENTIALS_FILE", dir.write("credentials", k_credentials_file)},
              {"AWS_CONFIG_FILE", dir.write("config", k_config_file)}};
  const auto c = resolve(env);
  CHECK(c.credentials.access_key_id == "AKIDENV");
  CHECK(c.credentials.secret_access_key == "secret-env");
  CHECK(c.credentials.session_token == std::optional<std::string>("token-env"));
  CHECK(c.credentials.source.find("environment") != std::string::npos);
  // The region still comes from the profile's config section.
  CHECK(c.region == "ap-southeast-2");
  CHECK(c.endpoint == "https://dynamodb.ap-southeast-2.amazonaws.com");
  CHECK(c.endpoint_source == "default");

  SECTION("partial environment credentials are an error, not a fallback")
  {
    env.vars.erase("AWS_SECRET_ACCESS_KEY");
    const auto message = message_of<ConfigError>([&] { resolve(env); });
    CHECK(message.find("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not") != std::string::npos);
  }
}

TEST_CASE("credentials: the profile in the shared credentials file, then in the config file", "[credentials]")
{
  TempDir dir;
  dir.write("credentials", k_credentials_file);
  dir.write("config", k_config_file);
  Env env;
  // The default locations: ~/.aws/credentials and ~/.aws/config.
  std::filesystem::create_directories(dir.path() + "/home/.aws");
  std::filesystem::copy_file(dir.path() + "/credentials", dir.path() + "/home/.aws/credentials");
  std::filesystem::copy_file(dir.path() + "/config", dir.path() + "/home/.aws/config");
  env.vars = {{"HOME", dir.path() + "/home"}};

  SECTION("default profile from ~/.aws")
  {
    const auto c = resolve(env);
    CHECK(c.credentials.access_key_id == "AKIDDEFAULT");
    CHECK(c.credentials.secret_access_key == "secret-default");
    CHECK_FALSE(c.credentials.session_token);
    CHECK(c.credentials.source.find(dir.path() + "/home/.aws/credentials") != std::string::npos);
    CHECK(c.region == "eu-west-1");
    CHECK(c.region_source.find("config") != std::string::npos);
    CHECK(c.profile == "default");
  }
  SECTION("AWS_PROFILE selects [work] in credentials and [profile work] in config")
  {
    env.vars["AWS_PROFILE"] = "work";
    const auto c = resolve(env);
    CHECK(c.credentials.access_key_id == "AKIDWORK");
    CHECK(c.credentials.secret_access_key == "secret/work+x");
    CHECK(c.credentials.session_token == std::optional<std::string>("token-work"));
    CHECK(c.region == "ap-southeast-2");
  }
  SECTION("a profile with keys only in the config file, and its endpoint_url")
  {
    env.vars["AWS_PROFILE"] = "cfgonly";
    const auto c = resolve(env);
    CHECK(c.credentials.access_key_id == "AKIDCFG");
    CHECK(c.credentials.source.find("config file") != std::string::npos);
    CHECK(c.region == "us-west-2");
    CHECK(c.endpoint == "http://127.0.0.1:9999");
    env.vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
    CHECK(resolve(env).endpoint == "https://dynamodb.us-west-2.amazonaws.com");
  }
  SECTION("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE replace the default paths")
  {
    env.vars["AWS_SHARED_CREDENTIALS_FILE"] = dir.write("other-credentials", "[default]\naws_access_key_id=AKIDOTHER\naws_secret_access_key=s\n");
    env.vars["AWS_CONFIG_FILE"] = dir.write("other-config", "[default]\nregion=sa-east-1\n");
    const auto c = resolve(env);
    CHECK(c.credentials.access_key_id == "AKIDOTHER");
    CHECK(c.region == "sa-east-1");
  }
}

TEST_CASE("credentials: missing credentials say where taskctl looked", "[credentials]")
{
  TempDir dir;
  Env env;
  env.vars = {{"HOME", dir.path()},
              {"AWS_REGION", "us-east-1"},
              {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(unused_port())}};
  auto message = message_of<ConfigError>([&] { resolve(env); });
  CHECK(message.find("no AWS credentials for dynamodb://t") != std::string::npos);
  CHECK(message.find("AWS_ACCESS_KEY_ID") != std::string::npos);
  CHECK(message.find(dir.path() + "/.aws/credentials (not found)") != std::string::npos);
  CHECK(message.find(dir.path() + "/.aws/config (not found)") != std::string::npos);
  CHECK(message.find("profile \"default\"") != std::string::npos);

  // A profile that is in neither file: an error of its own (it was asked for).
  env.vars["AWS_PROFILE"] = "nosuch";
  env.vars["AWS_SHARED_CREDENTIALS_FILE"] = dir.write("credentials", k_credentials_file);
  message = message_of<ConfigError>([&] { resolve(env); });
  CHECK(message.find("profile \"nosuch\" (from AWS_PROFILE) is in neither the shared credentials file " +
                     dir.path() + "/credentials nor the config file") != std::string::npos);
}

TEST_CASE("region: the URI, AWS_REGION, AWS_DEFAULT_REGION, then the config file", "[credentials]")
{
  TempDir dir;
  Env env;
  env.vars = {{"HOME", dir.path()},
              {"AWS_ACCESS_KEY_ID", "AKID"},
              {"AWS_SECRET_ACCESS_KEY", "s"},
              {"AWS_CONFIG_FILE", dir.write("config", "[default]\nregion = eu-central-1\n")}};
  CHECK(resolve(env).region == "eu-central-1");
  env.vars["AWS_DEFAULT_REGION"] = "eu-north-1";
  CHECK(resolve(env).region == "eu-north-1");
  env.vars["AWS_REGION"] = "eu-south-1";
  CHECK(resolve(env).region == "eu-south-1");
  CHECK(resolve(env, std::string("cn-north-1")).region == "cn-north-1");
  CHECK(resolve(env, std::string("cn-north-1")).region_source == "the store URI");
  CHECK(resolve(env, std::string("cn-north-1")).endpoint == "https://dynamodb.cn-north-1.amazonaws.com.cn");

  SECTION("no region anywhere")
  {
    env.vars.erase("AWS_REGION");
    env.vars.erase("AWS_DEFAULT_REGION");
    env.vars["AWS_CONFIG_FILE"] = dir.path() + "/missing-config";
    env.vars["AWS_EC2_METADATA_DISABLED"] = "true";
    const auto message = message_of<ConfigError>([&] { resolve(env); });
    CHECK(message.find("no AWS region for dynamodb://t") != std::string::npos);
    CHECK(message.find("AWS_REGION, AWS_DEFAULT_REGION") != std::string::npos);
    CHECK(message.find(dir.path() + "/missing-config (not found)") != std::string::npos);
  }
  SECTION("a malformed region")
  {
    CHECK_THROWS_AS(resolve(env, std::string("us east")), InvalidArgument);
  }
}

TEST_CASE("endpoint: the URI, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, default", "[credentials]")
{
  TempDir dir;
  Env env;
  env.vars = {{"HOME", dir.path()}, {"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"},
              {"AWS_REGION", "us-east-2"}};
  CHECK(resolve(env).endpoint == "https://dynamodb.us-east-2.amazonaws.com");
  env.vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1000";
  CHECK(resolve(env).endpoint == "http://127.0.0.1:1000");
  env.vars["AWS_ENDPOINT_URL_DYNAMODB"] = "http://127.0.0.1:2000/";
  CHECK(resolve(env).endpoint == "http://127.0.0.1:2000");
  CHECK(resolve(env).endpoint_source == "AWS_ENDPOINT_URL_DYNAMODB");
  CHECK(resolve(env, std::nullopt, std::string("https://ddb.example.test")).endpoint == "https://ddb.example.test");
  env.vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  CHECK(resolve(env).endpoint == "https://dynamodb.us-east-2.amazonaws.com");
  CHECK_THROWS_AS(resolve(env, std::nullopt, std::string("ftp://x")), InvalidArgument);
}

TEST_CASE("open_store(dynamodb://...): URI checks and configuration errors", "[credentials]")
{
  TempDir dir;
  EnvGuard guard;
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                           "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
                           "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
                           "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                           "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI"}) {
    guard.set(name, std::nullopt);
  }
  guard.set("AWS_EC2_METADATA_DISABLED", "true");
  guard.set("HOME", dir.path());

  SECTION("no credentials: ConfigError naming the places")
  {
    const auto message =
      message_of<ConfigError>([] { open_store("dynamodb://tasks?region=us-east-1"); });
    CHECK(message.find("no AWS credentials for dynamodb://tasks?region=us-east-1") != std::string::npos);
    CHECK(message.find(dir.path() + "/.aws/credentials") != std::string::npos);
  }
  SECTION("credentials but no region: ConfigError")
  {
    guard.set("AWS_ACCESS_KEY_ID", "AKID");
    guard.set("AWS_SECRET_ACCESS_KEY", "s");
    const auto message = message_of<ConfigError>([] { open_store("dynamodb://tasks"); });
    CHECK(message.find("no AWS region") != std::string::npos);
  }
  SECTION("a complete configuration opens without a request")
  {
    guard.set("AWS_ACCESS_KEY_ID", "AKID");
    guard.set("AWS_SECRET_ACCESS_KEY", "s");
    guard.set("AWS_REGION", "us-east-1");
    auto store = open_store("dynamodb://");
    CHECK(store->name() == "dynamodb");
    CHECK(open_store("dynamodb://my.table-1?timeout=2s&endpoint=http://127.0.0.1:1")->name() == "dynamodb");
  }
  SECTION("bad URIs are InvalidArgument")
  {
    guard.set("AWS_ACCESS_KEY_ID", "AKID");
    guard.set("AWS_SECRET_ACCESS_KEY", "s");
    guard.set("AWS_REGION", "us-east-1");
    CHECK_THROWS_AS(open_store("dynamodb://t1x?bogus=1"), InvalidArgument);
    CHECK_THROWS_AS(open_store("dynamodb://user:pass@table"), InvalidArgument);
    CHECK_THROWS_AS(open_store("dynamodb://table:8000"), InvalidArgument);
    CHECK_THROWS_AS(open_store("dynamodb://ab"), InvalidArgument);
    CHECK_THROWS_AS(open_store("dynamodb://bad%20name"), InvalidArgument);
    CHECK_THROWS_AS(open_store("dynamodb://table/extra"), InvalidArgument);
    CHECK_THROWS_AS(open_store("dynamodb://table?timeout=soon"), InvalidArgument);
    CHECK_THROWS_AS(open_store("dynamodb://table?endpoint=127.0.0.1:8000"), InvalidArgument);
    const auto message = message_of<InvalidArgument>([] { open_store("dynamodb://table?profile=x"); });
    CHECK(message.find("profile") != std::string::npos);
  }
}
