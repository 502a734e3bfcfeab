#!/bin/sh
# Redis over TLS against plain TCP, in one run, through the real taskctl:
# two redis-servers of its own on 127.0.0.1, one plain, one TLS only (with
# certificates from tests/redis/make_certs.sh), each holding the same N
# records (default 100000; every tenth one expired, bench/make_sqlite_store.sh):
#
#   ls      taskctl ls -o jsonl over the N records (median of RUNS runs)
#   gc      taskctl gc --yes removing the N/10 expired ones (median of
#           GC_RUNS runs, default 3; the records are imported again, untimed,
#           before each run)
#
# and the ratio TLS / plain of each (the goal: at most 1.5x).
#
#   bench/redis-tls.sh [N]
#
# TASKCTL (default: a Release build in BUILD_DIR, default build-bench-cli) is
# the binary measured; RUNS (default 5). Needs redis-server (built with TLS,
# as Debian's is), redis-cli, openssl, sqlite3.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-redis-tls-bench.XXXXXX")
stop_servers() {
  for pidfile in "$dir/plain.pid" "$dir/tls.pid"; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
}
trap 'stop_servers; rm -rf "$dir"' EXIT
. "$root/bench/lib.sh"
plain_port=${REDIS_PORT:-26481}
tls_port=${REDIS_TLS_PORT:-26482}

bash "$root/tests/redis/make_certs.sh" "$dir/tls"
c="$dir/tls"
redis-server --bind 127.0.0.1 --port "$plain_port" --save '' --appendonly no --daemonize yes \
  --dir "$dir" --pidfile "$dir/plain.pid" --logfile "$dir/plain.log"
redis-server --bind 127.0.0.1 --port 0 --tls-port "$tls_port" --save '' --appendonly no --daemonize yes \
  --tls-cert-file "$c/server.crt" --tls-key-file "$c/server.key" --tls-ca-cert-file "$c/ca.crt" \
  --tls-auth-clients no --dir "$dir" --pidfile "$dir/tls.pid" --logfile "$dir/tls.log"
plain="redis://127.0.0.1:$plain_port/0?prefix=bench"
tls="rediss://127.0.0.1:$tls_port/0?prefix=bench&cacert=$c/ca.crt"
for _ in $(seq 1 50); do
  "$taskctl" -q -s "$plain" ls --count >/dev/null 2>&1 && "$taskctl" -q -s "$tls" ls --count >/dev/null 2>&1 && break
  sleep 0.1
done

sh "$root/bench/make_sqlite_store.sh" "$taskctl" "$dir/s.db" "$n"
"$taskctl" -q -s "sqlite://$dir/s.db" export -f "$dir/export.jsonl"
# load URI: an empty server (FLUSHALL), then the N records.
load() {
  case $1 in
    rediss:*) redis-cli --tls --cacert "$c/ca.crt" -p "$tls_port" flushall >/dev/null ;;
    *) redis-cli -p "$plain_port" flushall >/dev/null ;;
  esac
  "$taskctl" -q -s "$1" import "$dir/export.jsonl" >/dev/null
}
load "$plain"
load "$tls"

echo "records: $n, $((n / 10)) of them expired ($(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "taskctl: $taskctl"
echo
ls_plain=$(median "$taskctl" -s "$plain" ls -o jsonl)
ls_tls=$(median "$taskctl" -s "$tls" ls -o jsonl)
echo "ls -o jsonl   redis://   $ls_plain s"
echo "ls -o jsonl   rediss://  $ls_tls s   $(ratio "$ls_tls" "$ls_plain")x plain"

# gc_median URI: the median wall seconds of GC_RUNS gc runs, each on freshly loaded records.
gc_median() {
  : >"$dir/gc-times"
  i=0
  while [ "$i" -lt "${GC_RUNS:-3}" ]; do
    i=$((i + 1))
    load "$1"
    start=$(date +%s.%N)
    "$taskctl" -q -s "$1" gc --yes >/dev/null 2>&1 || { echo "bench: gc failed on $1" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$start $end" | awk '{printf "%.4f\n", $2 - $1}' >>"$dir/gc-times"
  done
  sort -n "$dir/gc-times" | awk '{a[NR] = $1} END {printf "%.3f", a[int((NR + 1) / 2)]}'
}
gc_plain=$(gc_median "$plain")
gc_tls=$(gc_median "$tls")
echo "gc --yes      redis://   $gc_plain s"
echo "gc --yes      rediss://  $gc_tls s   $(ratio "$gc_tls" "$gc_plain")x plain"
