#pragma once
// The export format (taskctl export / import / copy): one JSON line per
// record, {"key":KEY,"version":N,"record":<the stored bytes, inline>}, or
// {"key":KEY,"version":N,"data_b64":"…"} when the stored bytes cannot stand
// inline in one line (not JSON, not UTF-8, or holding a line break). Reading
// a line back gives the stored bytes exactly.

#include "taskstore/backend.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskstore {

// Appends the export line of a record to out, without the line break.
void append_export_line(std::string& out, std::string_view key, const VersionedRecord& record);

// A line of an export file, read back.
struct ExportedRecord
{
  std::string key;
  std::uint64_t version = 0; // as exported (0 when the line has none); never written to a store
  std::string data;          // the stored bytes, exactly
  bool inline_record = false; // the line held them as "record" (else "data_b64")
};

struct ParsedExportLine
{
  std::optional<ExportedRecord> record;
  std::string error; // why the line is not an export line (set when record is not)
};

// Reads one export line (its line break already removed). Never throws for
// bad input: the error says what is wrong ("not JSON: …", "no \"key\"",
// "both \"record\" and \"data_b64\"", "\"data_b64\" is not base64", "the key
// … has an empty owner"). A key must be OWNER:TASK_ID with neither part empty.
ParsedExportLine parse_export_line(std::string_view line);

// Whether text is one JSON value (syntax and UTF-8 checked, no tree built,
// no recursion): import's check of a record it stores without validating.
bool is_json_text(std::string_view text);

// RFC 4648 base64 (with padding).
std::string base64_encode(std::string_view bytes);
// nullopt for text that is not base64 (whitespace is not allowed).
std::optional<std::string> base64_decode(std::string_view text);

} // namespace taskstore
