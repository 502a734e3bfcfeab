#pragma once
// AWS plumbing of the dynamodb backend (internal to taskstore; not installed):
//
//   * configuration: credentials, region and endpoint from the standard AWS
//     sources, in the AWS SDKs' order of precedence;
//   * AWS Signature Version 4, our own implementation (OpenSSL HMAC/SHA-256).
//     The transport signs with libcurl's CURLOPT_AWS_SIGV4; this one exists
//     to test and cross-check that (docs/dynamodb.md, "Signing");
//   * JsonClient: an HTTP client for the AWS JSON 1.0 protocol (DynamoDB's)
//     with AWS "standard" mode retries and a bounded-concurrency batch mode.
//
// Failures are AwsError (service or transport), which dynamodb.cpp
// translates, in one place, into the library's error types. Configuration
// problems are ConfigError / InvalidArgument directly.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskstore::aws {

// ---------------------------------------------------------------- hashing

// Returns the lower-case hex SHA-256 digest of data.
std::string sha256_hex(std::string_view data);

// Returns the raw 32-byte HMAC-SHA-256 of data under key.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Returns bytes as lower-case hex.
std::string hex_encode(std::string_view bytes);

// ---------------------------------------------------------------- signing

struct Credentials
{
  std::string access_key_id;
  std::string secret_access_key;
  std::optional<std::string> session_token;
  // Where they came from, for messages: "environment variables",
  // "shared credentials file /root/.aws/credentials (profile default)", ...
  std::string source;
};

// One request as the signer sees it.
struct SigningRequest
{
  std::string method = "POST";
  std::string path = "/";     // the URI path, not yet encoded
  std::string query;          // the raw query string ("a=1&b=2"), "" for none
  // Every header to sign, in any order and case: must include host and x-amz-date.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;
};

struct Signature
{
  std::string canonical_request;
  std::string string_to_sign;
  std::string credential_scope; // "20150830/us-east-1/iam/aws4_request"
  std::string signed_headers;   // "content-type;host;x-amz-date"
  std::string signing_key_hex;  // kSigning, hex
  std::string signature;        // hex
  std::string authorization;    // the Authorization header value
};

// Signs request for region and service at amz_date ("20150830T123600Z") with
// AWS's SigV4 rules for every service but S3: header names lower-cased,
// values trimmed with inner runs of spaces collapsed, repeated headers joined
// with ','; query parameters encoded and sorted; each path segment encoded
// twice (no dot-segment normalization). Returns every intermediate value.
// Throws std::invalid_argument when amz_date is not "YYYYMMDDTHHMMSSZ".
Signature sign_v4(const SigningRequest& request, const Credentials& credentials,
                  std::string_view region, std::string_view service, std::string_view amz_date);

// Returns t as "YYYYMMDDTHHMMSSZ" (UTC).
std::string format_amz_date(std::chrono::system_clock::time_point t);

// AWS's URI encoding: unreserved characters (A-Z a-z 0-9 - _ . ~) kept, every
// other byte %XX (upper-case hex); '/' kept when encode_slash is false.
std::string uri_encode(std::string_view text, bool encode_slash = true);

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

// ---------------------------------------------------------------- transport

// A failed AWS call: the service answered with an error document, or no
// answer came (transport). what() describes it in one line.
class AwsError : public std::runtime_error
{
public:
  enum class Kind
  {
    service,   // an error document from the service
    transport, // no (usable) HTTP answer: connection refused, timeout, reset, ...
  };

  AwsError(Kind kind, std::string type, std::string message, long http_status, std::string what);

  Kind kind;
  std::string type;        // "ConditionalCheckFailedException" (after '#'); curl's error name for transport
  std::string message;     // the service's message, or curl's error text
  long http_status = 0;    // 0 for transport errors
  std::string request_id;  // x-amzn-RequestId, when the service sent one
  bool timed_out = false;  // transport: the request timed out
  bool throttled = false;  // a throttling error
  bool retryable = false;  // throttling, 5xx, transient codes and transport errors
  int attempts = 1;        // how many attempts were made
  nlohmann::json body;     // the whole error document (null for transport errors)
};

struct RetryPolicy
{
  int max_attempts = 3;                        // AWS standard mode
  std::chrono::milliseconds transient_base{25};// 5xx, transient codes, transport errors
  std::chrono::milliseconds throttling_base{1000};
  std::chrono::milliseconds max_backoff{20000};
  int quota = 500;                             // standard mode's retry quota (tokens)
  int retry_cost = 5;
  int timeout_retry_cost = 10;
};

struct ClientOptions
{
  std::string endpoint;                        // "http://127.0.0.1:8000", "https://dynamodb.eu-west-1.amazonaws.com"
  std::string region;
  std::string service = "dynamodb";            // the SigV4 service name
  std::string target_prefix = "DynamoDB_20120810"; // X-Amz-Target = prefix + "." + operation
  std::string content_type = "application/x-amz-json-1.0";
  Credentials credentials;
  std::chrono::milliseconds timeout{5000};     // connect and whole-request timeout, per attempt
  RetryPolicy retry;
};

// A JSON-protocol AWS client over one libcurl easy handle (kept alive and
// reused for every sequential call) and, for call_many, one curl multi handle
// with its own pool of connections. Not thread-safe: one per thread.
class JsonClient
{
public:
  explicit JsonClient(ClientOptions options);
  ~JsonClient();
  JsonClient(const JsonClient&) = delete;
  JsonClient& operator=(const JsonClient&) = delete;

  // Performs operation ("GetItem") with request as body, retrying throttling,
  // 5xx, transient errors and transport errors with exponential backoff and
  // full jitter. Returns the parsed response document. Throws AwsError with
  // the last failure (attempts set).
  nlohmann::json call(std::string_view operation, const nlohmann::json& request);

  struct Outcome
  {
    nlohmann::json response;       // the parsed response when ok
    std::optional<AwsError> error; // set when the call failed (after retries)
    bool ok() const { return !error; }
  };

  // Performs operation once per request, at most max_in_flight at a time,
  // each with call()'s retries. on_done(index, outcome) is called on this
  // thread as each completes, in completion order. When on_done throws, the
  // requests still in flight are abandoned and the exception propagates.
  void call_many(std::string_view operation, const std::vector<nlohmann::json>& requests,
                 std::size_t max_in_flight,
                 const std::function<void(std::size_t index, Outcome&& outcome)>& on_done);

  const ClientOptions& options() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace taskstore::aws
