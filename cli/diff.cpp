#include "diff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace taskctl {

namespace {

using Index = std::ptrdiff_t;

// The budget of the comparison. The search costs one unit per edit in each
// direction, so max_cost bounds the edit distance at about 2 * 2048 = 4096;
// max_steps bounds the diagonals visited plus the lines compared, about N * D.
// Past either the middle is shown as removed, then added.
constexpr Index max_cost = 2048;
constexpr std::uint64_t max_steps = 50'000'000;

// GNU diff's --color=always defaults (rs=0:hd=1:ad=32:de=31:ln=36).
constexpr std::string_view color_header = "\033[1m";
constexpr std::string_view color_removed = "\033[31m";
constexpr std::string_view color_added = "\033[32m";
constexpr std::string_view color_hunk = "\033[36m";
constexpr std::string_view color_reset = "\033[0m";

// Returns the lines of text, each with its '\n' when it has one. Only the last
// line can lack it, and then "x" and "x\n" are different lines, as in diff.
std::vector<std::string_view>
split_lines(std::string_view text)
{
  std::vector<std::string_view> lines;
  lines.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t newline = text.find('\n', begin);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    lines.push_back(text.substr(begin, end - begin));
    begin = end;
  }
  return lines;
}

// Myers' O(ND) comparison in linear space, as GNU diff's compareseq and diag
// do it (diffseq.h) without the heuristics: finds the middle snake of the
// shortest edit script by searching from both ends at once, then solves the
// two halves. Lines are compared as ids (equal ids, equal lines). Memory is
// two arrays of N + M + 3 diagonals and one bit per line.
class Comparer
{
public:
  Comparer(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b)
    : a_(a), b_(b), removed_(a.size()), added_(b.size()), forward_(a.size() + b.size() + 3),
      backward_(a.size() + b.size() + 3)
  {
  }

  // Returns whether the comparison finished within the budget; then
  // removed()[i] says a[i] is not in the longest common subsequence found,
  // added()[j] the same of b[j].
  bool
  run()
  {
    return compare(0, size(a_), 0, size(b_));
  }

  const std::vector<bool>& removed() const { return removed_; }
  const std::vector<bool>& added() const { return added_; }

private:
  static Index size(const std::vector<std::uint32_t>& v) { return static_cast<Index>(v.size()); }

  // The furthest x reached on diagonal k = x - y (k from -M - 1 to N + 1).
  Index& fd(Index k) { return forward_[static_cast<std::size_t>(k + size(b_) + 1)]; }
  Index& bd(Index k) { return backward_[static_cast<std::size_t>(k + size(b_) + 1)]; }

  // Marks the edits that turn a[xoff, xlim) into b[yoff, ylim); returns false
  // when the budget ran out.
  bool
  compare(Index xoff, Index xlim, Index yoff, Index ylim)
  {
    while (xoff < xlim && yoff < ylim && a_[static_cast<std::size_t>(xoff)] == b_[static_cast<std::size_t>(yoff)]) {
      ++xoff;
      ++yoff;
    }
    while (xoff < xlim && yoff < ylim &&
           a_[static_cast<std::size_t>(xlim - 1)] == b_[static_cast<std::size_t>(ylim - 1)]) {
      --xlim;
      --ylim;
    }
    if (xoff == xlim || yoff == ylim) {
      mark(xoff, xlim, yoff, ylim);
      return true;
    }
    Index xmid = 0;
    Index ymid = 0;
    if (!bisect(xoff, xlim, yoff, ylim, xmid, ymid)) {
      return false;
    }
    // The split is strictly inside the rectangle, so both halves are smaller.
    // Should it ever not be, the rectangle as removed-then-added is still a
    // correct (if not minimal) answer, and the recursion ends.
    if (xmid < xoff || xmid > xlim || ymid < yoff || ymid > ylim || (xmid == xoff && ymid == yoff) ||
        (xmid == xlim && ymid == ylim)) {
      mark(xoff, xlim, yoff, ylim);
      return true;
    }
    return compare(xoff, xmid, yoff, ymid) && compare(xmid, xlim, ymid, ylim);
  }

  // Marks a[xoff, xlim) removed and b[yoff, ylim) added.
  void
  mark(Index xoff, Index xlim, Index yoff, Index ylim)
  {
    std::fill(removed_.begin() + xoff, removed_.begin() + xlim, true);
    std::fill(added_.begin() + yoff, added_.begin() + ylim, true);
  }

  // Finds a point (xmid, ymid) on a shortest edit path through the rectangle,
  // at the end of a snake where the search from the top-left corner meets the
  // search from the bottom-right one; returns false when the budget ran out
  // first. The rectangle's first and last lines differ (compare trimmed them).
  bool
  bisect(Index xoff, Index xlim, Index yoff, Index ylim, Index& xmid, Index& ymid)
  {
    const Index dmin = xoff - ylim; // the diagonals of the rectangle
    const Index dmax = xlim - yoff;
    const Index fmid = xoff - yoff; // where each search starts
    const Index bmid = xlim - ylim;
    Index fmin = fmid;
    Index fmax = fmid;
    Index bmin = bmid;
    Index bmax = bmid;
    // An odd difference: the searches can meet during a forward step only.
    const bool odd = ((fmid - bmid) & 1) != 0;
    constexpr Index unreached_forward = -1;
    constexpr Index unreached_backward = PTRDIFF_MAX;

    fd(fmid) = xoff;
    bd(bmid) = xlim;
    for (Index cost = 1; cost <= max_cost; ++cost) {
      // One more edit from the top-left corner on every diagonal in reach.
      if (fmin > dmin) {
        fd(--fmin - 1) = unreached_forward;
      } else {
        ++fmin;
      }
      if (fmax < dmax) {
        fd(++fmax + 1) = unreached_forward;
      } else {
        --fmax;
      }
      for (Index k = fmax; k >= fmin; k -= 2) {
        const Index lo = fd(k - 1);
        const Index hi = fd(k + 1);
        const Index x0 = lo < hi ? hi : lo + 1;
        Index x = x0;
        Index y = x0 - k;
        while (x < xlim && y < ylim && a_[static_cast<std::size_t>(x)] == b_[static_cast<std::size_t>(y)]) {
          ++x;
          ++y;
        }
        steps_ += 1 + static_cast<std::uint64_t>(x - x0);
        fd(k) = x;
        if (odd && bmin <= k && k <= bmax && bd(k) <= x) {
          xmid = x;
          ymid = y;
          return true;
        }
      }

      // And one more from the bottom-right corner.
      if (bmin > dmin) {
        bd(--bmin - 1) = unreached_backward;
      } else {
        ++bmin;
      }
      if (bmax < dmax) {
        bd(++bmax + 1) = unreached_backward;
      } else {
        --bmax;
      }
      for (Index k = bmax; k >= bmin; k -= 2) {
        const Index lo = bd(k - 1);
        const Index hi = bd(k + 1);
        const Index x0 = lo < hi ? lo : hi - 1;
        Index x = x0;
        Index y = x0 - k;
        while (xoff < x && yoff < y &&
               a_[static_cast<std::size_t>(x - 1)] == b_[static_cast<std::size_t>(y - 1)]) {
          --x;
          --y;
        }
        steps_ += 1 + static_cast<std::uint64_t>(x0 - x);
        bd(k) = x;
        if (!odd && fmin <= k && k <= fmax && x <= fd(k)) {
          xmid = x;
          ymid = y;
          return true;
        }
      }

      if (steps_ > max_steps) {
        return false;
      }
    }
    return false;
  }

  const std::vector<std::uint32_t>& a_;
  const std::vector<std::uint32_t>& b_;
  std::vector<bool> removed_;
  std::vector<bool> added_;
  std::vector<Index> forward_;
  std::vector<Index> backward_;
  std::uint64_t steps_ = 0;
};

// One run of changed lines: a[a_begin, a_end) replaced by b[b_begin, b_end),
// with equal lines (or the start or end of both texts) on either side.
struct Change
{
  Index a_begin;
  Index a_end;
  Index b_begin;
  Index b_end;
};

// Returns the runs of changed lines that turn a into b, in order; none when a
// and b are equal. Minimal when the comparison stays within the budget;
// otherwise one run, the whole middle between the common first and last lines.
std::vector<Change>
find_changes(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b)
{
  const Index n = static_cast<Index>(a.size());
  const Index m = static_cast<Index>(b.size());
  Index prefix = 0;
  while (prefix < n && prefix < m && a[static_cast<std::size_t>(prefix)] == b[static_cast<std::size_t>(prefix)]) {
    ++prefix;
  }
  Index suffix = 0;
  while (suffix < n - prefix && suffix < m - prefix &&
         a[static_cast<std::size_t>(n - 1 - suffix)] == b[static_cast<std::size_t>(m - 1 - suffix)]) {
    ++suffix;
  }
  const Index a_end = n - suffix;
  const Index b_end = m - suffix;
  if (prefix == a_end && prefix == b_end) {
    return {};
  }
  const std::vector<Change> whole_middle{{prefix, a_end, prefix, b_end}};
  if (prefix == a_end || prefix == b_end) {
    return whole_middle;
  }

  // The lines of the middle as ids, so that comparing two is one compare.
  std::unordered_map<std::string_view, std::uint32_t> ids;
  ids.reserve(static_cast<std::size_t>(a_end - prefix + b_end - prefix));
  const auto to_ids = [&](const std::vector<std::string_view>& lines, Index end) {
    std::vector<std::uint32_t> out;
    out.reserve(static_cast<std::size_t>(end - prefix));
    for (Index i = prefix; i < end; ++i) {
      out.push_back(ids.try_emplace(lines[static_cast<std::size_t>(i)], static_cast<std::uint32_t>(ids.size()))
                      .first->second);
    }
    return out;
  };
  const std::vector<std::uint32_t> ids_a = to_ids(a, a_end);
  const std::vector<std::uint32_t> ids_b = to_ids(b, b_end);

  Comparer comparer(ids_a, ids_b);
  if (!comparer.run()) {
    return whole_middle;
  }
  const std::vector<bool>& removed = comparer.removed();
  const std::vector<bool>& added = comparer.added();
  const std::size_t n_mid = ids_a.size();
  const std::size_t m_mid = ids_b.size();
  std::vector<Change> changes;
  std::size_t x = 0;
  std::size_t y = 0;
  while (x < n_mid || y < m_mid) {
    if (x < n_mid && y < m_mid && !removed[x] && !added[y]) {
      ++x;
      ++y;
      continue;
    }
    const std::size_t x0 = x;
    const std::size_t y0 = y;
    while (x < n_mid && removed[x]) {
      ++x;
    }
    while (y < m_mid && added[y]) {
      ++y;
    }
    if (x == x0 && y == y0) {
      // Unequal numbers of unchanged lines: cannot happen; the whole middle
      // is a correct answer all the same.
      return whole_middle;
    }
    changes.push_back({prefix + static_cast<Index>(x0), prefix + static_cast<Index>(x), prefix + static_cast<Index>(y0),
                       prefix + static_cast<Index>(y)});
  }
  return changes;
}

// Returns a hunk range as diff -u writes it: "start,count" (1-based), "start"
// when count is 1, and "before,0" for no lines, before being the number of
// the line before them (0 at the start), which is what patch expects.
std::string
hunk_range(Index begin, Index count)
{
  if (count == 0) {
    return fmt::format("{},0", begin);
  }
  if (count == 1) {
    return fmt::format("{}", begin + 1);
  }
  return fmt::format("{},{}", begin + 1, count);
}

// Appends one line of a hunk: sign, the line without its newline, a newline,
// then diff's marker when the line had none (the last line of a text).
void
append_line(std::string& out, char sign, std::string_view line, bool color)
{
  const bool has_newline = !line.empty() && line.back() == '\n';
  if (has_newline) {
    line.remove_suffix(1);
  }
  const bool painted = color && sign != ' ';
  if (painted) {
    out += sign == '-' ? color_removed : color_added;
  }
  out += sign;
  out += line;
  if (painted) {
    out += color_reset;
  }
  out += '\n';
  if (!has_newline) {
    out += "\\ No newline at end of file\n";
  }
}

// Appends a header line (file or hunk), painted when color is set.
void
append_header(std::string& out, std::string_view text, std::string_view code, bool color)
{
  if (color) {
    out += code;
  }
  out += text;
  if (color) {
    out += color_reset;
  }
  out += '\n';
}

} // namespace

std::string
unified_diff(std::string_view a, std::string_view b, std::string_view label_a, std::string_view label_b,
             const DiffOptions& options)
{
  const std::vector<std::string_view> lines_a = split_lines(a);
  const std::vector<std::string_view> lines_b = split_lines(b);
  const std::vector<Change> changes = find_changes(lines_a, lines_b);
  if (changes.empty()) {
    return {};
  }
  const Index n = static_cast<Index>(lines_a.size());
  // More context than lines is all the lines; the clamp keeps 2 * context finite.
  const Index context = static_cast<Index>(std::min<std::size_t>(options.context, lines_a.size() + lines_b.size()));
  const bool color = options.color;
  const auto line_a = [&](Index i) { return lines_a[static_cast<std::size_t>(i)]; };
  const auto line_b = [&](Index j) { return lines_b[static_cast<std::size_t>(j)]; };

  std::string out;
  append_header(out, fmt::format("--- {}", label_a), color_header, color);
  append_header(out, fmt::format("+++ {}", label_b), color_header, color);
  for (std::size_t first = 0; first < changes.size();) {
    // Changes whose contexts touch or overlap (at most 2 * context equal lines
    // between them) share a hunk, as in diff.
    std::size_t last = first;
    while (last + 1 < changes.size() && changes[last + 1].a_begin - changes[last].a_end <= 2 * context) {
      ++last;
    }
    // Between hunks and at the ends the lines are equal in both texts, so the
    // context is the same number of lines on both sides.
    const Index before = std::min(context, changes[first].a_begin);
    const Index after = std::min(context, n - changes[last].a_end);
    const Index a_begin = changes[first].a_begin - before;
    const Index b_begin = changes[first].b_begin - before;
    const Index a_count = changes[last].a_end + after - a_begin;
    const Index b_count = changes[last].b_end + after - b_begin;
    append_header(out,
                  fmt::format("@@ -{} +{} @@", hunk_range(a_begin, a_count), hunk_range(b_begin, b_count)),
                  color_hunk, color);
    Index x = a_begin;
    for (std::size_t c = first; c <= last; ++c) {
      const Change& change = changes[c];
      for (; x < change.a_begin; ++x) {
        append_line(out, ' ', line_a(x), color);
      }
      for (Index i = change.a_begin; i < change.a_end; ++i) {
        append_line(out, '-', line_a(i), color);
      }
      for (Index j = change.b_begin; j < change.b_end; ++j) {
        append_line(out, '+', line_b(j), color);
      }
      x = change.a_end;
    }
    for (; x < a_begin + a_count; ++x) {
      append_line(out, ' ', line_a(x), color);
    }
    first = last + 1;
  }
  return out;
}

} // namespace taskctl
