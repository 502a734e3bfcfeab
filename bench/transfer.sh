#!/bin/sh
# Moving records through the real taskctl, against baselines in the same run,
# over N records (default 100000):
#   export of a SQLite store; import of that file into a new SQLite store
#   (records/s); import into Redis against redis-cli --pipe loading the same
#   records in pmcp-tasks' layout (HSET version/data/expires_at, EXPIREAT,
#   ZADD NX of the owner index: what its PUT script writes); copy from Redis
#   into a new SQLite store.
#
#   bench/transfer.sh [N]
#
# TASKCTL (default: a Release build in BUILD_DIR, default build-bench-cli) is
# the binary measured; RUNS (default 5) the runs per figure (the median is
# printed). Needs sqlite3 (with its JSON functions), redis-server and redis-cli.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-transfer-bench.XXXXXX")
trap 'stop_redis; rm -rf "$dir"' EXIT
. "$root/bench/lib.sh"
port=${REDIS_PORT:-26480}

sh "$root/bench/make_sqlite_store.sh" "$taskctl" "$dir/s.db" "$n"
"$taskctl" -q -s "sqlite://$dir/s.db" export -f "$dir/export.jsonl"
start_redis "$port"
r="redis://127.0.0.1:$port/0?prefix=bench"

# The same records as Redis commands (RESP), as pmcp-tasks' PUT script writes them.
sqlite3 -separator "$(printf '\t')" "$dir/s.db" \
  "SELECT 'bench:tasks:' || key, 'bench:idx:' || owner, substr(key, instr(key, ':') + 1), data, expires_s,
          CAST(round((julianday(json_extract(data, '\$.task.createdAt')) - 2440587.5) * 86400000) AS INTEGER)
   FROM tasks" |
  LC_ALL=C awk -F '\t' '
    function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
    {
      printf "*8\r\n%s%s%s%s%s%s%s%s", bulk("HSET"), bulk($1), bulk("version"), bulk("1"), bulk("data"), bulk($4),
        bulk("expires_at"), bulk($5)
      printf "*3\r\n%s%s%s", bulk("EXPIREAT"), bulk($1), bulk($5)
      printf "*5\r\n%s%s%s%s%s", bulk("ZADD"), bulk($2), bulk("NX"), bulk($6), bulk($3)
    }' >"$dir/load.resp"

echo "records: $n ($(uname -m), $(nproc) cores); median of ${RUNS:-5} runs, whole processes"
echo
exp=$(median "$taskctl" -q -s "sqlite://$dir/s.db" export -f "$dir/again.jsonl")
imp=$(median sh -c "rm -f '$dir/t.db' '$dir/t.db-wal' '$dir/t.db-shm'; exec '$taskctl' -q --create -s 'sqlite://$dir/t.db' import '$dir/export.jsonl'")
pipe=$(median sh -c "redis-cli -p $port flushall >/dev/null; exec redis-cli -p $port --pipe <'$dir/load.resp'")
rimp=$(median sh -c "redis-cli -p $port flushall >/dev/null; exec '$taskctl' -q -s '$r' import '$dir/export.jsonl'")
copy=$(median sh -c "rm -f '$dir/c.db' '$dir/c.db-wal' '$dir/c.db-shm'; exec '$taskctl' -q --create copy '$r' 'sqlite://$dir/c.db'")
echo "export, SQLite -> file                     $exp s   $(echo "$n $exp" | awk '{printf "%.0f", $1 / $2}') records/s"
echo "import, file -> new SQLite store           $imp s   $(echo "$n $imp" | awk '{printf "%.0f", $1 / $2}') records/s"
echo "redis-cli --pipe, pmcp-tasks' layout       $pipe s"
echo "import, file -> Redis                      $rimp s   $(ratio "$rimp" "$pipe")x redis-cli --pipe"
echo "copy, Redis -> new SQLite store            $copy s"
# What was copied is what was exported, but for the expired records copy leaves out.
"$taskctl" -q -s "sqlite://$dir/s.db" export --live -f "$dir/live.jsonl"
"$taskctl" -q -s "sqlite://$dir/c.db" export | cmp -s - "$dir/live.jsonl" || echo "bench: the copy differs from the export" >&2
