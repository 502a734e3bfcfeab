#pragma once
// The one DOM-free reader of record JSON: a forward-only scan that skips
// values without building them (never recursing), for the few fields that
// backends index and listings show. Safe for any size or nesting depth.

#include "taskstore/time.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace taskstore {

// The top-level "expiresAt" of a TaskRecord JSON document, for backends that
// index expiry. nullopt when absent, null, unparsable, or when the text is
// not a JSON object; never throws. The last occurrence of a key wins.
std::optional<Timestamp> extract_expires_at(std::string_view record_json);

// The record's "task"."createdAt" (the Redis owner-index score); nullopt like above.
std::optional<Timestamp> extract_created_at(std::string_view record_json);

// The string fields a listing shows, decoded. Each is nullopt when absent or
// not a string; for a repeated key the last occurrence wins.
struct PeekedFields
{
  bool object = false; // the text is one JSON object (whitespace around it allowed)
  std::optional<std::string> owner_id;
  std::optional<std::string> task_id;
  std::optional<std::string> status;
  std::optional<std::string> status_message;
  std::optional<std::string> created_at;
  std::optional<std::string> last_updated_at;
  std::optional<std::string> request_method;
  std::optional<std::string> expires_at;
};

// Whether text is one JSON value that nlohmann's parser accepts (syntax,
// UTF-8, finite numbers, paired surrogate escapes), nested at most max_depth
// levels, with no line break anywhere and no byte-order mark: what an export
// line can carry as it is. One forward pass without recursion; never throws.
bool is_json_line(std::string_view text, std::size_t max_depth);

// Reads those fields in one pass; never throws.
PeekedFields peek_record_fields(std::string_view json);

// The same into out, reusing the storage of its strings (a loop over many
// records then allocates nothing for them); never throws.
void peek_record_fields(std::string_view json, PeekedFields& out);

// Calls on_member(name, value) for each member of the JSON object json, in
// order: the name decoded, the value's text exactly as written. Returns false
// when the text is not one JSON object (as far as this forward scan can
// tell: values are skipped, not checked) or on_member returned false. Never
// throws.
bool peek_object_members(std::string_view json,
                         const std::function<bool(std::string_view name, std::string_view value)>& on_member);

// The text a JSON string token stands for, decoded; nullopt when token is
// not exactly one JSON string.
std::optional<std::string> peek_string(std::string_view token);

// The text of the value of a top-level member of a JSON object, exactly as
// written (escapes, spacing and all); nullopt when the text is not one JSON
// object or has no such member. The last occurrence wins. Never throws.
std::optional<std::string_view> peek_member_text(std::string_view json, std::string_view name);

// The largest nesting depth of arrays and objects in JSON text (strings
// skipped); a cheap guard before building a tree.
std::size_t peek_nesting_depth(std::string_view text);

} // namespace taskstore
