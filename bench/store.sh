#!/bin/sh
# Builds store_bench in Release and runs it: put / get / CAS / listing /
# cleanup throughput of the sqlite and memory backends at 100k records.
#
#   bench/store.sh [store_bench options]    e.g. bench/store.sh --records 100000 --backend sqlite
#
# BUILD_DIR (default: build-bench next to the sources) is the build directory;
# JOBS (default 2) the parallel build jobs; CMAKE_ARGS extra configure options.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTASKCTL_BUILD_TESTS=OFF -DTASKCTL_BUILD_CLI=OFF -DTASKCTL_BUILD_BENCH=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" --target store_bench -j "${JOBS:-2}"
exec "$build/bench/store_bench" "$@"
