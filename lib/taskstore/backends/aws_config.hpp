#pragma once
// AWS configuration of the dynamodb backend (internal to taskstore; not
// installed): credentials, region and endpoint from the standard AWS sources
// (environment variables, profiles, the shared config and credentials files),
// in the AWS SDKs' order of precedence.
//
// Problems are ConfigError / InvalidArgument (taskstore/error.hpp).

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace taskstore::aws {

// ---------------------------------------------------------------- text

// Returns text without leading and trailing white space.
std::string_view trim(std::string_view text);

// Returns text with ASCII letters lower-cased.
std::string ascii_lower(std::string_view text);

// ---------------------------------------------------------------- credentials

struct Credentials
{
  std::string access_key_id;
  std::string secret_access_key;
  std::optional<std::string> session_token;
  // Where they came from, for messages: "environment variables",
  // "shared credentials file /root/.aws/credentials (profile default)", ...
  std::string source;
};

// ---------------------------------------------------------------- configuration

// Looks up an environment variable; nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (std::getenv).
EnvLookup process_environment();

struct ConfigRequest
{
  std::string service_id = "dynamodb";  // AWS_ENDPOINT_URL_<SERVICE>, default host
  std::optional<std::string> region;    // from the store URI (highest precedence)
  std::optional<std::string> endpoint;  // from the store URI (highest precedence)
  std::string what;                     // what needs them, for messages ("dynamodb://t")
};

struct ResolvedConfig
{
  Credentials credentials;
  std::string region;
  std::string region_source;    // "the store URI", "AWS_REGION", "config file X (profile p)"
  std::string endpoint;         // "https://dynamodb.us-east-1.amazonaws.com" or the configured one
  std::string endpoint_source;  // "the store URI", "AWS_ENDPOINT_URL_DYNAMODB", ..., "default"
  std::string profile;          // the profile the files were read for
};

// Resolves credentials, region and endpoint:
//   credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
//     then the profile (AWS_PROFILE, else "default") in the shared credentials
//     file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), then in the
//     config file (AWS_CONFIG_FILE, else ~/.aws/config, "[profile NAME]" sections);
//   region: the URI, AWS_REGION, AWS_DEFAULT_REGION, the profile's region in the config file;
//   endpoint: the URI, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the
//     profile's endpoint_url (the last three skipped when
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else AWS's public endpoint.
// Throws ConfigError naming every place it looked when credentials or the
// region are missing, when credentials are partial, or when the profile needs
// a credential source taskctl does not support (role_arn, sso, credential_process);
// InvalidArgument when the endpoint is not an http(s) URL.
ResolvedConfig resolve_config(const ConfigRequest& request,
                              const EnvLookup& env = process_environment());

} // namespace taskstore::aws
