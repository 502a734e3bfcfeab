// Unit tests of cli/table: widths in terminal columns, cutting text at a
// grapheme boundary, the terminal's width, and the streamed table (alignment,
// fitting a width, later rows).

#include "table.hpp"
#include "unit_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace taskctl;
using clitest::captured;

namespace {

// The keys that shifted the columns when widths were counted in code points.
const std::string k_nfc = "\u00e9mile:caf\u00e9-\u00e9";                        // 12 columns, 12 code points
const std::string k_nfd = "e\u0301mile:cafe\u0301-e\u0301";                    // 12 columns, 15 code points
const std::string k_emoji = "user-\U0001F600:t\U0001F600";                     // 11 columns, 9 code points
const std::string k_katakana = "\u30e6\u30fc\u30b6\u30fc:\u30bf\u30b9\u30af-1"; // 17 columns, 10 code points
const std::string k_family = "\U0001F468\u200D\U0001F469\u200D\U0001F467";     // one emoji ZWJ sequence

std::string
spaces(std::size_t n)
{
  return std::string(n, ' ');
}

// Runs f in a child process and returns its exit status (what f returns).
int
in_child(const std::function<int()>& f)
{
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::_exit(f());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

} // namespace

TEST_CASE("display_width: terminal columns (wide 2, combining marks, joiners and selectors 0, emoji 2)", "[unit]")
{
  CHECK(display_width("") == 0);
  CHECK(display_width("alice:t1") == 8);
  CHECK(display_width(k_nfc) == 12);
  CHECK(display_width(k_nfd) == 12);
  CHECK(display_width(k_emoji) == 11);
  CHECK(display_width(k_katakana) == 17);
  CHECK(display_width("\uFF21\uD55C\u4e2d") == 6);     // fullwidth A, a Hangul syllable, a CJK ideograph
  CHECK(display_width("a\u200Bb") == 2);               // zero width space
  CHECK(display_width("\u2026") == 1);                 // the ellipsis of a cut cell
  CHECK(display_width("\u2764") == 1);                 // text presentation
  CHECK(display_width("\u2764\uFE0F") == 2);           // emoji presentation (variation selector 16)
  CHECK(display_width("\U0001F44D\U0001F3FB") == 2);   // skin tone modifier
  CHECK(display_width(k_family) == 2);                 // joined emoji: one glyph
  CHECK(display_width("\U0001F1EB\U0001F1F7") == 2);   // a flag: two regional indicators
  CHECK(display_width("\u0301a") == 1);                // a mark with no base
  CHECK(display_width("\xff") == 1);                   // not UTF-8: the byte
  CHECK(display_width(printable("a\x1b[2J")) == 8);    // an escape is its text
}

TEST_CASE("fit_to_width: whole grapheme clusters and escapes, then an ellipsis; never wider", "[unit]")
{
  CHECK(fit_to_width("abcdef", 6) == "abcdef");
  CHECK(fit_to_width("abcdef", 5) == "abcd\u2026");
  CHECK(fit_to_width("abcdef", 1) == "\u2026");
  CHECK(fit_to_width("abcdef", 0) == "");
  // A base keeps its combining mark: never "cafe" without the accent.
  const std::string nfd = "cafe\u0301-x";
  CHECK(fit_to_width(nfd, 6) == nfd);
  CHECK(fit_to_width(nfd, 5) == "cafe\u0301\u2026");
  CHECK(fit_to_width(nfd, 4) == "caf\u2026");
  // A wide character is never cut in half: one column may stay empty.
  CHECK(fit_to_width("\u30e6\u30fc\u30b6\u30fc", 5) == "\u30e6\u30fc\u2026");
  CHECK(fit_to_width("\u30e6\u30fc\u30b6\u30fc", 4) == "\u30e6\u2026");
  CHECK(display_width(fit_to_width("\u30e6\u30fc\u30b6\u30fc", 4)) == 3);
  CHECK(fit_to_width("a\U0001F600b", 3) == "a\u2026");
  CHECK(fit_to_width("x" + k_family + "y", 3) == "x\u2026");
  CHECK(fit_to_width("x" + k_family + "y", 4) == "x" + k_family + "y");
  // A printable() escape stays whole.
  const std::string escaped = printable("ab\x1b" "cd");
  REQUIRE(escaped == "ab\\x1bcd");
  CHECK(fit_to_width(escaped, 5) == "ab\u2026");
  CHECK(fit_to_width(escaped, 7) == "ab\\x1b\u2026");
  CHECK(fit_to_width(printable("a\nb"), 3) == "a\u2026");
  CHECK(fit_to_width(printable("\u009b"), 5) == "\u2026"); // \u009b is 6 columns

  const std::string mixed = k_nfd + k_emoji + k_family + k_katakana + printable("\x1b\t") + k_nfc;
  const std::size_t full = display_width(mixed);
  for (std::size_t width = 0; width <= full + 1; ++width) {
    INFO(width);
    const std::string cut = fit_to_width(mixed, width);
    CHECK(display_width(cut) <= width);
    if (width >= full) {
      CHECK(cut == mixed);
    } else if (width > 0) {
      REQUIRE(cut.size() >= 3);
      CHECK(cut.substr(cut.size() - 3) == "\u2026");
      CHECK(mixed.compare(0, cut.size() - 3, cut, 0, cut.size() - 3) == 0); // a prefix
      CHECK(display_width(cut) + 3 >= width); // at most one unit short (here up to 4 columns: \x1b)
    }
  }
}

TEST_CASE("TableWriter: columns aligned in terminal columns for wide, combining and emoji keys", "[unit]")
{
  Context ctx;
  const auto out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"KEY", "N"});
    table.row({{k_nfc}, {"1"}});
    table.row({{k_nfd}, {"2"}});
    table.row({{k_emoji}, {"3"}});
    table.row({{k_katakana}, {"4"}});
    table.row({{"alice:t1"}, {"5"}});
    table.finish();
  });
  CHECK(out == "KEY" + spaces(16) + "N\n" +
               k_nfc + spaces(7) + "1\n" +
               k_nfd + spaces(7) + "2\n" +
               k_emoji + spaces(8) + "3\n" +
               k_katakana + spaces(2) + "4\n" +
               "alice:t1" + spaces(11) + "5\n");
}

TEST_CASE("TableWriter: cells printable, widths of the escaped text", "[unit]")
{
  Context ctx;
  const auto out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"KEY", "MESSAGE", "N"});
    table.row({{"a:\x1b]0;pwned\x07"}, {"x\ty\nz"}, {"1"}});
    table.row({{"a:\u00e9"}, {"\x1b[31m"}, {"2"}});
    table.finish();
  });
  CHECK(out == "KEY                 MESSAGE   N\n"
               "a:\\x1b]0;pwned\\x07  x\\ty\\nz   1\n"
               "a:\u00e9                 \\x1b[31m  2\n");
}

TEST_CASE("TableWriter: fitted to a width, the widest columns shrink and long cells end in an ellipsis", "[unit]")
{
  Context ctx;
  const std::string long_key(160, 'k');
  auto out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"KEY", "VERSION", "STATUS"}, 200, 40);
    table.row({{long_key}, {"1"}, {"working"}});
    table.row({{"alice:t1"}, {"2"}, {"completed"}});
    table.finish();
  });
  CHECK(out == "KEY" + spaces(19) + "VERSION  STATUS\n" +
               std::string(19, 'k') + "\u2026  1        working\n" +
               "alice:t1" + spaces(14) + "2        completed\n");

  // A wide character that does not fit leaves its column padded exactly.
  out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"KEY", "N"}, 200, 11);
    table.row({{k_katakana}, {"1"}});
    table.row({{"abcdefghijklmnopqrstuvwxyz"}, {"2"}});
    table.finish();
  });
  CHECK(out == "KEY" + spaces(7) + "N\n" +
               "\u30e6\u30fc\u30b6\u2026" + spaces(3) + "1\n" +
               "abcdefg\u2026  2\n");

  // No column below its header or 8 columns: when even that is too wide,
  // the lines are longer than the width (the terminal wraps them).
  out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"LAST UPDATED", "KEY"}, 200, 30);
    table.row({{"2025-11-25T10:30:00.123Z"}, {std::string(100, 'k')}});
    table.finish();
  });
  CHECK(out == "LAST UPDATED    KEY\n"
               "2025-11-25T10\u2026  " + std::string(13, 'k') + "\u2026\n");
  out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"LAST UPDATED", "KEY"}, 200, 10);
    table.row({{"2025-11-25T10:30:00.123Z"}, {std::string(100, 'k')}});
    table.finish();
  });
  CHECK(out == "LAST UPDATED  KEY\n"
               "2025-11-25T\u2026  " + std::string(7, 'k') + "\u2026\n");

  // A table that fits is left alone.
  out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"A", "B"}, 200, 5);
    table.row({{"xx"}, {"1"}});
    table.finish();
  });
  CHECK(out == "A   B\nxx  1\n");
}

TEST_CASE("TableWriter: rows after the buffered ones are cut to the columns when fitted, not otherwise", "[unit]")
{
  Context ctx;
  auto out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"A", "B"}, 1, 20);
    table.row({{"xx"}, {"1"}});
    table.row({{"longer"}, {"2"}});
    table.row({{"y"}, {std::string(30, 'b')}}); // the last column may use the rest of the width
    table.row({{"\u30e6\u30fc"}, {"3"}});
    table.finish();
  });
  CHECK(out == "A   B\n"
               "xx  1\n"
               "l\u2026  2\n"
               "y   " + std::string(15, 'b') + "\u2026\n" +
               "\u2026   3\n");

  out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"A", "B"}, 1, 0); // no limit: a longer cell pushes its row out
    table.row({{"xx"}, {"1"}});
    table.row({{"longer"}, {std::string(30, 'b')}});
    table.finish();
  });
  CHECK(out == "A   B\nxx  1\nlonger  " + std::string(30, 'b') + "\n");
}

TEST_CASE("TableWriter: the width to fit is the terminal's only on a terminal and without --wide", "[unit]")
{
  Context ctx;
  CHECK(TableWriter::table_width(ctx) == 0);
  ctx.stdout_tty = true;
  CHECK(TableWriter::table_width(ctx) > 0);
  ctx.global.wide = true;
  CHECK(TableWriter::table_width(ctx) == 0);

  // Not a terminal (a file, a pipe): nothing is cut, whatever the width of the cells.
  Context piped;
  const auto out = captured(STDOUT_FILENO, [&] {
    TableWriter table(piped, {"KEY"});
    table.row({{std::string(500, 'k')}});
    table.finish();
  });
  CHECK(out == "KEY\n" + std::string(500, 'k') + "\n");
}

TEST_CASE("terminal_width: the terminal's, else $COLUMNS, else 80", "[unit]")
{
  // A child with a terminal of 93 columns on stdout.
  CHECK(in_child([] {
          struct winsize size {};
          size.ws_row = 24;
          size.ws_col = 93;
          int master = -1;
          int slave = -1;
          if (::openpty(&master, &slave, nullptr, nullptr, &size) != 0) {
            return 2;
          }
          ::dup2(slave, STDOUT_FILENO);
          ::setenv("COLUMNS", "57", 1);
          return terminal_width() == 93 ? 0 : 1;
        }) == 0);
  // A child with no terminal at all (a new session, no controlling terminal).
  CHECK(in_child([] {
          ::setsid();
          const int null = ::open("/dev/null", O_RDWR);
          ::dup2(null, STDIN_FILENO);
          ::dup2(null, STDOUT_FILENO);
          ::dup2(null, STDERR_FILENO);
          int failures = 0;
          ::setenv("COLUMNS", "57", 1);
          failures += terminal_width() == 57 ? 0 : 1;
          for (const char* bad : {"0", "abc", "-3", "", "99999999999999999999"}) {
            ::setenv("COLUMNS", bad, 1);
            failures += terminal_width() == 80 ? 0 : 1;
          }
          ::unsetenv("COLUMNS");
          failures += terminal_width() == 80 ? 0 : 1;
          return failures;
        }) == 0);
}

TEST_CASE("TableWriter: widths from the buffered rows, two spaces between columns, no trailing blanks", "[unit]")
{
  Context ctx;
  const auto out = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"KEY", "VERSION", "STATUS"});
    table.row({{"alice:t1"}, {"1"}, {"working", Color::blue}});
    table.row({{"b:t"}, {"12"}, {""}});
    table.finish();
  });
  CHECK(out == "KEY       VERSION  STATUS\n"
               "alice:t1  1        working\n"
               "b:t       12\n");

  const auto streamed = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"A", "B"}, 1); // one buffered row: later rows keep its widths
    table.row({{"xx"}, {"1"}});
    table.row({{"longer"}, {"2"}});
    table.row({{"y"}}); // missing cells are empty
    table.finish();
  });
  CHECK(streamed == "A   B\n"
                    "xx  1\n"
                    "longer  2\n"
                    "y\n");

  ctx.color_stdout = true;
  const auto coloured = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"S"});
    table.row({{"failed", Color::red}});
    table.finish();
  });
  CHECK(coloured == "\033[1mS\033[0m\n\033[1;31mfailed\033[0m\n");

  const auto empty = captured(STDOUT_FILENO, [&] {
    TableWriter table(ctx, {"KEY"});
    table.finish();
  });
  CHECK(empty == "\033[1mKEY\033[0m\n"); // the header alone
}
