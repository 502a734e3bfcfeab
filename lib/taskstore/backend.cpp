#include "taskstore/backend.hpp"

namespace taskstore {

std::vector<KeyedRecord>
StorageBackend::list_by_prefix(std::string_view prefix)
{
  std::vector<KeyedRecord> out;
  scan(prefix, [&](const std::string& key, const VersionedRecord& record) {
    out.push_back(KeyedRecord{key, record});
    return true;
  });
  return out;
}

} // namespace taskstore
