// AWS configuration: the shared config and credentials files, profiles, the
// credential chain, region and endpoint resolution.
#include "taskstore/backends/aws_config.hpp"

#include "taskstore/backends/aws_credentials.hpp"
#include "taskstore/backends/aws_sources.hpp"

#include "taskstore/error.hpp"
#include "taskstore/uri.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <pwd.h>
#include <unistd.h>

namespace taskstore::aws {

// ======================================================================== text

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

namespace {

// Returns text with convert (std::tolower or std::toupper) applied to each byte.
std::string
convert_case(std::string_view text, int (*convert)(int))
{
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [convert](unsigned char c) { return static_cast<char>(convert(c)); });
  return out;
}

std::string
ascii_upper(std::string_view text)
{
  return convert_case(text, [](int c) { return std::toupper(c); });
}

} // namespace

std::string
ascii_lower(std::string_view text)
{
  return convert_case(text, [](int c) { return std::tolower(c); });
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

// ======================================================================== time

std::optional<std::chrono::system_clock::time_point>
parse_iso8601(std::string_view text)
{
  text = trim(text);
  // YYYY-MM-DDTHH:MM:SS
  if (text.size() < 19) {
    return std::nullopt;
  }
  const auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
        return std::nullopt;
      }
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  const auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' || text[16] != ':' ||
      *month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      rest.remove_prefix(1);
    }
  }
  if (!(rest.empty() || rest == "Z" || rest == "z" || rest == "UTC" || rest == "+00:00" || rest == "+0000" ||
        rest == "-00:00")) {
    return std::nullopt;
  }
  // days from civil (Howard Hinnant's algorithm)
  const int y = *year - (*month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = static_cast<unsigned>(*month + (*month > 2 ? -3 : 9));
  const unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(*day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long long days = static_cast<long long>(era) * 146097 + static_cast<long long>(doe) - 719468;
  const long long seconds = days * 86400 + *hour * 3600 + *minute * 60 + *second;
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

std::string
format_iso8601(std::chrono::system_clock::time_point time)
{
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// ======================================================================== shared files

const Settings*
IniFile::section(const std::string& name) const
{
  const auto it = sections.find(name);
  return it == sections.end() ? nullptr : &it->second;
}

std::string
IniFile::state() const
{
  if (!exists) {
    return " (not found)";
  }
  if (!problem.empty()) {
    return " (could not be read: " + problem + ")";
  }
  return {};
}

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

const Settings*
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
setting(const Settings* section, const std::string& key)
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

SharedFiles::SharedFiles(const EnvLookup& env)
  : m_config_path(expand_home(env_value(env, "AWS_CONFIG_FILE").value_or(home_directory(env) + "/.aws/config"), env))
  , m_credentials_path(expand_home(
      env_value(env, "AWS_SHARED_CREDENTIALS_FILE").value_or(home_directory(env) + "/.aws/credentials"), env))
{
}

const IniFile&
SharedFiles::config()
{
  if (!m_config) {
    m_config = read_ini(m_config_path);
  }
  return *m_config;
}

const IniFile&
SharedFiles::credentials()
{
  if (!m_credentials) {
    m_credentials = read_ini(m_credentials_path);
  }
  return *m_credentials;
}

namespace {

// Returns the endpoint without a trailing '/'; throws InvalidArgument when it
// is not an http:// or https:// URL.
std::string
check_endpoint(const std::string& endpoint, const std::string& source)
{
  const std::string lower = ascii_lower(endpoint);
  if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0) {
    throw InvalidArgument("invalid DynamoDB endpoint '" + StoreUri::redact_text(endpoint) + "' (from " + source +
                          "): expected an http:// or https:// URL");
  }
  std::string out = endpoint;
  while (out.size() > 8 && out.back() == '/') {
    out.pop_back();
  }
  const auto host_start = out.find("://") + 3;
  if (host_start >= out.size()) {
    throw InvalidArgument("invalid DynamoDB endpoint '" + StoreUri::redact_text(endpoint) + "' (from " + source +
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
  SharedFiles files(env);
  const auto config_ini = [&]() -> const IniFile& { return files.config(); };
  const std::string profile_text = "profile \"" + profile + "\"";

  // ---- region (first: STS, which some credential sources call, is regional)
  if (request.region && !trim(*request.region).empty()) {
    out.region = std::string(trim(*request.region));
    out.region_source = "the store URI";
  } else if (auto r = env_value(env, "AWS_REGION")) {
    out.region = *r;
    out.region_source = "AWS_REGION";
  } else if (auto dr = env_value(env, "AWS_DEFAULT_REGION")) {
    out.region = *dr;
    out.region_source = "AWS_DEFAULT_REGION";
  } else if (auto cr = setting(config_profile(config_ini(), profile), "region")) {
    out.region = *cr;
    out.region_source = "the config file " + config_ini().path + " (" + profile_text + ")";
  } else {
    SourceOptions imds;
    imds.env = env;
    std::string why_not;
    if (auto ir = instance_region(imds, why_not)) {
      out.region = *ir;
      out.region_source = "EC2 instance metadata";
    } else {
      const IniFile& config = config_ini();
      std::string detail = config.state();
      if (detail.empty()) {
        detail = config_profile(config, profile) == nullptr ? " (no section for the profile)"
                                                            : " (the profile sets no region)";
      }
      throw ConfigError("no AWS region for " + what +
                        ": looked in the store URI (?region=), AWS_REGION, AWS_DEFAULT_REGION, "
                        "the config file " + config.path + detail + " for " + profile_text +
                        " and EC2 instance metadata (" + why_not + "); add ?region=REGION to the URI or set AWS_REGION");
    }
  }
  const bool region_ok = std::all_of(out.region.begin(), out.region.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
  if (!region_ok) {
    throw InvalidArgument("invalid AWS region '" + out.region + "' (from " + out.region_source + ")");
  }

  // ---- credentials
  ChainRequest chain;
  chain.what = what;
  chain.profile = profile;
  chain.profile_source = profile_source;
  chain.region = out.region;
  out.provider = resolve_credentials(chain, files, env);
  out.credentials = out.provider->current();

  // ---- endpoint
  const std::string service_env =
    "AWS_ENDPOINT_URL_" + ascii_upper(request.service_id);
  const bool ignore_configured =
    ascii_lower(env_value(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("")) == "true";
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

} // namespace taskstore::aws
