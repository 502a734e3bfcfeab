// AWS STS: AssumeRole and AssumeRoleWithWebIdentity over the Query protocol,
// signed by libcurl (CURLOPT_AWS_SIGV4), answers read with expat.
#include "taskstore/backends/aws_sts.hpp"

#include "taskstore/backends/aws_transport.hpp"
#include "taskstore/error.hpp"
#include "taskstore/text.hpp"
#include "taskstore/uri.hpp"

#include <expat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace taskstore::aws {

namespace {

struct Parse
{
  StsAnswer answer;
  std::vector<std::string> path; // open elements, outermost first
  std::string text;              // the character data of the innermost open element
};

void XMLCALL
on_start(void* user, const XML_Char* name, const XML_Char** /*attributes*/)
{
  auto* p = static_cast<Parse*>(user);
  p->path.emplace_back(name);
  p->text.clear();
}

void XMLCALL
on_text(void* user, const XML_Char* data, int length)
{
  static_cast<Parse*>(user)->text.append(data, static_cast<std::size_t>(length));
}

void XMLCALL
on_end(void* user, const XML_Char* name)
{
  auto* p = static_cast<Parse*>(user);
  const std::string element(name);
  const std::string parent = p->path.size() >= 2 ? p->path[p->path.size() - 2] : std::string();
  const std::string value(trim(p->text));
  StsAnswer& a = p->answer;
  if (parent == "Credentials") {
    if (element == "AccessKeyId") a.access_key_id = value;
    else if (element == "SecretAccessKey") a.secret_access_key = value;
    else if (element == "SessionToken") a.session_token = value;
    else if (element == "Expiration") a.expiration = value;
  } else if (parent == "AssumedRoleUser" && element == "Arn") {
    a.arn = value;
  } else if (parent == "Error") {
    if (element == "Code") a.error_code = value;
    else if (element == "Message") a.error_message = value;
  } else if (element == "RequestId") {
    a.request_id = value;
  }
  if (!p->path.empty()) {
    p->path.pop_back();
  }
  p->text.clear();
}

std::string
form(const std::vector<std::pair<std::string, std::string>>& fields)
{
  std::string out;
  for (const auto& [name, value] : fields) {
    out += (out.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(value);
  }
  return out;
}

// Posts body to STS and returns its answer's credentials; throws ConfigError
// naming call (what it was doing) when STS cannot be reached or refuses.
Credentials
call_sts(const std::string& action, const std::string& body, const std::optional<Credentials>& signer,
         const std::string& call, const std::string& source_text, const StsOptions& options)
{
  HttpRequest request;
  request.method = "POST";
  request.url = sts_endpoint(options) + "/";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                     {"Accept", "text/xml"}};
  request.body = body;
  request.timeout = options.timeout;
  if (signer) {
    request.signing = HttpRequest::Signing{options.region.empty() ? "us-east-1" : options.region, "sts", *signer};
  }
  HttpResponse response;
  try {
    response = http_request(request);
  } catch (const AwsError& e) {
    throw ConfigError(call + ": STS could not be reached: " + e.what());
  }
  StsAnswer answer;
  try {
    answer = parse_sts_answer(response.body);
  } catch (const ConfigError&) {
    if (response.status < 200 || response.status >= 300) {
      throw ConfigError(call + ": STS answered HTTP " + std::to_string(response.status) + " (" + action + ")");
    }
    throw;
  }
  if (response.status < 200 || response.status >= 300 || !answer.error_code.empty()) {
    std::string what = call + ": STS refused " + action + ": " +
                       (answer.error_code.empty() ? "HTTP " + std::to_string(response.status) : answer.error_code);
    if (!answer.error_message.empty()) {
      what += ": " + answer.error_message;
    }
    if (!answer.request_id.empty()) {
      what += " (request id " + answer.request_id + ")";
    }
    throw ConfigError(what);
  }
  if (answer.access_key_id.empty() || answer.secret_access_key.empty()) {
    throw ConfigError(call + ": STS's " + action + " answer holds no credentials");
  }
  Credentials out;
  out.access_key_id = answer.access_key_id;
  out.secret_access_key = answer.secret_access_key;
  if (!answer.session_token.empty()) {
    out.session_token = answer.session_token;
  }
  if (!answer.expiration.empty()) {
    out.expiration = parse_iso8601(answer.expiration);
    if (!out.expiration) {
      throw ConfigError(call + ": STS's " + action + " answer has an unreadable Expiration '" + answer.expiration + "'");
    }
  }
  out.identity = answer.arn;
  out.source = source_text;
  return out;
}

std::string
session_name_or_default(const std::string& name)
{
  if (!name.empty()) {
    return name;
  }
  return "taskctl-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
}

} // namespace

StsAnswer
parse_sts_answer(const std::string& text)
{
  std::unique_ptr<std::remove_pointer_t<XML_Parser>, void (*)(XML_Parser)> parser(XML_ParserCreate("UTF-8"),
                                                                                  XML_ParserFree);
  if (!parser) {
    throw std::bad_alloc();
  }
  Parse state;
  XML_SetUserData(parser.get(), &state);
  XML_SetElementHandler(parser.get(), &on_start, &on_end);
  XML_SetCharacterDataHandler(parser.get(), &on_text);
  if (XML_Parse(parser.get(), text.data(), static_cast<int>(text.size()), XML_TRUE) != XML_STATUS_OK) {
    throw ConfigError(std::string("STS's answer is not well-formed XML: ") +
                      XML_ErrorString(XML_GetErrorCode(parser.get())) + " at line " +
                      std::to_string(XML_GetCurrentLineNumber(parser.get())));
  }
  return state.answer;
}

std::string
sts_endpoint(const StsOptions& options)
{
  const bool ignore_configured =
    ascii_lower(env_value(options.env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("")) == "true";
  for (const char* name : {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"}) {
    if (auto url = ignore_configured ? std::nullopt : env_value(options.env, name)) {
      std::string out = *url;
      while (!out.empty() && out.back() == '/') {
        out.pop_back();
      }
      const std::string lower = ascii_lower(out);
      if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0) {
        throw ConfigError(std::string("invalid STS endpoint '") + StoreUri::redact_text(out) + "' (from " + name +
                          "): expected an http:// or https:// URL");
      }
      return out;
    }
  }
  if (options.region.empty()) {
    return "https://sts.amazonaws.com";
  }
  const bool china = options.region.rfind("cn-", 0) == 0;
  return "https://sts." + options.region + (china ? ".amazonaws.com.cn" : ".amazonaws.com");
}

Credentials
assume_role(const AssumeRole& role, const Credentials& source, const std::string& source_text,
            const StsOptions& options)
{
  std::vector<std::pair<std::string, std::string>> fields = {
    {"Action", "AssumeRole"},
    {"Version", "2011-06-15"},
    {"RoleArn", role.role_arn},
    {"RoleSessionName", session_name_or_default(role.session_name)}};
  if (role.external_id) {
    fields.emplace_back("ExternalId", *role.external_id);
  }
  if (role.duration_seconds) {
    fields.emplace_back("DurationSeconds", std::to_string(*role.duration_seconds));
  }
  return call_sts("AssumeRole", form(fields), source, "assuming role " + role.role_arn, source_text, options);
}

Credentials
assume_role_with_web_identity(const std::string& role_arn, const std::string& session_name,
                              const std::string& token_file, const std::string& source_text,
                              const StsOptions& options)
{
  std::ifstream in(token_file, std::ios::binary);
  if (!in) {
    throw ConfigError("the web identity token file " + token_file + " cannot be read (for role " + role_arn + ")");
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string token(trim(text.str()));
  if (token.empty()) {
    throw ConfigError("the web identity token file " + token_file + " is empty (for role " + role_arn + ")");
  }
  const std::vector<std::pair<std::string, std::string>> fields = {
    {"Action", "AssumeRoleWithWebIdentity"},
    {"Version", "2011-06-15"},
    {"RoleArn", role_arn},
    {"RoleSessionName", session_name_or_default(session_name)},
    {"WebIdentityToken", token}};
  return call_sts("AssumeRoleWithWebIdentity", form(fields), std::nullopt,
                  "assuming role " + role_arn + " with the web identity token in " + token_file, source_text,
                  options);
}

} // namespace taskstore::aws
