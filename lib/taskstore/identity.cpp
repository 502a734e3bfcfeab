// What a store authenticates with (taskctl whoami).
#include "taskstore/identity.hpp"

#include "taskstore/error.hpp"
#ifdef TASKSTORE_WITH_DYNAMODB
#include "taskstore/backends/dynamodb.hpp"
#endif

#include <algorithm>

namespace taskstore {

std::string
mask_key_id(const std::string& key_id)
{
  if (key_id.size() < 12) {
    return std::string(key_id.size(), '*');
  }
  return key_id.substr(0, 4) + std::string(key_id.size() - 8, '*') + key_id.substr(key_id.size() - 4);
}

namespace {

// The name of the backend that serves uri's scheme; throws InvalidArgument
// (as open_store does) for an unknown scheme.
std::string
backend_of(const StoreUri& uri, const OpenOptions& options)
{
  for (const auto& info : available_backends()) {
    if (std::find(info.schemes.begin(), info.schemes.end(), uri.scheme) != info.schemes.end()) {
      return std::string(info.name);
    }
  }
  // open_store words the error: the compiled-in schemes, or why one is refused.
  (void)open_store(uri, options);
  throw InvalidArgument("unknown store URI scheme '" + uri.scheme + "'");
}

} // namespace

StoreIdentity
describe_identity(const StoreUri& uri, const OpenOptions& options)
{
  const std::string backend = backend_of(uri, options);
#ifdef TASKSTORE_WITH_DYNAMODB
  if (backend == "dynamodb") {
    return dynamodb_identity(uri, options);
  }
#endif
  StoreIdentity out;
  out.backend = backend;
  if (backend == "redis") {
    out.facts.emplace_back("user", uri.user.empty() ? "default" : uri.user);
    out.facts.emplace_back("password", uri.password || options.password ? "set (never shown)" : "none");
  } else {
    out.facts.emplace_back("credentials", "none (a local store: access is the file system's)");
  }
  return out;
}

} // namespace taskstore
