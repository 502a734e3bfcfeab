#!/usr/bin/env bash
# Builds dynamodb_bench in Release and runs it against a dynalite it starts on
# a free 127.0.0.1 port (or against TASKCTL_TEST_DYNAMODB_ENDPOINT when set):
# full listing, one-owner listing and cleanup of expired records, each against
# the one-request-at-a-time pattern, at 20k records.
#
#   bench/dynamodb.sh [dynamodb_bench options]    e.g. bench/dynamodb.sh --records 20000 --expired 10000
#
# BUILD_DIR (default: build-bench next to the sources) is the build directory;
# JOBS (default 2) the parallel build jobs; CMAKE_ARGS extra configure options.
# Needs node and `npm ci` (dynalite) in the source directory.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTASKCTL_BUILD_TESTS=OFF -DTASKCTL_BUILD_CLI=OFF -DTASKCTL_BUILD_BENCH=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" --target dynamodb_bench -j "${JOBS:-2}"

if [ -z "${TASKCTL_TEST_DYNAMODB_ENDPOINT:-}" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  node "$root/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$port" \
    --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >/dev/null 2>&1 &
  dynalite=$!
  trap 'kill "$dynalite" 2>/dev/null || true' EXIT INT TERM
  i=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 300 ] || { echo "dynalite did not start" >&2; exit 1; }
    sleep 0.1
  done
  TASKCTL_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
fi
server_pid=()
if [ -n "${dynalite:-}" ]; then
  server_pid=(--server-pid "$dynalite")
fi
"$build/bench/dynamodb_bench" --endpoint "$TASKCTL_TEST_DYNAMODB_ENDPOINT" "${server_pid[@]}" "$@"
