// Placeholder: the sqlite backend is being written.
#include "taskstore/backends/sqlite.hpp"
#include "taskstore/error.hpp"

namespace taskstore {

std::unique_ptr<StorageBackend>
open_sqlite(const StoreUri&, const OpenOptions&)
{
  throw ConfigError("the sqlite backend is not implemented yet");
}

} // namespace taskstore
