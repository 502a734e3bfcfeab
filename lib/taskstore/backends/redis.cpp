// Placeholder: the redis backend is being written.
#include "taskstore/backends/redis.hpp"
#include "taskstore/error.hpp"

namespace taskstore {

std::unique_ptr<StorageBackend>
open_redis(const StoreUri&, const OpenOptions&)
{
  throw ConfigError("the redis backend is not implemented yet");
}

} // namespace taskstore
