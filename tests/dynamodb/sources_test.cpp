// The AWS credential sources of aws_sources.hpp against fakes of the services
// they ask (the SSO portal, the ECS/EKS container endpoint, EC2 instance
// metadata), each a CaptureServer on 127.0.0.1 that checks the requests it is
// sent, and credential_process against small shell scripts. The credentials
// each source gives must sign a DynamoDB request that our SigV4 oracle
// verifies; no secret may appear in any error message.
#include "dynamodb/sigv4_oracle.hpp"
#include "dynamodb/support.hpp"

#include "taskstore/backends/aws_credentials.hpp"
#include "taskstore/backends/aws_sources.hpp"
#include "taskstore/backends/aws_transport.hpp"
#include "taskstore/error.hpp"
#include "taskstore/interrupt.hpp"

#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <thread>

using namespace taskstore;
using namespace taskstore::testing::dynamo;
using namespace std::chrono_literals;

namespace {

const std::string k_key = "ASIASOURCETESTKEY";
const std::string k_secret = "wJalrXUtnFEMI/SOURCE/SECRETbPxRfiCYEXAMPLEKEY";
const std::string k_token = "IQoJb3JpZ2luX2VjEXAMPLE/session+token==";

// A canned answer of the fakes.
CannedResponse
canned(int status, std::string body, std::string content_type = "application/json",
       std::vector<std::pair<std::string, std::string>> headers = {})
{
  CannedResponse response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  response.headers = std::move(headers);
  return response;
}

// An EnvLookup over a map: no global environment is changed.
aws::EnvLookup
env_of(std::map<std::string, std::string> values)
{
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

aws::SourceOptions
options_with(std::map<std::string, std::string> values, std::chrono::milliseconds timeout = 5s)
{
  aws::SourceOptions options;
  options.env = env_of(std::move(values));
  options.timeout = timeout;
  return options;
}

// Returns the message of the ConfigError that f throws (fails when it throws none).
template <typename F>
std::string
config_error_of(F&& f)
{
  return message_of<ConfigError>(std::forward<F>(f));
}

// Checks that message quotes none of the test's secrets.
void
check_no_secret(const std::string& message, const std::vector<std::string>& extra = {})
{
  INFO("message: " << message);
  CHECK(message.find(k_secret) == std::string::npos);
  CHECK(message.find(k_token) == std::string::npos);
  for (const auto& secret : extra) {
    CHECK(message.find(secret) == std::string::npos);
  }
}

std::string
sha1_hex(const std::string& text)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  REQUIRE(EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr) == 1);
  return aws::hex_encode(std::string(reinterpret_cast<const char*>(digest), length));
}

// The value of query parameter name in a captured path ("" when absent).
std::string
query_parameter(const std::string& path, const std::string& name)
{
  const auto q = path.find('?');
  if (q == std::string::npos) {
    return "";
  }
  std::string query = path.substr(q + 1);
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto amp = query.find('&', start);
    const std::string pair = query.substr(start, amp - start);
    if (pair.rfind(name + "=", 0) == 0) {
      return pair.substr(name.size() + 1);
    }
    if (amp == std::string::npos) {
      break;
    }
    start = amp + 1;
  }
  return "";
}

std::string
expected_authorization(const CapturedRequest& request, const aws::Credentials& credentials)
{
  return aws::expected_authorization(request, credentials, "us-east-1", "dynamodb");
}

// Signs a DynamoDB ListTables with credentials (libcurl, as the backend
// does), sends it to a fake DynamoDB and checks the signature against the
// oracle's and that the session token was sent and signed.
void
check_signs_dynamodb(const aws::Credentials& credentials)
{
  CaptureServer dynamo([](int, const CapturedRequest&) { return canned(200, R"({"TableNames":[]})"); });
  aws::ClientOptions options;
  options.endpoint = dynamo.endpoint();
  options.region = "us-east-1";
  options.credentials = credentials;
  options.timeout = 5s;
  aws::JsonClient client(options);
  CHECK(client.call("ListTables", nlohmann::json::object()) == nlohmann::json{{"TableNames", nlohmann::json::array()}});
  const auto requests = dynamo.requests();
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  REQUIRE(r.header("Authorization").has_value());
  REQUIRE(r.header("X-Amz-Date").has_value());
  CHECK(r.header("Authorization")->find("Credential=" + credentials.access_key_id + "/") != std::string::npos);
  CHECK(r.header("X-Amz-Security-Token") == credentials.session_token);
  if (credentials.session_token) {
    CHECK(r.header("Authorization")->find("x-amz-security-token") != std::string::npos);
  }
  CHECK(*r.header("Authorization") == expected_authorization(r, credentials));
}

std::string
future_iso8601(std::chrono::seconds ahead = 3600s)
{
  return aws::format_iso8601(std::chrono::system_clock::now() + ahead);
}

// Writes an executable shell script to dir and returns its path.
std::string
script(const TempDir& dir, const std::string& name, const std::string& body)
{
  const std::string path = dir.write(name, "#!/bin/sh\n" + body);
  REQUIRE(::chmod(path.c_str(), 0755) == 0);
  return path;
}

} // namespace

// ---------------------------------------------------------------- credential_process

TEST_CASE("sources: credential_process gives the credentials its command prints, and they sign", "[sources]")
{
  TempDir dir;
  const std::string expiration = future_iso8601();
  const std::string path = script(dir, "good.sh",
                                  "echo 'diagnostics go to stderr' >&2\n"
                                  "cat <<EOF\n" +
                                    nlohmann::json{{"Version", 1},
                                                   {"AccessKeyId", k_key},
                                                   {"SecretAccessKey", k_secret},
                                                   {"SessionToken", k_token},
                                                   {"Expiration", expiration}}
                                      .dump() +
                                    "\nEOF\n");
  // Through /bin/sh -c: arguments and shell syntax work as in the AWS CLI.
  const auto c = aws::process_credentials(shell_quote(path) + " --profile 'x y'", "profile \"p\"", options_with({}));
  CHECK(c.access_key_id == k_key);
  CHECK(c.secret_access_key == k_secret);
  CHECK(c.session_token == std::optional<std::string>(k_token));
  REQUIRE(c.expiration.has_value());
  CHECK(aws::format_iso8601(*c.expiration) == expiration);
  CHECK(c.source.find("credential_process") != std::string::npos);
  CHECK(c.source.find("profile \"p\"") != std::string::npos);
  check_signs_dynamodb(c);

  SECTION("long-term keys: no SessionToken, no Expiration")
  {
    const auto plain = aws::process_credentials(
      "printf '%s' '{\"Version\":1,\"AccessKeyId\":\"AKIAPLAIN\",\"SecretAccessKey\":\"plain-secret\"}'", "profile p",
      options_with({}));
    CHECK(plain.access_key_id == "AKIAPLAIN");
    CHECK_FALSE(plain.session_token.has_value());
    CHECK_FALSE(plain.expiration.has_value());
    check_signs_dynamodb(plain);
  }
}

TEST_CASE("sources: credential_process failures are ConfigErrors that never quote the output", "[sources]")
{
  TempDir dir;
  const auto options = options_with({}, 2s);
  const auto run = [&](const std::string& body) {
    return config_error_of(
      [&] { aws::process_credentials(script(dir, "p.sh", body), "profile \"p\"", options); });
  };
  const std::string doc_v2 = nlohmann::json{{"Version", 2}, {"AccessKeyId", k_key}, {"SecretAccessKey", k_secret}}.dump();

  SECTION("not JSON")
  {
    const auto m = run("echo 'AccessKeyId=" + k_key + " SecretAccessKey=" + k_secret + "'\n");
    CHECK(m.find("not a JSON object") != std::string::npos);
    CHECK(m.find("profile \"p\"") != std::string::npos);
    check_no_secret(m, {k_key});
  }
  SECTION("truncated JSON")
  {
    const auto m = run("printf '%s' '{\"Version\": 1, \"SecretAccessKey\": \"" + k_secret + "'\n");
    CHECK(m.find("not a JSON object") != std::string::npos);
    check_no_secret(m);
  }
  SECTION("Version 2")
  {
    const auto m = run("echo '" + doc_v2 + "'\n");
    CHECK(m.find("Version 2") != std::string::npos);
    check_no_secret(m, {k_key});
  }
  SECTION("no Version")
  {
    const auto m = run("echo '{\"AccessKeyId\":\"" + k_key + "\",\"SecretAccessKey\":\"" + k_secret + "\"}'\n");
    CHECK(m.find("no Version") != std::string::npos);
    check_no_secret(m);
  }
  SECTION("no SecretAccessKey")
  {
    const auto m = run("echo '{\"Version\":1,\"AccessKeyId\":\"" + k_key + "\"}'\n");
    CHECK(m.find("no SecretAccessKey") != std::string::npos);
  }
  SECTION("exit status 1, even with good output")
  {
    const auto m = run("echo '" + doc_v2 + "'\necho 'could not log in' >&2\nexit 1\n");
    CHECK(m.find("exit status 1") != std::string::npos);
    check_no_secret(m, {k_key});
  }
  SECTION("expired Expiration")
  {
    const std::string doc = nlohmann::json{{"Version", 1},
                                           {"AccessKeyId", k_key},
                                           {"SecretAccessKey", k_secret},
                                           {"SessionToken", k_token},
                                           {"Expiration", "2020-01-01T00:00:00Z"}}
                              .dump();
    const auto m = run("echo '" + doc + "'\n");
    CHECK(m.find("expired at 2020-01-01T00:00:00Z") != std::string::npos);
    check_no_secret(m, {k_key});
  }
  SECTION("an Expiration that is not a time")
  {
    const auto m = run("echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"" + k_secret +
                       "\",\"Expiration\":\"tomorrow\"}'\n");
    CHECK(m.find("Expiration is not an ISO 8601 time") != std::string::npos);
    check_no_secret(m);
  }
  SECTION("more than 1 MiB of output")
  {
    const auto m = run("head -c 2000000 /dev/zero\n");
    CHECK(m.find("more than 1 MiB") != std::string::npos);
  }
  SECTION("stdin is /dev/null, not ours")
  {
    const auto m = run("if read line; then echo \"read: $line\"; else echo 'stdin at EOF'; fi\n");
    CHECK(m.find("not a JSON object") != std::string::npos);
  }
}

TEST_CASE("sources: credential_process that cannot be found, or outlives its timeout", "[sources]")
{
  SECTION("not found: exit status 127, the program named but not the rest of the command line")
  {
    const auto m = config_error_of([] {
      aws::process_credentials("/nonexistent/taskctl-helper --token " + k_token, "profile \"p\"", options_with({}));
    });
    CHECK(m.find("/nonexistent/taskctl-helper") != std::string::npos);
    CHECK(m.find("exit status 127") != std::string::npos);
    check_no_secret(m);
  }
  SECTION("an empty command")
  {
    const auto m = config_error_of([] { aws::process_credentials("  ", "profile \"p\"", options_with({})); });
    CHECK(m.find("empty") != std::string::npos);
  }
  SECTION("sleeps past the timeout: killed, and the error comes at the timeout")
  {
    TempDir dir;
    const std::string path = script(dir, "slow.sh", "echo '{\"Version\":' \nexec sleep 30\n");
    const auto start = std::chrono::steady_clock::now();
    // exec: the killed process is the one that sleeps (only it is killed,
    // as in the Go SDK; a process it started itself would outlive it).
    const auto m =
      config_error_of([&] { aws::process_credentials("exec " + path, "profile \"p\"", options_with({}, 300ms)); });
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(m.find("did not finish within 300 ms") != std::string::npos);
    CHECK(took >= 300ms);
    CHECK(took < 3s);
  }
  SECTION("exits, leaving a background process that holds its stdout: done when it exits")
  {
    const auto start = std::chrono::steady_clock::now();
    const auto c = aws::process_credentials(
      "printf '%s' '{\"Version\":1,\"AccessKeyId\":\"AKIABG\",\"SecretAccessKey\":\"bg-secret\"}'; sleep 2 2>/dev/null &",
      "profile \"p\"", options_with({}, 2s));
    CHECK(c.access_key_id == "AKIABG");
    CHECK(std::chrono::steady_clock::now() - start < 1s);
  }
  SECTION("closes its stdout but does not exit: killed at the timeout")
  {
    const auto start = std::chrono::steady_clock::now();
    const auto m = config_error_of(
      [&] { aws::process_credentials("exec >&-; exec sleep 30", "profile \"p\"", options_with({}, 300ms)); });
    CHECK(m.find("did not finish within 300 ms") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
  }
}

TEST_CASE("sources: an interrupt stops credential_process at once (killed; the Interrupted transport error)",
          "[sources]")
{
  clear_interrupt();
  std::thread interrupter([] {
    std::this_thread::sleep_for(100ms);
    request_interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  try {
    aws::process_credentials("exec sleep 30", "profile \"p\"", options_with({}, 10s));
    FAIL("expected an AwsError");
  } catch (const aws::AwsError& e) {
    CHECK(e.type == "Interrupted");
    CHECK(e.kind == aws::AwsError::Kind::transport);
  }
  interrupter.join();
  clear_interrupt();
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

// ---------------------------------------------------------------- SSO

namespace {

// A fake SSO portal: GET /federation/credentials?account_id=..&role_name=..
// with x-amz-sso_bearer_token; 401 for any other token.
class FakePortal
{
public:
  explicit FakePortal(std::string bearer, std::string account = "123456789012", std::string role = "Admin%2BOps")
    : m_server([this, bearer = std::move(bearer), account = std::move(account),
                role = std::move(role)](int, const CapturedRequest& r) {
      const bool ok = r.method == "GET" && r.path.rfind("/federation/credentials?", 0) == 0 &&
                      query_parameter(r.path, "account_id") == account && query_parameter(r.path, "role_name") == role;
      if (!ok) {
        std::lock_guard lock(m_mutex);
        m_malformed.push_back(r.method + " " + r.path);
        return canned(400, R"({"message":"bad request"})", "application/json");
      }
      if (r.header("x-amz-sso_bearer_token") != std::optional<std::string>(bearer)) {
        return canned(401, R"({"message":"Session token not found or invalid"})", "application/json",
                              {{"x-amzn-ErrorType", "UnauthorizedException"}});
      }
      return canned(200,
                            nlohmann::json{{"roleCredentials",
                                            {{"accessKeyId", k_key},
                                             {"secretAccessKey", k_secret},
                                             {"sessionToken", k_token},
                                             {"expiration", 1893456000000LL}}}}
                              .dump(),
                            "application/json");
    })
  {
  }

  std::string endpoint() const { return m_server.endpoint(); }
  std::vector<CapturedRequest> requests() const { return m_server.requests(); }
  std::vector<std::string> malformed() const
  {
    std::lock_guard lock(m_mutex);
    return m_malformed;
  }

private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_malformed;
  CaptureServer m_server;
};

// Writes an SSO token cache file under home and returns its path.
std::string
write_token_cache(const TempDir& home, const std::string& file_stem, const std::string& access_token,
                  const std::string& expires_at)
{
  std::filesystem::create_directories(home.path() + "/.aws/sso/cache");
  return home.write(".aws/sso/cache/" + file_stem + ".json",
                    nlohmann::json{{"startUrl", "https://example.awsapps.com/start"},
                                   {"region", "eu-west-1"},
                                   {"accessToken", access_token},
                                   {"expiresAt", expires_at}}
                      .dump());
}

aws::SsoProfile
sso_profile(std::optional<std::string> session)
{
  aws::SsoProfile sso;
  sso.profile = "dev";
  sso.start_url = "https://example.awsapps.com/start";
  sso.region = "eu-west-1";
  sso.account_id = "123456789012";
  sso.role_name = "Admin+Ops";
  sso.session_name = std::move(session);
  return sso;
}

} // namespace

TEST_CASE("sources: SSO with sso_session reads the cache file named by the session's SHA-1", "[sources]")
{
  const std::string bearer = "aoa-BEARER-TOKEN-sso-session";
  FakePortal portal(bearer);
  TempDir home;
  // FIPS 180's test vector: SHA-1("abc"), independent of any code under test.
  write_token_cache(home, "a9993e364706816aba3e25717850c26c9cd0d89d", bearer, future_iso8601());
  const auto options = options_with({{"HOME", home.path()}, {"AWS_ENDPOINT_URL_SSO", portal.endpoint() + "/"}});
  const auto c = aws::sso_credentials(sso_profile("abc"), options);
  CHECK(portal.malformed().empty());
  const auto requests = portal.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].path == "/federation/credentials?account_id=123456789012&role_name=Admin%2BOps");
  CHECK(requests[0].header("x-amz-sso_bearer_token") == std::optional<std::string>(bearer));
  CHECK(c.access_key_id == k_key);
  CHECK(c.secret_access_key == k_secret);
  CHECK(c.session_token == std::optional<std::string>(k_token));
  REQUIRE(c.expiration.has_value());
  CHECK(aws::format_iso8601(*c.expiration) == "2030-01-01T00:00:00Z");
  CHECK(c.identity.find("123456789012") != std::string::npos);
  CHECK(c.identity.find("Admin+Ops") != std::string::npos);
  check_no_secret(c.identity + c.source, {bearer});
  check_signs_dynamodb(c);
}

TEST_CASE("sources: legacy SSO (no sso_session) reads the cache file named by the start URL's SHA-1",
          "[sources]")
{
  const std::string bearer = "aoa-BEARER-TOKEN-legacy";
  FakePortal portal(bearer);
  TempDir home;
  write_token_cache(home, sha1_hex("https://example.awsapps.com/start"), bearer, future_iso8601());
  // A session's file beside it is not the legacy profile's.
  write_token_cache(home, "a9993e364706816aba3e25717850c26c9cd0d89d", "other-token", future_iso8601());
  const auto options = options_with({{"HOME", home.path()}, {"AWS_ENDPOINT_URL_SSO", portal.endpoint()}});
  const auto c = aws::sso_credentials(sso_profile(std::nullopt), options);
  CHECK(portal.malformed().empty());
  REQUIRE(portal.requests().size() == 1);
  CHECK(portal.requests()[0].header("x-amz-sso_bearer_token") == std::optional<std::string>(bearer));
  check_signs_dynamodb(c);
}

TEST_CASE("sources: SSO without a usable token says to run aws sso login --profile P", "[sources]")
{
  const std::string bearer = "aoa-BEARER-TOKEN-login";
  FakePortal portal(bearer);
  TempDir home;
  const auto options = options_with({{"HOME", home.path()}, {"AWS_ENDPOINT_URL_SSO", portal.endpoint()}});
  const std::string stem = sha1_hex("my-session");

  SECTION("missing")
  {
    const auto m = config_error_of([&] { aws::sso_credentials(sso_profile("my-session"), options); });
    CHECK(m.find("aws sso login --profile dev") != std::string::npos);
    CHECK(m.find(stem + ".json") != std::string::npos);
    CHECK(m.find("not found") != std::string::npos);
  }
  SECTION("expired")
  {
    write_token_cache(home, stem, bearer, "2020-01-01T00:00:00Z");
    const auto m = config_error_of([&] { aws::sso_credentials(sso_profile("my-session"), options); });
    CHECK(m.find("aws sso login --profile dev") != std::string::npos);
    CHECK(m.find("expired at 2020-01-01T00:00:00Z") != std::string::npos);
    check_no_secret(m, {bearer});
  }
  SECTION("refused by the portal (401)")
  {
    write_token_cache(home, stem, "a-token-the-portal-does-not-know", future_iso8601());
    const auto m = config_error_of([&] { aws::sso_credentials(sso_profile("my-session"), options); });
    CHECK(m.find("aws sso login --profile dev") != std::string::npos);
    CHECK(m.find("HTTP 401") != std::string::npos);
    check_no_secret(m, {bearer, "a-token-the-portal-does-not-know"});
    CHECK(portal.requests().size() == 1);
  }
  SECTION("not a token document")
  {
    std::filesystem::create_directories(home.path() + "/.aws/sso/cache");
    home.write(".aws/sso/cache/" + stem + ".json", "not json " + bearer);
    const auto m = config_error_of([&] { aws::sso_credentials(sso_profile("my-session"), options); });
    CHECK(m.find("aws sso login --profile dev") != std::string::npos);
    check_no_secret(m, {bearer});
  }
  CHECK(portal.malformed().empty());
}

// ---------------------------------------------------------------- container

namespace {

// A fake ECS/EKS credentials endpoint: answers credentials when the
// Authorization header is one of the tokens it was told of, else 401.
CaptureServer::Responder
container_endpoint(std::vector<std::string> tokens, std::string path)
{
  return [tokens = std::move(tokens), path = std::move(path)](int i, const CapturedRequest& r) {
    const auto auth = r.header("Authorization");
    if (r.method != "GET" || r.path != path) {
      return canned(404, R"({"Code":"NotFound","Message":"no such path"})", "application/json");
    }
    if (!tokens.empty() && (!auth || *auth != tokens[std::min<std::size_t>(i, tokens.size() - 1)])) {
      return canned(401, R"({"Code":"AccessDenied","Message":"bad token"})", "application/json");
    }
    return canned(200,
                          nlohmann::json{{"AccessKeyId", k_key},
                                         {"SecretAccessKey", k_secret},
                                         {"Token", k_token},
                                         {"Expiration", "2030-01-01T00:00:00Z"},
                                         {"RoleArn", "arn:aws:iam::123456789012:role/task-role"}}
                            .dump(),
                          "application/json");
  };
}

} // namespace

TEST_CASE("sources: container credentials from the relative URI, with the token variable", "[sources]")
{
  const std::string auth = "Basic ZWNzLXRhc2stdG9rZW4=";
  CaptureServer server(container_endpoint({auth}, "/v2/credentials/task-uuid"));
  std::string why_not;
  const auto c = aws::container_credentials(
    options_with({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/task-uuid"},
                  {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/ignored"},
                  {"AWS_CONTAINER_AUTHORIZATION_TOKEN", auth},
                  {"TASKCTL_AWS_CONTAINER_ENDPOINT", server.endpoint()}}),
    why_not);
  REQUIRE(c.has_value());
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].header("Authorization") == std::optional<std::string>(auth));
  CHECK(c->access_key_id == k_key);
  CHECK(c->session_token == std::optional<std::string>(k_token));
  REQUIRE(c->expiration.has_value());
  CHECK(aws::format_iso8601(*c->expiration) == "2030-01-01T00:00:00Z");
  CHECK(c->identity == "arn:aws:iam::123456789012:role/task-role");
  check_no_secret(c->source, {auth});
  check_signs_dynamodb(*c);
}

TEST_CASE("sources: container credentials from the full URI re-read the token file on every fetch", "[sources]")
{
  CaptureServer server(container_endpoint({"first-pod-token", "second-pod-token"}, "/v1/credentials"));
  TempDir dir;
  const std::string file = dir.write("token", "first-pod-token\n");
  const auto options = options_with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.endpoint() + "/v1/credentials"},
                                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file},
                                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "the-file-wins"}});
  std::string why_not;
  const auto first = aws::container_credentials(options, why_not);
  REQUIRE(first.has_value());
  dir.write("token", "second-pod-token");
  const auto second = aws::container_credentials(options, why_not);
  REQUIRE(second.has_value());
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].header("Authorization") == std::optional<std::string>("first-pod-token"));
  CHECK(requests[1].header("Authorization") == std::optional<std::string>("second-pod-token"));
  check_signs_dynamodb(*second);

  SECTION("a token the endpoint refuses: ConfigError, HTTP 401, no token quoted")
  {
    dir.write("token", "stale-pod-token");
    const auto m = config_error_of([&] { aws::container_credentials(options, why_not); });
    CHECK(m.find("HTTP 401") != std::string::npos);
    check_no_secret(m, {"stale-pod-token"});
  }
  SECTION("an unreadable token file")
  {
    const auto m = config_error_of([&] {
      aws::container_credentials(options_with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.endpoint() + "/v1/credentials"},
                                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir.file("missing")}}),
                                 why_not);
    });
    CHECK(m.find(dir.file("missing")) != std::string::npos);
  }
}

TEST_CASE("sources: container credentials refuse unsafe URIs and tokens before any request", "[sources]")
{
  CaptureServer server(container_endpoint({}, "/creds"));
  std::string why_not;

  SECTION("neither variable: does not apply")
  {
    CHECK_FALSE(aws::container_credentials(options_with({}), why_not).has_value());
    CHECK(why_not.find("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != std::string::npos);
  }
  SECTION("FULL_URI over http to a host that is not loopback or ECS/EKS")
  {
    for (const std::string uri : {"http://169.254.170.99/creds", "http://192.168.1.10:8080/creds",
                                  "http://example.invalid/creds", "http://[fd00:ec2::24]/creds", "ftp://127.0.0.1/creds"}) {
      INFO(uri);
      const auto m = config_error_of([&] {
        aws::container_credentials(options_with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", uri},
                                                 {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret-auth"}}),
                                   why_not);
      });
      CHECK(m.find("AWS_CONTAINER_CREDENTIALS_FULL_URI") != std::string::npos);
      check_no_secret(m, {"secret-auth"});
    }
  }
  SECTION("a token with a line break")
  {
    for (const std::string& token : {std::string("abc\r\nX-Injected: 1"), std::string("abc\ndef")}) {
      const auto m = config_error_of([&] {
        aws::container_credentials(options_with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.endpoint() + "/creds"},
                                                 {"AWS_CONTAINER_AUTHORIZATION_TOKEN", token}}),
                                   why_not);
      });
      CHECK(m.find("line break") != std::string::npos);
      CHECK(m.find("abc") == std::string::npos);
    }
    TempDir dir;
    const auto m = config_error_of([&] {
      aws::container_credentials(options_with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.endpoint() + "/creds"},
                                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                                dir.write("token", "line-one\r\nline-two\n")}}),
                                 why_not);
    });
    CHECK(m.find("line break") != std::string::npos);
    CHECK(m.find("line-one") == std::string::npos);
  }
  CHECK(server.requests().empty());

  SECTION("loopback http FULL_URI is allowed (127.0.0.1), with no token")
  {
    const auto c = aws::container_credentials(
      options_with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.endpoint() + "/creds"}}), why_not);
    REQUIRE(c.has_value());
    CHECK_FALSE(server.requests().at(0).header("Authorization").has_value());
  }
  SECTION("an endpoint that does not answer: ConfigError")
  {
    const auto m = config_error_of([&] {
      aws::container_credentials(
        options_with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI",
                       "http://127.0.0.1:" + std::to_string(unused_port()) + "/creds"}},
                     2s),
        why_not);
    });
    CHECK(m.find("did not answer") != std::string::npos);
  }
}

// ---------------------------------------------------------------- instance metadata

namespace {

// What the fake IMDS answers.
struct ImdsScript
{
  bool has_role = true;
  std::string code = "Success";
  bool hang_up_token = false;
};

// A fake IMDSv2: PUT /latest/api/token (with the TTL header) gives a token;
// every GET must carry it, else 401 as the real IMDSv2 answers. Records any
// request that was not well formed.
class FakeImds
{
public:
  explicit FakeImds(ImdsScript script = ImdsScript())
    : m_script(script)
    , m_server([this](int, const CapturedRequest& r) { return respond(r); })
  {
  }

  std::string endpoint() const { return m_server.endpoint(); }
  std::vector<CapturedRequest> requests() const { return m_server.requests(); }
  std::vector<std::string> problems() const
  {
    std::lock_guard lock(m_mutex);
    return m_problems;
  }

  static constexpr const char* token = "AQAEAFAKE-IMDS-SESSION-TOKEN==";

private:
  CannedResponse respond(const CapturedRequest& r)
  {
    const auto text = [](int status, std::string body) { return canned(status, std::move(body), "text/plain"); };
    std::lock_guard lock(m_mutex);
    if (r.method == "PUT" && r.path == "/latest/api/token") {
      if (m_script.hang_up_token) {
        CannedResponse hang;
        hang.hang_up = true;
        return hang;
      }
      if (r.header("X-aws-ec2-metadata-token-ttl-seconds") != std::optional<std::string>("21600")) {
        m_problems.push_back("token PUT without the TTL header");
        return text(400, "");
      }
      m_issued = true;
      return text(200, token);
    }
    if (r.method != "GET") {
      m_problems.push_back("unexpected " + r.method + " " + r.path);
      return text(405, "");
    }
    if (!m_issued || r.header("X-aws-ec2-metadata-token") != std::optional<std::string>(token)) {
      m_problems.push_back("GET " + r.path + " without the session token");
      return text(401, "");
    }
    if (r.path == "/latest/meta-data/placement/region") {
      return text(200, "eu-west-3");
    }
    if (r.path == "/latest/meta-data/iam/security-credentials/") {
      return m_script.has_role ? text(200, "web-role\n") : text(404, "Not Found");
    }
    if (r.path == "/latest/meta-data/iam/security-credentials/web-role" && m_script.has_role) {
      return text(200, nlohmann::json{{"Code", m_script.code},
                                      {"LastUpdated", "2026-01-01T00:00:00Z"},
                                      {"Type", "AWS-HMAC"},
                                      {"AccessKeyId", k_key},
                                      {"SecretAccessKey", k_secret},
                                      {"Token", k_token},
                                      {"Expiration", "2030-01-01T06:00:00Z"}}
                         .dump());
    }
    return text(404, "Not Found");
  }

  ImdsScript m_script;
  mutable std::mutex m_mutex;
  bool m_issued = false;
  std::vector<std::string> m_problems;
  CaptureServer m_server;
};

} // namespace

TEST_CASE("sources: instance metadata (IMDSv2) credentials and region, token first", "[sources]")
{
  FakeImds imds;
  const auto options = options_with({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint() + "/"}});
  std::string why_not;
  const auto c = aws::instance_credentials(options, why_not);
  REQUIRE(c.has_value());
  CHECK(imds.problems().empty());
  auto requests = imds.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].method == "PUT");
  CHECK(requests[0].path == "/latest/api/token");
  CHECK(requests[1].path == "/latest/meta-data/iam/security-credentials/");
  CHECK(requests[2].path == "/latest/meta-data/iam/security-credentials/web-role");
  CHECK(c->access_key_id == k_key);
  CHECK(c->secret_access_key == k_secret);
  CHECK(c->session_token == std::optional<std::string>(k_token));
  REQUIRE(c->expiration.has_value());
  CHECK(aws::format_iso8601(*c->expiration) == "2030-01-01T06:00:00Z");
  CHECK(c->identity.find("web-role") != std::string::npos);
  check_no_secret(c->source + c->identity, {FakeImds::token});
  check_signs_dynamodb(*c);

  const auto region = aws::instance_region(options, why_not);
  CHECK(region == std::optional<std::string>("eu-west-3"));
  CHECK(imds.problems().empty());
  requests = imds.requests();
  REQUIRE(requests.size() == 5);
  CHECK(requests[3].method == "PUT");
  CHECK(requests[4].path == "/latest/meta-data/placement/region");
}

TEST_CASE("sources: the metadata services are asked directly, never through http_proxy", "[sources]")
{
  FakeImds imds;
  taskstore::testing::EnvGuard guard;
  const std::string dead_proxy = "http://127.0.0.1:" + std::to_string(unused_port());
  guard.set("http_proxy", dead_proxy).set("HTTP_PROXY", dead_proxy).set("no_proxy", std::nullopt).set("NO_PROXY", std::nullopt);
  std::string why_not;
  const auto c =
    aws::instance_credentials(options_with({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint()}}), why_not);
  INFO(why_not);
  CHECK(c.has_value());
  CHECK(imds.problems().empty());
}

TEST_CASE("sources: instance metadata that is disabled, absent, silent or gives no role", "[sources]")
{
  std::string why_not;

  SECTION("AWS_EC2_METADATA_DISABLED=true: nothing is asked")
  {
    FakeImds imds;
    const auto options = options_with(
      {{"AWS_EC2_METADATA_DISABLED", "TRUE"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint()}});
    CHECK_FALSE(aws::instance_credentials(options, why_not).has_value());
    CHECK(why_not == "disabled by AWS_EC2_METADATA_DISABLED");
    why_not.clear();
    CHECK_FALSE(aws::instance_region(options, why_not).has_value());
    CHECK(why_not == "disabled by AWS_EC2_METADATA_DISABLED");
    CHECK(imds.requests().empty());
  }
  SECTION("nothing listens: nullopt at once, saying where it asked")
  {
    const std::string endpoint = "http://127.0.0.1:" + std::to_string(unused_port());
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(
      aws::instance_credentials(options_with({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint}}), why_not).has_value());
    CHECK(std::chrono::steady_clock::now() - start < 1500ms);
    CHECK(why_not.find("no instance metadata service answered at " + endpoint) != std::string::npos);
  }
  SECTION("the token request is hung up on")
  {
    ImdsScript script;
    script.hang_up_token = true;
    FakeImds imds(script);
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(aws::instance_region(options_with({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint()}}), why_not)
                  .has_value());
    CHECK(std::chrono::steady_clock::now() - start < 2500ms);
    CHECK(why_not.find("no instance metadata service answered at " + imds.endpoint()) != std::string::npos);
  }
  SECTION("an answer that does not come: the short timeout (test seam), then nullopt")
  {
    CaptureServer silent([](int, const CapturedRequest&) {
      std::this_thread::sleep_for(700ms);
      return canned(200, "late");
    });
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(aws::instance_credentials(options_with({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", silent.endpoint()},
                                                        {"TASKCTL_AWS_IMDS_TIMEOUT_MS", "200"}}),
                                          why_not)
                  .has_value());
    CHECK(std::chrono::steady_clock::now() - start < 1200ms);
    CHECK(why_not == "no instance metadata service answered at " + silent.endpoint() + " within 200 ms");
  }
  SECTION("an instance without a role")
  {
    ImdsScript script;
    script.has_role = false;
    FakeImds imds(script);
    CHECK_FALSE(aws::instance_credentials(options_with({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint()}}),
                                          why_not)
                  .has_value());
    CHECK(why_not.find("the instance has no IAM role") != std::string::npos);
    CHECK(imds.problems().empty());
  }
  SECTION("a role whose credentials are not Code Success: ConfigError without the secret")
  {
    ImdsScript script;
    script.code = "AssumeRoleUnauthorizedAccess";
    FakeImds imds(script);
    const auto m = config_error_of([&] {
      aws::instance_credentials(options_with({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint()}}), why_not);
    });
    CHECK(m.find("AssumeRoleUnauthorizedAccess") != std::string::npos);
    check_no_secret(m, {k_key, FakeImds::token});
    CHECK(imds.problems().empty());
  }
  SECTION("a bad endpoint mode")
  {
    const auto m = config_error_of([&] {
      aws::instance_credentials(options_with({{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5"}}), why_not);
    });
    CHECK(m.find("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") != std::string::npos);
  }
}

// ---------------------------------------------------------------- in the chain

TEST_CASE("sources in the chain: the profile, then container credentials, then instance metadata; region from IMDS",
          "[sources]")
{
  TempDir home;
  FakeImds imds;
  CaptureServer container(container_endpoint({}, "/creds"));
  std::map<std::string, std::string> env = {
    {"HOME", home.path()},
    {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint()},
    {"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.endpoint() + "/creds"}};
  aws::ConfigRequest request;
  request.what = "dynamodb://t";

  // No region anywhere but instance metadata; container credentials before IMDS.
  auto config = aws::resolve_config(request, env_of(env));
  CHECK(config.region == "eu-west-3");
  CHECK(config.region_source == "EC2 instance metadata");
  CHECK(config.credentials.source.find("container") != std::string::npos);
  CHECK(config.provider->tried().size() == 3); // environment, web identity, profile
  CHECK(container.requests().size() == 1);

  // Without the container variable, instance metadata answers.
  env.erase("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  config = aws::resolve_config(request, env_of(env));
  CHECK(config.credentials.access_key_id == k_key);
  CHECK(config.credentials.source.find("instance metadata") != std::string::npos);
  CHECK(config.provider->tried().size() == 4);
  CHECK(imds.problems().empty());

  // A profile with keys comes before both.
  std::filesystem::create_directories(home.path() + "/.aws");
  home.write(".aws/credentials", "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n");
  env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.endpoint() + "/creds";
  config = aws::resolve_config(request, env_of(env));
  CHECK(config.credentials.access_key_id == "AKIDPROFILE");
  CHECK(container.requests().size() == 1);

  // AWS_EC2_METADATA_DISABLED: no region from IMDS either.
  env["AWS_EC2_METADATA_DISABLED"] = "true";
  const auto message = config_error_of([&] { aws::resolve_config(request, env_of(env)); });
  CHECK(message.find("no AWS region") != std::string::npos);
  CHECK(message.find("AWS_EC2_METADATA_DISABLED") != std::string::npos);
}
