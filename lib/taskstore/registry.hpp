#pragma once
// The scheme -> factory table; the only place that knows the scheme strings.

#include "taskstore/backend.hpp"
#include "taskstore/uri.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore {

struct OpenOptions
{
  // Create the store (e.g. the SQLite file) when it does not exist. Read-only
  // operations pass false, and then a missing store is a ConfigError.
  bool create_if_missing = true;
  // Connect and per-request timeout for network backends; also SQLite's busy timeout.
  std::chrono::milliseconds timeout{5000};
  // A password supplied out of band (environment, file), used when the URI has none.
  std::optional<std::string> password;
  // Told, during open_store only, of what the user should know about the
  // store's connection, e.g. "TLS certificate verification is off"
  // (rediss://...?insecure=1). The CLI prints it as a warning on stderr.
  // Unset: nothing is told.
  std::function<void(const std::string& warning)> warn;
};

struct BackendInfo
{
  std::string_view name;                  // "sqlite"
  std::vector<std::string_view> schemes;  // {"sqlite"}
  std::string_view example;               // "sqlite:///var/lib/taskctl/tasks.db"
  std::string_view library;               // the name of its client library, as `taskctl version` shows it; "" for none
  std::string (*library_version)() = nullptr; // that library's version at run time, "" when it cannot be loaded
};

// The backends compiled into this build, in a fixed order.
std::vector<BackendInfo> available_backends();

// Opens the store a URI names. Throws InvalidArgument for a malformed URI, an
// unknown scheme (the message lists the compiled-in schemes) or an unknown
// query parameter, a timeout of 0 (options.timeout or the URI's timeout
// parameter); ConfigError for missing configuration or credentials;
// StorageError (backend, unavailable) when the server cannot be reached.
std::unique_ptr<StorageBackend> open_store(const StoreUri& uri, const OpenOptions& options = {});
std::unique_ptr<StorageBackend> open_store(std::string_view uri, const OpenOptions& options = {});

} // namespace taskstore
