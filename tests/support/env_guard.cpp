#include "support/env_guard.hpp"

#include <cstdlib>

namespace taskstore::testing {

EnvGuard::~EnvGuard()
{
  for (const auto& [name, value] : m_saved) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
}

EnvGuard&
EnvGuard::set(const std::string& name, const std::optional<std::string>& value)
{
  if (m_saved.count(name) == 0) {
    const char* old = std::getenv(name.c_str());
    m_saved.emplace(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
  }
  if (value) {
    ::setenv(name.c_str(), value->c_str(), 1);
  } else {
    ::unsetenv(name.c_str());
  }
  return *this;
}

} // namespace taskstore::testing
