// The AWS credential sources that are not STS: credential_process, SSO,
// container credentials and instance metadata. (Skeleton: each source is
// still to be written; until then each says it does not apply.)
#include "taskstore/backends/aws_sources.hpp"

#include "taskstore/error.hpp"

namespace taskstore::aws {

Credentials
process_credentials(const std::string& /*command*/, const std::string& where, const SourceOptions& /*options*/)
{
  throw ConfigError("credential_process (" + where + ") is not supported yet");
}

Credentials
sso_credentials(const SsoProfile& sso, const SourceOptions& /*options*/)
{
  throw ConfigError("SSO (profile \"" + sso.profile + "\") is not supported yet");
}

std::optional<Credentials>
container_credentials(const SourceOptions& /*options*/, std::string& why_not)
{
  why_not = "not supported yet";
  return std::nullopt;
}

std::optional<Credentials>
instance_credentials(const SourceOptions& /*options*/, std::string& why_not)
{
  why_not = "not supported yet";
  return std::nullopt;
}

std::optional<std::string>
instance_region(const SourceOptions& /*options*/, std::string& why_not)
{
  why_not = "not supported yet";
  return std::nullopt;
}

} // namespace taskstore::aws
