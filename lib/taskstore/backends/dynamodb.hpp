#pragma once
// The dynamodb backend. The concrete class lives in dynamodb.cpp (anonymous namespace).
//
// dynamodb://TABLE[?region=R&endpoint=URL&timeout=5s] — TABLE defaults to
// pmcp_tasks. Items use pmcp-tasks' single-table layout (facts §5.3):
// PK "OWNER#{owner}", SK "TASK#{task}", version N, data S, expires_at N.
// Credentials, region and endpoint come from the standard AWS sources
// (docs/dynamodb.md).

#include "taskstore/identity.hpp"
#include "taskstore/registry.hpp"

#include <memory>

namespace taskstore {

// Opens the store; no request is made until the first operation. Throws
// InvalidArgument for a malformed URI (bad table name, user/password/port,
// unknown parameter, bad timeout or endpoint); ConfigError for missing
// credentials or region. The table must exist (create_dynamodb_table).
std::unique_ptr<StorageBackend> open_dynamodb(const StoreUri& uri, const OpenOptions& options);

// What the store's URI authenticates with (identity.hpp): the credential
// source, masked key id, expiry, identity, profile, region and endpoint, and
// their sources. Throws like open_dynamodb.
StoreIdentity dynamodb_identity(const StoreUri& uri, const OpenOptions& options);

// The version of the libcurl this process loads ("7.88.1"), loading it; ""
// when it cannot be loaded.
std::string dynamodb_library_version();

// Creates the table the URI names in pmcp-tasks' layout (PK S hash key, SK S
// range key, on-demand billing), waits until it is ACTIVE and turns on TTL
// on expires_at (where the server supports it). A table that already exists
// with that key schema is not an error. Throws ConfigError when it exists
// with another key schema, or for credentials; StorageError like the backend.
void create_dynamodb_table(const StoreUri& uri, const OpenOptions& options);

// Deletes the table the URI names and waits until it is gone. Returns false
// when it did not exist. Throws like create_dynamodb_table.
bool delete_dynamodb_table(const StoreUri& uri, const OpenOptions& options);

} // namespace taskstore
