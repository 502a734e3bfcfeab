// The output layer: everything taskctl writes, so that stdout and stderr
// keep one set of rules (stdout data only, in one of four formats; stderr
// diagnostics, scrubbed of secrets and made printable): the JSON document
// writers (whole or streamed), the per-key results of delete and gc, the
// error and warning printers with the secret scrubber. The stdout buffer, the
// pager and the progress line are terminal.cpp's; tables are table.cpp's.

#include "output.hpp"

#include "store.hpp"

#include "taskstore/json/parse.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cctype>


namespace taskctl {

std::string
dump_json(const Json& value, int indent)
{
  // The serde writer: floats as pmcp-tasks stores them, invalid UTF-8 replaced.
  return taskstore::to_display_json(value, indent >= 0);
}

namespace {

// Indents every line after the first by n spaces.
std::string
indent_tail(const std::string& text, std::size_t n)
{
  std::string out;
  out.reserve(text.size());
  const std::string pad(n, ' ');
  for (const char c : text) {
    out += c;
    if (c == '\n') {
      out += pad;
    }
  }
  return out;
}

// Appends ",name:value" for every member of object (pretty: on its own
// line, indented one level).
void
append_members(std::string& text, const Json& object, bool pretty)
{
  for (const auto& [name, value] : object.items()) {
    text += pretty ? fmt::format(",\n  {}: {}", dump_json(name), indent_tail(dump_json(value, 2), 2))
                   : fmt::format(",{}:{}", dump_json(name), dump_json(value));
  }
}

bool
pretty(const Context& ctx)
{
  return ctx.format == Format::json && ctx.stdout_tty;
}

} // namespace

Json
new_document(const Context& ctx)
{
  Json document = Json::object();
  if (ctx.format == Format::json) {
    document["schema_version"] = 1;
  }
  return document;
}

void
print_document(const Context& ctx, const Json& document)
{
  write_stdout(dump_json(document, pretty(ctx) ? 2 : -1));
  write_stdout("\n");
}

// --- stderr ------------------------------------------------------------------

namespace {

void
write_stderr(std::string_view text)
{
  flush_stdout_quietly(); // keep the order sensible when both go to one terminal
  [[maybe_unused]] const auto n = std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

} // namespace

std::string
abbreviate_long_words(std::string_view text, std::size_t max_word)
{
  std::string out;
  out.reserve(std::min(text.size(), std::size_t{4096}));
  std::size_t i = 0;
  while (i < text.size()) {
    const auto blank = [&](std::size_t at) { return text[at] == ' ' || text[at] == '\n' || text[at] == '\t'; };
    if (blank(i)) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && !blank(end)) {
      ++end;
    }
    const std::size_t length = end - i;
    if (length <= max_word) {
      out.append(text.substr(i, length));
    } else {
      std::size_t cut = i + max_word;
      while (cut > i && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        --cut; // not inside a UTF-8 sequence
      }
      // Not inside a printable() escape (\n, \xHH, \u00HH) either: a
      // backslash in the 5 bytes before the cut whose escape spans it.
      for (std::size_t back = 1; back <= 5 && back <= cut - i; ++back) {
        const std::size_t at = cut - back;
        if (text[at] != '\\' || at + 1 >= end) {
          continue;
        }
        const char kind = text[at + 1];
        const std::size_t escape = kind == 'x' ? 4 : kind == 'u' ? 6 : 2;
        if (at + escape > cut) {
          cut = at;
        }
        break;
      }
      out.append(text.substr(i, cut - i));
      out += fmt::format("\u2026({} more bytes)", end - cut);
    }
    i = end;
  }
  return out;
}

namespace {

// What a diagnostic line shows of text: secrets scrubbed first (so that
// none is cut in half or escaped and missed), then made printable, then long
// words abbreviated (after escaping, so that no escape is cut in half).
std::string
shown(std::string text)
{
  return abbreviate_long_words(printable(scrub_secrets(std::move(text))));
}

// The same for a JSON error: the serde writer escapes control characters.
std::string
shown_json(std::string text)
{
  return abbreviate_long_words(scrub_secrets(std::move(text)));
}

// Whether the byte counts as part of a word when a short secret must stand whole.
bool
word_byte(unsigned char c)
{
  return std::isalnum(c) != 0 || c == '_' || c >= 0x80;
}

constexpr std::size_t k_replace_anywhere = 3; // bytes: shorter secrets only where they stand whole

// The length of the valid UTF-8 sequence (Rust's rules: no overlongs,
// surrogates or code points past U+10FFFF) starting at text[i] (a byte >=
// 0x80), or 0 when it is not one.
std::size_t
utf8_length(std::string_view text, std::size_t i)
{
  const auto byte = [&](std::size_t k) { return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0; };
  const auto cont = [](unsigned char b) { return (b & 0xC0) == 0x80; };
  const unsigned char c = byte(0);
  const unsigned char b1 = byte(1);
  if (c >= 0xC2 && c <= 0xDF) {
    return cont(b1) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    const bool first_ok = c == 0xE0 ? (b1 >= 0xA0 && b1 <= 0xBF) : c == 0xED ? (b1 >= 0x80 && b1 <= 0x9F) : cont(b1);
    return first_ok && cont(byte(2)) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const bool first_ok = c == 0xF0 ? (b1 >= 0x90 && b1 <= 0xBF) : c == 0xF4 ? (b1 >= 0x80 && b1 <= 0x8F) : cont(b1);
    return first_ok && cont(byte(2)) && cont(byte(3)) ? 4 : 0;
  }
  return 0;
}

void
append_hex_escape(std::string& out, const char* prefix, unsigned char c)
{
  static constexpr char k_hex[] = "0123456789abcdef";
  out += prefix;
  out += k_hex[c >> 4];
  out += k_hex[c & 15];
}

} // namespace

void
warn(const Context& ctx, std::string_view message)
{
  if (ctx.global.quiet) {
    return;
  }
  write_stderr(fmt::format("taskctl: {} {}\n", paint("warning:", Color::yellow, ctx.color_stderr),
                           shown(std::string(message))));
}

void
note(const Context& ctx, std::string_view message)
{
  if (ctx.global.quiet) {
    return;
  }
  write_stderr(shown(std::string(message)) + "\n");
}

std::string
printable(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != 0x7f) {
        out += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else {
        append_hex_escape(out, "\\x", c);
      }
      ++i;
      continue;
    }
    const std::size_t length = utf8_length(text, i);
    if (length == 0) {
      append_hex_escape(out, "\\x", c); // not UTF-8: the byte
      ++i;
    } else if (length == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      append_hex_escape(out, "\\u00", static_cast<unsigned char>(text[i + 1])); // C1: U+0080-U+009F
      i += 2;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::string
replace_secret(const std::string& text, std::string_view secret, bool whole_only)
{
  const std::size_t m = secret.size();
  if (m == 0 || text.size() < m) {
    return text;
  }
  // Knuth-Morris-Pratt: failure[k] = the length of the longest proper
  // border of secret[0, k].
  std::vector<std::size_t> failure(m, 0);
  for (std::size_t k = 1, b = 0; k < m; ++k) {
    while (b > 0 && secret[k] != secret[b]) {
      b = failure[b - 1];
    }
    if (secret[k] == secret[b]) {
      ++b;
    }
    failure[k] = b;
  }
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  std::size_t matched = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    while (matched > 0 && text[i] != secret[matched]) {
      matched = failure[matched - 1];
    }
    if (text[i] == secret[matched]) {
      ++matched;
    }
    if (matched < m) {
      continue;
    }
    const std::size_t start = i + 1 - m;
    const bool whole = (start == 0 || !word_byte(static_cast<unsigned char>(text[start - 1]))) &&
                       (i + 1 == text.size() || !word_byte(static_cast<unsigned char>(text[i + 1])));
    if (start >= copied && (!whole_only || whole)) {
      out.append(text, copied, start - copied);
      out += "********";
      copied = i + 1;
      matched = 0; // occurrences do not overlap
    } else {
      matched = failure[m - 1];
    }
  }
  out.append(text, copied, std::string::npos);
  return out;
}

std::string
scrub_secrets(std::string text)
{
  for (const auto& secret : known_secrets()) {
    text = replace_secret(text, secret, secret.size() < k_replace_anywhere);
  }
  return scrub_userinfo(std::move(text));
}

std::string
scrub_userinfo(std::string text)
{
  // Any URL with userinfo "scheme://user:password@" keeps only the user:
  // scheme = [A-Za-z][A-Za-z0-9+.-]*, user = [^/@\s:'"]*, password =
  // [^@\s/'"]+. One forward pass (each "://" is looked at once), so any
  // input takes linear time; a std::regex here recursed once per character.
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  auto scheme_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '.' || c == '-';
  };
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  std::size_t at = 0;
  while ((at = text.find("://", at)) != std::string::npos) {
    // The scheme: scheme characters back to a letter that starts it.
    std::size_t start = at;
    while (start > 0 && scheme_char(text[start - 1])) {
      --start;
    }
    while (start < at && std::isalpha(static_cast<unsigned char>(text[start])) == 0) {
      ++start; // the scheme must begin with a letter
    }
    std::size_t p = at + 3;
    if (start < at) {
      while (p < text.size() && text[p] != '/' && text[p] != '@' && text[p] != ':' && text[p] != '\'' &&
             text[p] != '"' && !is_space(text[p])) {
        ++p;
      }
      if (p < text.size() && text[p] == ':') {
        std::size_t q = p + 1;
        while (q < text.size() && text[q] != '@' && text[q] != '/' && text[q] != '\'' && text[q] != '"' &&
               !is_space(text[q])) {
          ++q;
        }
        if (q > p + 1 && q < text.size() && text[q] == '@') {
          out.append(text, copied, p + 1 - copied);
          out.append("********");
          copied = q;
          at = q;
          continue;
        }
      }
    }
    at += 3;
  }
  out.append(text, copied, std::string::npos);
  return out;
}

void
print_error(const Context& ctx, const ErrorReport& report)
{
  if (ctx.json_errors()) {
    Json error = {{"code", report.code}, {"exit", report.exit_code}, {"message", shown_json(report.message)}};
    Json causes = Json::array();
    for (const auto& cause : report.causes) {
      causes.push_back(shown_json(cause));
    }
    error["causes"] = std::move(causes);
    if (!report.details.empty()) {
      Json details = Json::array();
      for (const auto& d : report.details) {
        details.push_back(shown_json(d));
      }
      error["details"] = std::move(details);
    }
    if (!report.hint.empty()) {
      error["hint"] = shown_json(report.hint);
    }
    for (const auto& [name, value] : report.extra.items()) {
      error[name] = value;
    }
    write_stderr(dump_json(Json{{"error", std::move(error)}}) + "\n");
    return;
  }
  std::string text = fmt::format("taskctl: {} {}\n", paint("error:", Color::red, ctx.color_stderr),
                                 shown(report.message));
  for (const auto& cause : report.causes) {
    text += fmt::format("  caused by: {}\n", shown(cause));
  }
  for (const auto& detail : report.details) {
    text += fmt::format("  {}\n", shown(detail));
  }
  if (!report.hint.empty()) {
    text += fmt::format("  hint: {}\n", shown(report.hint));
  }
  write_stderr(text);
}

// --- violations --------------------------------------------------------------

namespace {

// Whether a violation of this rule carries limit and actual figures.
bool
has_figures(taskstore::Rule rule)
{
  return rule == taskstore::Rule::depth || rule == taskstore::Rule::string_length || rule == taskstore::Rule::size;
}

} // namespace

std::string
format_violation(const taskstore::Violation& v)
{
  std::string line = fmt::format("{}: {}", v.pointer.empty() ? "/" : v.pointer, v.message);
  if (has_figures(v.rule)) {
    line += fmt::format(" ({} > {})", v.actual, v.limit);
  }
  return line;
}

Json
violation_to_json(const taskstore::Violation& v)
{
  Json j = {{"pointer", v.pointer}, {"rule", std::string(taskstore::to_string(v.rule))}, {"message", v.message}};
  if (has_figures(v.rule)) {
    j["limit"] = v.limit;
    j["actual"] = v.actual;
  }
  return j;
}

void
warn_unknown_fields(const Context& ctx, const std::vector<std::string>& pointers)
{
  for (const auto& pointer : pointers) {
    warn(ctx, fmt::format("unknown field {} is not stored (pmcp-tasks ignores it too)", pointer));
  }
}

// --- colour ------------------------------------------------------------------

std::string
paint(std::string_view text, Color color, bool enabled)
{
  if (!enabled || color == Color::none) {
    return std::string(text);
  }
  const char* code = "";
  switch (color) {
  case Color::red:
    code = "\033[1;31m";
    break;
  case Color::green:
    code = "\033[32m";
    break;
  case Color::yellow:
    code = "\033[33m";
    break;
  case Color::blue:
    code = "\033[34m";
    break;
  case Color::magenta:
    code = "\033[35m";
    break;
  case Color::dim:
    code = "\033[2m";
    break;
  case Color::bold:
    code = "\033[1m";
    break;
  case Color::none:
    break;
  }
  return fmt::format("{}{}\033[0m", code, text);
}

Color
status_color(std::string_view status)
{
  if (status == "working") {
    return Color::blue;
  }
  if (status == "input_required") {
    return Color::magenta;
  }
  if (status == "completed") {
    return Color::green;
  }
  if (status == "failed") {
    return Color::red;
  }
  if (status == "cancelled") {
    return Color::yellow;
  }
  return Color::none;
}

// --- streamed JSON documents -------------------------------------------------

JsonStreamWriter::JsonStreamWriter(const Context& ctx, const Json& head, std::string array_name)
  : pretty_(pretty(ctx))
{
  head_ = pretty_ ? "{\n  \"schema_version\": 1" : "{\"schema_version\":1";
  append_members(head_, head, pretty_);
  head_ += pretty_ ? fmt::format(",\n  {}: [", dump_json(array_name)) : fmt::format(",{}:[", dump_json(array_name));
  for (const auto& [name, value] : head.items()) {
    head_names_.push_back(name);
  }
}

JsonStreamWriter::~JsonStreamWriter()
{
  if (!started_ || finished_) {
    return;
  }
  // An error (or a signal) ended the stream early: close the document, so
  // that stdout still holds one whole document, marked as cut short; the
  // error itself goes to stderr.
  finished_ = true;
  try {
    write_stdout(pretty_ ? (first_ ? "],\n  \"complete\": false\n}\n" : "\n  ],\n  \"complete\": false\n}\n")
                         : "],\"complete\":false}\n");
  } catch (...) {
    // stdout is broken: nothing more can be said there
  }
}

void
JsonStreamWriter::start()
{
  if (!started_) {
    started_ = true;
    write_stdout(head_);
    head_.clear();
  }
}

void
JsonStreamWriter::item(const Json& value)
{
  start();
  std::string text;
  if (pretty_) {
    text = (first_ ? "\n    " : ",\n    ") + indent_tail(dump_json(value, 2), 4);
  } else {
    text = (first_ ? "" : ",") + dump_json(value);
  }
  first_ = false;
  write_stdout(text);
}

void
JsonStreamWriter::item_text(std::string_view compact_json)
{
  if (pretty_) {
    item(taskstore::parse_json(compact_json));
    return;
  }
  start();
  std::string text;
  text.reserve(compact_json.size() + 1);
  if (!first_) {
    text += ',';
  }
  text += compact_json;
  first_ = false;
  write_stdout(text);
}

void
JsonStreamWriter::finish(const Json& tail)
{
  start();
  finished_ = true;
  Json members = Json::object();
  for (const auto& [name, value] : tail.items()) {
    if (std::find(head_names_.begin(), head_names_.end(), name) == head_names_.end()) {
      members[name] = value;
    }
  }
  std::string text = pretty_ ? (first_ ? "]" : "\n  ]") : "]";
  append_members(text, members, pretty_);
  text += pretty_ ? "\n}\n" : "}\n";
  write_stdout(text);
}

// --- per-key results ---------------------------------------------------------

ResultStream::ResultStream(const Context& ctx, const Json& head, bool per_key_text)
  : ctx_(ctx), per_key_text_(per_key_text)
{
  if (ctx.format == Format::json) {
    json_.emplace(ctx, head, "results");
  }
}

void
ResultStream::result(const std::string& key, const std::string& status, std::uint64_t version,
                     const std::optional<std::string>& expires_at)
{
  switch (ctx_.format) {
  case Format::json:
  case Format::jsonl: {
    Json line = {{"key", key}, {"status", status}, {"version", version == 0 ? Json(nullptr) : Json(version)}};
    if (expires_at) {
      line["expiresAt"] = *expires_at;
    }
    if (json_) {
      json_->item(line);
    } else {
      write_stdout(dump_json(line) + "\n");
    }
    return;
  }
  case Format::raw:
    write_stdout(key + "\n");
    return;
  case Format::table:
  case Format::unset: {
    if (!per_key_text_) {
      return;
    }
    if (status == "not_found") {
      note(ctx_, fmt::format("not found {}", key)); // a diagnostic: the data is what was (or would be) deleted
      return;
    }
    std::string verb = status == "deleted" ? paint("deleted", Color::red, ctx_.color_stdout)
                                           : paint("would delete", Color::yellow, ctx_.color_stdout);
    std::string line = fmt::format("{} {}", verb, printable(key));
    if (version != 0) {
      line += fmt::format(" (version {}", version);
      line += expires_at ? fmt::format(", expired at {})", printable(*expires_at)) : ")";
    }
    write_stdout(line + "\n");
    return;
  }
  }
}

void
ResultStream::item(const Json& line)
{
  if (json_) {
    json_->item(line);
  } else if (ctx_.format == Format::jsonl) {
    write_stdout(dump_json(line) + "\n");
  }
}

void
ResultStream::finish(const Json& summary, const std::string& text)
{
  switch (ctx_.format) {
  case Format::json:
    json_->finish(summary);
    return;
  case Format::jsonl:
    write_stdout(dump_json(Json{{"summary", summary}}) + "\n");
    return;
  case Format::raw:
    return;
  case Format::table:
  case Format::unset:
    note(ctx_, text);
    return;
  }
}

} // namespace taskctl
