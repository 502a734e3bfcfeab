# Usage: fish --no-config fish_complete.fish COMPLETION_FILE LINE...
# Loads a fish completion file, then for each LINE prints "### LINE" followed
# by the candidates `complete -C LINE` gives (without descriptions, sorted,
# one per line).
source $argv[1]; or exit 2
for line in $argv[2..-1]
    echo "### $line"
    complete -C "$line" | string replace -r -- '\t.*$' '' | env LC_ALL=C sort -u
end
