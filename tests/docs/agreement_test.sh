#!/usr/bin/env bash
# docs.agreement: `taskctl --help` and every `taskctl <cmd> --help` (the
# truth), man/taskctl.1 and the bash, zsh and fish completions name the same
# subcommands and the same options, in both directions: everything the CLI
# has is documented and completed, and nothing documents or completes an
# option the CLI lacks. The completions are asked through their shells
# (`taskctl -`, `taskctl <cmd> -`), and their source is scanned for option
# names too. Also checks that every --help ends with examples.
#
# Usage: agreement_test.sh TASKCTL SOURCE_DIR
set -uo pipefail

TASKCTL=$1
SRC=$2
# shellcheck source=tests/docs/lib.sh
. "$SRC/tests/docs/lib.sh"
use_taskctl_on_path
cd "$work" || fail "cd $work"
# Completing options never reads the store; make sure nothing is touched anyway.
export TASKCTL_STORE="sqlite:$work/none.db"

# Prints the option names (-x and --xxx, one per line, sorted) of the option
# lines of a CLI11 help text on stdin: "  -s,--store URI  ..." or "  --live ...".
help_options() {
  grep -E '^  -' | sed -E 's/^  ([^ ]+).*/\1/' | tr ',' '\n' | grep -E '^--?[A-Za-z0-9]' | LC_ALL=C sort -u
}

# Prints the options named in the .TP terms of roff section text on stdin.
man_options() {
  awk 'prev == ".TP" { print } { prev = $0 }' |
    sed -E 's/\\f[BIRP]//g; s/\\-/-/g; s/\\[:&]//g' |
    grep -oE '(^|[][ ,|])--?[A-Za-z][A-Za-z0-9-]*' | sed -E 's/^[][ ,|]//' | LC_ALL=C sort -u
}

# Compares two sorted lists (files); reports each side's extras.
compare() {
  local what=$1 truth=$2 other=$3 name=$4
  local missing extra
  missing=$(LC_ALL=C comm -23 "$truth" "$other" | tr '\n' ' ')
  extra=$(LC_ALL=C comm -13 "$truth" "$other" | tr '\n' ' ')
  [ -z "$missing" ] || check_failed "$name lacks, for $what: $missing"
  [ -z "$extra" ] || check_failed "$name names, for $what, what the CLI lacks: $extra"
  [ -z "$missing$extra" ] && echo "ok   $name: $what ($(wc -l <"$truth") names)"
}

echo "==> the CLI's own help"
"$TASKCTL" --help >"$work/help.txt" 2>&1 || fail "taskctl --help failed"
sed -n '/^Subcommands:/,/^$/p' "$work/help.txt" | grep -E '^  [a-z]' | awk '{ sub(/,$/, "", $1); print $1 }' |
  LC_ALL=C sort -u >"$work/commands"
[ -s "$work/commands" ] || fail "no subcommands found in taskctl --help"
echo "subcommands: $(echo $(cat "$work/commands"))"
sed -n '/^Options:/,/^$/p' "$work/help.txt" | help_options >"$work/global"
[ -s "$work/global" ] || fail "no options found in taskctl --help"
echo "global options: $(echo $(cat "$work/global"))"
mapfile -t commands <"$work/commands"
for c in "${commands[@]}"; do
  "$TASKCTL" "$c" --help >"$work/help-$c.txt" 2>&1 || fail "taskctl $c --help failed"
  help_options <"$work/help-$c.txt" >"$work/own-$c"
  [ -s "$work/own-$c" ] || fail "no options found in taskctl $c --help"
  LC_ALL=C sort -u "$work/own-$c" "$work/global" >"$work/all-$c"
  echo "$c options: $(echo $(cat "$work/own-$c"))"
  # --help must be complete enough to act on: an example at least.
  grep -qE '^Examples?:' "$work/help-$c.txt" && grep -qE '^  taskctl ' "$work/help-$c.txt" ||
    check_failed "taskctl $c --help has no examples"
done
grep -qE '^Examples?:' "$work/help.txt" ||
  check_failed "taskctl --help has no Examples section"
cat "$work"/own-* "$work/global" | LC_ALL=C sort -u >"$work/every-option"

echo "==> man/taskctl.1"
page=$SRC/man/taskctl.1
awk '/^\.SH "GLOBAL OPTIONS"/ { on = 1; next } /^\.S[HS] / { on = 0 } on' "$page" | man_options >"$work/man-global"
compare "global options" "$work/global" "$work/man-global" "man/taskctl.1"
# Subsection titles spell a '-' in a name (set-status) as roff's \-.
grep -E '^\.SS "taskctl [a-z]' "$page" | sed -E 's/\\-/-/g; s/^\.SS "taskctl ([a-z][a-z-]*).*/\1/' |
  LC_ALL=C sort -u >"$work/man-commands"
compare "subcommands" "$work/commands" "$work/man-commands" "man/taskctl.1 (COMMANDS)"
synopsis=$(awk '/^\.SH "SYNOPSIS"/ { on = 1; next } /^\.SH / { on = 0 } on' "$page" | sed -E 's/\\f[BIRP]//g; s/\\-/-/g')
for c in "${commands[@]}"; do
  awk -v c="$c" '{ title = $0; gsub(/\\-/, "-", title) }
    title ~ "^\\.SS \"taskctl " c "( |\")" { on = 1; next } /^\.S[HS] / { on = 0 } on' "$page" |
    man_options >"$work/man-$c"
  compare "taskctl $c" "$work/own-$c" "$work/man-$c" "man/taskctl.1"
  grep -qE "taskctl .*\\b$c\\b" <<<"$synopsis" || check_failed "man/taskctl.1 SYNOPSIS lacks $c"
done

echo "==> the completions, asked through their shells"
lines=("taskctl " "taskctl -")
for c in "${commands[@]}"; do
  lines+=("taskctl $c -")
done
for shell in bash fish zsh; do
  run_driver "$shell" "${lines[@]}"
  compare "subcommands" "$work/commands" "$work/$shell/1" "$shell completion"
  compare "taskctl -" "$work/global" "$work/$shell/2" "$shell completion"
  n=3
  for c in "${commands[@]}"; do
    # A lone "-" is the stdin argument (put, cas, validate), not an option.
    grep -vxF -- - "$work/$shell/$n" >"$work/$shell/$n.options"
    compare "taskctl $c -" "$work/all-$c" "$work/$shell/$n.options" "$shell completion"
    n=$((n + 1))
  done
done

echo "==> option names in the completion scripts' source"
for f in taskctl.bash _taskctl taskctl.fish; do
  {
    grep -oE -- '(^|[^A-Za-z0-9_-])--[a-z][a-z0-9-]*' "$SRC/completions/$f" | sed -E 's/^[^-]//'
    # fish spells long options as "-l NAME" in complete commands.
    if [ "$f" = taskctl.fish ]; then
      grep -E '^ *complete ' "$SRC/completions/$f" | grep -oE -- ' -l [a-z][a-z0-9-]*' | sed -E 's/ -l /--/'
    fi
  } | LC_ALL=C sort -u >"$work/src-$f"
  unknown=$(LC_ALL=C comm -13 "$work/every-option" "$work/src-$f" | tr '\n' ' ')
  if [ -n "$unknown" ]; then
    check_failed "completions/$f names options taskctl does not have: $unknown"
  else
    echo "ok   completions/$f: $(wc -l <"$work/src-$f") option names, all real"
  fi
done
finish
