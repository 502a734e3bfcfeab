#!/bin/sh
# Runs the streaming validation benchmark (validate_file vs `jq empty` on a
# generated ~100 MB variables file: throughput and peak RSS). Builds nothing:
# build bench_validate in Release first, e.g.
#
#   cmake -S . -B build-core-rel -G Ninja -DCMAKE_BUILD_TYPE=Release \
#     -DTASKCTL_BUILD_TESTS=OFF -DTASKCTL_BUILD_CLI=OFF
#   cmake --build build-core-rel --target bench_validate
#
#   bench/validate.sh [--size-mb N] [--runs R] [--dir DIR] [--keep] [--jq PATH]
#
# BUILD_DIR (default: build-core-rel next to the sources) is the build directory.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-core-rel}
bench="$build/bench/bench_validate"
if [ ! -x "$bench" ]; then
  echo "error: $bench not found; build the bench_validate target in Release first (see $0)" >&2
  exit 1
fi
command -v jq >/dev/null 2>&1 || { echo "error: jq not found" >&2; exit 1; }
exec "$bench" "$@"
