#pragma once
// The sqlite backend. The concrete class lives in sqlite.cpp (anonymous namespace).

#include "taskstore/registry.hpp"

#include <memory>

namespace taskstore {

std::unique_ptr<StorageBackend> open_sqlite(const StoreUri& uri, const OpenOptions& options);

// The SQLite library's version at run time ("3.40.1").
std::string sqlite_library_version();

} // namespace taskstore
