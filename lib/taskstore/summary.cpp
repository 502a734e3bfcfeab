#include "taskstore/summary.hpp"

#include "taskstore/json/parse.hpp"
#include "taskstore/json/peek.hpp"

#include <utility>

namespace taskstore {

RecordSummary
summarize_record(std::string_view bytes, Timestamp now)
{
  PeekedFields fields = peek_record_fields(bytes);
  RecordSummary out;
  out.size = bytes.size();
  out.json = fields.object;
  if (!fields.object) {
    return out; // not a record: nothing it says can be trusted
  }
  out.owner_id = std::move(fields.owner_id);
  out.task_id = std::move(fields.task_id);
  out.status = std::move(fields.status);
  out.status_message = std::move(fields.status_message);
  out.created_at = std::move(fields.created_at);
  out.last_updated_at = std::move(fields.last_updated_at);
  out.request_method = std::move(fields.request_method);
  out.expires_at = std::move(fields.expires_at);
  if (out.expires_at) {
    out.expires = parse_rfc3339(*out.expires_at);
    out.expired = is_expired_at(out.expires, now);
  }
  return out;
}

std::optional<Json>
record_document(std::string_view bytes, std::size_t max_depth)
{
  if (peek_nesting_depth(bytes) > max_depth) {
    return std::nullopt;
  }
  try {
    Json doc = parse_json(bytes);
    if (!doc.is_object()) {
      return std::nullopt;
    }
    return doc;
  } catch (...) {
    return std::nullopt; // malformed: shown as a string by the caller
  }
}

} // namespace taskstore
