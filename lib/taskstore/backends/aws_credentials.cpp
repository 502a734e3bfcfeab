// The AWS credential chain: the order of the sources, profiles and their
// role chains, and refreshing temporary credentials.
#include "taskstore/backends/aws_credentials.hpp"

#include "taskstore/backends/aws_sources.hpp"
#include "taskstore/backends/aws_sts.hpp"
#include "taskstore/error.hpp"

#include <algorithm>
#include <optional>
#include <set>

namespace taskstore::aws {

// ======================================================================== provider

CredentialProvider::CredentialProvider(Fetch fetch, std::vector<std::string> tried, RefreshPolicy policy)
  : m_fetch(std::move(fetch))
  , m_tried(std::move(tried))
  , m_policy(policy)
{
  m_cached = m_fetch();
  m_fetched_at = std::chrono::system_clock::now();
  m_fetches = 1;
}

Credentials
CredentialProvider::current()
{
  std::lock_guard lock(m_mutex);
  if (!m_cached.expiration) {
    return m_cached;
  }
  const auto now = std::chrono::system_clock::now();
  const bool expired = now >= *m_cached.expiration;
  const bool due = now + m_policy.window >= *m_cached.expiration && now - m_fetched_at >= m_policy.min_interval;
  if (!expired && !due) {
    return m_cached;
  }
  try {
    Credentials fresh = m_fetch();
    m_cached = std::move(fresh);
    m_fetched_at = now;
    ++m_fetches;
  } catch (const std::exception&) {
    if (!expired) {
      m_fetched_at = now; // try again after min_interval, not on every request
      return m_cached;
    }
    throw;
  }
  return m_cached;
}

int
CredentialProvider::fetches() const
{
  std::lock_guard lock(m_mutex);
  return m_fetches;
}

// ======================================================================== chain

namespace {

using Fetch = CredentialProvider::Fetch;

// A source that applies: how to fetch from it, and what it is, for whoami.
struct Source
{
  Fetch fetch;
  std::string text;
};

std::string
quoted_profile(const std::string& name)
{
  return "profile \"" + name + "\"";
}

// Returns the static key pair in settings as a Source; nullopt when it has
// neither key. Throws ConfigError when only one of them is set.
std::optional<Source>
static_keys(const Settings& settings, const std::string& where)
{
  const auto key = setting(&settings, "aws_access_key_id");
  const auto secret = setting(&settings, "aws_secret_access_key");
  if (!key && !secret) {
    return std::nullopt;
  }
  if (!key || !secret) {
    throw ConfigError("partial AWS credentials in " + where + ": " +
                      (key ? "aws_access_key_id is set but aws_secret_access_key is not"
                           : "aws_secret_access_key is set but aws_access_key_id is not"));
  }
  Credentials c;
  c.access_key_id = *key;
  c.secret_access_key = *secret;
  c.session_token = setting(&settings, "aws_session_token");
  c.source = "static keys in " + where;
  return Source{[c] { return c; }, c.source};
}

// A source that may not apply (it returns nullopt and why) as a Fetch that
// must give credentials: context + why is the ConfigError when it does not.
Fetch
required(std::optional<Credentials> (*source)(const SourceOptions&, std::string&), SourceOptions options,
         std::string context)
{
  return [source, options = std::move(options), context = std::move(context)] {
    std::string why_not;
    auto c = source(options, why_not);
    if (!c) {
      throw ConfigError(context + why_not);
    }
    return *c;
  };
}

std::optional<Source>
environment_keys(const EnvLookup& env)
{
  const auto key = env_value(env, "AWS_ACCESS_KEY_ID");
  const auto secret = env_value(env, "AWS_SECRET_ACCESS_KEY");
  if (!key && !secret) {
    return std::nullopt;
  }
  if (!key || !secret) {
    throw ConfigError(std::string("partial AWS credentials in the environment: ") +
                      (key ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                           : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"));
  }
  Credentials c;
  c.access_key_id = *key;
  c.secret_access_key = *secret;
  c.session_token = env_value(env, "AWS_SESSION_TOKEN");
  if (!c.session_token) {
    c.session_token = env_value(env, "AWS_SECURITY_TOKEN");
  }
  c.source = "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY";
  return Source{[c] { return c; }, c.source};
}

class Chain
{
public:
  Chain(const ChainRequest& request, SharedFiles& files, const EnvLookup& env)
    : m_request(request)
    , m_files(files)
    , m_env(env)
  {
    m_sts.env = env;
    m_sts.region = request.region;
    m_sts.timeout = request.timeout;
    m_sources.env = env;
    m_sources.timeout = request.timeout;
  }

  // The profile's settings: its config file section with its credentials
  // file section over it (the credentials file wins, as in the SDKs);
  // nullopt when neither file has the profile.
  std::optional<Settings> profile_settings(const std::string& name)
  {
    const Settings* config = config_profile(m_files.config(), name);
    const Settings* credentials = m_files.credentials().section(name);
    if (config == nullptr && credentials == nullptr) {
      return std::nullopt;
    }
    Settings merged = config != nullptr ? *config : Settings{};
    if (credentials != nullptr) {
      for (const auto& [key, value] : *credentials) {
        merged[key] = value;
      }
    }
    return merged;
  }

  // Where a profile's settings are, for messages.
  std::string profile_where(const std::string& name)
  {
    const bool in_config = config_profile(m_files.config(), name) != nullptr;
    const bool in_credentials = m_files.credentials().section(name) != nullptr;
    const std::string where = quoted_profile(name) + " in ";
    const std::string credentials = "the shared credentials file " + m_files.credentials().path;
    const std::string config = "the config file " + m_files.config().path;
    if (in_credentials && in_config) {
      return where + credentials + " and " + config;
    }
    return where + (in_credentials ? credentials : config);
  }

  // The source a profile's settings describe; nullopt when they describe
  // none (no keys, no role, no SSO, no process). visited holds the profiles
  // of the role chain so far (a cycle is a ConfigError).
  std::optional<Source> from_profile(const std::string& name, std::vector<std::string> visited)
  {
    const auto found = profile_settings(name);
    if (!found) {
      return std::nullopt;
    }
    const Settings settings = *found;
    const std::string where = profile_where(name);
    visited.push_back(name);

    if (auto role_arn = setting(&settings, "role_arn")) {
      return assumed_role(name, *role_arn, settings, where, visited);
    }
    // mfa_serial matters only with role_arn (as in the SDKs): a profile of
    // static keys that names one (aws-vault's style) uses its keys.
    if (setting(&settings, "web_identity_token_file")) {
      throw ConfigError(where + " sets web_identity_token_file but no role_arn");
    }
    if (setting(&settings, "sso_session") || setting(&settings, "sso_start_url") ||
        setting(&settings, "sso_account_id")) {
      return sso(name, settings, where);
    }
    if (auto command = setting(&settings, "credential_process")) {
      const std::string text = "credential_process of " + where;
      // A process may prompt (an MFA code on /dev/tty): a minute, as the Go SDK gives it.
      SourceOptions options = m_sources;
      options.timeout = std::max<std::chrono::milliseconds>(options.timeout, std::chrono::minutes(1));
      const std::string command_text = *command;
      return Source{[command_text, text, where, options] {
                      Credentials c = process_credentials(command_text, where, options);
                      c.source = text;
                      return c;
                    },
                    text};
    }
    return static_keys(settings, where);
  }

  std::string mfa_message(const std::string& where)
  {
    return where + " sets mfa_serial: multi-factor authentication is not supported by taskctl, which "
                   "runs unattended; get a session with `aws sts get-session-token --serial-number ARN "
                   "--token-code CODE` and export its credentials (AWS_ACCESS_KEY_ID, "
                   "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)";
  }

  Source assumed_role(const std::string& name, const std::string& role_arn, const Settings& settings,
                      const std::string& where, const std::vector<std::string>& visited)
  {
    if (setting(&settings, "mfa_serial")) {
      throw ConfigError(mfa_message(where));
    }
    AssumeRole role;
    role.role_arn = role_arn;
    role.session_name = setting(&settings, "role_session_name").value_or("");
    role.external_id = setting(&settings, "external_id");
    if (auto duration = setting(&settings, "duration_seconds")) {
      int seconds = 0;
      const bool digits = !duration->empty() && duration->size() <= 6 &&
                          std::all_of(duration->begin(), duration->end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits) {
        seconds = std::stoi(*duration);
      }
      if (!digits || seconds < 900 || seconds > 43200) {
        throw ConfigError(where + ": duration_seconds '" + *duration + "' is not a number of seconds from 900 to 43200");
      }
      role.duration_seconds = seconds;
    }
    const auto source_profile = setting(&settings, "source_profile");
    const auto credential_source = setting(&settings, "credential_source");
    const auto token_file = setting(&settings, "web_identity_token_file");
    const StsOptions sts = m_sts;

    if (token_file && !source_profile && !credential_source) {
      const std::string file = expand_home(*token_file, m_env);
      const std::string text = "web identity of " + where + " (role " + role_arn + ", token file " + file + ")";
      return Source{[role, file, text, sts] {
                      return assume_role_with_web_identity(role.role_arn, role.session_name, file, text, sts);
                    },
                    text};
    }
    if (source_profile && credential_source) {
      throw ConfigError(where + " sets both source_profile and credential_source; keep one");
    }
    Source base;
    std::string base_text;
    if (source_profile) {
      if (*source_profile == name) {
        // A profile that is its own source: its static keys assume its role.
        auto keys = static_keys(settings, where);
        if (!keys) {
          throw ConfigError(where + " is its own source_profile but has no aws_access_key_id/aws_secret_access_key");
        }
        base = std::move(*keys);
      } else {
        if (std::find(visited.begin(), visited.end(), *source_profile) != visited.end()) {
          std::string cycle;
          for (const auto& v : visited) {
            cycle += quoted_profile(v) + " -> ";
          }
          throw ConfigError("the source_profile chain of " + quoted_profile(visited.front()) + " is a cycle: " +
                            cycle + quoted_profile(*source_profile));
        }
        if (visited.size() >= 10) {
          throw ConfigError("the source_profile chain of " + quoted_profile(visited.front()) +
                            " is longer than 10 profiles");
        }
        auto source = from_profile(*source_profile, visited);
        if (!source) {
          throw ConfigError(where + " names source_profile \"" + *source_profile + "\", which " +
                            (profile_settings(*source_profile) ? "has no credentials"
                                                               : "is in neither " + m_files.credentials().path +
                                                                   " nor " + m_files.config().path));
        }
        base = std::move(*source);
      }
    } else if (credential_source) {
      base = credential_source_of(*credential_source, where);
    } else {
      throw ConfigError(where + " sets role_arn but neither source_profile nor credential_source");
    }
    const std::string text = "role " + role_arn + " of " + where + ", assumed with " + base.text;
    const Fetch base_fetch = base.fetch;
    return Source{[role, base_fetch, text, sts] { return assume_role(role, base_fetch(), text, sts); }, text};
  }

  Source credential_source_of(const std::string& kind, const std::string& where)
  {
    const SourceOptions options = m_sources;
    if (kind == "Environment") {
      auto env = environment_keys(m_env);
      if (!env) {
        throw ConfigError(where + " has credential_source = Environment, but AWS_ACCESS_KEY_ID/"
                                  "AWS_SECRET_ACCESS_KEY are not set");
      }
      return std::move(*env);
    }
    if (kind == "Ec2InstanceMetadata") {
      return Source{required(&instance_credentials, options,
                             where + " has credential_source = Ec2InstanceMetadata, but "),
                    "EC2 instance metadata"};
    }
    if (kind == "EcsContainer") {
      return Source{required(&container_credentials, options, where + " has credential_source = EcsContainer, but "),
                    "container credentials"};
    }
    throw ConfigError(where + ": credential_source '" + kind +
                      "' is not one of Environment, Ec2InstanceMetadata, EcsContainer");
  }

  Source sso(const std::string& name, const Settings& settings, const std::string& where)
  {
    SsoProfile sso;
    sso.profile = name;
    const auto need = [&](const Settings& from, const std::string& key, const std::string& in) {
      auto value = setting(&from, key);
      if (!value) {
        throw ConfigError(in + " is an SSO profile but sets no " + key);
      }
      return *value;
    };
    if (auto session = setting(&settings, "sso_session")) {
      const Settings* section = m_files.config().section("sso-session " + *session);
      if (section == nullptr) {
        throw ConfigError(where + " names sso_session \"" + *session + "\", but " + m_files.config().path +
                          " has no [sso-session " + *session + "] section");
      }
      const std::string in = "[sso-session " + *session + "] in " + m_files.config().path;
      sso.session_name = *session;
      sso.start_url = need(*section, "sso_start_url", in);
      sso.region = need(*section, "sso_region", in);
    } else {
      sso.start_url = need(settings, "sso_start_url", where);
      sso.region = need(settings, "sso_region", where);
    }
    sso.account_id = need(settings, "sso_account_id", where);
    sso.role_name = need(settings, "sso_role_name", where);
    const std::string text = "SSO of " + where + " (account " + sso.account_id + ", role " + sso.role_name + ")";
    const SourceOptions options = m_sources;
    return Source{[sso, text, options] {
                    Credentials c = sso_credentials(sso, options);
                    c.source = text;
                    return c;
                  },
                  text};
  }

  std::shared_ptr<CredentialProvider> resolve()
  {
    std::vector<std::string> tried;
    const auto make = [&](Source source) {
      const std::string text = source.text;
      Fetch fetch = [f = std::move(source.fetch), text] {
        Credentials c = f();
        if (c.source.empty()) {
          c.source = text;
        }
        return c;
      };
      return std::make_shared<CredentialProvider>(std::move(fetch), tried, m_request.refresh);
    };

    // 1. the environment
    if (auto env = environment_keys(m_env)) {
      return make(std::move(*env));
    }
    tried.push_back("environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: not set");

    // 2. web identity from the environment
    const auto token_file = env_value(m_env, "AWS_WEB_IDENTITY_TOKEN_FILE");
    const auto role_arn = env_value(m_env, "AWS_ROLE_ARN");
    if (token_file && role_arn) {
      const std::string file = expand_home(*token_file, m_env);
      const std::string session = env_value(m_env, "AWS_ROLE_SESSION_NAME").value_or("");
      const std::string text = "web identity (AWS_WEB_IDENTITY_TOKEN_FILE " + file + ", AWS_ROLE_ARN " + *role_arn + ")";
      const StsOptions sts = m_sts;
      const std::string arn = *role_arn;
      return make(Source{[arn, session, file, text, sts] {
                           return assume_role_with_web_identity(arn, session, file, text, sts);
                         },
                         text});
    }
    if (token_file || role_arn) {
      throw ConfigError(std::string("web identity credentials need both AWS_WEB_IDENTITY_TOKEN_FILE and "
                                    "AWS_ROLE_ARN, but only ") +
                        (token_file ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN") + " is set");
    }
    tried.push_back("web identity AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN: not set");

    // 3. the profile
    const std::string& profile = m_request.profile;
    if (auto source = from_profile(profile, {})) {
      return make(std::move(*source));
    }
    const IniFile& credentials = m_files.credentials();
    const IniFile& config = m_files.config();
    const bool exists = profile_settings(profile).has_value();
    if (!exists && m_request.profile_source != "the default profile") {
      throw ConfigError("the AWS " + quoted_profile(profile) + " (from " + m_request.profile_source +
                        ") is in neither the shared credentials file " + credentials.path + credentials.state() +
                        " nor the config file " + config.path + config.state());
    }
    tried.push_back(quoted_profile(profile) + " (" + m_request.profile_source + "): " +
                    (exists ? "it sets no credentials (no keys, role_arn, sso_* or credential_process)"
                            : "in neither the shared credentials file " + credentials.path + credentials.state() +
                                " nor the config file " + config.path + config.state()));

    // 4. container credentials
    std::string why_not;
    if (container_credentials_apply()) {
      return make(Source{required(&container_credentials, m_sources, "container credentials: "),
                         "container credentials"});
    }
    tried.push_back("container credentials AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI: not set");

    // 5. instance metadata
    if (auto first = instance_credentials(m_sources, why_not)) {
      const SourceOptions options = m_sources;
      Credentials c = *first;
      bool used = false;
      return make(Source{[options, c, used]() mutable {
                           if (!used) {
                             used = true; // the answer just fetched, not a second round trip
                             return c;
                           }
                           std::string why;
                           auto fresh = instance_credentials(options, why);
                           if (!fresh) {
                             throw ConfigError("EC2 instance metadata: " + why);
                           }
                           return *fresh;
                         },
                         "EC2 instance metadata"});
    }
    tried.push_back("EC2 instance metadata: " + why_not);

    std::string message = "no AWS credentials for " + m_request.what + "; tried, in order:";
    // One line (the CLI prints messages escaped, one per line): "1. ...; 2. ...".
    int n = 0;
    for (const auto& t : tried) {
      message += (n == 0 ? " " : "; ") + std::to_string(n + 1) + ". " + t;
      ++n;
    }
    message += "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure the profile "
               "(aws configure, or aws configure sso)";
    throw ConfigError(message);
  }

private:
  bool container_credentials_apply() const
  {
    return env_value(m_env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").has_value() ||
           env_value(m_env, "AWS_CONTAINER_CREDENTIALS_FULL_URI").has_value();
  }

  const ChainRequest& m_request;
  SharedFiles& m_files;
  const EnvLookup& m_env;
  StsOptions m_sts;
  SourceOptions m_sources;
};

} // namespace

std::shared_ptr<CredentialProvider>
resolve_credentials(const ChainRequest& request, SharedFiles& files, const EnvLookup& env)
{
  return Chain(request, files, env).resolve();
}

} // namespace taskstore::aws
