#pragma once
// The redis backend. The concrete class lives in redis/backend.cpp (anonymous
// namespace); the other files under redis/ are its private parts.

#include "taskstore/registry.hpp"

#include <memory>

namespace taskstore {

std::unique_ptr<StorageBackend> open_redis(const StoreUri& uri, const OpenOptions& options);

// The version of the Redis client library built against ("0.14.1"; it has no
// run-time query).
std::string redis_library_version();

} // namespace taskstore
