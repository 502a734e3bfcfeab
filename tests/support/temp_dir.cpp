#include "support/temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <stdlib.h>

namespace taskstore::testing {

TempDir::TempDir()
{
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/taskctl-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir()
{
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string
TempDir::file(const std::string& name) const
{
  return path_ + "/" + name;
}

std::string
TempDir::write(const std::string& name, const std::string& content) const
{
  const std::string path = file(name);
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out.flush()) {
    throw std::runtime_error("cannot write " + path);
  }
  return path;
}

} // namespace taskstore::testing
