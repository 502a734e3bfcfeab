#pragma once
// "Did you mean": the closest known name to a mistyped command or flag, the
// way git and kubectl suggest one.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskctl {

// The optimal-string-alignment distance between a and b: insertions,
// deletions, substitutions and swaps of neighbours, each costing 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to word: one that word is a prefix of when exactly
// one is, else the nearest within max(1, |word| / 3) edits (2 from 6
// bytes on), the first of equals; nullopt when none is that close.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates);

} // namespace taskctl
