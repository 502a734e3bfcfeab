#!/usr/bin/env bash
# completion.bash / completion.fish / completion.zsh: drives one shell's
# completion for real (bash: the function `complete -p taskctl` names, called
# with COMP_* set as readline sets them, in a non-interactive bash; fish:
# `complete -C`; zsh: an interactive zsh in a pseudo-terminal with compinit)
# and checks the candidates: subcommands, options, option values, URI
# schemes, files, and keys and owners read from a real SQLite store that the
# real taskctl filled in; a missing, refused or silent store gives no
# candidates, no noise and no hang.
#
# Usage: completion_test.sh SHELL TASKCTL SOURCE_DIR
set -uo pipefail

shell=$1
TASKCTL=$2
SRC=$3
# shellcheck source=tests/docs/lib.sh
. "$SRC/tests/docs/lib.sh"

command -v "$shell" >/dev/null || fail "$shell is not installed"
use_taskctl_on_path
cd "$work" || fail "cd $work"

make_store "$work/store.db"
export TASKCTL_STORE="sqlite:$work/store.db"
# A second store, named on the command line only.
record_json carol t9 | "$TASKCTL" -q --create -s "sqlite:$work/other.db" put carol:t9 - >/dev/null || fail "put carol:t9"
record_json alice t1 >"$work/file-record.json"
# Two named stores in the config file (taskctl stores -o raw lists them).
export XDG_CONFIG_HOME="$work/config"
mkdir -p "$XDG_CONFIG_HOME/taskctl"
printf '[stores.prod]\nuri = "sqlite:%s"\n[stores.staging]\nuri = "mem://"\n' "$work/store.db" \
  >"$XDG_CONFIG_HOME/taskctl/config.toml"
# A store of 20,000 records over 500 owners (user-0 .. user-499, 40 each):
# its first 1,000 keys (in key order) belong to 25 owners, so owners must be
# completed from what was typed (ls --owners), not from the first keys.
for ((o = 0; o < 500; o++)); do
  for ((t = 0; t < 40; t++)); do
    printf '{"key":"user-%d:t%d","version":1,"record":%s}\n' "$o" "$t" "$(record_json "user-$o" "t$t")"
  done
done >"$work/many.jsonl"
"$TASKCTL" -q --create -s "sqlite:$work/many.db" import "$work/many.jsonl" >/dev/null || fail "import into many.db"

# A "server" that accepts connections and never answers: completion must give
# up on it by itself (taskctl --timeout, timeout(1)).
silent_port=$(perl -MIO::Socket::INET -e '
  my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 16, ReuseAddr => 1) or die "listen: $!";
  print $s->sockport, "\n";
  close STDOUT;
  sleep 300;' &
  echo "$!" >"$work/silent.pid")
silent_pid=$(cat "$work/silent.pid")
trap 'kill "$silent_pid" 2>/dev/null; rm -rf "$work"' EXIT
[ -n "$silent_port" ] || fail "could not start the silent server"

lines=(
  "taskctl "                                   # 1  subcommands
  "taskctl ls --"                              # 2  ls options
  "taskctl -o "                                # 3  formats
  "taskctl ls -o j"                            # 4  formats, filtered
  "taskctl --color "                           # 5
  "taskctl ls --status "                       # 6  statuses
  "taskctl --store "                           # 7  URI schemes
  "taskctl -s sqlite:$work/sto"                # 8  files after sqlite:
  "taskctl get "                               # 9  keys (TASKCTL_STORE)
  "taskctl get alice:"                         # 10 keys after OWNER:
  "taskctl delete --owner "                    # 11 owners
  "taskctl ls "                                # 12 owner prefixes
  "taskctl -s sqlite:$work/other.db get "      # 13 keys of the store on the line
  "taskctl put alice:t1 $work/file-"           # 14 FILE
  "taskctl validate $work/file-"               # 15 FILE...
  "taskctl -s sqlite:$work/missing.db get "    # 16 no store: nothing
  "taskctl -s redis://127.0.0.1:1/0 get "      # 17 refused: nothing
  "taskctl gc --"                              # 18 gc options
  "taskctl --store=sq"                         # 19 --opt=value
  "taskctl cas -e 3 "                          # 20 keys after an option value
  "taskctl put alice:t1 "                      # 21 FILE: files and -
  "taskctl -s sqlite:$work/many.db delete --owner user-4"  # 22 owners from what was typed
  "taskctl -s sqlite:$work/many.db ls user-49"             # 23 owner prefixes from what was typed
  "taskctl -s sqlite:$work/many.db ls --owner "            # 24 every owner (500)
  "taskctl -s sqlite:$work/many.db ls --owner=user-32"     # 25 --opt=value
  "taskctl ls --within "                                   # 26 durations
  "taskctl --store @"                                      # 27 named stores
  "taskctl -s @st"                                         # 28 named stores, filtered
)
silent_line="taskctl -s redis://127.0.0.1:$silent_port/0 get "

# Prints the candidates of line n (one per line).
got() {
  cat "$work/$shell/$1"
}

# Checks that line n gives exactly the words given.
expect_exactly() {
  local n=$1
  shift
  local want
  want=$(printf '%s\n' "$@" | LC_ALL=C sort -u)
  if [ "$(got "$n")" != "$want" ]; then
    check_failed "'${lines[n - 1]}': expected exactly [$(echo $want)], got [$(echo $(got "$n"))]"
  else
    echo "ok   '${lines[n - 1]}' -> $(echo $want)"
  fi
}

# Checks that line n offers each word given.
expect_contains() {
  local n=$1 w ok=1
  shift
  for w in "$@"; do
    if ! grep -qxF -- "$w" "$work/$shell/$n"; then
      check_failed "'${lines[n - 1]}': expected $w among [$(echo $(got "$n"))]"
      ok=0
    fi
  done
  [ "$ok" -eq 1 ] && echo "ok   '${lines[n - 1]}' offers $*"
}

# Checks that line n offers none of the words given.
expect_lacks() {
  local n=$1 w
  shift
  for w in "$@"; do
    if grep -qxF -- "$w" "$work/$shell/$n"; then
      check_failed "'${lines[n - 1]}': $w should not be offered"
    fi
  done
}

echo "==> $shell: driving ${#lines[@]} completions"
run_driver "$shell" "${lines[@]}"

# The subcommands are the CLI's own (taskctl --help), as docs.agreement reads them.
mapfile -t subcommands < <("$TASKCTL" --help 2>&1 | sed -n '/^Subcommands:/,/^$/p' | grep -E '^  [a-z]' | awk '{ sub(/,$/, "", $1); print $1 }')
[ "${#subcommands[@]}" -gt 0 ] || fail "no subcommands found in taskctl --help"
expect_exactly 1 "${subcommands[@]}"
expect_contains 2 --owner --status --expired --live --limit --keys-only --count --help --store --output
expect_lacks 2 --yes --dry-run --record --max-delete
expect_exactly 3 json jsonl table raw
expect_exactly 4 json jsonl
expect_exactly 5 auto always never
expect_exactly 6 working input_required completed failed cancelled
expect_exactly 7 mem:// sqlite: redis:// rediss:// redis+unix:// dynamodb:// @prod @staging
expect_contains 8 "sqlite:$work/store.db"
expect_exactly 9 alice:t1 alice:t2 bob:t3
expect_exactly 10 alice:t1 alice:t2
expect_exactly 11 alice bob
expect_exactly 12 alice: bob:
expect_exactly 13 carol:t9
expect_exactly 14 "$work/file-record.json"
expect_exactly 15 "$work/file-record.json"
expect_exactly 16
expect_exactly 17
expect_contains 18 --owner --dry-run --yes --max-delete
expect_lacks 18 --status --keys-only --if-absent
expect_exactly 19 --store=sqlite:
expect_exactly 20 alice:t1 alice:t2 bob:t3
expect_contains 21 - file-record.json store.db
fours=(user-4)
for ((o = 40; o < 50; o++)); do
  fours+=("user-$o")
done
for ((o = 400; o < 500; o++)); do
  fours+=("user-$o")
done
expect_exactly 22 "${fours[@]}"
expect_exactly 23 user-49: user-490: user-491: user-492: user-493: user-494: user-495: user-496: user-497: \
  user-498: user-499:
if [ "$(grep -c '^user-[0-9]*$' "$work/$shell/24")" -ne 500 ]; then
  check_failed "'${lines[23]}': expected the 500 owners, got $(wc -l <"$work/$shell/24") candidates"
else
  echo "ok   '${lines[23]}' offers the 500 owners"
fi
expect_exactly 25 --owner=user-32 --owner=user-320 --owner=user-321 --owner=user-322 --owner=user-323 \
  --owner=user-324 --owner=user-325 --owner=user-326 --owner=user-327 --owner=user-328 --owner=user-329
expect_contains 26 1s
expect_exactly 27 @prod @staging
expect_exactly 28 @staging
[ -s "$work/$shell.err" ] && check_failed "$shell wrote to stderr: $(head -c 500 "$work/$shell.err")"

# A store that accepts the connection and never answers: no candidates, and
# the completion returns by itself (a hang would be stopped at 60 s and fail).
echo "==> $shell: a store that never answers"
start=$SECONDS
case $shell in
bash) out=$(timeout 60 bash --norc --noprofile "$drivers/bash_complete.bash" "$SRC/completions/taskctl.bash" "$silent_line" 2>&1) ;;
fish) out=$(timeout 60 fish --no-config "$drivers/fish_complete.fish" "$SRC/completions/taskctl.fish" "$silent_line" 2>&1) ;;
zsh) out=$(timeout 60 zsh -f "$drivers/zsh_complete.zsh" "$SRC/completions" "$silent_line" 2>&1) ;;
esac
rc=$?
if [ "$rc" -ne 0 ]; then
  check_failed "completion against a silent store did not return (exit $rc after $((SECONDS - start)) s)"
elif [ "$out" != "### $silent_line" ]; then
  check_failed "completion against a silent store printed: $out"
else
  echo "ok   silent store: no candidates, returned after $((SECONDS - start)) s"
fi

if [ "$shell" = bash ]; then
  # The same through real readline (an interactive bash in a pseudo-terminal):
  # what the line holds after one TAB, with ':' and '=' word breaks in play.
  echo "==> bash: real readline"
  command -v zsh >/dev/null || fail "zsh is needed to drive an interactive bash (zsh/zpty)"
  readline_cases=(
    "taskctl get bob:|get bob:t3"
    "taskctl get b|get bob:t3"
    "taskctl --store=sq|--store=sqlite:"
    "taskctl -s sqlite:$work/store.d|-s sqlite:$work/store.db"
    "taskctl ls al|ls alice:"
    "taskctl delete --owner bo|delete --owner bob"
    "taskctl -s sqlite:$work/many.db ls user-321|-s sqlite:$work/many.db ls user-321:"
    "taskctl -o jso|-o json"
    "taskctl validate $work/file-r|validate $work/file-record.json"
  )
  typed=()
  for c in "${readline_cases[@]}"; do
    typed+=("${c%%|*}")
  done
  out=$(timeout 60 zsh -f "$drivers/bash_readline.zsh" "$SRC/completions/taskctl.bash" "${typed[@]}" 2>&1) ||
    check_failed "driving an interactive bash failed: $out"
  for c in "${readline_cases[@]}"; do
    want="${c%%|*} => ${c#*|}"
    if grep -qxF -- "$want" <<<"$out"; then
      echo "ok   readline: $want"
    else
      check_failed "readline: expected '$want', got: $(grep -F -- "${c%%|*} =>" <<<"$out")"
    fi
  done
fi

if [ "$shell" = zsh ]; then
  zsh -n "$SRC/completions/_taskctl" || check_failed "zsh -n _taskctl: syntax error"
fi
if [ "$shell" = fish ]; then
  fish --no-execute "$SRC/completions/taskctl.fish" || check_failed "fish --no-execute taskctl.fish: syntax error"
fi
if [ "$shell" = bash ]; then
  bash -n "$SRC/completions/taskctl.bash" || check_failed "bash -n taskctl.bash: syntax error"
  spec=$(bash --norc --noprofile -c "source '$SRC/completions/taskctl.bash'; complete -p taskctl")
  [[ $spec == *'-F _taskctl'*' taskctl' ]] || check_failed "complete -p taskctl: $spec"
fi
finish
