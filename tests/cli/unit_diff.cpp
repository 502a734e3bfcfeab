// Unit tests of cli/diff: unified_diff's hunks, ranges, context, merging,
// missing final newlines and colour. Every diff is applied back to its first
// text by a strict little patcher (apply_diff) and must give the second;
// many are also compared byte for byte with GNU diff -u (/usr/bin/diff), and
// random small ones are checked to be minimal against an LCS table.

#include "diff.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sys/wait.h>

using taskctl::DiffOptions;
using taskctl::unified_diff;
using taskstore::testing::TempDir;

namespace {

// Returns the lines of text, each with its '\n' when it has one.
std::vector<std::string>
lines_of(std::string_view text)
{
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t newline = text.find('\n', begin);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    lines.emplace_back(text.substr(begin, end - begin));
    begin = end;
  }
  return lines;
}

// Returns "<prefix><i>\n" for i in [0, count).
std::string
numbered(const std::string& prefix, int count)
{
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += prefix + std::to_string(i) + "\n";
  }
  return text;
}

// Returns text with line i (0-based) replaced by replacement (which carries its newline).
std::string
with_line(const std::string& text, std::size_t i, const std::string& replacement)
{
  std::vector<std::string> lines = lines_of(text);
  lines.at(i) = replacement;
  std::string out;
  for (const std::string& line : lines) {
    out += line;
  }
  return out;
}

// Throws: apply_diff found the diff malformed or not fitting its text.
[[noreturn]] void
bad_diff(const std::string& why)
{
  throw std::runtime_error("malformed diff: " + why);
}

// Parses "start[,count]" at s (advancing it) into the 0-based index of the
// first line and the count, as patch reads a unified range.
void
parse_range(std::string_view& s, std::size_t& first, std::size_t& count)
{
  std::size_t start = 0;
  std::size_t digits = 0;
  while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
    start = start * 10 + static_cast<std::size_t>(s.front() - '0');
    s.remove_prefix(1);
    ++digits;
  }
  if (digits == 0) {
    bad_diff("range without a start");
  }
  count = 1;
  if (!s.empty() && s.front() == ',') {
    s.remove_prefix(1);
    count = 0;
    digits = 0;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
      count = count * 10 + static_cast<std::size_t>(s.front() - '0');
      s.remove_prefix(1);
      ++digits;
    }
    if (digits == 0) {
      bad_diff("range without a count");
    }
    if (count == 1) {
      bad_diff("count 1 written out (diff omits it)");
    }
  }
  // An empty range names the line before it; otherwise start is 1-based.
  if (count == 0) {
    first = start;
  } else {
    if (start == 0) {
      bad_diff("line 0 in a non-empty range");
    }
    first = start - 1;
  }
}

// Returns a with the unified diff applied; throws std::runtime_error when the
// diff is malformed or does not fit a: headers, hunks in order without
// overlap, counts that match the bodies, context and removed lines equal to
// a's, "\ No newline at end of file" only after a line that lacks one.
std::string
apply_diff(std::string_view a, std::string_view diff)
{
  const std::vector<std::string> a_lines = lines_of(a);
  const std::vector<std::string> d = lines_of(diff);
  if (d.size() < 3 || d[0].rfind("--- ", 0) != 0 || d[1].rfind("+++ ", 0) != 0) {
    bad_diff("no --- / +++ header");
  }
  std::string out;
  std::size_t pos = 0;       // next line of a
  std::size_t out_lines = 0; // lines written so far
  std::size_t i = 2;
  while (i < d.size()) {
    std::string_view header = d[i++];
    if (header.rfind("@@ -", 0) != 0 || header.substr(header.size() - 4) != " @@\n") {
      bad_diff("not a hunk header: " + std::string(header));
    }
    header.remove_prefix(4);
    std::size_t old_first = 0;
    std::size_t old_count = 0;
    std::size_t new_first = 0;
    std::size_t new_count = 0;
    parse_range(header, old_first, old_count);
    if (header.substr(0, 2) != " +") {
      bad_diff("no new range");
    }
    header.remove_prefix(2);
    parse_range(header, new_first, new_count);
    if (header != " @@\n") {
      bad_diff("junk after the ranges");
    }
    if (old_first < pos || old_first > a_lines.size()) {
      bad_diff("hunk out of order or past the end");
    }
    for (; pos < old_first; ++pos, ++out_lines) {
      out += a_lines[pos];
    }
    if (new_first != out_lines) {
      bad_diff("new start " + std::to_string(new_first) + " but " + std::to_string(out_lines) + " lines written");
    }
    std::size_t olds = 0;
    std::size_t news = 0;
    while (olds < old_count || news < new_count) {
      if (i >= d.size()) {
        bad_diff("hunk shorter than its counts");
      }
      const std::string& line = d[i++];
      if (line.empty() || line.back() != '\n') {
        bad_diff("diff line without a newline");
      }
      std::string text = line.substr(1);
      if (i < d.size() && d[i] == "\\ No newline at end of file\n") {
        text.pop_back();
        ++i;
      }
      const char sign = line[0];
      if (sign == ' ' || sign == '-') {
        if (pos >= a_lines.size() || a_lines[pos] != text) {
          bad_diff("line " + std::to_string(pos + 1) + " of a is not " + text);
        }
        ++pos;
        ++olds;
      }
      if (sign == ' ' || sign == '+') {
        out += text;
        ++out_lines;
        ++news;
      }
      if (sign != ' ' && sign != '-' && sign != '+') {
        bad_diff("unknown line: " + line);
      }
    }
    if (olds != old_count || news != new_count) {
      bad_diff("hunk longer than its counts");
    }
  }
  for (; pos < a_lines.size(); ++pos) {
    out += a_lines[pos];
  }
  return out;
}

// Returns text without its ANSI colour sequences (ESC [ ... m).
std::string
strip_colors(std::string_view text)
{
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\033') {
      i = text.find('m', i);
      REQUIRE(i != std::string_view::npos);
      continue;
    }
    out += text[i];
  }
  return out;
}

// Returns the diff of a and b, having checked that it is "" exactly when they
// are equal and that applied to a it gives b. A coloured diff must be the
// plain one once its colour codes are taken out.
std::string
checked_diff(const std::string& a, const std::string& b, const DiffOptions& options = {})
{
  const std::string diff = unified_diff(a, b, "a", "b", options);
  const std::string plain = options.color ? unified_diff(a, b, "a", "b", {options.context, false}) : diff;
  if (a == b) {
    CHECK(diff.empty());
  } else {
    REQUIRE_FALSE(diff.empty());
    CHECK(apply_diff(a, plain) == b);
  }
  if (options.color) {
    CHECK(diff != plain);
    CHECK(strip_colors(diff) == plain);
  }
  return diff;
}

// Returns what GNU diff -u prints for a and b, labelled "a" and "b".
std::string
gnu_diff(const std::string& a, const std::string& b, std::size_t context = 3, bool color = false)
{
  TempDir dir;
  const std::string file_a = dir.write("a", a);
  const std::string file_b = dir.write("b", b);
  const std::string command = "/usr/bin/diff -U" + std::to_string(context) + (color ? " --color=always" : "") +
                              " --label a --label b '" + file_a + "' '" + file_b + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    out.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == (a == b ? 0 : 1)); // 2 would be trouble
  return out;
}

// Checks the diff of a and b (applies, "" when equal) and that it is byte for
// byte what GNU diff prints with the same context and colour.
void
check_like_gnu(const std::string& a, const std::string& b, const DiffOptions& options = {})
{
  const std::string ours = checked_diff(a, b, options);
  CHECK(ours == gnu_diff(a, b, options.context, options.color));
}

// Returns how many lines of a diff start with sign, the headers not counted.
std::size_t
count_lines(const std::string& diff, char sign)
{
  std::size_t count = 0;
  for (const std::string& line : lines_of(diff)) {
    if (line[0] == sign && line.rfind("--- ", 0) != 0 && line.rfind("+++ ", 0) != 0) {
      ++count;
    }
  }
  return count;
}

// Returns how many hunks a diff has.
std::size_t
count_hunks(const std::string& diff)
{
  return count_lines(diff, '@');
}

// Returns the length of a longest common subsequence of the lines of a and b
// (the O(NM) table, for small inputs).
std::size_t
lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
  std::vector<std::size_t> row(b.size() + 1, 0);
  for (const std::string& line : a) {
    std::size_t diagonal = 0;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = line == b[j - 1] ? diagonal + 1 : std::max(row[j], row[j - 1]);
      diagonal = above;
    }
  }
  return row[b.size()];
}

} // namespace

TEST_CASE("unified_diff: equal texts give an empty string", "[unit]")
{
  CHECK(unified_diff("", "", "a", "b").empty());
  CHECK(unified_diff("x\ny\n", "x\ny\n", "a", "b").empty());
  CHECK(unified_diff("x\ny", "x\ny", "a", "b").empty());
  const std::string big = numbered("line ", 50'000);
  CHECK(unified_diff(big, big, "a", "b", {0, true}).empty());
}

TEST_CASE("unified_diff: one changed line in the middle of 20, three lines of context", "[unit]")
{
  const std::string a = numbered("line ", 20);
  const std::string b = with_line(a, 9, "changed\n");
  const std::string expected = "--- before\n"
                               "+++ after\n"
                               "@@ -7,7 +7,7 @@\n"
                               " line 6\n"
                               " line 7\n"
                               " line 8\n"
                               "-line 9\n"
                               "+changed\n"
                               " line 10\n"
                               " line 11\n"
                               " line 12\n";
  CHECK(unified_diff(a, b, "before", "after") == expected);
  check_like_gnu(a, b);
  check_like_gnu(a, b, {0, false});
  check_like_gnu(a, b, {1, false});
  check_like_gnu(a, b, {100, false});
}

TEST_CASE("unified_diff: insertions at the start and at the end", "[unit]")
{
  const std::string a = numbered("line ", 10);
  CHECK(checked_diff(a, "new\n" + a) == "--- a\n+++ b\n@@ -1,3 +1,4 @@\n+new\n line 0\n line 1\n line 2\n");
  CHECK(checked_diff(a, a + "new 1\nnew 2\n") ==
        "--- a\n+++ b\n@@ -8,3 +8,5 @@\n line 7\n line 8\n line 9\n+new 1\n+new 2\n");
  check_like_gnu(a, "new\n" + a);
  check_like_gnu(a, a + "new 1\nnew 2\n");
  check_like_gnu(a, "new\n" + a, {0, false});
  check_like_gnu(a, a + "new 1\nnew 2\n", {0, false});
  check_like_gnu("x\n", "x\ny\n", {0, false});
}

TEST_CASE("unified_diff: deletions, with count 1 and count 0 ranges", "[unit]")
{
  const std::string a = numbered("line ", 10);
  const std::string b = numbered("line ", 10).erase(std::string("line 0\nline 1\nline 2\n").size(), 7);
  REQUIRE(b.find("line 3") == std::string::npos);
  CHECK(checked_diff(a, b, {0, false}) == "--- a\n+++ b\n@@ -4 +3,0 @@\n-line 3\n");
  check_like_gnu(a, b);
  check_like_gnu(a, b, {0, false});
  check_like_gnu(a, "line 0\n");
  check_like_gnu(a, "line 9\n", {0, false});
  check_like_gnu("x\n", "y\n", {0, false}); // @@ -1 +1 @@
}

TEST_CASE("unified_diff: changes far apart make two hunks, close ones one", "[unit]")
{
  const std::string a = numbered("line ", 40);
  const std::string far = with_line(with_line(a, 5, "first\n"), 30, "second\n");
  CHECK(count_hunks(checked_diff(a, far)) == 2);
  check_like_gnu(a, far);

  const std::string close = with_line(with_line(a, 5, "first\n"), 9, "second\n");
  CHECK(count_hunks(checked_diff(a, close)) == 1);
  check_like_gnu(a, close);

  // The edge: 2 * context equal lines between two changes still share a
  // hunk; one more and they do not.
  const std::string gap6 = with_line(with_line(a, 10, "x\n"), 17, "y\n"); // lines 11..16 between
  const std::string gap7 = with_line(with_line(a, 10, "x\n"), 18, "y\n");
  CHECK(count_hunks(checked_diff(a, gap6)) == 1);
  CHECK(count_hunks(checked_diff(a, gap7)) == 2);
  check_like_gnu(a, gap6);
  check_like_gnu(a, gap7);
  CHECK(count_hunks(checked_diff(a, gap6, {0, false})) == 2);
  check_like_gnu(a, gap6, {0, false});
  check_like_gnu(a, gap6, {2, false});
  check_like_gnu(a, with_line(with_line(a, 10, "x\n"), 11, "y\n"), {0, false}); // adjacent: one change
}

TEST_CASE("unified_diff: an empty text on either side", "[unit]")
{
  CHECK(checked_diff("", "x\ny\n") == "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n");
  CHECK(checked_diff("x\ny\n", "") == "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-x\n-y\n");
  CHECK(checked_diff("", "x\n") == "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n");
  check_like_gnu("", "x\ny\n");
  check_like_gnu("x\ny\n", "");
  check_like_gnu("", "x\n");
  check_like_gnu("", "x");
  check_like_gnu("x", "");
}

TEST_CASE("unified_diff: a missing final newline is marked as diff marks it", "[unit]")
{
  CHECK(checked_diff("x\ny", "x\ny\n") ==
        "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n");
  CHECK(checked_diff("x\ny\n", "x\nz") ==
        "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n\\ No newline at end of file\n");
  // An unchanged last line without a newline, shown as context.
  CHECK(checked_diff("x\ny\nz", "w\ny\nz") ==
        "--- a\n+++ b\n@@ -1,3 +1,3 @@\n-x\n+w\n y\n z\n\\ No newline at end of file\n");
  check_like_gnu("x\ny", "x\ny\n");
  check_like_gnu("x\ny\n", "x\nz");
  check_like_gnu("x\ny\nz", "w\ny\nz");
  check_like_gnu("x\ny", "x\nz");
  check_like_gnu("a\nb\nc", "a\nb\nc\nd");
  check_like_gnu("a\nb\nc", "a\nb\nc\nd", {0, false});
  check_like_gnu(numbered("l", 10) + "end", numbered("l", 10) + "END");
  check_like_gnu("no newline", "no newline\n", {0, false});
}

TEST_CASE("unified_diff: colour codes only with color set, GNU diff's palette", "[unit]")
{
  const std::string a = numbered("line ", 12);
  const std::string b = with_line(a, 4, "changed\n") + "added";
  const std::string plain = checked_diff(a, b);
  CHECK(plain.find('\033') == std::string::npos);

  const std::string painted = unified_diff(a, b, "a", "b", {3, true});
  CHECK(painted.find("\033[1m--- a\033[0m\n\033[1m+++ b\033[0m\n") == 0);
  CHECK(painted.find("\033[36m@@ -2,7 +2,7 @@\033[0m\n") != std::string::npos);
  CHECK(painted.find("\033[31m-line 4\033[0m\n") != std::string::npos);
  CHECK(painted.find("\033[32m+changed\033[0m\n") != std::string::npos);
  CHECK(painted.find("\033[32m+added\033[0m\n\\ No newline at end of file\n") != std::string::npos);
  CHECK(painted.find("\n line 3\n") != std::string::npos); // context stays plain
  CHECK(painted != plain);
  CHECK(painted == gnu_diff(a, b, 3, true));
  check_like_gnu("x\ny", "x\nz\n", {3, true});
}

TEST_CASE("unified_diff: a pretty record with a few fields changed, as diff -u shows it", "[unit]")
{
  const std::string before = R"({
  "ownerId": "owner-1",
  "task": {
    "taskId": "t-1",
    "status": "working",
    "statusMessage": "step 2 of 5",
    "createdAt": "2025-01-01T00:00:00Z",
    "lastUpdatedAt": "2025-01-01T00:05:00Z",
    "ttl": 60000,
    "pollInterval": 500
  },
  "variables": {
    "a": 1,
    "b": [
      1,
      2,
      3
    ],
    "c": "three"
  },
  "expiresAt": "2025-01-01T01:05:00Z"
}
)";
  std::string after = before;
  after.replace(after.find("\"working\""), 9, "\"failed\"");
  after.replace(after.find("step 2 of 5"), 11, "expired");
  after.replace(after.find("      3\n"), 8, "      3,\n      4\n");
  // The last field removed, and with it the final newline.
  after.erase(after.find("  \"expiresAt\""));
  after.replace(after.rfind("  },\n"), 5, "  }\n}");
  check_like_gnu(before, after);
  check_like_gnu(before, after, {0, false});
  check_like_gnu(before, after, {1, true});
}

TEST_CASE("unified_diff: random small texts: the diff applies and is minimal", "[unit]")
{
  std::mt19937 random(20250101);
  const char* const alphabet[] = {"a\n", "b\n", "c\n", "{\n", "}\n", "d"};
  for (int round = 0; round < 3000; ++round) {
    const auto make = [&](std::size_t max_lines, std::size_t letters) {
      std::string text;
      const std::size_t count = random() % (max_lines + 1);
      for (std::size_t i = 0; i < count; ++i) {
        text += alphabet[random() % letters];
      }
      if (random() % 4 == 0) {
        text += "end"; // no final newline
      }
      return text;
    };
    const std::size_t letters = 2 + static_cast<std::size_t>(round % 4);
    const std::string a = make(round % 7 == 0 ? 60 : 12, letters);
    const std::string b = random() % 3 == 0 ? a + make(3, letters) : make(round % 7 == 0 ? 60 : 12, letters);
    const DiffOptions options{static_cast<std::size_t>(random() % 4), false};
    const std::string diff = unified_diff(a, b, "a", "b", options);
    INFO("a = " << a << "\nb = " << b << "\ndiff =\n" << diff);
    if (a == b) {
      REQUIRE(diff.empty());
      continue;
    }
    REQUIRE(apply_diff(a, diff) == b);
    const std::vector<std::string> la = lines_of(a);
    const std::vector<std::string> lb = lines_of(b);
    const std::size_t common = lcs_length(la, lb);
    REQUIRE(count_lines(diff, '-') == la.size() - common);
    REQUIRE(count_lines(diff, '+') == lb.size() - common);
    if (round % 100 == 0) {
      // GNU diff is minimal on inputs this small too: the same number of changes.
      const std::string gnu = gnu_diff(a, b, options.context);
      CHECK(count_lines(gnu, '-') == count_lines(diff, '-'));
      CHECK(count_lines(gnu, '+') == count_lines(diff, '+'));
    }
  }
}

TEST_CASE("unified_diff: 200,000 lines with 3 changed give exactly those 3 changes", "[unit]")
{
  const std::string a = numbered("{\"line\": ", 200'000);
  std::string b = with_line(a, 1'000, "changed 1\n");
  b = with_line(b, 100'000, "changed 2\n");
  b = with_line(b, 199'990, "changed 3\n");
  const std::string diff = checked_diff(a, b);
  CHECK(count_hunks(diff) == 3);
  CHECK(count_lines(diff, '-') == 3);
  CHECK(count_lines(diff, '+') == 3);
  CHECK(diff.find("@@ -998,7 +998,7 @@\n") != std::string::npos);
  CHECK(diff.find("-{\"line\": 100000\n+changed 2\n") != std::string::npos);
  CHECK(diff == gnu_diff(a, b));
}

TEST_CASE("unified_diff: within the budget a large diff is minimal (500 changes in 20,000 lines)", "[unit]")
{
  const std::string a = numbered("line ", 20'000);
  std::string b;
  const std::vector<std::string> la = lines_of(a);
  for (std::size_t i = 0; i < la.size(); ++i) {
    if (i % 40 == 7) {
      b += "new " + std::to_string(i) + "\n"; // replaced
    } else if (i % 40 == 21) {
      continue; // removed
    } else if (i % 40 == 33) {
      b += la[i] + "inserted " + std::to_string(i) + "\n";
    } else {
      b += la[i];
    }
  }
  const std::string diff = checked_diff(a, b);
  CHECK(count_lines(diff, '-') == 1'000);
  CHECK(count_lines(diff, '+') == 1'000);
  CHECK(diff == gnu_diff(a, b));
}

TEST_CASE("unified_diff: past the budget the middle is removed, then added, and still applies", "[unit]")
{
  // 20,000 lines against 20,000 others: no line in common.
  const std::string a = numbered("old ", 20'000);
  const std::string b = numbered("new ", 20'000);
  const std::string diff = checked_diff(a, b);
  CHECK(count_hunks(diff) == 1);
  CHECK(diff.find("@@ -1,20000 +1,20000 @@\n-old 0\n") == 0 + std::string("--- a\n+++ b\n").size());
  CHECK(count_lines(diff, '-') == 20'000);
  CHECK(count_lines(diff, '+') == 20'000);

  // One line in 100 in common: a minimal diff keeps those 200 as context
  // (some 39,600 edits); past the budget the whole middle between the common
  // first and last lines is replaced, and the diff still turns a into b.
  std::string sparse_a;
  std::string sparse_b;
  for (int i = 0; i < 20'000; ++i) {
    const std::string common = "common " + std::to_string(i) + "\n";
    sparse_a += i % 100 == 0 ? common : "a " + std::to_string(i) + "\n";
    sparse_b += i % 100 == 0 ? common : "b " + std::to_string(i) + "\n";
  }
  const std::string fallback = checked_diff(sparse_a, sparse_b);
  CHECK(count_hunks(fallback) == 1);
  CHECK(count_lines(fallback, '-') == 19'999); // all but the common first line
  CHECK(count_lines(fallback, '+') == 19'999);
  CHECK(count_lines(fallback, ' ') == 1);
  CHECK(fallback.find("@@ -1,20000 +1,20000 @@\n common 0\n-a 1\n") != std::string::npos);
}
