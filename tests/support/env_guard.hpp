#pragma once
// Sets (or, with nullopt, unsets) environment variables for a scope and
// restores the previous values afterwards.

#include <map>
#include <optional>
#include <string>

namespace taskstore::testing {

class EnvGuard
{
public:
  EnvGuard() = default;
  ~EnvGuard();
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

  EnvGuard& set(const std::string& name, const std::optional<std::string>& value);

private:
  std::map<std::string, std::optional<std::string>> m_saved;
};

} // namespace taskstore::testing
