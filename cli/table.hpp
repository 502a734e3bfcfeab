#pragma once
// Tables for people (ls, stats, vars): the width of text in terminal columns,
// text cut to a width at a grapheme boundary, the terminal's width, and the
// streamed aligned table.

#include "output.hpp" // Color, Context

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskctl {

// Returns the number of terminal columns text takes, text as printable()
// gives it (valid UTF-8 without control characters), counted per grapheme
// cluster: its first character's width (utf8proc, Unicode's East Asian
// Width: a wide or fullwidth character is 2, a combining mark, a zero-width
// joiner or a variation selector 0, an emoji 2), so a combining sequence
// counts as its base; an emoji sequence (one with U+FE0F, a pair of regional
// indicators: a flag) is 2, as current terminals draw it. A byte that is not
// UTF-8 counts 1. ASCII text: its length.
std::size_t display_width(std::string_view text);

// Returns text when it fits in width columns (display_width), else its
// longest prefix of whole units that fits in width - 1 columns followed by
// "…" (1 column), "" when width is 0. A unit is a grapheme cluster (never a
// base without its combining marks, nor half of a wide character) or a
// printable() escape (\n, \xHH, \u00HH), so the result is at most width
// columns and never shows half a character or half an escape.
std::string fit_to_width(std::string_view text, std::size_t width);

// Returns the terminal's width in columns: TIOCGWINSZ on stdout, else on
// stderr, else on /dev/tty (a pager holds stdout), else $COLUMNS when it is
// a positive number, else 80.
std::size_t terminal_width();

// An aligned table written to stdout as rows arrive: the first rows are
// buffered to compute the column widths, later rows use those widths, so
// memory stays constant. Every cell is shown printable() (a tab or newline
// in a cell cannot break its row); widths are terminal columns of the
// printable text. Given a width to fit (by default the terminal's when
// stdout is a terminal and --wide is not given), the widest columns shrink
// (none below its header or 8 columns) until the table fits, and every cell
// wider than its column, in the buffered rows and in later ones, is cut with
// "…" (fit_to_width), so the columns stay aligned; the last column may use
// what is left of the width. Without one (a pipe, a file, --wide) nothing
// is cut: a later, longer cell pushes its row out.
class TableWriter
{
public:
  struct Cell
  {
    std::string text;
    Color color = Color::none;
  };

  // max_width: the columns the table must fit in, 0 for no limit; nullopt
  // for table_width(ctx).
  TableWriter(const Context& ctx, std::vector<std::string> headers, std::size_t buffer_rows = 200,
              std::optional<std::size_t> max_width = std::nullopt);
  void row(std::vector<Cell> cells);
  // Writes buffered rows; call once at the end.
  void finish();

  // Returns the width a table must fit in: terminal_width() when stdout is
  // a terminal and --wide was not given, else 0 (no limit).
  static std::size_t table_width(const Context& ctx);

private:
  void write_row(const std::vector<Cell>& cells, bool header);
  void flush_buffer();
  void fit_columns();

  const Context& ctx_;
  std::vector<std::string> headers_;
  std::vector<std::size_t> widths_;
  std::vector<std::vector<Cell>> buffer_;
  std::size_t buffer_rows_;
  std::size_t max_width_;
  std::size_t last_limit_ = 0; // the last column's limit once fitted
  bool flushed_ = false;
};

} // namespace taskctl
