#pragma once
// What a store authenticates with, for `taskctl whoami`: the credential
// source the AWS chain chose (and every source it tried before), the Redis
// user, or that a local store needs none. Nothing here holds a secret.

#include "taskstore/registry.hpp"
#include "taskstore/uri.hpp"

#include <string>
#include <utility>
#include <vector>

namespace taskstore {

struct StoreIdentity
{
  std::string backend; // "dynamodb", as available_backends() names it
  // (name, value) in display order: "credentials" (the source), "access_key_id"
  // (masked: AKIA************MPLE), "expires", "identity", "profile", "region",
  // "region_source", "endpoint", "endpoint_source"; for redis "user" and
  // "password" (set or none); for local stores "credentials" = "none".
  std::vector<std::pair<std::string, std::string>> facts;
  // The credential sources tried before the one used, each "SOURCE: why not".
  std::vector<std::string> tried;
};

// Resolves what uri authenticates with, sending nothing to the store itself:
// for dynamodb the whole credential chain runs (so STS, SSO, the container or
// instance metadata endpoints may be asked). Throws what open_store throws
// for a bad URI or configuration: InvalidArgument, ConfigError (for AWS, the
// list of every credential source tried).
StoreIdentity describe_identity(const StoreUri& uri, const OpenOptions& options = {});

// Returns an access key id with all but its first and last four characters
// replaced by '*' ("AKIA************MPLE", as `aws configure list` shows it);
// ids shorter than 12 characters become all '*'.
std::string mask_key_id(const std::string& key_id);

} // namespace taskstore
