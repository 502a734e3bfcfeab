#pragma once
// AWS configuration of the dynamodb backend (internal to taskstore; not
// installed): credentials, region and endpoint from the standard AWS sources
// (environment variables, profiles, the shared config and credentials files),
// in the AWS SDKs' order of precedence.
//
// Problems are ConfigError / InvalidArgument (taskstore/error.hpp).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
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
  // When temporary credentials stop working; nullopt for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration{};
  // Who they are, when the source says (the assumed role's ARN); "" otherwise.
  std::string identity{};
};

// Parses an ISO 8601 UTC time as AWS writes it ("2026-12-01T12:00:00Z",
// "2026-12-01T12:00:00.123Z", "2026-12-01T12:00:00+00:00",
// "2026-12-01T12:00:00UTC"); nullopt when text is not one.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

// Returns time as "2026-12-01T12:00:00Z".
std::string format_iso8601(std::chrono::system_clock::time_point time);

// ---------------------------------------------------------------- configuration

// Looks up an environment variable; nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (std::getenv).
EnvLookup process_environment();

// The variable's value, trimmed, when it is set and not empty.
std::optional<std::string> env_value(const EnvLookup& env, const std::string& name);

// $HOME, else the password database's home directory, else "".
std::string home_directory(const EnvLookup& env);

// path with a leading "~" or "~/" replaced by the home directory.
std::string expand_home(const std::string& path, const EnvLookup& env);

// ---------------------------------------------------------------- shared files

// One section of an AWS shared file: key -> value; indented settings under
// a key with an empty value are kept as "key.sub" ("s3 =\n  addressing_style = path").
using Settings = std::map<std::string, std::string>;

// An AWS shared config or credentials file, as read.
struct IniFile
{
  std::string path;
  bool exists = false;
  std::string problem;  // why it could not be read, when it exists but could not be
  std::map<std::string, Settings> sections;

  const Settings* section(const std::string& name) const;
  // " (not found)", " (could not be read: ...)" or "": for messages.
  std::string state() const;
};

// Reads path; a missing or unreadable file gives an IniFile saying so (never throws).
IniFile read_ini(const std::string& path);

// The config file's section for profile: "[profile NAME]", and "[default]" for default.
const Settings* config_profile(const IniFile& config, const std::string& profile);

// The setting's value when section has it and it is not empty.
std::optional<std::string> setting(const Settings* section, const std::string& key);

// The shared files as the SDKs find them: AWS_CONFIG_FILE (else ~/.aws/config)
// and AWS_SHARED_CREDENTIALS_FILE (else ~/.aws/credentials), each read on first use.
class SharedFiles
{
public:
  explicit SharedFiles(const EnvLookup& env);
  const IniFile& config();
  const IniFile& credentials();

private:
  std::string m_config_path;
  std::string m_credentials_path;
  std::optional<IniFile> m_config;
  std::optional<IniFile> m_credentials;
};

struct ConfigRequest
{
  std::string service_id = "dynamodb";  // AWS_ENDPOINT_URL_<SERVICE>, default host
  std::optional<std::string> region;    // from the store URI (highest precedence)
  std::optional<std::string> endpoint;  // from the store URI (highest precedence)
  std::string what;                     // what needs them, for messages ("dynamodb://t")
};

class CredentialProvider;

struct ResolvedConfig
{
  std::shared_ptr<CredentialProvider> provider; // refreshes temporary credentials
  Credentials credentials;                      // the first ones provider gave
  std::string region;
  std::string region_source;    // "the store URI", "AWS_REGION", "config file X (profile p)"
  std::string endpoint;         // "https://dynamodb.us-east-1.amazonaws.com" or the configured one
  std::string endpoint_source;  // "the store URI", "AWS_ENDPOINT_URL_DYNAMODB", ..., "default"
  std::string profile;          // the profile the files were read for
};

// Resolves region, credentials and endpoint:
//   region: the URI, AWS_REGION, AWS_DEFAULT_REGION, the profile's region in
//     the config file, then EC2 instance metadata;
//   credentials: the chain of aws_credentials.hpp (environment, web identity,
//     the profile AWS_PROFILE / AWS_DEFAULT_PROFILE / "default", container,
//     instance metadata), for that region's STS;
//   endpoint: the URI, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the
//     profile's endpoint_url (the last three skipped when
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else AWS's public endpoint.
// Throws ConfigError when the region is missing or a credential source fails
// or none applies (the chain's message lists every source tried);
// InvalidArgument when the region or the endpoint is malformed.
ResolvedConfig resolve_config(const ConfigRequest& request,
                              const EnvLookup& env = process_environment());

} // namespace taskstore::aws
