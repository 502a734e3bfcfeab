#pragma once
// A unified diff of two texts, line by line, as `diff -u` prints it: the
// repair commands' --dry-run shows with it how the pretty JSON of a record
// would change. Common leading and trailing lines are trimmed first, then the
// middle is compared with Myers' O(ND) algorithm in linear space (the
// bisecting search of GNU diff, without its heuristics). The work is bounded:
// past a budget of edits or steps the middle is shown as removed, then added
// (still a diff that `patch` applies).

#include <cstddef>
#include <string>
#include <string_view>

namespace taskctl {

struct DiffOptions
{
  std::size_t context = 3; // unchanged lines shown around each change
  bool color = false;      // ANSI: red "-" lines, green "+" lines, cyan "@@" headers, bold file headers
};

// Returns a unified diff (as `diff -u` prints it: "--- label_a", "+++ label_b",
// hunks "@@ -l,n +l,n @@" with ' ', '-', '+' lines) of the lines of a and b;
// "" when they are equal. A missing final newline is marked with
// "\ No newline at end of file" like diff -u. The colours are GNU diff's
// --color=always defaults.
std::string unified_diff(std::string_view a, std::string_view b, std::string_view label_a, std::string_view label_b,
                         const DiffOptions& options = {});

} // namespace taskctl
