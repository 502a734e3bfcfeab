#pragma once
// What a listing needs to know about a stored record, read straight from its
// bytes without building a DOM (json/peek): safe and fast for records of any
// size or nesting depth.

#include "taskstore/json/peek.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskstore {

// The listing fields of a record: PeekedFields' text fields (the decoded
// JSON strings as stored; each nullopt when absent or not a string) and what
// a listing derives from them.
struct RecordSummary : PeekedFields
{
  bool json = false;                        // the bytes are a JSON object (PeekedFields::object)
  std::optional<Timestamp> expires;         // expires_at parsed (nullopt when absent or unparsable)
  bool expired = false;                     // expires set and strictly before now
  std::uint64_t size = 0;                   // bytes stored
};

// Reads the listing fields of record bytes. Never throws for any input
// (bytes that are not a JSON object give json == false and no fields). When
// a field occurs twice the last occurrence wins, as when the document is
// parsed.
RecordSummary summarize_record(std::string_view bytes, Timestamp now = now_utc());

// The same into out, reusing the storage of its strings: what a scan calls
// for each record, so that a listing allocates nothing per record.
void summarize_record(std::string_view bytes, Timestamp now, RecordSummary& out);

// The stored bytes as a JSON value for display (get -o json): nullopt when
// they are not a JSON object or are nested deeper than max_depth levels.
std::optional<Json> record_document(std::string_view bytes, std::size_t max_depth = 512);

} // namespace taskstore
