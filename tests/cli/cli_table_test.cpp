// End-to-end tests of taskctl's tables against temporary SQLite stores
// ([sqlite-cli]), on pseudo-terminals of a chosen width and through pipes:
// columns aligned in terminal columns, cut to the terminal's width (--wide:
// never; a pipe: never), and stored data or input with control characters
// shown escaped in every line for people.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

#include <sys/stat.h>

using namespace clitest;

namespace {

const std::string k_nfc = "\u00e9mile:caf\u00e9-\u00e9";                        // 12 columns
const std::string k_nfd = "e\u0301mile:cafe\u0301-e\u0301";                    // 12 columns
const std::string k_emoji = "user-\U0001F600:t\U0001F600";                     // 11 columns
const std::string k_katakana = "\u30e6\u30fc\u30b6\u30fc:\u30bf\u30b9\u30af-1"; // 17 columns
const std::string k_ellipsis = "\u2026";

std::string
spaces(std::size_t n)
{
  return std::string(n, ' ');
}

// The lines of what was written to a terminal or a pipe ("\r\n" as "\n"),
// without the empty one after the last newline.
std::vector<std::string>
lines_of(const std::string& text)
{
  std::vector<std::string> lines;
  std::string line;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    }
    if (text[i] == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line += text[i];
    }
  }
  if (!line.empty()) {
    lines.push_back(line);
  }
  return lines;
}

// A terminal of the given width for stdout, colour off (so that the lines
// are the text alone).
RunOptions
terminal(unsigned short columns)
{
  RunOptions options;
  options.tty_stdout = true;
  options.tty_columns = columns;
  options.env["NO_COLOR"] = "1";
  return options;
}

// The columns a line of ASCII and ellipses takes.
std::size_t
columns_of(const std::string& line)
{
  std::size_t ellipses = 0;
  for (auto at = line.find(k_ellipsis); at != std::string::npos; at = line.find(k_ellipsis, at + 1)) {
    ++ellipses;
  }
  return line.size() - 2 * ellipses;
}

// The owner and task id of key (split at the first ':').
std::string
record_for(const std::string& key)
{
  const auto colon = key.find(':');
  return record_json(key.substr(0, colon), key.substr(colon + 1));
}

} // namespace

TEST_CASE("tables: columns aligned in terminal columns for wide, combining and emoji keys", "[sqlite-cli]")
{
  SqliteStore store;
  for (const auto& key : {k_nfc, k_nfd, k_emoji, k_katakana, std::string("alice:t1")}) {
    store.seed(key, record_for(key));
  }
  // In key order (bytes): alice, e + U+0301, user, U+00E9, U+30E6.
  const std::vector<std::string> expected = {
    "KEY" + spaces(16) + "VERSION",
    "alice:t1" + spaces(11) + "1",
    k_nfd + spaces(7) + "1",
    k_emoji + spaces(8) + "1",
    k_nfc + spaces(7) + "1",
    k_katakana + spaces(2) + "1",
  };
  auto r = store.run({"ls", "--columns", "key,version"}, terminal(120));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(lines_of(r.tty) == expected);

  r = store.run({"ls", "-o", "table", "--columns", "key,version"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(lines_of(r.out) == expected);

  // stats --by owner and vars tables are the same writer.
  r = store.run({"stats", "--by", "owner"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const auto stats = lines_of(r.out);
  CHECK(std::find(stats.begin(), stats.end(), "OWNER" + spaces(5) + "RECORDS") != stats.end());
  CHECK(std::find(stats.begin(), stats.end(), "\u30e6\u30fc\u30b6\u30fc" + spaces(2) + "1") != stats.end());
  CHECK(std::find(stats.begin(), stats.end(), "e\u0301mile" + spaces(5) + "1") != stats.end());
  CHECK(std::find(stats.begin(), stats.end(), "user-\U0001F600" + spaces(3) + "1") != stats.end());
}

TEST_CASE("tables: cut to the terminal's width with an ellipsis; --wide and pipes never cut", "[sqlite-cli]")
{
  SqliteStore store;
  const std::string long_key = "alice:" + std::string(154, 'k'); // 160 columns
  store.seed(long_key, record_for(long_key));
  store.seed("alice:t1", record_for("alice:t1"));
  const std::vector<std::string> cut = {
    "KEY" + spaces(50) + "STATUS",
    long_key.substr(0, 50) + k_ellipsis + "  working",
    "alice:t1" + spaces(45) + "working",
  };
  const std::vector<std::string> whole = {
    "KEY" + spaces(159) + "STATUS",
    long_key + "  working",
    "alice:t1" + spaces(154) + "working",
  };

  auto r = store.run({"ls", "--columns", "key,status"}, terminal(60));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(lines_of(r.tty) == cut);
  CHECK_FALSE(contains(r.tty, long_key));

  // --wide, before or after the subcommand.
  r = store.run({"--wide", "ls", "--columns", "key,status"}, terminal(60));
  INFO(describe(r));
  CHECK(lines_of(r.tty) == whole);
  r = store.run({"ls", "--columns", "key,status", "--wide"}, terminal(60));
  CHECK(lines_of(r.tty) == whole);

  // Piped: nothing is cut, whatever $COLUMNS says.
  RunOptions piped;
  piped.env["COLUMNS"] = "40";
  r = store.run({"ls", "-o", "table", "--columns", "key,status"}, piped);
  INFO(describe(r));
  CHECK(lines_of(r.out) == whole);

  // Through a pager: cut to the terminal (read from /dev/tty), not to the pipe.
  const std::string paged = store.dir.file("paged.txt");
  RunOptions pager = terminal(60);
  pager.env["TASKCTL_PAGER"] = "cat > '" + paged + "'";
  r = store.run({"ls", "--columns", "key,status"}, pager);
  INFO(describe(r));
  CHECK(lines_of(read_file(paged)) == cut);

  // The default columns on an 80-column terminal: every line fits.
  r = store.run({"ls"}, terminal(80));
  INFO(describe(r));
  for (const auto& line : lines_of(r.tty)) {
    CHECK(columns_of(line) <= 80);
  }
  CHECK(contains(r.tty, k_ellipsis));
}

TEST_CASE("tables: rows after the first 200 are cut to the columns on a terminal", "[sqlite-cli]")
{
  SqliteStore store;
  for (int i = 0; i < 200; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "a:t%03d", i);
    store.seed(key, record_for(key));
  }
  const std::string late = "b:" + std::string(158, 'k');
  store.seed(late, record_for(late));

  auto r = store.run({"ls", "--columns", "key,status"}, terminal(60));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  auto lines = lines_of(r.tty);
  REQUIRE(lines.size() == 202);
  CHECK(lines[0] == "KEY     STATUS");
  CHECK(lines[1] == "a:t000  working");
  CHECK(lines[201] == "b:kkk" + k_ellipsis + "  working");

  r = store.run({"ls", "--columns", "key,status", "--wide"}, terminal(60));
  lines = lines_of(r.tty);
  REQUIRE(lines.size() == 202);
  CHECK(lines[201] == late + "  working");
}

TEST_CASE("tables: an escape-laden key and a multi-line statusMessage stay one escaped row", "[sqlite-cli]")
{
  SqliteStore store;
  const std::string key = "alice:t\x1b]0;pwned\x07\x1b[2J";
  const std::string shown_key = "alice:t\\x1b]0;pwned\\x07\\x1b[2J";
  Json record = parse_json(record_for(key));
  record["task"]["statusMessage"] = "first line\nsecond \x1b[31mred\r";
  const std::string shown_message = "first line\\nsecond \\x1b[31mred\\r";
  auto r = store.run({"put", "--no-validate", key, "-"}, with_input(record.dump()));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);

  // ls: one header, one row.
  r = store.run({"ls", "--columns", "key,message"}, terminal(200));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.tty.find('\x1b') == std::string::npos);
  CHECK(r.tty.find('\x07') == std::string::npos);
  CHECK(lines_of(r.tty) == std::vector<std::string>{"KEY" + spaces(shown_key.size() - 1) + "MESSAGE",
                                                    shown_key + "  " + shown_message});
  r = store.run({"ls", "-o", "table", "--columns", "key,message"});
  CHECK(lines_of(r.out).size() == 2);
  CHECK(r.out.find('\x1b') == std::string::npos);

  // get -o table: the message is one field line, the key too.
  r = store.run({"get", "-o", "table", key}, terminal(200));
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.tty.find('\x1b') == std::string::npos);
  const auto fields = lines_of(r.tty);
  const auto message = std::find(fields.begin(), fields.end(), "status message  " + shown_message);
  REQUIRE(message != fields.end());
  REQUIRE(message + 1 != fields.end());
  CHECK((message + 1)->rfind("owner ", 0) == 0);
  CHECK(fields.front() == "key" + spaces(13) + shown_key);

  // --keys-only: escaped as a table is; -o raw: the bytes exactly.
  r = store.run({"ls", "--keys-only"});
  CHECK(r.out == shown_key + "\n");
  r = store.run({"ls", "--keys-only"}, terminal(200));
  CHECK(lines_of(r.tty) == std::vector<std::string>{shown_key});
  r = store.run({"ls", "--keys-only", "-o", "raw"});
  CHECK(r.out == key + "\n");
}

TEST_CASE("tables: an owner with escapes is escaped in the delete and gc lines and the prompt", "[sqlite-cli]")
{
  SqliteStore store;
  const std::string owner = "o\x1b[2J";
  store.seed(owner + ":t1", record_json(owner, "t1"));

  auto r = store.run({"delete", "--owner", owner, "--dry-run"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(contains(r.out, "would delete o\\x1b[2J:t1 (version 1)\n"));
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(contains(r.err, "would delete 1 record of owner o\\x1b[2J from")); // the summary: on stderr

  r = store.run({"gc", "--owner", owner, "--dry-run"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(contains(r.err, "of owner o\\x1b[2J"));

  // The confirmation question on the terminal.
  RunOptions ask;
  ask.tty_stdin = true;
  ask.tty_input = "n\n";
  r = store.run({"delete", "--owner", owner}, ask);
  INFO(describe(r));
  CHECK(r.exit_code != 0);
  CHECK(contains(r.tty, "Delete 1 record of owner o\\x1b[2J from"));
  CHECK(r.tty.find('\x1b') == std::string::npos);
  CHECK(store.lib().get(owner + ":t1").version == 1);
}

TEST_CASE("tables: edit names a stored status with escapes escaped", "[sqlite-cli]")
{
  SqliteStore store;
  Json record = parse_json(record_json("alice", "t1"));
  record["task"]["status"] = "\x1b[2Jbad";
  store.seed("alice:t1", record.dump());
  TempDir dir;
  const std::string editor =
    dir.write("editor", "#!/bin/sh\nsed -i 's/\"status\": \"[^\"]*\"/\"status\": \"working\"/' \"$1\"\n");
  REQUIRE(::chmod(editor.c_str(), 0755) == 0);
  RunOptions options;
  options.env["EDITOR"] = editor;
  options.env["VISUAL"] = std::nullopt;
  options.env["TMPDIR"] = dir.path();
  auto r = store.run({"edit", "alice:t1"}, options);
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(contains(r.err, "(version 1 -> 2, \\x1b[2Jbad -> working)"));
}
