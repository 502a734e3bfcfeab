#include "taskstore/summary.hpp"

#include "taskstore/json/parse.hpp"
#include "taskstore/json/peek.hpp"

#include <utility>

namespace taskstore {

RecordSummary
summarize_record(std::string_view bytes, Timestamp now)
{
  RecordSummary out;
  summarize_record(bytes, now, out);
  return out;
}

void
summarize_record(std::string_view bytes, Timestamp now, RecordSummary& out)
{
  peek_record_fields(bytes, out);
  out.size = bytes.size();
  out.json = out.object;
  out.expires.reset();
  out.expired = false;
  if (!out.object) {
    // Not a record: nothing it says can be trusted.
    out = RecordSummary{};
    out.size = bytes.size();
    return;
  }
  if (out.expires_at) {
    out.expires = parse_rfc3339(*out.expires_at);
    out.expired = is_expired_at(out.expires, now);
  }
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
