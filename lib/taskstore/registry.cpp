#include "taskstore/registry.hpp"

#include "taskstore/backends/memory.hpp"
#include "taskstore/error.hpp"
#ifdef TASKSTORE_WITH_SQLITE
#include "taskstore/backends/sqlite.hpp"
#endif
#ifdef TASKSTORE_WITH_REDIS
#include "taskstore/backends/redis.hpp"
#endif
#ifdef TASKSTORE_WITH_DYNAMODB
#include "taskstore/backends/dynamodb.hpp"
#endif

#include <algorithm>

namespace taskstore {

namespace {

using Factory = std::unique_ptr<StorageBackend> (*)(const StoreUri&, const OpenOptions&);

struct Entry
{
  BackendInfo info;
  Factory open;
};

// The one scheme -> factory table.
const std::vector<Entry>&
table()
{
  static const std::vector<Entry> entries = {
    {{"memory", {"mem"}, "mem://", "", nullptr}, &open_memory},
#ifdef TASKSTORE_WITH_SQLITE
    {{"sqlite", {"sqlite"}, "sqlite:///var/lib/taskctl/tasks.db", "sqlite", &sqlite_library_version}, &open_sqlite},
#endif
#ifdef TASKSTORE_WITH_REDIS
    {{"redis", {"redis", "rediss", "redis+unix"}, "redis://127.0.0.1:6379/0?prefix=pmcp", "hiredis", &redis_library_version},
     &open_redis},
#endif
#ifdef TASKSTORE_WITH_DYNAMODB
    {{"dynamodb", {"dynamodb"}, "dynamodb://pmcp_tasks?region=us-east-1", "libcurl", &dynamodb_library_version},
     &open_dynamodb},
#endif
  };
  return entries;
}

} // namespace

std::vector<BackendInfo>
available_backends()
{
  std::vector<BackendInfo> out;
  for (const auto& entry : table()) {
    out.push_back(entry.info);
  }
  return out;
}

namespace {

// A timeout of 0 would mean "wait forever" to some client libraries (hiredis)
// and "fail at once" to others: refused for every backend, naming its source.
void
check_timeouts(const StoreUri& uri, const OpenOptions& options)
{
  if (options.timeout.count() <= 0) {
    throw InvalidArgument("invalid timeout " + std::to_string(options.timeout.count()) +
                          "ms: a timeout must be positive (0 would never time out)");
  }
  if (const auto text = uri.param("timeout")) {
    if (parse_duration_ms(*text) == 0) {
      throw InvalidArgument("invalid store URI '" + uri.redacted() + "': its timeout parameter is '" + *text +
                            "'; a timeout must be positive (0 would never time out)");
    }
  }
}

} // namespace

std::unique_ptr<StorageBackend>
open_store(const StoreUri& uri, const OpenOptions& options)
{
  check_timeouts(uri, options);
  for (const auto& entry : table()) {
    const auto& schemes = entry.info.schemes;
    if (std::find(schemes.begin(), schemes.end(), uri.scheme) != schemes.end()) {
      return entry.open(uri, options);
    }
  }
  std::string known;
  for (const auto& entry : table()) {
    for (const auto scheme : entry.info.schemes) {
      known += known.empty() ? "" : ", ";
      known += scheme;
    }
  }
  throw InvalidArgument("unknown store scheme '" + uri.scheme + "' in " + uri.redacted() +
                        " (this build supports: " + known + ")");
}

std::unique_ptr<StorageBackend>
open_store(std::string_view uri, const OpenOptions& options)
{
  return open_store(StoreUri::parse(uri), options);
}

} // namespace taskstore
