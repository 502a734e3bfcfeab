#pragma once
// Records and instants shared by the unit tests.

#include "taskstore/time.hpp"

#include <cstdint>
#include <string>

namespace taskstore::testing {

// facts §2.5, the first example, verbatim.
inline const std::string k_fresh_record =
  R"({"task":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":3600000,"pollInterval":500},"ownerId":"user-123","variables":{},"result":null,"requestMethod":"tools/call","expiresAt":"2025-11-25T11:30:00.123456789Z"})";

// facts §2.5, the second example, as printed (pretty) ...
inline const std::string k_completed_record_pretty = R"({
  "task": {
    "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840",
    "status": "completed",
    "statusMessage": "All done",
    "createdAt": "2025-11-25T10:30:00.123Z",
    "lastUpdatedAt": "2025-11-25T10:31:05.456Z",
    "ttl": 3600000,
    "pollInterval": 500
  },
  "ownerId": "user-123",
  "variables": {"tool_name": "analyze", "arguments": {"path": "/data/x"}},
  "result": {"answer": 42},
  "requestMethod": "tools/call",
  "expiresAt": "2025-11-25T11:30:00.123456789Z"
})";

// ... and compacted, as the store writes it.
inline const std::string k_completed_record =
  R"({"task":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840","status":"completed","statusMessage":"All done","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:31:05.456Z","ttl":3600000,"pollInterval":500},"ownerId":"user-123","variables":{"tool_name":"analyze","arguments":{"path":"/data/x"}},"result":{"answer":42},"requestMethod":"tools/call","expiresAt":"2025-11-25T11:30:00.123456789Z"})";

// 2025-11-25T10:30:00Z
constexpr std::int64_t k_t0 = 1'764'066'600;

inline Timestamp
at(std::int64_t seconds, std::uint32_t nanos = 0)
{
  return Timestamp{seconds, nanos};
}

} // namespace taskstore::testing
