#pragma once
// Shared by the fuzz targets: the property check that ends the run. A broken
// property is a finding, so it aborts (libFuzzer saves the input; the replay
// executable dies with SIGABRT and ctest fails).

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace taskctl_fuzz {

[[noreturn]] inline void
fail(std::string_view what, std::string_view detail = {})
{
  std::fprintf(stderr, "fuzz property violated: %.*s\n", static_cast<int>(what.size()), what.data());
  if (!detail.empty()) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
  }
  std::abort();
}

inline void
check(bool ok, std::string_view what, std::string_view detail = {})
{
  if (!ok) {
    fail(what, detail);
  }
}

} // namespace taskctl_fuzz
