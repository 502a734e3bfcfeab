#pragma once
// The redis backend. The concrete class lives in redis.cpp (anonymous namespace).

#include "taskstore/registry.hpp"

#include <memory>

namespace taskstore {

std::unique_ptr<StorageBackend> open_redis(const StoreUri& uri, const OpenOptions& options);

} // namespace taskstore
