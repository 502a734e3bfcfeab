#!/bin/sh
# Makes a taskctl SQLite store of N records (default 100000) for the listing
# benchmarks: one record is written by taskctl itself (so the file has
# taskctl's schema, application_id and user_version), the rest are copies of
# it under their own keys and task ids, inserted by the sqlite3 CLI in one
# transaction. Records of owners user-0..user-99; every tenth one expired.
#
#   bench/make_sqlite_store.sh TASKCTL FILE [N]
set -eu
taskctl=$1
file=$2
n=${3:-100000}
rm -f "$file" "$file-wal" "$file-shm"
dir=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-store.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cat >"$dir/seed.json" <<'JSON'
{"task":{"taskId":"seed","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":3600000,"pollInterval":500},"ownerId":"seed","variables":{"tool_name":"analyze","arguments":{"path":"/data/x","depth":3}},"result":null,"requestMethod":"tools/call","expiresAt":"2099-11-25T11:30:00.123456789Z"}
JSON
TASKCTL_CREATE=1 "$taskctl" -q -s "sqlite://$file" put seed:seed "$dir/seed.json" >/dev/null
sqlite3 "$file" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $n)
INSERT INTO tasks(key, owner, version, data, expires_s, expires_ns)
SELECT 'user-' || (i % 100) || ':task-' || printf('%07d', i),
       'user-' || (i % 100),
       1,
       CAST(replace(replace(replace((SELECT data FROM tasks WHERE key = 'seed:seed'),
         '"taskId":"seed"', '"taskId":"task-' || printf('%07d', i) || '"'),
         '"ownerId":"seed"', '"ownerId":"user-' || (i % 100) || '"'),
         '2099-11-25T11:30:00.123456789Z', CASE WHEN i % 10 = 0 THEN '2020-11-25T11:30:00.123456789Z' ELSE '2099-11-25T11:30:00.123456789Z' END) AS BLOB),
       CASE WHEN i % 10 = 0 THEN 1606303800 ELSE 4099289400 END,
       123456789
FROM n;
DELETE FROM tasks WHERE key = 'seed:seed';
COMMIT;
SQL
