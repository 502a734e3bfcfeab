# Shared by the whole-command benchmarks (listing.sh, transfer.sh): building a
# Release taskctl, timing commands, a private redis-server.
#
# Sourced with: root (the sources), and optionally TASKCTL, BUILD_DIR, JOBS.

build=${BUILD_DIR:-$root/build-bench-cli}
if [ -z "${TASKCTL:-}" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DTASKCTL_BUILD_TESTS=OFF -DTASKCTL_BUILD_CLI=ON ${CMAKE_ARGS:-} >/dev/null
  cmake --build "$build" --target taskctl -j "${JOBS:-2}" >/dev/null
fi
taskctl=${TASKCTL:-$build/cli/taskctl}

# The median wall seconds of RUNS (default 5) runs of "$@" (output discarded).
median() {
  n=${RUNS:-5}
  i=0
  : >"$dir/times"
  while [ "$i" -lt "$n" ]; do
    i=$((i + 1))
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$start $end" | awk '{printf "%.4f\n", $2 - $1}' >>"$dir/times"
  done
  sort -n "$dir/times" | awk '{a[NR] = $1} END {printf "%.3f", a[int((NR + 1) / 2)]}'
}

# The peak resident set size of "$@" in MiB (GNU time).
peak_mib() {
  /usr/bin/time -f '%M' -o "$dir/rss" "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
  awk '{printf "%.1f", $1 / 1024}' "$dir/rss"
}

ratio() { echo "$1 $2" | awk '{printf "%.2f", $1 / $2}'; }

# Starts a redis-server on 127.0.0.1:$1 for this benchmark (stopped on exit).
start_redis() {
  redis-server --bind 127.0.0.1 --port "$1" --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: redis-server did not start" >&2
  exit 1
}
stop_redis() { [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; }
