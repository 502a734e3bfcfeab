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
// - no secret (key, token, bearer token) ever appears in a message;
// - on request_interrupt() every wait stops at once and the retryable
//   transport AwsError of type "Interrupted" (aws_transport.hpp) propagates,
//   as from http_request;
// - nothing is cached here: each call fetches (the chain caches).
//
// Test seams (environment variables for the tests, not for operators; read
// through SourceOptions::env like the rest):
// - TASKCTL_AWS_CONTAINER_ENDPOINT replaces http://169.254.170.2, the host
//   that AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is relative to, so that a
//   fake endpoint on 127.0.0.1 can answer;
// - TASKCTL_AWS_IMDS_TIMEOUT_MS replaces the instance metadata service's
//   connect timeout (1000 ms; the whole request gets twice that).

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

// Runs command (through /bin/sh -c, as the AWS CLI does) with the process's
// environment, stdin from /dev/null (it must not read what taskctl reads) and
// its stderr passed through to ours, and reads its stdout (at most 1 MiB) as
// the credential_process JSON document (Version 1, AccessKeyId,
// SecretAccessKey, SessionToken?, Expiration? in ISO 8601). where names the
// profile for messages ("profile \"p\" in /home/u/.aws/config"). Returns
// the credentials (expiration nullopt when it gave none: long-term keys).
// Throws ConfigError when it cannot be run (exit status 127/126), exits
// non-zero, does not exit within options.timeout (it is then killed with
// SIGKILL; processes it started itself are not), writes more than 1 MiB, or
// its output is not such a document or has expired. Messages name the
// command's first word, never the rest of it (it may hold a secret) nor the
// output.
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
// start_url>.json, as botocore names it: accessToken, expiresAt), then GETs
// {AWS_ENDPOINT_URL_SSO, else https://portal.sso.REGION.amazonaws.com}
// /federation/credentials?account_id=A&role_name=R with the
// x-amz-sso_bearer_token header (REGION: sso.region, else the token's;
// AWS_ENDPOINT_URL_SSO is skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true).
// Returns the role's credentials (expiration from the portal's epoch
// milliseconds; identity "account A role R"). Throws ConfigError saying
// "run: aws sso login --profile P" when the token is missing, unreadable or
// expired or the portal refuses it (401/403), and ConfigError naming the
// portal's answer otherwise (no answer, another status, no roleCredentials).
// The token is not refreshed here (refreshToken): aws sso login renews it.
Credentials sso_credentials(const SsoProfile& sso, const SourceOptions& options);

// ECS task roles and EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
// (from http://169.254.170.2), else AWS_CONTAINER_CREDENTIALS_FULL_URI (only
// https, or http to a loopback host (127.0.0.0/8, ::1, localhost) or the
// ECS/EKS link-local hosts 169.254.170.2, 169.254.170.23, [fd00:ec2::23]),
// with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch,
// trimmed), else AWS_CONTAINER_AUTHORIZATION_TOKEN, as the Authorization
// header; one GET within options.timeout. The answer's AccessKeyId,
// SecretAccessKey, Token, Expiration are the credentials, its RoleArn the
// identity. Returns nullopt when neither URI variable is set; throws
// ConfigError when one is set but the URI is refused, the token is empty,
// unreadable or has a line break, or the endpoint does not answer or does
// not give credentials.
std::optional<Credentials> container_credentials(const SourceOptions& options, std::string& why_not);

// EC2 instance metadata, IMDSv2 only: PUT /latest/api/token
// (X-aws-ec2-metadata-token-ttl-seconds: 21600), then GET
// /latest/meta-data/iam/security-credentials/ and
// /latest/meta-data/iam/security-credentials/ROLE with the token
// (X-aws-ec2-metadata-token). The endpoint is
// AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://[fd00:ec2::254] when
// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6, else http://169.254.169.254;
// each request may take 1 s to connect and 2 s in all (not options.timeout),
// so laptops do not stall. Returns the role's credentials (Code "Success";
// identity "instance profile role ROLE"), or nullopt with why_not when
// AWS_EC2_METADATA_DISABLED=true, when no metadata service answers the token
// request ("no instance metadata service answered at URL within 1 s") or
// gives no token, or when the instance has no role (404). Throws ConfigError
// when the endpoint settings are malformed, or the service, having given a
// token, then fails or answers with something that is not credentials.
std::optional<Credentials> instance_credentials(const SourceOptions& options, std::string& why_not);

// The instance's region (GET /latest/meta-data/placement/region, IMDSv2), or
// nullopt (with why_not) on the same terms as instance_credentials.
std::optional<std::string> instance_region(const SourceOptions& options, std::string& why_not);

} // namespace taskstore::aws
