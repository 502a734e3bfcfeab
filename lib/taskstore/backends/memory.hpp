#pragma once
// The memory backend. The concrete class lives in memory.cpp (anonymous namespace).

#include "taskstore/registry.hpp"

#include <memory>

namespace taskstore {

std::unique_ptr<StorageBackend> open_memory(const StoreUri& uri, const OpenOptions& options);

} // namespace taskstore
