#pragma once
// The HTTP transport of the dynamodb backend (internal to taskstore; not
// installed): JsonClient, a libcurl client for the AWS JSON 1.0 protocol
// (DynamoDB's) with keep-alive connections, AWS "standard" mode retries and a
// bounded-concurrency batch mode. Requests are signed by libcurl
// (CURLOPT_AWS_SIGV4); tests/dynamodb/sigv4_oracle checks its signatures
// (docs/dynamodb.md, "Signing").
//
// Failures are AwsError (service or transport), which dynamodb.cpp
// translates, in one place, into the library's error types.

#include "taskstore/backends/aws_config.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore::aws {

class CredentialProvider; // aws_credentials.hpp

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
  // When set, each attempt is signed with provider->current() (refreshed
  // temporary credentials) instead of credentials.
  std::shared_ptr<CredentialProvider> provider;
  // The deadline of one call() (and of each request of call_many), every
  // attempt and backoff included: each attempt gets the time left, and no
  // retry starts past it.
  std::chrono::milliseconds timeout{5000};
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
  // full jitter, all within options().timeout. Returns the parsed response
  // document. Throws AwsError with the last failure (attempts set; timed_out
  // and a message naming the timeout when the deadline ended it). Every wait
  // (the transfer, the backoff) also polls taskstore::interrupt_fd(): on
  // request_interrupt() it stops at once (the connection is dropped) and
  // throws a retryable transport AwsError of type "Interrupted".
  nlohmann::json call(std::string_view operation, const nlohmann::json& request);

  struct Outcome
  {
    nlohmann::json response;       // the parsed response when ok
    std::optional<AwsError> error; // set when the call failed (after retries)
    bool ok() const { return !error; }
  };

  // Performs operation once per request, at most max_in_flight at a time,
  // each with call()'s retries and its own deadline (options().timeout from
  // its first attempt). on_done(index, outcome) is called on this thread as
  // each completes, in completion order. When on_done throws, the requests
  // still in flight are abandoned and the exception propagates. On
  // request_interrupt() the transfers are dropped at once and every request
  // not completed gets the "Interrupted" error.
  void call_many(std::string_view operation, const std::vector<nlohmann::json>& requests,
                 std::size_t max_in_flight,
                 const std::function<void(std::size_t index, Outcome&& outcome)>& on_done);

  const ClientOptions& options() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// JsonClients (each one keep-alive connection, plus a pool of them for
// concurrent requests), leased one per operation, so that one backend can be
// used from several threads and a callback may call back into it while an
// operation is under way. Thread-safe.
class ClientPool
{
public:
  explicit ClientPool(ClientOptions options);

  // A client for the lease's lifetime; given back to the pool at its end.
  class Lease
  {
  public:
    Lease(ClientPool& pool, std::unique_ptr<JsonClient> client);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    JsonClient* operator->() { return m_client.get(); }

  private:
    ClientPool& m_pool;
    std::unique_ptr<JsonClient> m_client;
  };

  // Returns an idle client, or a new one when none is idle.
  Lease acquire();

private:
  void release(std::unique_ptr<JsonClient> client);

  ClientOptions m_options;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<JsonClient>> m_idle;
};

// ---------------------------------------------------------------- one-shot requests

// One HTTP request of a credential source: STS, the SSO portal, the
// container and instance metadata endpoints (aws_http.cpp).
struct HttpRequest
{
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};                  // the whole request
  std::optional<std::chrono::milliseconds> connect_timeout; // default: timeout
  bool no_proxy = false; // ignore http_proxy/https_proxy (the metadata services)
  // The largest answer body taken: credential answers are small, and a
  // misbehaving endpoint must not fill memory.
  std::size_t max_body = 1 << 20;
  // When set, libcurl signs the request with SigV4 (CURLOPT_AWS_SIGV4) for
  // region and service; a session token is sent (and signed) as X-Amz-Security-Token.
  struct Signing
  {
    std::string region;
    std::string service;
    Credentials credentials;
  };
  std::optional<Signing> signing;
};

struct HttpResponse
{
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; // names lower-cased, values trimmed

  // The first header named lower_name; nullopt when there is none.
  std::optional<std::string> header(std::string_view lower_name) const;
};

// Performs request once (no retries) and returns the answer, whatever its
// status. Throws AwsError (transport) when no HTTP answer came (refused,
// timed out: timed_out set, reset, bad URL) or its body is larger than
// request.max_body (type "TooLarge"); its what() names the redacted URL
// and curl's reason, never a header or the body. On request_interrupt() it
// stops at once and throws a transport AwsError of type "Interrupted".
// Throws StorageError when libcurl cannot be loaded.
HttpResponse http_request(const HttpRequest& request);

// The loaded libcurl's version ("7.88.1"), loading it; "" when it cannot be loaded.
std::string curl_library_version();

} // namespace taskstore::aws
