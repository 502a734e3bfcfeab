#!/usr/bin/env bash
# The hostile corpus through the real taskctl binary (ctest hostile.cli).
#
#   run.sh TASKCTL SOURCE_DIR [--pending] [--only NAME_GLOB]
#
# Runs every case of tests/hostile/cases.txt (with --pending: pending.txt, the
# cases of defects still being fixed, instead), then replays the fuzz corpora
# through the CLI (skipped with --pending or --only). Each case runs against a
# fresh store seeded with the same records, under a 60 s watchdog, and must:
# exit with its documented status; not crash (no signal, no sanitizer report);
# leave the store exactly as it was when its check says so; and satisfy its
# extra checks.
#
# Case lines: NAME | EXIT | CHECKS | SETUP | ARGS
#   EXIT    the exit status, or several separated by '/' (each is documented)
#   CHECKS  comma-separated: same (the store must not change), any (it may),
#           nosecret=TEXT (TEXT appears in no byte of stdout or stderr),
#           noesc (no ESC or BEL byte on stdout or stderr), maxout=N (stdout
#           plus stderr hold at most N bytes), maxsec=N (finishes within N s),
#           out=TEXT / err=TEXT (stdout / stderr contains TEXT)
#   SETUP   shell run before (may be empty), with the variables below
#   ARGS    taskctl's arguments as shell words (evaluated); the store is given
#           by TASKCTL_STORE (a case may pass -s); `! CMD` runs CMD in a
#           shell instead of taskctl, and its exit status is the case's
# Variables: $TASKCTL $STORE (the case's store URI) $BACKEND (sqlite, redis or
#   dynamodb: the word before the first '-' of NAME when it is redis or
#   dynamodb) $DB (the SQLite file) $IN (tests/hostile/inputs) $GEN (inputs
#   generated at test time) $TMP (a scratch directory of the case)
#   $REDIS_URL $REDIS_PREFIX $DYNAMO_EP $DYNAMO_TABLE.
# Redis and DynamoDB cases need TASKCTL_TEST_REDIS_URL and
# TASKCTL_TEST_DYNAMODB_ENDPOINT (127.0.0.1 only; scripts/test exports them):
# without them the run fails rather than skip.
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 TASKCTL SOURCE_DIR [--pending] [--only GLOB]" >&2
  exit 2
fi
TASKCTL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
shift 2
cases_file=$src/tests/hostile/cases.txt
only='*'
corpus=1
while [ $# -gt 0 ]; do
  case $1 in
    --pending) cases_file=$src/tests/hostile/pending.txt; corpus=0; shift ;;
    --only) only=$2; corpus=0; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
IN=$src/tests/hostile/inputs
export TASKCTL IN

work=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-hostile.XXXXXX")
trap 'rm -rf "$work"' EXIT
GEN=$work/gen
mkdir -p "$GEN"
export GEN

# No test reaches beyond 127.0.0.1: fake AWS credentials, no metadata service,
# no user configuration.
export AWS_ACCESS_KEY_ID=AKIDHOSTILE AWS_SECRET_ACCESS_KEY=hostile-secret-key AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset TASKCTL_OUTPUT TASKCTL_TIMEOUT TASKCTL_COLOR TASKCTL_STORE_PASSWORD TASKCTL_STORE_PASSWORD_FILE
export HOME=$work/home XDG_DATA_HOME=$work/home/.local/share
mkdir -p "$HOME"
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

REDIS_URL=${TASKCTL_TEST_REDIS_URL:-}
DYNAMO_EP=${TASKCTL_TEST_DYNAMODB_ENDPOINT:-}
export REDIS_URL DYNAMO_EP

# --- inputs generated at test time (too big to check in) ---------------------
gen_inputs() {
  local rec
  rec=$(cat "$IN/record-o-t1.json")
  head -c 30000 /dev/zero | tr '\0' k >"$GEN/k30000"
  # 6: a 20 MB result (over the 16 MiB record limit), a 20 MB variable string.
  { printf '%s' "${rec%\}}" | sed 's/"result":null/"result":"/'; head -c 20000000 /dev/zero | tr '\0' r
    printf '"}'; } >"$GEN/record-result-20mb.json"
  { printf '{"s":"'; head -c 20000000 /dev/zero | tr '\0' s; printf '"}'; } >"$GEN/vars-string-20mb.json"
  # 15: a truncated 1,000,000-deep array, and a closed one.
  head -c 1000000 /dev/zero | tr '\0' '[' >"$GEN/deep-1e6-truncated.json"
  { printf '{"a":'; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; printf '}'; } \
    >"$GEN/vars-deep-1e5.json"
  { printf '%s' "${rec%\}}" | sed 's/"result":null/"result":/'; head -c 100000 /dev/zero | tr '\0' '['
    head -c 100000 /dev/zero | tr '\0' ']'; printf '}'; } >"$GEN/record-deep-1e5.json"
  # A record with a 1 MB statusMessage of one word.
  { printf '%s' "${rec%%\"status\":\"working\"*}"; printf '"status":"working","statusMessage":"'
    head -c 1000000 /dev/zero | tr '\0' m; printf '"%s' "${rec#*\"status\":\"working\"}"; } >"$GEN/record-long-message.json"
}
gen_inputs

# --- stores --------------------------------------------------------------------
seed_keys=(o:t1 o:t2 p:t3 o:old p:old)
seed_files=(record-o-t1.json record-o-t2.json record-p-t3.json record-o-old.json record-p-old.json)

# Writes the seed records into store $1; fails loudly.
seed_store() {
  local i
  for i in "${!seed_keys[@]}"; do
    if ! "$TASKCTL" -q --create -s "$1" put "${seed_keys[$i]}" "$IN/${seed_files[$i]}" >/dev/null 2>"$work/seed.err"; then
      echo "error: seeding $1 failed:" >&2
      cat "$work/seed.err" >&2
      return 1
    fi
  done
}

# Creates DynamoDB table $1 (pmcp-tasks' key schema) on the 127.0.0.1 test server.
create_table() {
  curl -sf -X POST "$DYNAMO_EP" -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.CreateTable' -H 'X-Amz-Date: 20250101T000000Z' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDHOSTILE/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00' \
    -d '{"TableName":"'"$1"'","AttributeDefinitions":[{"AttributeName":"PK","AttributeType":"S"},{"AttributeName":"SK","AttributeType":"S"}],"KeySchema":[{"AttributeName":"PK","KeyType":"HASH"},{"AttributeName":"SK","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"}' \
    >/dev/null
}

# Removes what a Redis or DynamoDB case left in the shared servers (its key
# prefix, its table), so that repeated runs do not fill them.
cleanup_case() {
  case $BACKEND in
    redis)
      redis-cli -u "$REDIS_URL" --scan --pattern "$REDIS_PREFIX:*" 2>/dev/null |
        xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1 || true ;;
    dynamodb)
      curl -sf -X POST "$DYNAMO_EP" -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Target: DynamoDB_20120810.DeleteTable' -H 'X-Amz-Date: 20250101T000000Z' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDHOSTILE/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00' \
        -d '{"TableName":"'"$DYNAMO_TABLE"'"}' >/dev/null 2>&1 || true ;;
  esac
}

template_db=$work/template.db
seed_store "sqlite:$template_db" || exit 1

# The contents of the case's store, for the before/after comparison.
snapshot() {
  case $BACKEND in
    sqlite)
      if [ -e "$DB" ]; then sqlite3 -readonly "$DB" .dump 2>&1; else echo "(no store)"; fi ;;
    *)
      local key
      "$TASKCTL" -s "$STORE" ls -o jsonl 2>&1 | sort
      for key in "${seed_keys[@]}" o:new o:leap; do
        printf '%s ' "$key"
        "$TASKCTL" -s "$STORE" get -o raw "$key" 2>/dev/null | sha256sum
      done ;;
  esac
}

# --- running one case ----------------------------------------------------------
failures=0
ran=0
fail() {
  echo "FAIL $case_name: $*" >&2
  failures=$((failures + 1))
}

case_index=0
run_case() {
  local expect=$2 checks=$3 setup=$4 args=$5
  case_name=$1
  case_index=$((case_index + 1))
  TMP=$work/case-$case_index
  mkdir -p "$TMP"
  export TMP
  BACKEND=sqlite
  case $case_name in redis-*) BACKEND=redis ;; dynamodb-*) BACKEND=dynamodb ;; esac
  export BACKEND
  DB=$TMP/store.db
  export DB
  case $BACKEND in
    sqlite)
      cp "$template_db" "$DB"
      STORE=sqlite:$DB ;;
    redis)
      [ -n "$REDIS_URL" ] || { fail "needs TASKCTL_TEST_REDIS_URL (127.0.0.1)"; return; }
      REDIS_PREFIX=hostile-$$-$case_index
      STORE="$REDIS_URL?prefix=$REDIS_PREFIX"
      export REDIS_PREFIX
      seed_store "$STORE" || { fail "seeding the Redis store failed"; return; } ;;
    dynamodb)
      [ -n "$DYNAMO_EP" ] || { fail "needs TASKCTL_TEST_DYNAMODB_ENDPOINT (127.0.0.1)"; return; }
      DYNAMO_TABLE=hostile-$$-$case_index
      STORE="dynamodb://$DYNAMO_TABLE?endpoint=$DYNAMO_EP&region=us-east-1"
      export DYNAMO_TABLE
      create_table "$DYNAMO_TABLE" || { fail "creating the DynamoDB table failed"; return; }
      seed_store "$STORE" || { fail "seeding the DynamoDB store failed"; return; } ;;
  esac
  export STORE TASKCTL_STORE=$STORE

  if [ -n "$setup" ]; then
    if ! (cd "$TMP" && eval "$setup") >"$TMP/setup.out" 2>&1; then
      fail "setup failed: $(head -c 2000 "$TMP/setup.out")"
      return
    fi
  fi
  local before after
  before=$(snapshot)

  local start end rc
  start=$(date +%s%N)
  if [ "${args:0:2}" = "! " ]; then
    (cd "$TMP" && timeout -s KILL 60 bash -c "${args:2}") >"$TMP/out" 2>"$TMP/err"
    rc=$?
  else
    local -a argv
    if ! eval "argv=($args)"; then
      fail "bad ARGS: $args"
      return
    fi
    (cd "$TMP" && exec timeout -s KILL 60 "$TASKCTL" "${argv[@]}") >"$TMP/out" 2>"$TMP/err" </dev/null
    rc=$?
  fi
  end=$(date +%s%N)
  ran=$((ran + 1))

  if [ "$rc" -eq 137 ]; then
    fail "hung: killed by the 60 s watchdog"
    return
  fi
  if grep -aqE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$TMP/err"; then
    fail "sanitizer report: $(grep -aE -m3 'Sanitizer|runtime error' "$TMP/err")"
  fi
  local ok=0 e
  IFS=/ read -ra expected <<<"$expect"
  for e in "${expected[@]}"; do
    [ "$rc" -eq "$e" ] && ok=1
  done
  # 130 (interrupted) and an expected 143 (SIGTERM) are statuses; any other
  # death by a signal is a crash.
  if [ "$rc" -ge 128 ] && [ "$rc" -ne 130 ] && [ "$ok" -eq 0 ]; then
    fail "crashed: exit $rc (signal $((rc - 128))); stderr: $(head -c 500 "$TMP/err")"
    return
  fi
  [ "$ok" -eq 1 ] || fail "exit $rc, expected $expect; stderr: $(head -c 600 "$TMP/err" | tr -d '\000')"

  local check
  IFS=, read -ra check_list <<<"$checks"
  for check in "${check_list[@]}"; do
    case $check in
      same)
        after=$(snapshot)
        [ "$before" = "$after" ] || fail "the store changed: $(diff <(echo "$before") <(echo "$after") | head -c 800)" ;;
      any|'') ;;
      nosecret=*)
        if grep -aqF -- "${check#nosecret=}" "$TMP/out" "$TMP/err"; then
          fail "the secret '${check#nosecret=}' was printed: $(grep -aF -m2 -- "${check#nosecret=}" "$TMP/out" "$TMP/err" | head -c 400)"
        fi ;;
      noesc)
        if LC_ALL=C grep -aq $'[\x1b\x07]' "$TMP/out" "$TMP/err"; then
          fail "a terminal escape (ESC or BEL) was printed"
        fi ;;
      maxout=*)
        local bytes
        bytes=$(cat "$TMP/out" "$TMP/err" | wc -c)
        [ "$bytes" -le "${check#maxout=}" ] || fail "printed $bytes bytes, at most ${check#maxout=} expected" ;;
      maxsec=*)
        local ms=$(((end - start) / 1000000))
        [ "$ms" -le $((${check#maxsec=} * 1000)) ] || fail "took $ms ms, at most ${check#maxsec=} s expected" ;;
      out=*) grep -aqF -- "${check#out=}" "$TMP/out" || fail "stdout lacks '${check#out=}'" ;;
      err=*) grep -aqF -- "${check#err=}" "$TMP/err" || fail "stderr lacks '${check#err=}': $(head -c 400 "$TMP/err")" ;;
      *) fail "unknown check '$check'" ;;
    esac
  done
  rm -rf "$TMP"
}

trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  s=${s%"${s##*[![:space:]]}"}
  printf '%s' "$s"
}

count=0
while IFS= read -r line || [ -n "$line" ]; do
  case $line in ''|'#'*) continue ;; esac
  IFS='|' read -r f_name f_exit f_checks f_setup f_args <<<"$line"
  f_name=$(trim "$f_name")
  # shellcheck disable=SC2053
  [[ $f_name == $only ]] || continue
  count=$((count + 1))
  run_case "$f_name" "$(trim "$f_exit")" "$(trim "$f_checks")" "$(trim "$f_setup")" "$(trim "$f_args")"
  cleanup_case
done <"$cases_file"
echo "cases: $count run from $(basename "$cases_file"), $failures failed"
if [ "$count" -eq 0 ]; then
  echo "error: no case ran" >&2
  exit 1
fi

# --- the fuzz corpora through the CLI ---------------------------------------------
if [ "$corpus" -eq 1 ]; then
  corpus_dir=$src/tests/fuzz/corpus
  replayed=0
  BACKEND=sqlite
  DB=$work/corpus.db
  cp "$template_db" "$DB"
  STORE=sqlite:$DB
  export TASKCTL_STORE=$STORE
  corpus_case() { # NAME EXPECT-LIST CHECK -- ARGV...
    local name=$1 expect=$2 check=$3 before rc e ok=0
    shift 4
    case_name=$name
    [ "$check" = same ] && before=$(snapshot)
    (cd "$work" && exec timeout -s KILL 60 "$TASKCTL" "$@") >"$work/c.out" 2>"$work/c.err" </dev/null
    rc=$?
    replayed=$((replayed + 1))
    if [ "$rc" -eq 137 ]; then fail "hung"; return; fi
    if grep -aqE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$work/c.err"; then
      fail "sanitizer report: $(grep -aE -m3 'Sanitizer|runtime error' "$work/c.err")"
    fi
    if [ "$rc" -ge 128 ]; then fail "crashed: exit $rc"; return; fi
    for e in $expect; do [ "$rc" -eq "$e" ] && ok=1; done
    [ "$ok" -eq 1 ] || fail "exit $rc, expected one of $expect: $(head -c 300 "$work/c.err" | tr -d '\000')"
    if [ "$check" = same ] && [ "$rc" -ne 0 ]; then
      [ "$before" = "$(snapshot)" ] || fail "the store changed on a refused write"
    fi
  }
  # Records: validate (0 valid, 6 invalid) and put under the key o:t1 (0
  # written, 6 refused, 4 a transition pmcp-tasks forbids from the stored
  # record: nothing written unless 0).
  for f in "$corpus_dir"/record/* "$corpus_dir"/validate/*; do
    [ -f "$f" ] || continue
    corpus_case "corpus validate $(basename "$(dirname "$f")")/$(basename "$f")" "0 6" none -- validate "$f"
    corpus_case "corpus put $(basename "$(dirname "$f")")/$(basename "$f")" "0 4 6" same -- -q put o:t1 "$f"
  done
  # Times: expire --at (0 set, 2 not a time, 6 refused: before the creation).
  for f in "$corpus_dir"/time/*; do
    [ -f "$f" ] || continue
    if LC_ALL=C grep -qaP '[\x00\n]' "$f" 2>/dev/null; then continue; fi # not passable as one argument
    corpus_case "corpus expire time/$(basename "$f")" "0 2 6" any -- -q expire o:t1 --at "$(cat "$f")"
  done
  # URIs: only those that cannot reach the network (no host but 127.0.0.1 or
  # localhost; DynamoDB only with a 127.0.0.1 endpoint): 2 bad URI, 3 not
  # found, 5 unavailable, 7 no such store / configuration.
  for f in "$corpus_dir"/uri/*; do
    [ -f "$f" ] || continue
    if LC_ALL=C grep -qaP '[\x00\n\r]' "$f" 2>/dev/null; then continue; fi
    uri=$(cat "$f")
    lower=${uri,,}
    case $lower in
      *://*)
        rest=${lower#*://}
        authority=${rest%%[/?]*}
        host=${authority##*@}
        host=${host%:*}
        case ${lower%%://*} in
          redis|redis+unix) [ "$host" = 127.0.0.1 ] || [ "$host" = localhost ] || { [ "${lower%%://*}" = redis+unix ] && [ -z "$host" ]; } || continue ;;
          dynamodb)
            case $lower in *endpoint=http://127.0.0.1:*) ;; *) continue ;; esac
            case $lower in *endpoint=http://127.0.0.1:*endpoint=*) continue ;; esac ;;
          *) ;; # unknown schemes never connect
        esac
        case $lower in *%*) continue ;; esac ;; # an encoded host could name anything
      *) ;;
    esac
    corpus_case "corpus uri/$(basename "$f")" "0 2 3 5 7" any -- --timeout 1s -s "$uri" get a:b
  done
  echo "corpus: $replayed taskctl runs"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all passed"
