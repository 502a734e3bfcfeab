#!/bin/sh
# The listing path through the real taskctl against its floors, in one run:
# ls -o jsonl, ls -o raw and ls --keys-only over N records (default 100000)
# on SQLite against the sqlite3 CLI dumping the same rows, and on Redis
# against redis-cli --scan over the record keys; stats against ls
# --keys-only; peak memory of ls -o jsonl at 1M records (LARGE, default
# 1000000; 0 skips it).
#
#   bench/listing.sh [N]
#
# TASKCTL (default: a Release build in BUILD_DIR, default build-bench-cli) is
# the binary measured; RUNS (default 5) the runs per figure (the median is
# printed). Needs sqlite3, redis-server, redis-cli and GNU time.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100000}
large=${LARGE:-1000000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-listing-bench.XXXXXX")
trap 'stop_redis; rm -rf "$dir"' EXIT
. "$root/bench/lib.sh"
port=${REDIS_PORT:-26479}

sh "$root/bench/make_sqlite_store.sh" "$taskctl" "$dir/s.db" "$n"
s="sqlite://$dir/s.db"
start_redis "$port"
r="redis://127.0.0.1:$port/0?prefix=bench"
"$taskctl" -q -s "$s" export -f "$dir/export.jsonl"
"$taskctl" -q -s "$r" import "$dir/export.jsonl"

echo "records: $n ($(uname -m), $(nproc) cores); median of ${RUNS:-5} runs, whole processes"
echo
dump=$(median sqlite3 "$dir/s.db" "SELECT key, version, data FROM tasks")
dump_keys=$(median sqlite3 "$dir/s.db" "SELECT key FROM tasks")
jsonl=$(median "$taskctl" -s "$s" ls -o jsonl)
raw=$(median "$taskctl" -s "$s" ls -o raw)
keys=$(median "$taskctl" -s "$s" ls --keys-only)
stats=$(median "$taskctl" -s "$s" stats)
echo "SQLite  sqlite3 dump (key, version, data)   $dump s"
echo "SQLite  sqlite3 keys                         $dump_keys s"
echo "SQLite  taskctl ls -o jsonl                  $jsonl s   $(ratio "$jsonl" "$dump")x the dump"
echo "SQLite  taskctl ls -o raw                    $raw s   $(ratio "$raw" "$dump")x the dump"
echo "SQLite  taskctl ls --keys-only               $keys s   $(ratio "$keys" "$dump_keys")x sqlite3 keys"
echo "SQLite  taskctl stats                        $stats s   $(ratio "$stats" "$keys")x ls --keys-only"
echo
scan=$(median redis-cli -p "$port" --scan --pattern 'bench:tasks:*')
rjsonl=$(median "$taskctl" -s "$r" ls -o jsonl)
rraw=$(median "$taskctl" -s "$r" ls -o raw)
rkeys=$(median "$taskctl" -s "$r" ls --keys-only)
rstats=$(median "$taskctl" -s "$r" stats)
echo "Redis   redis-cli --scan (the record keys)   $scan s"
echo "Redis   taskctl ls -o jsonl                  $rjsonl s   $(ratio "$rjsonl" "$scan")x the scan"
echo "Redis   taskctl ls -o raw                    $rraw s   $(ratio "$rraw" "$scan")x the scan"
echo "Redis   taskctl ls --keys-only               $rkeys s   $(ratio "$rkeys" "$scan")x the scan"
echo "Redis   taskctl stats                        $rstats s   $(ratio "$rstats" "$rkeys")x ls --keys-only"
if [ "$large" -gt 0 ]; then
  sh "$root/bench/make_sqlite_store.sh" "$taskctl" "$dir/large.db" "$large"
  echo
  echo "SQLite  $large records: ls -o jsonl peak $(peak_mib "$taskctl" -s "sqlite://$dir/large.db" ls -o jsonl) MiB," \
       "stats peak $(peak_mib "$taskctl" -s "sqlite://$dir/large.db" stats) MiB," \
       "ls --sort updated --limit 100 peak $(peak_mib "$taskctl" -s "sqlite://$dir/large.db" ls --sort updated --limit 100) MiB"
fi
