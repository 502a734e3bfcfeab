#pragma once
// What a listing needs to know about a stored record, read straight from its
// bytes without building a DOM (json/peek): safe and fast for records of any
// size or nesting depth.

#include "taskstore/json/serde.hpp"
#include "taskstore/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskstore {

// The listing fields of a record. Text fields are the decoded JSON strings as
// stored; each is nullopt when absent or not a string.
struct RecordSummary
{
  bool json = false;                        // the bytes are a JSON object
  std::optional<std::string> owner_id;      // /ownerId
  std::optional<std::string> task_id;       // /task/taskId
  std::optional<std::string> status;        // /task/status
  std::optional<std::string> status_message;// /task/statusMessage
  std::optional<std::string> created_at;    // /task/createdAt
  std::optional<std::string> last_updated_at; // /task/lastUpdatedAt
  std::optional<std::string> request_method;// /requestMethod
  std::optional<std::string> expires_at;    // /expiresAt, the text as stored
  std::optional<Timestamp> expires;         // expires_at parsed (nullopt when absent or unparsable)
  bool expired = false;                     // expires set and strictly before now
  std::uint64_t size = 0;                   // bytes stored
};

// Reads the listing fields of record bytes. Never throws for any input
// (bytes that are not a JSON object give json == false). When a field occurs
// twice the last occurrence wins, as when the document is parsed.
RecordSummary summarize_record(std::string_view bytes, Timestamp now = now_utc());

// The stored bytes as a JSON value for display (get -o json): nullopt when
// they are not a JSON object or are nested deeper than max_depth levels.
std::optional<Json> record_document(std::string_view bytes, std::size_t max_depth = 512);

} // namespace taskstore
