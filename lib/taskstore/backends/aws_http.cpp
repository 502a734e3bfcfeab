// AWS plumbing of the dynamodb backend: configuration, SigV4, JSON transport.
#include "taskstore/backends/aws_http.hpp"

#include "taskstore/error.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <pwd.h>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <variant>

namespace taskstore::aws {

// ======================================================================== hashing

std::string
hex_encode(std::string_view bytes)
{
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(k_hex[u >> 4]);
    out.push_back(k_hex[u & 15]);
  }
  return out;
}

std::string
sha256_hex(std::string_view data)
{
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string
hmac_sha256(std::string_view key, std::string_view data)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
           &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

// ======================================================================== signing

std::string
uri_encode(std::string_view text, bool encode_slash)
{
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(k_hex[u >> 4]);
      out.push_back(k_hex[u & 15]);
    }
  }
  return out;
}

namespace {

int
hex_digit(char c)
{
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Returns text with valid %XX escapes decoded (others kept as they are).
std::string
uri_decode(std::string_view text)
{
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_digit(text[i + 1]);
      const int lo = hex_digit(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string
to_lower(std::string_view text)
{
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string
to_upper(std::string_view text)
{
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string_view
trim(std::string_view text)
{
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// A header value for the canonical request: trimmed, inner runs of spaces collapsed.
std::string
canonical_header_value(std::string_view value)
{
  value = trim(value);
  std::string out;
  bool in_space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      if (!in_space) {
        out.push_back(' ');
      }
      in_space = true;
    } else {
      out.push_back(c);
      in_space = false;
    }
  }
  return out;
}

std::string
canonical_query(std::string_view raw)
{
  std::vector<std::pair<std::string, std::string>> params;
  while (!raw.empty()) {
    const auto amp = raw.find('&');
    const auto item = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (item.empty()) {
      continue;
    }
    const auto eq = item.find('=');
    params.emplace_back(uri_encode(uri_decode(item.substr(0, eq))),
                        eq == std::string_view::npos ? std::string{}
                                                     : uri_encode(uri_decode(item.substr(eq + 1))));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

} // namespace

Signature
sign_v4(const SigningRequest& request, const Credentials& credentials, std::string_view region,
        std::string_view service, std::string_view amz_date)
{
  const bool date_ok =
    amz_date.size() == 16 && amz_date[8] == 'T' && amz_date[15] == 'Z' &&
    std::all_of(amz_date.begin(), amz_date.begin() + 8, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
    std::all_of(amz_date.begin() + 9, amz_date.begin() + 15, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!date_ok) {
    throw std::invalid_argument("SigV4: the date must be YYYYMMDDTHHMMSSZ, got '" +
                                std::string(amz_date) + "'");
  }
  const std::string_view date = amz_date.substr(0, 8);

  // Headers: lower-case names, sorted; repeated headers joined with ','.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    auto& slot = headers[to_lower(trim(name))];
    if (!slot.empty()) {
      slot.push_back(',');
    }
    slot += canonical_header_value(value);
  }
  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) {
      signed_headers.push_back(';');
    }
    signed_headers += name;
  }

  std::string path = request.path.empty() ? std::string("/") : request.path;
  if (service != "s3") {
    path = uri_encode(uri_encode(path, false), false);
  } else {
    path = uri_encode(path, false);
  }

  Signature out;
  out.signed_headers = signed_headers;
  out.canonical_request = request.method + "\n" + path + "\n" + canonical_query(request.query) +
                          "\n" + canonical_headers + "\n" + signed_headers + "\n" +
                          sha256_hex(request.payload);
  out.credential_scope =
    std::string(date) + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + out.credential_scope +
                       "\n" + sha256_hex(out.canonical_request);

  const std::string k_date = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  const std::string k_region = hmac_sha256(k_date, region);
  const std::string k_service = hmac_sha256(k_region, service);
  const std::string k_signing = hmac_sha256(k_service, "aws4_request");
  out.signing_key_hex = hex_encode(k_signing);
  out.signature = hex_encode(hmac_sha256(k_signing, out.string_to_sign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" +
                      out.credential_scope + ", SignedHeaders=" + signed_headers +
                      ", Signature=" + out.signature;
  return out;
}

std::string
format_amz_date(std::chrono::system_clock::time_point t)
{
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

// ======================================================================== configuration

EnvLookup
process_environment()
{
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

namespace {

// An environment variable that is set and not empty.
std::optional<std::string>
env_value(const EnvLookup& env, const std::string& name)
{
  auto value = env(name);
  if (value && !trim(*value).empty()) {
    return std::string(trim(*value));
  }
  return std::nullopt;
}

std::string
home_directory(const EnvLookup& env)
{
  if (auto home = env_value(env, "HOME")) {
    return *home;
  }
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  return {};
}

std::string
expand_home(const std::string& path, const EnvLookup& env)
{
  if (path == "~" || path.rfind("~/", 0) == 0) {
    return home_directory(env) + path.substr(1);
  }
  return path;
}

// An AWS shared config or credentials file: sections of key = value lines.
// Full-line comments start with '#' or ';'. Indented lines under a key with
// an empty value are nested settings (e.g. "s3 =\n  addressing_style = path")
// and are kept as "key.sub".
struct IniFile
{
  std::string path;
  bool exists = false;
  std::string problem;  // why it could not be read, when it exists but could not be
  std::map<std::string, std::map<std::string, std::string>> sections;

  const std::map<std::string, std::string>* section(const std::string& name) const
  {
    const auto it = sections.find(name);
    return it == sections.end() ? nullptr : &it->second;
  }
};

IniFile
read_ini(const std::string& path)
{
  IniFile file;
  file.path = path;
  std::ifstream in(path);
  if (!in) {
    if (errno != ENOENT && access(path.c_str(), F_OK) == 0) {
      file.exists = true;
      file.problem = std::strerror(errno);
    }
    return file;
  }
  file.exists = true;
  std::string line;
  std::string section;
  std::string parent;  // the key whose value was empty (nested block), if any
  bool in_section = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    const std::string_view text = trim(line);
    if (text.empty() || text.front() == '#' || text.front() == ';') {
      continue;
    }
    const bool indented = std::isspace(static_cast<unsigned char>(line.front())) != 0;
    if (text.front() == '[' && text.back() == ']') {
      section = std::string(trim(text.substr(1, text.size() - 2)));
      file.sections[section];
      in_section = true;
      parent.clear();
      continue;
    }
    if (!in_section) {
      continue;
    }
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    std::string key = std::string(trim(text.substr(0, eq)));
    std::string value = std::string(trim(text.substr(eq + 1)));
    if (indented && !parent.empty()) {
      file.sections[section][parent + "." + key] = value;
      continue;
    }
    parent = value.empty() ? key : std::string{};
    file.sections[section][key] = value;
  }
  return file;
}

// Returns "(not found)", "(could not be read: ...)" or "" for a file.
std::string
file_state(const IniFile& file)
{
  if (!file.exists) {
    return " (not found)";
  }
  if (!file.problem.empty()) {
    return " (could not be read: " + file.problem + ")";
  }
  return {};
}

const std::map<std::string, std::string>*
config_profile(const IniFile& config, const std::string& profile)
{
  if (const auto* s = config.section("profile " + profile)) {
    return s;
  }
  if (profile == "default") {
    return config.section("default");
  }
  return nullptr;
}

std::optional<std::string>
setting(const std::map<std::string, std::string>* section, const std::string& key)
{
  if (section == nullptr) {
    return std::nullopt;
  }
  const auto it = section->find(key);
  if (it == section->end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second;
}

// Returns the endpoint without a trailing '/'; throws InvalidArgument when it
// is not an http:// or https:// URL.
std::string
check_endpoint(const std::string& endpoint, const std::string& source)
{
  const std::string lower = to_lower(endpoint);
  if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0) {
    throw InvalidArgument("invalid DynamoDB endpoint '" + endpoint + "' (from " + source +
                          "): expected an http:// or https:// URL");
  }
  std::string out = endpoint;
  while (out.size() > 8 && out.back() == '/') {
    out.pop_back();
  }
  const auto host_start = out.find("://") + 3;
  if (host_start >= out.size()) {
    throw InvalidArgument("invalid DynamoDB endpoint '" + endpoint + "' (from " + source +
                          "): no host");
  }
  return out;
}

} // namespace

ResolvedConfig
resolve_config(const ConfigRequest& request, const EnvLookup& env)
{
  ResolvedConfig out;
  const std::string what = request.what.empty() ? std::string("AWS") : request.what;

  std::string profile = "default";
  std::string profile_source = "the default profile";
  if (auto p = env_value(env, "AWS_PROFILE")) {
    profile = *p;
    profile_source = "AWS_PROFILE";
  } else if (auto dp = env_value(env, "AWS_DEFAULT_PROFILE")) {
    profile = *dp;
    profile_source = "AWS_DEFAULT_PROFILE";
  }
  out.profile = profile;

  const std::string credentials_path = expand_home(
    env_value(env, "AWS_SHARED_CREDENTIALS_FILE").value_or(home_directory(env) + "/.aws/credentials"),
    env);
  const std::string config_path = expand_home(
    env_value(env, "AWS_CONFIG_FILE").value_or(home_directory(env) + "/.aws/config"), env);
  // Read lazily: only when the environment does not answer.
  std::optional<IniFile> credentials_file;
  std::optional<IniFile> config_file;
  const auto credentials_ini = [&]() -> const IniFile& {
    if (!credentials_file) {
      credentials_file = read_ini(credentials_path);
    }
    return *credentials_file;
  };
  const auto config_ini = [&]() -> const IniFile& {
    if (!config_file) {
      config_file = read_ini(config_path);
    }
    return *config_file;
  };
  const std::string profile_text = "profile \"" + profile + "\"";

  // ---- credentials
  const auto env_key = env_value(env, "AWS_ACCESS_KEY_ID");
  const auto env_secret = env_value(env, "AWS_SECRET_ACCESS_KEY");
  if (env_key && env_secret) {
    out.credentials.access_key_id = *env_key;
    out.credentials.secret_access_key = *env_secret;
    out.credentials.session_token = env_value(env, "AWS_SESSION_TOKEN");
    if (!out.credentials.session_token) {
      out.credentials.session_token = env_value(env, "AWS_SECURITY_TOKEN");
    }
    out.credentials.source = "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY";
  } else if (env_key || env_secret) {
    throw ConfigError("partial AWS credentials in the environment for " + what + ": " +
                      (env_key ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                               : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"));
  } else {
    // The profile in the shared credentials file, then in the config file.
    const auto from_section = [&](const std::map<std::string, std::string>* section,
                                  const std::string& where) -> bool {
      const auto key = setting(section, "aws_access_key_id");
      const auto secret = setting(section, "aws_secret_access_key");
      if (key && secret) {
        out.credentials.access_key_id = *key;
        out.credentials.secret_access_key = *secret;
        out.credentials.session_token = setting(section, "aws_session_token");
        out.credentials.source = where + " (" + profile_text + ")";
        return true;
      }
      if (key || secret) {
        throw ConfigError("partial AWS credentials for " + what + " in " + where + " (" +
                          profile_text + "): " +
                          (key ? "aws_access_key_id is set but aws_secret_access_key is not"
                               : "aws_secret_access_key is set but aws_access_key_id is not"));
      }
      return false;
    };
    const IniFile& creds = credentials_ini();
    bool found = from_section(creds.section(profile), "the shared credentials file " + creds.path);
    if (!found) {
      const IniFile& config = config_ini();
      const auto* section = config_profile(config, profile);
      found = from_section(section, "the config file " + config.path);
      if (!found && section != nullptr) {
        for (const char* unsupported :
             {"role_arn", "credential_process", "sso_session", "sso_start_url",
              "web_identity_token_file"}) {
          if (setting(section, unsupported)) {
            throw ConfigError(
              "AWS " + profile_text + " in " + config.path + " gets its credentials through " +
              unsupported + ", which taskctl does not support; export static credentials "
              "instead (for example: eval \"$(aws configure export-credentials --profile " +
              profile + " --format env)\")");
          }
        }
      }
    }
    if (!found) {
      const IniFile& config = config_ini();
      std::string creds_detail = file_state(creds);
      if (creds_detail.empty()) {
        creds_detail = creds.section(profile) == nullptr ? " (no [" + profile + "] section)"
                                                         : " ([" + profile + "] has no keys)";
      }
      std::string config_detail = file_state(config);
      if (config_detail.empty()) {
        config_detail = config_profile(config, profile) == nullptr
                          ? " (no " + std::string(profile == "default" ? "[default]" : "[profile " + profile + "]") + " section)"
                          : " (the profile has no keys)";
      }
      throw ConfigError(
        "no AWS credentials for " + what + ": looked in the environment variables "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (not set), the shared credentials file " +
        creds.path + creds_detail + " and the config file " + config.path + config_detail +
        ", for " + profile_text + " (from " + profile_source +
        "); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure the profile "
        "(aws configure)");
    }
  }

  // ---- region
  if (request.region && !trim(*request.region).empty()) {
    out.region = std::string(trim(*request.region));
    out.region_source = "the store URI";
  } else if (auto r = env_value(env, "AWS_REGION")) {
    out.region = *r;
    out.region_source = "AWS_REGION";
  } else if (auto dr = env_value(env, "AWS_DEFAULT_REGION")) {
    out.region = *dr;
    out.region_source = "AWS_DEFAULT_REGION";
  } else {
    const IniFile& config = config_ini();
    if (auto cr = setting(config_profile(config, profile), "region")) {
      out.region = *cr;
      out.region_source = "the config file " + config.path + " (" + profile_text + ")";
    } else {
      std::string detail = file_state(config);
      if (detail.empty()) {
        detail = config_profile(config, profile) == nullptr ? " (no section for the profile)"
                                                            : " (the profile sets no region)";
      }
      throw ConfigError("no AWS region for " + what +
                        ": looked in the store URI (?region=), AWS_REGION, AWS_DEFAULT_REGION "
                        "and the config file " + config.path + detail + " for " + profile_text +
                        "; add ?region=REGION to the URI or set AWS_REGION");
    }
  }
  const bool region_ok = std::all_of(out.region.begin(), out.region.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
  if (!region_ok) {
    throw InvalidArgument("invalid AWS region '" + out.region + "' (from " + out.region_source + ")");
  }

  // ---- endpoint
  const std::string service_env =
    "AWS_ENDPOINT_URL_" + to_upper(request.service_id);
  const bool ignore_configured =
    to_lower(env_value(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("")) == "true";
  if (request.endpoint && !trim(*request.endpoint).empty()) {
    out.endpoint_source = "the store URI";
    out.endpoint = check_endpoint(std::string(trim(*request.endpoint)), out.endpoint_source);
  } else if (auto se = ignore_configured ? std::nullopt : env_value(env, service_env)) {
    out.endpoint_source = service_env;
    out.endpoint = check_endpoint(*se, out.endpoint_source);
  } else if (auto ge = ignore_configured ? std::nullopt : env_value(env, "AWS_ENDPOINT_URL")) {
    out.endpoint_source = "AWS_ENDPOINT_URL";
    out.endpoint = check_endpoint(*ge, out.endpoint_source);
  } else if (auto ce = ignore_configured
                         ? std::nullopt
                         : setting(config_profile(config_ini(), profile), "endpoint_url")) {
    out.endpoint_source = "the config file " + config_ini().path + " (" + profile_text + ")";
    out.endpoint = check_endpoint(*ce, out.endpoint_source);
  } else {
    const bool china = out.region.rfind("cn-", 0) == 0;
    out.endpoint = "https://" + request.service_id + "." + out.region +
                   (china ? ".amazonaws.com.cn" : ".amazonaws.com");
    out.endpoint_source = "default";
  }
  return out;
}

// ======================================================================== transport

AwsError::AwsError(Kind kind_, std::string type_, std::string message_, long http_status_,
                   std::string what)
  : std::runtime_error(std::move(what))
  , kind(kind_)
  , type(std::move(type_))
  , message(std::move(message_))
  , http_status(http_status_)
{
}

namespace {

void
global_init()
{
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool
is_throttling(std::string_view type)
{
  static constexpr std::string_view k_codes[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException"};
  return std::find(std::begin(k_codes), std::end(k_codes), type) != std::end(k_codes);
}

bool
is_transient(std::string_view type)
{
  static constexpr std::string_view k_codes[] = {"RequestTimeout", "RequestTimeoutException",
                                                 "InternalServerError", "InternalFailure",
                                                 "ServiceUnavailable", "IDPCommunicationError"};
  return std::find(std::begin(k_codes), std::end(k_codes), type) != std::end(k_codes);
}

// A transfer's state: one curl easy handle and its request and response.
struct Transfer
{
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  std::string response;
  std::string request_id;
  char error[CURL_ERROR_SIZE] = {};
  // call_many bookkeeping
  std::size_t index = 0;
  int attempt = 0;
  int last_retry_cost = 0;

  Transfer()
  {
    easy = curl_easy_init();
    if (easy == nullptr) {
      throw std::runtime_error("curl_easy_init failed");
    }
  }
  ~Transfer()
  {
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
};

std::size_t
write_body(char* data, std::size_t size, std::size_t count, void* user)
{
  static_cast<Transfer*>(user)->response.append(data, size * count);
  return size * count;
}

std::size_t
read_header(char* data, std::size_t size, std::size_t count, void* user)
{
  const std::string_view line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    const std::string name = to_lower(trim(line.substr(0, colon)));
    if (name == "x-amzn-requestid") {
      static_cast<Transfer*>(user)->request_id = std::string(trim(line.substr(colon + 1)));
    }
  }
  return size * count;
}

} // namespace

struct JsonClient::Impl
{
  ClientOptions options;
  std::string url;
  std::string sigv4;  // "aws:amz:REGION:SERVICE"
  std::string user_agent = "taskctl-taskstore (libcurl)";
  std::unique_ptr<Transfer> single;                 // the keep-alive handle for call()
  CURLM* multi = nullptr;                           // call_many's handle and connection pool
  std::vector<std::unique_ptr<Transfer>> pool;      // idle easy handles for call_many
  std::mt19937_64 random{std::random_device{}()};
  int quota = 0;

  explicit Impl(ClientOptions o)
    : options(std::move(o))
  {
    global_init();
    url = options.endpoint;
    if (url.find('/', url.find("://") + 3) == std::string::npos) {
      url.push_back('/');
    }
    sigv4 = "aws:amz:" + options.region + ":" + options.service;
    quota = options.retry.quota;
  }

  ~Impl()
  {
    if (multi != nullptr) {
      curl_multi_cleanup(multi);
    }
  }

  // Sets every option of t for one attempt of operation with t.body.
  void prepare(Transfer& t, std::string_view operation)
  {
    t.response.clear();
    t.request_id.clear();
    t.error[0] = '\0';
    curl_slist_free_all(t.headers);
    t.headers = nullptr;
    const std::string content_type = "Content-Type: " + options.content_type;
    const std::string target = "X-Amz-Target: " + options.target_prefix + "." + std::string(operation);
    t.headers = curl_slist_append(t.headers, content_type.c_str());
    t.headers = curl_slist_append(t.headers, target.c_str());
    if (options.credentials.session_token) {
      // curl signs every header it is given, so the token is covered by the signature.
      const std::string token = "X-Amz-Security-Token: " + *options.credentials.session_token;
      t.headers = curl_slist_append(t.headers, token.c_str());
    }
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.body.data());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(e, CURLOPT_USERNAME, options.credentials.access_key_id.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, options.credentials.secret_access_key.c_str());
    curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout.count()));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &write_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &read_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
  }

  // Classifies a finished attempt: the response document, or the error.
  std::variant<nlohmann::json, AwsError> classify(Transfer& t, CURLcode code,
                                                  std::string_view operation)
  {
    const std::string op(operation);
    if (code != CURLE_OK) {
      std::string text = t.error[0] != '\0' ? std::string(t.error) : curl_easy_strerror(code);
      AwsError e(AwsError::Kind::transport, curl_easy_strerror(code), text, 0,
                 op + " to " + options.endpoint + ": " + text);
      e.timed_out = code == CURLE_OPERATION_TIMEDOUT;
      // Configuration mistakes are not worth retrying; everything else may be transient.
      e.retryable = !(code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL ||
                      code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
                      code == CURLE_SSL_CERTPROBLEM || code == CURLE_LOGIN_DENIED ||
                      code == CURLE_OUT_OF_MEMORY || code == CURLE_NOT_BUILT_IN);
      return e;
    }
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    nlohmann::json document = nlohmann::json::parse(t.response, nullptr, false);
    if (status >= 200 && status < 300) {
      if (t.response.empty()) {
        return nlohmann::json::object();
      }
      if (document.is_discarded() || !document.is_object()) {
        AwsError e(AwsError::Kind::service, "InvalidResponse",
                   "the response is not a JSON object", status,
                   op + " to " + options.endpoint + ": HTTP " + std::to_string(status) +
                     " with a body that is not a JSON object");
        e.retryable = false;
        return e;
      }
      return document;
    }
    std::string type = "HTTP" + std::to_string(status);
    std::string message;
    if (!document.is_discarded() && document.is_object()) {
      if (auto it = document.find("__type"); it != document.end() && it->is_string()) {
        type = it->get<std::string>();
        if (const auto hash = type.rfind('#'); hash != std::string::npos) {
          type = type.substr(hash + 1);
        }
      }
      for (const char* key : {"message", "Message"}) {
        if (auto it = document.find(key); it != document.end() && it->is_string()) {
          message = it->get<std::string>();
          break;
        }
      }
    } else {
      message = t.response.substr(0, 200);
      document = nullptr;
    }
    std::string what = op + " to " + options.endpoint + ": " + type;
    if (!message.empty()) {
      what += ": " + message;
    }
    what += " (HTTP " + std::to_string(status);
    if (!t.request_id.empty()) {
      what += ", request id " + t.request_id;
    }
    what += ")";
    AwsError e(AwsError::Kind::service, type, message, status, what);
    e.request_id = t.request_id;
    e.body = std::move(document);
    e.throttled = is_throttling(type) || status == 429;
    e.retryable = e.throttled || status >= 500 || is_transient(type);
    return e;
  }

  // The full-jitter backoff before retry number `retry` (1 = the first retry).
  std::chrono::milliseconds backoff(int retry, bool throttled)
  {
    const auto base = throttled ? options.retry.throttling_base : options.retry.transient_base;
    double ceiling = static_cast<double>(base.count()) * static_cast<double>(1ULL << std::min(retry - 1, 30));
    ceiling = std::min(ceiling, static_cast<double>(options.retry.max_backoff.count()));
    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(jitter(random) * ceiling));
  }

  // Takes the retry's cost from the quota; false when the quota is exhausted.
  bool acquire_retry(const AwsError& e, int& cost)
  {
    cost = e.timed_out ? options.retry.timeout_retry_cost : options.retry.retry_cost;
    if (quota < cost) {
      return false;
    }
    quota -= cost;
    return true;
  }

  void on_success(int last_retry_cost)
  {
    quota = std::min(options.retry.quota, quota + (last_retry_cost > 0 ? last_retry_cost : 1));
  }
};

JsonClient::JsonClient(ClientOptions options)
  : impl_(std::make_unique<Impl>(std::move(options)))
{
}

JsonClient::~JsonClient() = default;

const ClientOptions&
JsonClient::options() const
{
  return impl_->options;
}

nlohmann::json
JsonClient::call(std::string_view operation, const nlohmann::json& request)
{
  Impl& im = *impl_;
  if (!im.single) {
    im.single = std::make_unique<Transfer>();
  }
  Transfer& t = *im.single;
  t.body = request.dump();
  int last_cost = 0;
  for (int attempt = 1;; ++attempt) {
    im.prepare(t, operation);
    const CURLcode code = curl_easy_perform(t.easy);
    auto result = im.classify(t, code, operation);
    if (auto* document = std::get_if<nlohmann::json>(&result)) {
      im.on_success(last_cost);
      return std::move(*document);
    }
    AwsError& e = std::get<AwsError>(result);
    e.attempts = attempt;
    if (!e.retryable || attempt >= im.options.retry.max_attempts ||
        !im.acquire_retry(e, last_cost)) {
      throw e;
    }
    std::this_thread::sleep_for(im.backoff(attempt, e.throttled));
  }
}

void
JsonClient::call_many(std::string_view operation, const std::vector<nlohmann::json>& requests,
                      std::size_t max_in_flight,
                      const std::function<void(std::size_t, Outcome&&)>& on_done)
{
  if (requests.empty()) {
    return;
  }
  Impl& im = *impl_;
  max_in_flight = std::max<std::size_t>(1, max_in_flight);
  if (im.multi == nullptr) {
    im.multi = curl_multi_init();
    if (im.multi == nullptr) {
      throw std::runtime_error("curl_multi_init failed");
    }
  }
  using clock = std::chrono::steady_clock;
  struct Waiting
  {
    clock::time_point ready;
    std::unique_ptr<Transfer> transfer;
  };
  std::size_t next = 0;                                   // next fresh request
  std::deque<Waiting> waiting;                            // retries waiting for their backoff
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> running;

  const auto take_handle = [&]() {
    if (!im.pool.empty()) {
      auto t = std::move(im.pool.back());
      im.pool.pop_back();
      return t;
    }
    return std::make_unique<Transfer>();
  };
  const auto start = [&](std::unique_ptr<Transfer> t) {
    im.prepare(*t, operation);
    const CURLMcode rc = curl_multi_add_handle(im.multi, t->easy);
    if (rc != CURLM_OK) {
      throw std::runtime_error(std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc));
    }
    CURL* key = t->easy;
    running.emplace(key, std::move(t));
  };
  const auto abandon = [&]() {
    for (auto& [easy, t] : running) {
      curl_multi_remove_handle(im.multi, easy);
      im.pool.push_back(std::move(t));
    }
    running.clear();
  };

  try {
    while (next < requests.size() || !waiting.empty() || !running.empty()) {
      // Fill the window: due retries first, then fresh requests.
      const auto now = clock::now();
      while (running.size() < max_in_flight && !waiting.empty() && waiting.front().ready <= now) {
        auto t = std::move(waiting.front().transfer);
        waiting.pop_front();
        start(std::move(t));
      }
      while (running.size() < max_in_flight && next < requests.size()) {
        auto t = take_handle();
        t->index = next;
        t->attempt = 0;
        t->last_retry_cost = 0;
        t->body = requests[next].dump();
        ++next;
        start(std::move(t));
      }
      if (running.empty()) {
        // Only retries waiting for their backoff.
        std::this_thread::sleep_until(waiting.front().ready);
        continue;
      }
      int still_running = 0;
      CURLMcode mc = curl_multi_perform(im.multi, &still_running);
      if (mc != CURLM_OK) {
        throw std::runtime_error(std::string("curl_multi_perform: ") + curl_multi_strerror(mc));
      }
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(im.multi, &queued)) {
        if (msg->msg != CURLMSG_DONE) {
          continue;
        }
        CURL* easy = msg->easy_handle;
        const CURLcode code = msg->data.result;
        curl_multi_remove_handle(im.multi, easy);
        auto node = running.find(easy);
        std::unique_ptr<Transfer> t = std::move(node->second);
        running.erase(node);
        ++t->attempt;
        auto result = im.classify(*t, code, operation);
        if (auto* document = std::get_if<nlohmann::json>(&result)) {
          im.on_success(t->last_retry_cost);
          Outcome outcome;
          outcome.response = std::move(*document);
          const std::size_t index = t->index;
          im.pool.push_back(std::move(t));
          on_done(index, std::move(outcome));
          continue;
        }
        AwsError& e = std::get<AwsError>(result);
        e.attempts = t->attempt;
        int cost = 0;
        if (e.retryable && t->attempt < im.options.retry.max_attempts && im.acquire_retry(e, cost)) {
          t->last_retry_cost = cost;
          Waiting w{clock::now() + im.backoff(t->attempt, e.throttled), std::move(t)};
          const auto pos = std::upper_bound(
            waiting.begin(), waiting.end(), w.ready,
            [](const clock::time_point& ready, const Waiting& x) { return ready < x.ready; });
          waiting.insert(pos, std::move(w));
          continue;
        }
        Outcome outcome;
        outcome.error = std::move(e);
        const std::size_t index = t->index;
        im.pool.push_back(std::move(t));
        on_done(index, std::move(outcome));
      }
      if (!running.empty()) {
        int wait_ms = 100;
        if (!waiting.empty()) {
          const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
            waiting.front().ready - clock::now());
          wait_ms = static_cast<int>(std::clamp<std::int64_t>(until.count(), 0, 100));
        }
        curl_multi_poll(im.multi, nullptr, 0, wait_ms, nullptr);
      }
    }
  } catch (...) {
    abandon();
    for (auto& w : waiting) {
      im.pool.push_back(std::move(w.transfer));
    }
    throw;
  }
}

} // namespace taskstore::aws
