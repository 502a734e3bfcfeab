// Placeholder: the memory backend is being written.
#include "taskstore/backends/memory.hpp"
#include "taskstore/error.hpp"

namespace taskstore {

std::unique_ptr<StorageBackend>
open_memory(const StoreUri&, const OpenOptions&)
{
  throw ConfigError("the memory backend is not implemented yet");
}

} // namespace taskstore
