// The JSON transport's retry policy (AWS standard mode), against a local HTTP
// server that answers with scripted errors.
#include "dynamodb/support.hpp"

#include "taskstore/backends/aws_transport.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace taskstore;
using namespace taskstore::testing::dynamo;

namespace {

aws::ClientOptions
options_for(const CaptureServer& server)
{
  aws::ClientOptions options;
  options.endpoint = server.endpoint();
  options.region = "us-east-1";
  options.credentials = {"AKID", "secret", std::nullopt, "test"};
  options.timeout = std::chrono::seconds(5);
  // Short backoffs keep the test quick; the policy is the same.
  options.retry.transient_base = std::chrono::milliseconds(1);
  options.retry.throttling_base = std::chrono::milliseconds(2);
  return options;
}

CannedResponse
error(int status, const std::string& type, const std::string& message = "scripted")
{
  return CannedResponse{status, nlohmann::json{{"__type", "com.amazonaws.dynamodb.v20120810#" + type},
                                               {"message", message}}
                                  .dump()};
}

aws::AwsError
error_of(aws::JsonClient& client, const std::string& operation)
{
  try {
    client.call(operation, nlohmann::json::object());
  } catch (const aws::AwsError& e) {
    return e;
  }
  FAIL("expected an AwsError");
  throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("transport: 5xx and throttling are retried, up to 3 attempts", "[transport]")
{
  SECTION("a 500 then success")
  {
    CaptureServer server([](int i, const CapturedRequest&) {
      return i == 0 ? error(500, "InternalServerError") : CannedResponse{200, R"({"ok":1})"};
    });
    aws::JsonClient client(options_for(server));
    CHECK(client.call("GetItem", nlohmann::json::object()) == nlohmann::json{{"ok", 1}});
    CHECK(server.requests().size() == 2);
  }
  SECTION("throttling three times: the error, marked throttled, after 3 attempts")
  {
    CaptureServer server([](int, const CapturedRequest&) {
      return error(400, "ProvisionedThroughputExceededException", "slow down");
    });
    aws::JsonClient client(options_for(server));
    const auto e = error_of(client, "PutItem");
    CHECK(e.kind == aws::AwsError::Kind::service);
    CHECK(e.type == "ProvisionedThroughputExceededException");
    CHECK(e.message == "slow down");
    CHECK(e.throttled);
    CHECK(e.retryable);
    CHECK(e.attempts == 3);
    CHECK(e.http_status == 400);
    CHECK(e.request_id == "capture-2");
    CHECK(server.requests().size() == 3);
  }
  SECTION("ThrottlingException and RequestLimitExceeded are throttling too")
  {
    for (const std::string type : {"ThrottlingException", "RequestLimitExceeded"}) {
      CaptureServer server([&](int i, const CapturedRequest&) {
        return i == 0 ? error(400, type) : CannedResponse{200, "{}"};
      });
      aws::JsonClient client(options_for(server));
      CHECK(client.call("Query", nlohmann::json::object()) == nlohmann::json::object());
      CHECK(server.requests().size() == 2);
    }
  }
}

TEST_CASE("transport: client errors are not retried", "[transport]")
{
  for (const std::string type : {"ConditionalCheckFailedException", "ValidationException",
                                  "ResourceNotFoundException", "UnrecognizedClientException"}) {
    CaptureServer server([&](int, const CapturedRequest&) { return error(400, type); });
    aws::JsonClient client(options_for(server));
    const auto e = error_of(client, "PutItem");
    INFO(type);
    CHECK(e.type == type);
    CHECK_FALSE(e.retryable);
    CHECK(e.attempts == 1);
    CHECK(server.requests().size() == 1);
  }
}

TEST_CASE("transport: nothing listening is a retryable transport error", "[transport]")
{
  aws::ClientOptions options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(unused_port());
  options.region = "us-east-1";
  options.credentials = {"AKID", "secret", std::nullopt, "test"};
  options.timeout = std::chrono::milliseconds(500);
  options.retry.transient_base = std::chrono::milliseconds(1);
  aws::JsonClient client(options);
  const auto e = error_of(client, "GetItem");
  CHECK(e.kind == aws::AwsError::Kind::transport);
  CHECK(e.retryable);
  CHECK(e.attempts == 3);
  CHECK(e.http_status == 0);
}

TEST_CASE("transport: call_many retries each request on its own and reports every outcome",
          "[transport]")
{
  // Requests carry their index; index 1 is throttled once, index 2 always
  // fails with a condition failure, index 3 gets a 503 once.
  std::mutex mutex;
  std::set<int> failed_once;
  CaptureServer server([&](int, const CapturedRequest& request) {
    const int index = nlohmann::json::parse(request.body).at("i").get<int>();
    std::lock_guard lock(mutex);
    if (index == 2) {
      return error(400, "ConditionalCheckFailedException");
    }
    if ((index == 1 || index == 3) && failed_once.insert(index).second) {
      return index == 1 ? error(400, "ThrottlingException") : error(503, "ServiceUnavailable");
    }
    return CannedResponse{200, nlohmann::json{{"i", index}}.dump()};
  });
  aws::JsonClient client(options_for(server));
  std::vector<nlohmann::json> requests;
  for (int i = 0; i < 40; ++i) {
    requests.push_back(nlohmann::json{{"i", i}});
  }
  std::map<std::size_t, aws::JsonClient::Outcome> outcomes;
  client.call_many("DeleteItem", requests, 8, [&](std::size_t index, aws::JsonClient::Outcome&& o) {
    CHECK(outcomes.emplace(index, std::move(o)).second);
  });
  REQUIRE(outcomes.size() == 40);
  for (const auto& [index, outcome] : outcomes) {
    INFO("request " << index);
    if (index == 2) {
      REQUIRE_FALSE(outcome.ok());
      CHECK(outcome.error->type == "ConditionalCheckFailedException");
      CHECK(outcome.error->attempts == 1);
    } else {
      REQUIRE(outcome.ok());
      CHECK(outcome.response.at("i") == index);
    }
  }
  CHECK(server.requests().size() == 42);
  // At most 8 connections for 8 requests in flight.
  CHECK(server.connections() <= 8);
}

TEST_CASE("transport: an exception from call_many's callback abandons the rest", "[transport]")
{
  CaptureServer server([](int, const CapturedRequest&) { return CannedResponse{200, "{}"}; });
  aws::JsonClient client(options_for(server));
  std::vector<nlohmann::json> requests(50, nlohmann::json::object());
  int calls = 0;
  CHECK_THROWS_AS(client.call_many("DeleteItem", requests, 4,
                                   [&](std::size_t, aws::JsonClient::Outcome&&) {
                                     if (++calls == 3) {
                                       throw std::runtime_error("stop");
                                     }
                                   }),
                  std::runtime_error);
  CHECK(calls == 3);
  CHECK(server.requests().size() < 50);
  // The client stays usable.
  CHECK(client.call("GetItem", nlohmann::json::object()) == nlohmann::json::object());
}
