// Placeholder: the dynamodb backend is being written.
#include "taskstore/backends/dynamodb.hpp"
#include "taskstore/error.hpp"

namespace taskstore {

std::unique_ptr<StorageBackend>
open_dynamodb(const StoreUri&, const OpenOptions&)
{
  throw ConfigError("the dynamodb backend is not implemented yet");
}

} // namespace taskstore
