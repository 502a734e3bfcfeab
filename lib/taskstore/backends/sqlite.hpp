#pragma once
// The sqlite backend. The concrete class lives in sqlite.cpp (anonymous namespace).

#include "taskstore/registry.hpp"

#include <memory>

namespace taskstore {

std::unique_ptr<StorageBackend> open_sqlite(const StoreUri& uri, const OpenOptions& options);

} // namespace taskstore
