#pragma once
// The AWS credential chain (internal to taskstore; not installed), in the
// AWS SDKs' order: environment variables; web identity (AWS_WEB_IDENTITY_
// TOKEN_FILE + AWS_ROLE_ARN); the selected profile of the shared files (role_arn
// with source_profile chains or credential_source, web_identity_token_file,
// SSO, credential_process, static keys); container credentials; EC2 instance
// metadata. The first source that applies gives the credentials; a source
// that applies but fails ends the search with its error (ConfigError, exit 7);
// when none applies, the ConfigError lists every source tried and why each
// did not apply. Temporary credentials are fetched again before they expire.

#include "taskstore/backends/aws_config.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace taskstore::aws {

// When temporary credentials are fetched again.
struct RefreshPolicy
{
  // Credentials with less than this left are refreshed before their next use.
  std::chrono::seconds window{300};
  // ... but not more often than this while they still work (a source that
  // hands out short-lived credentials is not asked on every request).
  std::chrono::seconds min_interval{15};
};

// The chain's answer: credentials that refresh themselves. Thread-safe.
class CredentialProvider
{
public:
  using Fetch = std::function<Credentials()>;

  // Fetches once, now: throws what fetch throws.
  CredentialProvider(Fetch fetch, std::vector<std::string> tried, RefreshPolicy policy = {});

  // Returns the credentials to sign the next request with: the cached ones,
  // or fresh ones when the cached ones are within the refresh window. When a
  // refresh fails, returns the cached ones while they have not expired and
  // throws the refresh's error once they have.
  Credentials current();

  // How many times credentials were fetched (1 after construction).
  int fetches() const;

  // The sources tried before the one that answered, each "NAME: why not".
  const std::vector<std::string>& tried() const { return m_tried; }

private:
  Fetch m_fetch;
  std::vector<std::string> m_tried;
  RefreshPolicy m_policy;
  mutable std::mutex m_mutex;
  Credentials m_cached;
  std::chrono::system_clock::time_point m_fetched_at;
  int m_fetches = 0;
};

struct ChainRequest
{
  std::string what;                        // what needs them, for messages ("dynamodb://t")
  std::string profile;                     // the selected profile
  std::string profile_source;              // "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "the default profile"
  std::string region;                      // for STS ("" = its global endpoint)
  std::chrono::milliseconds timeout{5000}; // one request of a source
  RefreshPolicy refresh;
};

// Resolves the chain for request and returns its provider (credentials
// fetched once). Throws ConfigError: the error of the source that applies
// but fails, a profile that names a missing or cyclic source_profile, an
// explicitly selected profile that exists in neither file, mfa_serial (not
// supported), or, when no source applies, the list of every source tried.
std::shared_ptr<CredentialProvider> resolve_credentials(const ChainRequest& request, SharedFiles& files,
                                                        const EnvLookup& env);

} // namespace taskstore::aws
