#pragma once
// AWS STS, the two calls the credential chain makes (internal to taskstore;
// not installed): AssumeRole, signed with the source credentials, and
// AssumeRoleWithWebIdentity, which is not signed. The Query protocol's XML
// answers are read with expat.
//
// Failures are ConfigError (exit 7): STS refused (its Code and Message),
// STS could not be reached, or the answer holds no credentials. No message
// holds a secret, a session token or the web identity token.

#include "taskstore/backends/aws_config.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace taskstore::aws {

struct StsOptions
{
  EnvLookup env = process_environment();
  std::string region;                      // "" for the global endpoint
  std::chrono::milliseconds timeout{5000}; // one request
};

// The STS endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL (neither when
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else https://sts.REGION.amazonaws.com
// (.com.cn in China), else https://sts.amazonaws.com when region is "".
std::string sts_endpoint(const StsOptions& options);

struct AssumeRole
{
  std::string role_arn;
  std::string session_name;               // role_session_name, else "taskctl-<unix time>"
  std::optional<std::string> external_id;
  std::optional<int> duration_seconds;    // 900..43200; STS's default (3600) when unset
};

// Calls AssumeRole with source's credentials; returns the role's temporary
// credentials (expiration and identity, the assumed role's ARN, set) with
// source set to `source_text`.
Credentials assume_role(const AssumeRole& role, const Credentials& source, const std::string& source_text,
                        const StsOptions& options);

// Calls AssumeRoleWithWebIdentity with the token read from token_file (read
// on every call: Kubernetes rotates it). Throws ConfigError when the file
// cannot be read or is empty.
Credentials assume_role_with_web_identity(const std::string& role_arn, const std::string& session_name,
                                          const std::string& token_file, const std::string& source_text,
                                          const StsOptions& options);

// What an STS XML document says: the fields below, "" when absent. Exposed
// for the tests; throws ConfigError when text is not well-formed XML.
struct StsAnswer
{
  std::string access_key_id, secret_access_key, session_token, expiration, arn;
  std::string error_code, error_message, request_id;
};
StsAnswer parse_sts_answer(const std::string& text);

} // namespace taskstore::aws
