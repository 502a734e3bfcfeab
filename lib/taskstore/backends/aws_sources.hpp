#pragma once
// The AWS credential sources that are not STS (internal to taskstore; not
// installed): credential_process, SSO (IAM Identity Center), the ECS/EKS
// container endpoint and EC2 instance metadata (IMDSv2). The chain that
// orders them is aws_credentials.hpp; each source here answers for itself.
//
// Conventions, for every source:
// - "does not apply" (its variables or settings are absent, IMDS is disabled
//   or does not answer) returns nullopt and sets why_not to a short clause for
//   the error that lists every source tried ("AWS_CONTAINER_CREDENTIALS_*_URI
//   not set");
// - "applies but fails" throws ConfigError (exit 7) saying what to do;
// - no secret (key, token, bearer token) ever appears in a message.

#include "taskstore/backends/aws_config.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace taskstore::aws {

struct SourceOptions
{
  EnvLookup env = process_environment();
  std::chrono::milliseconds timeout{5000}; // one request's (IMDS uses a shorter one of its own)
};

// Runs command (through /bin/sh -c, as the AWS CLI does), its stderr passed
// through, and reads its stdout as the credential_process JSON document
// (Version 1, AccessKeyId, SecretAccessKey, SessionToken?, Expiration?).
// where names the profile for messages ("profile \"p\" in /home/u/.aws/config").
// Throws ConfigError when it cannot be run, exits non-zero, times out
// (options.timeout, then it is killed), or its output is not such a document.
Credentials process_credentials(const std::string& command, const std::string& where,
                                const SourceOptions& options);

// A profile's SSO settings: from sso_session (the [sso-session NAME] section)
// or from the legacy sso_start_url/sso_region in the profile itself.
struct SsoProfile
{
  std::string profile;                      // for "aws sso login --profile P"
  std::string start_url;                    // sso_start_url
  std::string region;                       // sso_region
  std::string account_id;                   // sso_account_id
  std::string role_name;                    // sso_role_name
  std::optional<std::string> session_name;  // sso_session; its name keys the token cache
};

// Reads the cached token (~/.aws/sso/cache/<sha1 hex of session_name, else of
// start_url>.json: accessToken, expiresAt), then GETs
// {AWS_ENDPOINT_URL_SSO, else https://portal.sso.REGION.amazonaws.com}
// /federation/credentials?account_id=A&role_name=R with the
// x-amz-sso_bearer_token header. Throws ConfigError saying
// "run: aws sso login --profile P" when the token is missing or expired or
// the portal refuses it (401/403), and ConfigError naming the portal's
// answer otherwise.
Credentials sso_credentials(const SsoProfile& sso, const SourceOptions& options);

// ECS task roles and EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
// (from http://169.254.170.2), else AWS_CONTAINER_CREDENTIALS_FULL_URI (only
// https, or http to a loopback or the ECS/EKS link-local hosts), with
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch), else
// AWS_CONTAINER_AUTHORIZATION_TOKEN, as the Authorization header.
// Returns nullopt when neither URI variable is set; throws ConfigError when
// one is set but the endpoint cannot be used or does not give credentials.
std::optional<Credentials> container_credentials(const SourceOptions& options, std::string& why_not);

// EC2 instance metadata, IMDSv2: PUT /latest/api/token (X-aws-ec2-metadata-
// token-ttl-seconds), then GET /latest/meta-data/iam/security-credentials/
// and /latest/meta-data/iam/security-credentials/ROLE with the token. The
// endpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254.
// Returns nullopt when AWS_EC2_METADATA_DISABLED=true, when no metadata
// service answers within a short timeout (1 s, so laptops do not stall), or
// when the instance has no role; throws ConfigError when the service answers
// with something that is not credentials.
std::optional<Credentials> instance_credentials(const SourceOptions& options, std::string& why_not);

// The instance's region (GET /latest/meta-data/placement/region, IMDSv2), or
// nullopt (with why_not) on the same terms as instance_credentials.
std::optional<std::string> instance_region(const SourceOptions& options, std::string& why_not);

} // namespace taskstore::aws
