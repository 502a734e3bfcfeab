#include "taskstore/key.hpp"

#include "taskstore/error.hpp"

namespace taskstore {

namespace {

void
require_plain_owner(std::string_view owner_id)
{
  if (owner_id.empty()) {
    // "" would make the prefix ":" of no owner, and an unset $OWNER in a
    // script would look like an owner.
    throw InvalidArgument("invalid owner id: it must not be empty");
  }
  if (owner_id.find(':') != std::string_view::npos) {
    throw InvalidArgument("invalid owner id \"" + std::string(owner_id) +
                          "\": owner ids must not contain ':' (the key would be read back as a "
                          "different owner)");
  }
}

} // namespace

std::string
make_key(std::string_view owner_id, std::string_view task_id)
{
  require_plain_owner(owner_id);
  std::string key;
  key.reserve(owner_id.size() + 1 + task_id.size());
  key.append(owner_id).append(1, ':').append(task_id);
  return key;
}

std::string
make_prefix(std::string_view owner_id)
{
  require_plain_owner(owner_id);
  std::string prefix(owner_id);
  prefix.push_back(':');
  return prefix;
}

std::optional<KeyParts>
parse_key(std::string_view key)
{
  const auto colon = key.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  return KeyParts{std::string(key.substr(0, colon)), std::string(key.substr(colon + 1))};
}

KeyParts
split_key(std::string_view key)
{
  auto parts = parse_key(key);
  if (!parts) {
    throw InvalidArgument("invalid key format (missing ':'): " + std::string(key));
  }
  return std::move(*parts);
}

} // namespace taskstore
