# Shared helpers of the docs / completion tests (sourced, not run).
#
# Expects: TASKCTL (the binary) and SRC (the source tree) set by the caller.

case $TASKCTL in
/*) ;;
*) TASKCTL=$PWD/$TASKCTL ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-docs.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
drivers=$SRC/tests/docs/drivers
# One compinit dump for every zsh run of a test: building it takes seconds.
export ZCOMPDUMP=$work/zcompdump

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Records a failed check and goes on (the test fails at the end).
check_failed() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
  fi
  echo "PASS"
}

# Puts the binary first on PATH as `taskctl` (completions run it by name).
use_taskctl_on_path() {
  mkdir -p "$work/bin"
  ln -sf "$TASKCTL" "$work/bin/taskctl"
  export PATH="$work/bin:$PATH"
}

# Writes a valid TaskRecord for owner $1, task $2 to stdout.
record_json() {
  printf '{"task":{"taskId":"%s","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":null},"ownerId":"%s","variables":{},"result":null,"requestMethod":"tools/call","expiresAt":null}\n' "$2" "$1"
}

# Creates a SQLite store at $1 with the real taskctl: alice:t1, alice:t2, bob:t3.
make_store() {
  local store=$1 key
  for key in alice:t1 alice:t2 bob:t3; do
    record_json "${key%%:*}" "${key#*:}" | "$TASKCTL" -q --create -s "sqlite:$store" put "$key" - >/dev/null ||
      fail "taskctl put $key into sqlite:$store failed"
  done
}

# Splits the output of a driver ("### LINE" then candidates) into files
# $work/<shell>/<n> (n = 1, 2, ... in the order of the lines).
split_results() {
  local shell=$1 n=0 line
  rm -rf "${work:?}/$shell"
  mkdir -p "$work/$shell"
  while IFS= read -r line; do
    if [[ $line == '### '* ]]; then
      n=$((n + 1))
      : >"$work/$shell/$n"
    elif [ "$n" -gt 0 ]; then
      printf '%s\n' "$line" >>"$work/$shell/$n"
    fi
  done
}

# Runs the driver of shell $1 (bash, fish or zsh) on the lines given; the
# candidates of line n end up in $work/<shell>/<n>. Fails when the driver fails.
run_driver() {
  local shell=$1
  shift
  local out=$work/$shell.out
  case $shell in
  bash) timeout 120 bash --norc --noprofile "$drivers/bash_complete.bash" "$SRC/completions/taskctl.bash" "$@" >"$out" 2>"$work/$shell.err" ;;
  fish) timeout 120 fish --no-config "$drivers/fish_complete.fish" "$SRC/completions/taskctl.fish" "$@" >"$out" 2>"$work/$shell.err" ;;
  zsh) timeout 120 zsh -f "$drivers/zsh_complete.zsh" "$SRC/completions" "$@" >"$out" 2>"$work/$shell.err" ;;
  esac || {
    cat "$work/$shell.err" >&2
    fail "the $shell completion driver failed"
  }
  if [ -s "$work/$shell.err" ]; then
    cat "$work/$shell.err" >&2
    check_failed "$shell printed errors while completing"
  fi
  local count
  count=$(grep -c '^### ' "$out" || true)
  [ "$count" -eq $# ] || fail "the $shell driver answered $count of $# lines"
  split_results "$shell" <"$out"
}
