#include "table.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace taskctl {

namespace {

constexpr std::size_t k_min_column = 8;    // columns: no column shrinks below this (or its header)
constexpr std::size_t k_default_width = 80; // columns, when nothing tells the terminal's
constexpr std::string_view k_ellipsis = "\u2026";

// Whether every byte of text is ASCII (then each byte is one column and one
// grapheme cluster: printable() text holds no control characters).
bool
all_ascii(std::string_view text)
{
  return std::all_of(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0x80) == 0; });
}

// Decodes the code point at text[at]: its length in bytes, 0 when the
// bytes there are no valid UTF-8.
std::size_t
decode(std::string_view text, std::size_t at, utf8proc_int32_t& code_point)
{
  const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + at),
                                  static_cast<utf8proc_ssize_t>(text.size() - at), &code_point);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool
is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// The length of the printable() escape at text[at] (\n \r \t, \xHH,
// \u00HH), 0 when none starts there.
std::size_t
escape_length(std::string_view text, std::size_t at)
{
  if (text[at] != '\\' || at + 1 >= text.size()) {
    return 0;
  }
  const std::string_view rest = text.substr(at + 1);
  if (rest[0] == 'n' || rest[0] == 'r' || rest[0] == 't') {
    return 2;
  }
  if (rest.size() >= 3 && rest[0] == 'x' && is_hex(rest[1]) && is_hex(rest[2])) {
    return 4;
  }
  if (rest.size() >= 5 && rest.substr(0, 3) == "u00" && is_hex(rest[3]) && is_hex(rest[4])) {
    return 6;
  }
  return 0;
}

// One unit of text: a grapheme cluster, or a printable() escape when
// escapes are units.
struct Unit
{
  std::size_t bytes = 0;
  std::size_t width = 0;
};

// The unit starting at text[at] (at < text.size()), and its width in
// columns (display_width's rules).
Unit
unit_at(std::string_view text, std::size_t at, bool escapes)
{
  if (escapes) {
    if (const std::size_t n = escape_length(text, at); n > 0) {
      return {n, n};
    }
  }
  utf8proc_int32_t first = 0;
  std::size_t end = at + decode(text, at, first);
  if (end == at) {
    return {1, 1}; // not UTF-8: the byte
  }
  const int first_width = utf8proc_charwidth(first);
  std::size_t width = first_width > 0 ? static_cast<std::size_t>(first_width) : 0;
  const bool regional = utf8proc_get_property(first)->boundclass == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR;
  bool emoji_sequence = false;
  utf8proc_int32_t state = 0;
  utf8proc_int32_t previous = first;
  while (end < text.size()) {
    utf8proc_int32_t next = 0;
    const std::size_t n = decode(text, end, next);
    if (n == 0 || utf8proc_grapheme_break_stateful(previous, next, &state)) {
      break;
    }
    // U+FE0F asks for the emoji presentation; a second regional indicator
    // makes a flag: both are drawn 2 columns wide.
    emoji_sequence = emoji_sequence || next == 0xFE0F || regional;
    previous = next;
    end += n;
  }
  if (emoji_sequence && width > 0) {
    width = 2;
  }
  return {end - at, width};
}

// Returns the number of columns of the decimal text, 0 when it is none or
// out of any sensible range.
std::size_t
parse_columns(const char* text)
{
  if (text == nullptr || *text == '\0') {
    return 0;
  }
  std::size_t value = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9' || value > 100000) {
      return 0;
    }
    value = value * 10 + static_cast<std::size_t>(*p - '0');
  }
  return value <= 100000 ? value : 0;
}

// The width of the terminal behind fd, 0 when it is none.
std::size_t
columns_of(int fd)
{
  struct winsize size {};
  return ::ioctl(fd, TIOCGWINSZ, &size) == 0 ? size.ws_col : 0;
}

} // namespace

std::size_t
display_width(std::string_view text)
{
  if (all_ascii(text)) {
    return text.size();
  }
  std::size_t width = 0;
  for (std::size_t at = 0; at < text.size();) {
    const Unit unit = unit_at(text, at, false);
    width += unit.width;
    at += unit.bytes;
  }
  return width;
}

std::string
fit_to_width(std::string_view text, std::size_t width)
{
  if (display_width(text) <= width) {
    return std::string(text);
  }
  if (width == 0) {
    return {};
  }
  const std::size_t room = width - 1; // the ellipsis takes one column
  std::size_t used = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const Unit unit = unit_at(text, at, true);
    if (used + unit.width > room) {
      break;
    }
    used += unit.width;
    at += unit.bytes;
  }
  std::string out(text.substr(0, at));
  out += k_ellipsis;
  return out;
}

std::size_t
terminal_width()
{
  for (const int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    if (const std::size_t columns = columns_of(fd); columns > 0) {
      return columns;
    }
  }
  const int tty = ::open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (tty >= 0) {
    const std::size_t columns = columns_of(tty);
    ::close(tty);
    if (columns > 0) {
      return columns;
    }
  }
  if (const std::size_t columns = parse_columns(std::getenv("COLUMNS")); columns > 0) {
    return columns;
  }
  return k_default_width;
}

// --- TableWriter -------------------------------------------------------------

std::size_t
TableWriter::table_width(const Context& ctx)
{
  return ctx.stdout_tty && !ctx.global.wide ? terminal_width() : 0;
}

TableWriter::TableWriter(const Context& ctx, std::vector<std::string> headers, std::size_t buffer_rows,
                         std::optional<std::size_t> max_width)
  : ctx_(ctx), headers_(std::move(headers)), buffer_rows_(buffer_rows),
    max_width_(max_width ? *max_width : table_width(ctx))
{
  widths_.reserve(headers_.size());
  for (auto& h : headers_) {
    h = printable(h);
    widths_.push_back(display_width(h));
  }
}

void
TableWriter::row(std::vector<Cell> cells)
{
  cells.resize(headers_.size());
  for (auto& cell : cells) {
    cell.text = printable(cell.text); // stored data: no terminal escape, no tab or newline
  }
  if (flushed_) {
    write_row(cells, false);
    return;
  }
  for (std::size_t i = 0; i < cells.size(); ++i) {
    widths_[i] = std::max(widths_[i], display_width(cells[i].text));
  }
  buffer_.push_back(std::move(cells));
  if (buffer_.size() >= buffer_rows_) {
    flush_buffer();
  }
}

void
TableWriter::finish()
{
  if (!flushed_) {
    flush_buffer();
  }
}

void
TableWriter::fit_columns()
{
  const std::size_t n = widths_.size();
  if (max_width_ == 0 || n == 0) {
    return;
  }
  const std::size_t gaps = 2 * (n - 1);
  std::vector<std::size_t> minimum(n);
  for (std::size_t i = 0; i < n; ++i) {
    minimum[i] = std::min(widths_[i], std::max(display_width(headers_[i]), k_min_column));
  }
  // The widths with every column capped at cap (none below its minimum).
  const auto total = [&](std::size_t cap) {
    std::size_t sum = gaps;
    for (std::size_t i = 0; i < n; ++i) {
      sum += std::max(minimum[i], std::min(widths_[i], cap));
    }
    return sum;
  };
  const std::size_t widest = *std::max_element(widths_.begin(), widths_.end());
  if (total(widest) > max_width_) {
    // The largest cap that fits (0 when not even the minimums do: then the
    // lines wrap, every column at its minimum).
    std::size_t low = 0;
    std::size_t high = widest;
    while (low < high) {
      const std::size_t mid = low + (high - low + 1) / 2;
      if (total(mid) <= max_width_) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    std::size_t spare = max_width_ > total(low) ? max_width_ - total(low) : 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t capped = std::max(minimum[i], std::min(widths_[i], low));
      // Columns cut at the cap share what the cap leaves, left first.
      const bool cut = capped == low && widths_[i] > low;
      widths_[i] = capped + (cut && spare > 0 ? 1 : 0);
      spare -= cut && spare > 0 ? 1 : 0;
    }
  }
  std::size_t before_last = gaps;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    before_last += widths_[i];
  }
  last_limit_ = std::max(widths_.back(), max_width_ > before_last ? max_width_ - before_last : 0);
}

void
TableWriter::flush_buffer()
{
  fit_columns();
  std::vector<Cell> header;
  for (const auto& h : headers_) {
    header.push_back({h, Color::bold});
  }
  write_row(header, true);
  for (const auto& cells : buffer_) {
    write_row(cells, false);
  }
  buffer_.clear();
  buffer_.shrink_to_fit();
  flushed_ = true;
}

void
TableWriter::write_row(const std::vector<Cell>& cells, bool header)
{
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto& cell = cells[i];
    const bool last = i + 1 == cells.size();
    std::string cut;
    const std::string* text = &cell.text;
    std::size_t width = display_width(cell.text);
    const std::size_t limit = last ? last_limit_ : widths_[i];
    if (max_width_ > 0 && width > limit) {
      cut = fit_to_width(cell.text, limit);
      text = &cut;
      width = display_width(cut);
    }
    line += paint(*text, header ? Color::bold : cell.color, ctx_.color_stdout);
    if (!last) {
      const std::size_t pad = widths_[i] > width ? widths_[i] - width : 0;
      line.append(pad + 2, ' ');
    }
  }
  while (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  line += '\n';
  write_stdout(line);
}

} // namespace taskctl
