#!/usr/bin/env bash
# docs.manlint: man/taskctl.1 renders without a single warning, through groff
# with every warning enabled and through man-db's own pipeline, and holds every
# section the page promises. Also checks that the committed roff is what
# scripts/gen-man makes of man/taskctl.md (so the two never drift apart).
#
# Usage: manlint_test.sh SOURCE_DIR
set -euo pipefail

src=$1
page=$src/man/taskctl.1
work=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-manlint.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[ -s "$page" ] || fail "$page is missing or empty"
[ -s "$src/man/taskctl.md" ] || fail "$src/man/taskctl.md (the page's source) is missing"

echo "==> groff -man -ww -z"
groff -man -ww -z "$page" 2>"$work/groff.err" || fail "groff failed: $(cat "$work/groff.err")"
if [ -s "$work/groff.err" ]; then
  cat "$work/groff.err" >&2
  fail "groff -man -ww printed warnings"
fi
# Also for a terminal, as man shows it (line breaking happens per device).
groff -man -ww -z -Tutf8 "$page" 2>"$work/groff-tty.err" || fail "groff -Tutf8 failed"
if [ -s "$work/groff-tty.err" ]; then
  cat "$work/groff-tty.err" >&2
  fail "groff -man -ww -Tutf8 printed warnings"
fi

echo "==> man --warnings -l"
# MANWIDTH fixes the layout; man warns about lines it cannot break at that width.
MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" >"$work/page.txt" 2>"$work/man.err" ||
  fail "man -l failed: $(cat "$work/man.err")"
if [ -s "$work/man.err" ]; then
  cat "$work/man.err" >&2
  fail "man --warnings printed warnings"
fi
[ -s "$work/page.txt" ] || fail "man rendered nothing"

echo "==> sections"
for section in NAME SYNOPSIS DESCRIPTION "GLOBAL OPTIONS" COMMANDS "STORE URIS" "EXIT STATUS" \
  ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
  grep -qx "$section" "$work/page.txt" || fail "the rendered page has no $section section"
done
# Every exit status of the table, every store scheme, the default store.
for code in 0 1 2 3 4 5 6 7 130; do
  grep -qE "^ +$code( |$)" "$work/page.txt" || fail "EXIT STATUS lacks $code"
done
for scheme in 'mem://' 'sqlite:' 'redis://' 'rediss://' 'redis+unix://' 'dynamodb://'; do
  grep -qF -- "$scheme" "$work/page.txt" || fail "STORE URIS lacks $scheme"
done
grep -qF 'taskctl/tasks.db' "$work/page.txt" || fail "FILES does not name the default store"

echo "==> man/taskctl.1 is up to date with man/taskctl.md"
if command -v perl >/dev/null; then
  perl "$src/scripts/gen-man" --check "$src/man/taskctl.md" "$page" ||
    fail "man/taskctl.1 is stale: run scripts/gen-man and commit the result"
else
  fail "perl not found (needed to check man/taskctl.1 against its source)"
fi
echo "PASS"
