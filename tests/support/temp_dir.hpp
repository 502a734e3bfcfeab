#pragma once
// A fresh temporary directory for a test, removed with its contents when destroyed.

#include <string>

namespace taskstore::testing {

class TempDir
{
public:
  // Creates $TMPDIR/taskctl-test-XXXXXX (or under /tmp); throws std::runtime_error.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Returns path() + "/" + name (the file need not exist).
  std::string file(const std::string& name) const;
  // Writes content to file(name) and returns that path; throws std::runtime_error.
  std::string write(const std::string& name, const std::string& content) const;

private:
  std::string path_;
};

} // namespace taskstore::testing
