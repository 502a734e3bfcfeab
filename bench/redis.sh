#!/bin/sh
# Redis backend benchmark. Builds redis_bench in Release, starts a redis-server
# of its own on a free 127.0.0.1 port (no persistence), fills it in pmcp-tasks'
# layout (100k records over 100 owners, owner0 holding 20k; half of them expire
# in an hour, half in a day) and measures, each in its own process under
# /usr/bin/time (wall time, peak RSS):
#
#   floor   redis-cli --scan --pattern 'pmcp:tasks:*' > /dev/null  (keys only), and
#           the same keys-only SCAN with COUNT 1000 (redis-cli's default COUNT is
#           10 and this redis-cli has no --count): redis_bench keys
#   ours    full listing through StorageBackend::scan
#   anchor  the anchor's access pattern: per owner ZRANGE, then one HGETALL
#           round trip per record, sequential
#   cli     taskctl -s redis://... ls -o jsonl > /dev/null  (when a taskctl binary exists)
#   one large owner (20k records): ours and the anchor's pattern
#   cleanup_expired of the 50k records expiring in an hour, run with
#           CleanupOptions.now two hours ahead (Redis' own EXPIREAT would
#           otherwise delete them first; the judgement is the same)
#   peak RSS of the full listing again at SCALE records (default 400k)
#
#   bench/redis.sh                 RECORDS=100000 SCALE=400000 REPEAT=3 TASKCTL=path/to/taskctl
#
# Each listing is run REPEAT times; the fastest run is reported.
#
# BUILD_DIR (default build-bench), JOBS (default 2), CMAKE_ARGS as bench/store.sh.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
records=${RECORDS:-100000}
scale=${SCALE:-400000}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTASKCTL_BUILD_TESTS=OFF -DTASKCTL_BUILD_CLI=OFF -DTASKCTL_BUILD_BENCH=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" --target redis_bench -j "${JOBS:-2}" >/dev/null
bench="$build/bench/redis_bench"

for tool in redis-server redis-cli /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found" >&2; exit 1; }
done

taskctl=${TASKCTL:-}
if [ -z "$taskctl" ]; then
  taskctl=$(ls -t "$root"/build*/cli/taskctl 2>/dev/null | head -n 1 || true)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-redis-bench.XXXXXX")
# A port nothing answers on.
while :; do
  port=$(awk 'BEGIN { srand(); print 20000 + int(rand() * 30000) }')
  redis-cli -p "$port" ping >/dev/null 2>&1 || break
done
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" \
  --logfile "$dir/redis.log" --daemonize yes --pidfile "$dir/redis.pid"
trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; rm -rf "$dir"' EXIT
i=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 300 ] || { echo "error: redis-server did not start" >&2; exit 1; }
  sleep 0.1
done
url="redis://127.0.0.1:$port"

server_pid=$(cat "$dir/redis.pid")
hz=$(getconf CLK_TCK)
server_cpu() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }

# measure NAME CMD...: runs CMD REPEAT times (default 3) under /usr/bin/time
# and reports the fastest run: "NAME: wall T s, client CPU C s, server CPU S s,
# peak RSS M MB" (the run's own output is shown once); leaves T in $dir/NAME.t.
# The machine may be shared: CPU times depend little on how busy it is, wall
# times a lot. measure_once: a single run (for destructive steps).
measure() {
  name=$1; shift
  best=""
  run=0
  while [ "$run" -lt "${REPEAT:-3}" ]; do
    before=$(server_cpu)
    if [ "$run" -eq 0 ]; then
      /usr/bin/time -f '%e %M %U %S' -o "$dir/time" "$@" | sed 's/^/     (first run) /'
    else
      /usr/bin/time -f '%e %M %U %S' -o "$dir/time" "$@" >/dev/null
    fi
    after=$(server_cpu)
    line="$(cat "$dir/time") $((after - before))"
    best=$(printf '%s\n%s\n' "$best" "$line" | awk 'NF { if (!b || $1 < bt) { b = $0; bt = $1 } } END { print b }')
    run=$((run + 1))
  done
  set -- $best
  echo "$1" >"$dir/$name.t"
  awk -v u="$3" -v s="$4" -v srv="$5" -v hz="$hz" 'BEGIN { print u + s + srv / hz }' >"$dir/$name.c"
  awk -v n="$name" -v t="$1" -v m="$2" -v u="$3" -v s="$4" -v srv="$5" -v hz="$hz" \
    'BEGIN { printf "  -> %-8s wall %7.3f s, client CPU %6.2f s, server CPU %6.2f s, peak RSS %6.1f MB\n", n, t, u + s, srv / hz, m / 1024 }'
}
measure_once() {
  REPEAT=1 measure "$@"
}

echo "== fill: $records records over 100 owners (owner0: $((records / 5)))"
"$bench" fill "$url" --records "$records" --owners 100 --large $((records / 5)) --expiring $((records / 2))
echo "   redis used_memory: $(redis-cli -p "$port" info memory | sed -n 's/^used_memory_human://p' | tr -d '\r')"

echo "== full listing"
measure floor sh -c "redis-cli -p $port --scan --pattern 'pmcp:tasks:*' > /dev/null"
measure floor1k "$bench" keys "$url"
measure ours "$bench" list "$url"
measure anchor "$bench" anchor "$url"
if [ -n "$taskctl" ] && [ -x "$taskctl" ]; then
  echo "   ($taskctl)"
  measure cli sh -c "'$taskctl' -s '$url' ls -o jsonl > /dev/null"
else
  echo "   (no taskctl binary: build the cli target to include 'taskctl ls')"
fi

echo "== one large owner (owner0)"
measure owner "$bench" list "$url" --prefix owner0:
measure anchor1 "$bench" anchor "$url" --owner owner0

echo "== cleanup of $((records / 2)) expired records (CleanupOptions.now = now + 2 h)"
measure_once cleanup "$bench" cleanup "$url" --now-offset 7200
echo "   left: $(redis-cli -p "$port" eval "return #redis.call('keys', 'pmcp:tasks:*')" 0) hashes"

echo "== ratios (wall time; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
ratio() { awk -v a="$(cat "$dir/$1.${3:-t}")" -v b="$(cat "$dir/$2.${3:-t}")" 'BEGIN { printf "%.1f", a / (b > 0 ? b : 0.001) }'; }
echo "   anchor / ours (full listing):      $(ratio anchor ours)x   (target >= 10x)"
echo "   ours / floor  (full listing):      $(ratio ours floor)x   (target <= 3x)"
echo "   ours / keys-only SCAN COUNT 1000:  $(ratio ours floor1k)x"
echo "   anchor / ours (one large owner):   $(ratio anchor1 owner)x"
echo "   CPU (client + server) anchor / ours, full listing: $(ratio anchor ours c)x; one owner: $(ratio anchor1 owner c)x"
if [ -f "$dir/cli.t" ]; then
  echo "   taskctl ls / floor:                $(ratio cli floor)x"
fi

echo "== peak memory of the full listing at $scale records"
redis-cli -p "$port" flushall >/dev/null
"$bench" fill "$url" --records "$scale" --owners 100 --large $((scale / 5)) --expiring 0 >/dev/null
measure_once ours_big "$bench" list "$url"
if [ -n "$taskctl" ] && [ -x "$taskctl" ]; then
  measure_once cli_big sh -c "'$taskctl' -s '$url' ls -o jsonl > /dev/null"
fi
