#pragma once
// The dynamodb backend. The concrete class lives in dynamodb.cpp (anonymous namespace).

#include "taskstore/registry.hpp"

#include <memory>

namespace taskstore {

std::unique_ptr<StorageBackend> open_dynamodb(const StoreUri& uri, const OpenOptions& options);

} // namespace taskstore
