#!/bin/sh
# Builds taskctl and put_bench in Release and runs it: the CPU time of
# `taskctl put` of a record with 1 MiB of variables, against a bare
# nlohmann parse of the same bytes.
#
#   bench/put.sh [--runs N]
#
# BUILD_DIR (default: build-bench next to the sources) is the build directory;
# JOBS (default 2) the parallel build jobs; TASKCTL (default: the one built
# here) another taskctl binary to measure, e.g. an older build to compare.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTASKCTL_BUILD_TESTS=OFF -DTASKCTL_BUILD_CLI=ON -DTASKCTL_BUILD_BENCH=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" --target taskctl put_bench -j "${JOBS:-2}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-put-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$build/bench/put_bench" --taskctl "${TASKCTL:-$build/cli/taskctl}" --dir "$dir" "$@"
