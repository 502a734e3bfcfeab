#!/bin/sh
# Times a field-level repair through taskctl's repair commands against the raw
# round trip they replace (get -o json for the version, get -o raw | jq | cas),
# on a SQLite store holding a record with 120 KB of variables.
#
#   bench/repair.sh [RUNS]       (default 50 repairs of each kind)
#
# BUILD_DIR (default: build-bench next to the sources) is the build directory;
# TASKCTL (default: the one built here) another binary to measure. Needs jq.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
runs=${1:-50}
if [ -z "${TASKCTL:-}" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DTASKCTL_BUILD_TESTS=OFF -DTASKCTL_BUILD_CLI=ON ${CMAKE_ARGS:-} >/dev/null
  cmake --build "$build" --target taskctl -j "${JOBS:-2}"
fi
taskctl=${TASKCTL:-$build/cli/taskctl}
command -v jq >/dev/null || { echo "repair.sh: needs jq" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-repair-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export TASKCTL_STORE="sqlite://$dir/tasks.db"
key=user-123:786512e2-9e0d-44bd-8f29-789f320fe840
big=$(head -c 60000 /dev/zero | tr '\0' x)
printf '{"task":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840","status":"working","createdAt":"2026-12-01T10:30:00.123Z","lastUpdatedAt":"2026-12-01T10:30:00.123Z","ttl":3600000,"pollInterval":500},"ownerId":"user-123","variables":{"a":"%s","b":"%s","n":0},"result":null,"requestMethod":"tools/call","expiresAt":"2099-01-01T00:00:00Z"}' \
  "$big" "$big" | "$taskctl" -q --create put "$key" - >/dev/null

# Seconds (wall) that running "$@" $runs times takes.
elapsed() {
  start=$(date +%s.%N)
  i=0
  while [ "$i" -lt "$runs" ]; do
    i=$((i + 1))
    "$@" "$i"
  done
  end=$(date +%s.%N)
  echo "$start $end" | awk '{printf "%.3f", $2 - $1}'
}

repair_command() { "$taskctl" -q vars "$key" set "n=$1" >/dev/null; }
raw_round_trip() {
  version=$("$taskctl" get -o json "$key" | jq .version)
  "$taskctl" get -o raw "$key" | jq -c ".variables.n = $1" | "$taskctl" -q cas -e "$version" "$key" - >/dev/null
}

a=$(elapsed repair_command)
b=$(elapsed raw_round_trip)
echo "repairs: $runs each, a record with 120 KB of variables, SQLite"
echo "taskctl vars KEY set n=N:          $a s ($(echo "$a $runs" | awk '{printf "%.1f", 1000 * $1 / $2}') ms each)"
echo "get -o json | jq; get -o raw | jq | cas: $b s ($(echo "$b $runs" | awk '{printf "%.1f", 1000 * $1 / $2}') ms each)"
echo "ratio: $(echo "$b $a" | awk '{printf "%.2f", $1 / $2}')x"
"$taskctl" get -o json "$key" | jq -e ".version == $((1 + 2 * runs))" >/dev/null
