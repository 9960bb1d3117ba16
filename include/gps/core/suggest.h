// "Did you mean": the nearest of a list of names to a mistyped one, by edit
// distance (config keys, choices, registered names, CLI commands).
#pragma once

#include <string>
#include <vector>

namespace gps {

// Levenshtein distance: insertions, deletions and substitutions, each 1.
size_t edit_distance(const std::string& a, const std::string& b);

// The names nearest to `word` (ties all kept, in the list's order), when
// they are close enough to be a typo of it: at most max(2, |word| / 3)
// edits away. Empty when none is.
std::vector<std::string> nearest_names(const std::string& word, const std::vector<std::string>& names);

// " (did you mean 'a'?)", " (did you mean 'a' or 'b'?)", or "" when nothing is near.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& names);

}  // namespace gps
