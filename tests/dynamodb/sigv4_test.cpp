// AWS Signature Version 4: our signer (sigv4_oracle) against AWS's published examples, and
// libcurl's CURLOPT_AWS_SIGV4 (what the backend sends) against our signer,
// request by request, as captured by a local HTTP server.
#include "dynamodb/sigv4_oracle.hpp"
#include "dynamodb/support.hpp"

#include "taskstore/backends/aws_transport.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <regex>

using namespace taskstore;
using namespace taskstore::testing::dynamo;

namespace {

const aws::Credentials k_example_credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                             std::nullopt, "test"};

} // namespace

TEST_CASE("SigV4: AWS's published GET example (IAM ListUsers, 2015-08-30)", "[sigv4]")
{
  aws::SigningRequest request;
  request.method = "GET";
  request.path = "/";
  request.query = "Version=2010-05-08&Action=ListUsers"; // sorted by the signer
  request.headers = {{"Host", "iam.amazonaws.com"},
                     {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                     {"X-Amz-Date", "20150830T123600Z"}};
  const auto s = aws::sign_v4(request, k_example_credentials, "us-east-1", "iam", "20150830T123600Z");
  CHECK(s.canonical_request ==
        "GET\n"
        "/\n"
        "Action=ListUsers&Version=2010-05-08\n"
        "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
        "host:iam.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n"
        "\n"
        "content-type;host;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(aws::sha256_hex(s.canonical_request) ==
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n"
        "20150830T123600Z\n"
        "20150830/us-east-1/iam/aws4_request\n"
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  CHECK(s.signing_key_hex == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  CHECK(s.signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  CHECK(s.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST_CASE("SigV4: AWS's published POST example (IAM ListUsers, 2011-09-09)", "[sigv4]")
{
  aws::SigningRequest request;
  request.method = "POST";
  request.headers = {{"host", "iam.amazonaws.com"},
                     {"Content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                     {"x-amz-date", "20110909T233600Z"}};
  request.payload = "Action=ListUsers&Version=2010-05-08";
  const auto s = aws::sign_v4(request, k_example_credentials, "us-east-1", "iam", "20110909T233600Z");
  CHECK(aws::sha256_hex(s.canonical_request) ==
        "3511de7e95d28ecd39e9513b642aee07e54f4941150d8df8bf94b328ef7e55e2");
  CHECK(s.signature == "ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c");
}

TEST_CASE("SigV4: canonical form of headers and query", "[sigv4]")
{
  aws::SigningRequest request;
  request.method = "GET";
  request.path = "/a b/c";
  request.query = "b=2&a=x y&a=1";
  request.headers = {{"Host", "example.amazonaws.com"},
                     {"X-Amz-Date", "20150830T123600Z"},
                     {"My-Header1", "  value1   with  spaces "},
                     {"my-header1", "second"}};
  const auto s =
    aws::sign_v4(request, k_example_credentials, "us-east-1", "service", "20150830T123600Z");
  CHECK(s.canonical_request.rfind("GET\n/a%2520b/c\na=1&a=x%20y&b=2\n"
                                  "host:example.amazonaws.com\n"
                                  "my-header1:value1 with spaces,second\n"
                                  "x-amz-date:20150830T123600Z\n\n"
                                  "host;my-header1;x-amz-date\n",
                                  0) == 0);
  CHECK_THROWS_AS(aws::sign_v4(request, k_example_credentials, "us-east-1", "service", "2015-08-30"),
                  std::invalid_argument);
}

TEST_CASE("SigV4: libcurl's signature of DynamoDB requests equals ours, on one kept-alive connection",
          "[sigv4]")
{
  CaptureServer server([](int, const CapturedRequest&) { return CannedResponse{200, "{}"}; });
  aws::ClientOptions options;
  options.endpoint = server.endpoint();
  options.region = "eu-west-3";
  options.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                         std::string("FQoGZXIvYXdzEXAMPLE//token+with/slashes=="), "test"};
  options.timeout = std::chrono::seconds(5);
  aws::JsonClient client(options);
  const nlohmann::json first{{"TableName", "pmcp_tasks"},
                             {"Key", {{"PK", {{"S", "OWNER#alice"}}}, {"SK", {{"S", "TASK#t1"}}}}}};
  const nlohmann::json second{
    {"TableName", "pmcp_tasks"},
    {"Key", {{"PK", {{"S", "OWNER#z\xc3\xbc\xe6\x97\xa5 #x"}}}, {"SK", {{"S", "TASK#\xf0\x9f\x98\x80"}}}}}};
  CHECK(client.call("GetItem", first) == nlohmann::json::object());
  CHECK(client.call("GetItem", second) == nlohmann::json::object());
  // The batch path (curl multi) signs the same way.
  std::vector<nlohmann::json> batch(4, first);
  int done = 0;
  client.call_many("DeleteItem", batch, 2, [&](std::size_t, aws::JsonClient::Outcome&& outcome) {
    CHECK(outcome.ok());
    ++done;
  });
  CHECK(done == 4);

  const auto requests = server.requests();
  REQUIRE(requests.size() == 6);
  // call() reuses its connection: both sequential requests came on connection 1.
  CHECK(requests[0].connection == requests[1].connection);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    INFO("request " << i);
    CHECK(r.method == "POST");
    CHECK(r.path == "/");
    CHECK(r.header("Content-Type") == std::optional<std::string>("application/x-amz-json-1.0"));
    CHECK(r.header("X-Amz-Target") ==
          std::optional<std::string>(i < 2 ? "DynamoDB_20120810.GetItem" : "DynamoDB_20120810.DeleteItem"));
    CHECK(r.header("X-Amz-Security-Token") == options.credentials.session_token);
    REQUIRE(r.header("X-Amz-Date").has_value());
    CHECK(r.count("X-Amz-Date") == 1);
    CHECK(std::regex_match(*r.header("X-Amz-Date"), std::regex("[0-9]{8}T[0-9]{6}Z")));
    REQUIRE(r.header("Authorization").has_value());
    const aws::Authorization auth = aws::parse_authorization(*r.header("Authorization"));
    CHECK(auth.credential == "AKIDEXAMPLE/" + r.header("X-Amz-Date")->substr(0, 8) +
                               "/eu-west-3/dynamodb/aws4_request");
    // The session token and the operation are covered by the signature.
    CHECK(auth.signed_headers == std::vector<std::string>{"content-type", "host", "x-amz-date",
                                                          "x-amz-security-token", "x-amz-target"});
    CHECK(*r.header("Authorization") ==
          aws::expected_authorization(r, options.credentials, "eu-west-3", "dynamodb"));
  }
  CHECK(nlohmann::json::parse(requests[1].body) == second);
}
