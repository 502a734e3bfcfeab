#pragma once
// Output: stdout carries data only (json / jsonl / table / raw); stderr
// carries diagnostics (errors, warnings, summaries, progress). With a JSON
// format, errors are one JSON object on stderr.

#include "context.hpp"
#include "terminal.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore {
struct Violation;
}

namespace taskctl {

// A JSON document as text through taskstore's serde writer (numbers as
// stored, invalid UTF-8 replaced): compact, or pretty with indent >= 0.
std::string dump_json(const Json& value, int indent = -1);

// Returns the start of a single document: {"schema_version":1} for -o json,
// {} otherwise (a jsonl line carries no schema version).
Json new_document(const Context& ctx);

// A single document: pretty (2-space indent) on a terminal, compact otherwise;
// one line per object for jsonl.
void print_document(const Context& ctx, const Json& document);

// Diagnostics on stderr: "taskctl: warning: ..." (suppressed by --quiet) and
// plain notes such as summaries (also suppressed by --quiet).
void warn(const Context& ctx, std::string_view message);
void note(const Context& ctx, std::string_view message);

// The error printer used by main.cpp's one try/catch: "taskctl: error: MSG",
// then "  caused by: ..." for each nested cause, the detail lines and the
// hint; or, with -o json/jsonl, {"error":{...}} on one line. Every known
// secret and every URL userinfo is scrubbed first; then each text line is
// printable() (JSON is escaped by its writer), then long words abbreviated.
struct ErrorReport
{
  std::string code;                 // "not_found", "version_conflict", ...
  int exit_code = exit_failure;
  std::string message;
  std::vector<std::string> causes;  // nested exception messages, outermost first
  std::vector<std::string> details;
  std::string hint;
  Json extra = Json::object();
};
void print_error(const Context& ctx, const ErrorReport& report);

// Returns text with every word (a run of non-blank bytes) longer than
// max_word bytes cut to its first max_word bytes (at a UTF-8 boundary, and
// never inside a printable() escape such as \x1b) and "…(N more bytes)":
// what a diagnostic quotes from the input (a 30,000-letter key, a field name)
// stays readable and bounded. Linear time.
std::string abbreviate_long_words(std::string_view text, std::size_t max_word = 200);

// Returns text as it may be shown on a terminal, one line: nothing in it can
// drive the terminal and nothing vanishes. The notation (documented in the
// README and the man page): newline, carriage return and tab as \n \r \t;
// every other C0 control byte (NUL is \x00, ESC \x1b), DEL (\x7f) and each
// byte that is not part of valid UTF-8 as \xHH (two lower-case hex digits);
// a C1 control character (U+0080-U+009F, valid UTF-8) as \u00HH; every other
// character as it is (a backslash too). The output holds only printable
// ASCII and valid UTF-8 from U+00A0 on, so printable(printable(x)) ==
// printable(x). Linear time. Diagnostics and table cells pass through it;
// apply it to any other line built from stored data or input for a terminal
// (never to -o raw, which is byte-exact, nor to JSON, which the serde writer
// escapes).
std::string printable(std::string_view text);

// Replaces in text every known secret (known_secrets(): each in all its
// forms, longest first) with "********", then every URL password
// (scrub_userinfo). A secret of 3 bytes or more is replaced wherever it
// occurs; a shorter one where it stands whole, between bytes that are not
// letters, digits, '_' or non-ASCII (a URI component, a quoted word): the
// store URI's secrets are redacted structurally before they reach a message,
// so this is the last line only. Linear time in text for each secret.
std::string scrub_secrets(std::string text);
// Replaces every occurrence of secret in text with "********"; with
// whole_only, only occurrences not adjacent to a letter, digit, '_' or
// non-ASCII byte. Linear time (KMP).
std::string replace_secret(const std::string& text, std::string_view secret, bool whole_only);
// Replaces the password of every "scheme://user:password@" in text; linear
// time for any input.
std::string scrub_userinfo(std::string text);

// Violations of the validator and of prepare_record:
// "/pointer: message (actual > limit)" (the limit figures only for the
// depth, string-length and size rules); "/" stands for the root pointer.
std::string format_violation(const taskstore::Violation& v);
// {"pointer","rule","message"[,"limit","actual"]}.
Json violation_to_json(const taskstore::Violation& v);

// Warns (unless quiet) "unknown field POINTER is not stored (pmcp-tasks
// ignores it too)" for each pointer ("/extra", "/task/extra").
void warn_unknown_fields(const Context& ctx, const std::vector<std::string>& pointers);

// ANSI colours, applied only when enabled.
enum class Color
{
  none,
  red,
  green,
  yellow,
  blue,
  magenta,
  dim,
  bold,
};
std::string paint(std::string_view text, Color color, bool enabled);
// The colour used for a task status in tables.
Color status_color(std::string_view status);

// Writes a single JSON document whose one array member is streamed:
// {"schema_version":1, <head fields>, "<array_name>":[ items... ], <tail fields>}.
// Pretty on a terminal, compact otherwise; constant memory. Nothing is
// written before the first item or finish(), so an error raised before
// either leaves stdout empty; one raised after (the writer destroyed
// unfinished) closes the document with "complete": false, so stdout always
// holds whole JSON. A tail field named like a head field is not repeated.
class JsonStreamWriter
{
public:
  JsonStreamWriter(const Context& ctx, const Json& head, std::string array_name);
  ~JsonStreamWriter();
  JsonStreamWriter(const JsonStreamWriter&) = delete;
  JsonStreamWriter& operator=(const JsonStreamWriter&) = delete;
  void item(const Json& value);
  // An item already written as compact JSON (as the serde writer writes it).
  void item_text(std::string_view compact_json);
  void finish(const Json& tail);

private:
  void start();

  bool pretty_;
  bool first_ = true;
  bool started_ = false;
  bool finished_ = false;
  std::string head_;
  std::vector<std::string> head_names_;
};

// Per-key results of delete and gc: jsonl {"key","status","version"[,"expiresAt"]}
// per line then {"summary":{...}}; json one document {"schema_version":1,
// <head>,"results":[...],<summary fields>}; table one line per key ("deleted
// KEY (version N)") on stdout, while "not found KEY" and the summary sentence
// are notes on stderr (silenced by --quiet); raw the keys, one per line.
class ResultStream
{
public:
  ResultStream(const Context& ctx, const Json& head, bool per_key_text = true);
  // status: "deleted", "would_delete" or "not_found"; version 0 = unknown (null).
  void result(const std::string& key, const std::string& status, std::uint64_t version,
              const std::optional<std::string>& expires_at = std::nullopt);
  // An item built by the caller (json: an element of "results"; jsonl: a
  // line); nothing for table and raw output.
  void item(const Json& line);
  // summary: the JSON summary fields; text: the sentence for table output.
  void finish(const Json& summary, const std::string& text);

private:
  const Context& ctx_;
  bool per_key_text_;
  std::optional<JsonStreamWriter> json_;
};

} // namespace taskctl
