#!/usr/bin/env python3
"""Writes the hand-made seed inputs of every fuzz target into tests/fuzz/corpus/<target>/seed-*.

Run once when seeds change (scripts/fuzz merges what the fuzzer finds beside
them). The seeds are meaningful inputs: real records from the tests, URIs of
every scheme, times with leap seconds, RESP replies, DynamoDB responses.
"""
import json, os, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")

R1 = '{"task":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":3600000,"pollInterval":500},"ownerId":"user-123","variables":{},"result":null,"requestMethod":"tools/call","expiresAt":"2025-11-25T11:30:00.123456789Z"}'
R2 = '{"task":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840","status":"completed","statusMessage":"All done","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:31:05.456Z","ttl":3600000,"pollInterval":500},"ownerId":"user-123","variables":{"tool_name":"analyze","arguments":{"path":"/data/x"}},"result":{"answer":42},"requestMethod":"tools/call","expiresAt":"2025-11-25T11:30:00.123456789Z"}'
R_MIN = '{"task":{"taskId":"t","status":"failed","createdAt":"2025-01-01T00:00:00.000Z","lastUpdatedAt":"2025-01-01T00:00:00.000Z","ttl":null},"ownerId":"o","variables":{},"result":null,"requestMethod":"m","expiresAt":null}'

def rec(**over):
    d = json.loads(R1)
    for k, v in over.items():
        if k.startswith("task_"):
            d["task"][k[5:]] = v
        else:
            d[k] = v
    return json.dumps(d, separators=(",", ":"))

records = [
    R1, R2, R_MIN,
    json.dumps(json.loads(R2), indent=2),
    rec(expiresAt="2016-12-31T23:59:60Z"),
    rec(expiresAt="2016-12-31T23:59:60.5+01:00"),
    rec(task_status="input_required", task_statusMessage="need \u00e9 input \u001b[31m"),
    rec(task_status="cancelled", task__meta={"k": [1, 2.5, -0, None, True]}),
    rec(variables={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": 1}}}}}}}}}}}),
    rec(variables={"s": "x" * 300, "n": None, "f": 1.5e300, "i": -9223372036854775808, "u": 18446744073709551615}),
    rec(ownerId=""),
    rec(task_ttl=18446744073709551615),
    rec(task_ttl=-1),
    rec(task_status="bogus"),
    rec(expiresAt="not a time"),
    rec(result={"content": [{"type": "text", "text": "ok"}], "isError": False}),
    R1[:-1] + ',"extra":1,"task":{"taskId":"dup"}}',
    R1 + "\x00{{{garbage",
    R1 + " trailing",
    "\ufeff" + R1,
    '{"task":{"taskId":"t"}}',
    '{"ownerId":"o"}',
    '{"variables":{"x":1}}',
    '{"x":1,"y":[1,2,{"z":null}]}',
    "[" * 200 + "]" * 200,
    "[" * 600,
    '{"a":' * 130 + "1" + "}" * 130,
    '{"a":1e309}', '{"a":-0}', '{"a":1.7976931348623158e308}', '{"a":"\\ud800"}', '{"a":"\\u0000"}',
    '{"a":"\xff\xfe"}', "", " ", "null", "[]", "{}", "{", '{"a":1,}', "tru", "1 2",
]

times = [
    "2025-11-25T10:30:00.123Z", "2025-11-25T11:30:00.123456789Z", "2016-12-31T23:59:60Z",
    "2016-12-31T23:59:60.999999999Z", "2015-06-30T23:59:60+00:00", "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999999999Z", "0000-01-01T00:00:00Z", "-0001-12-31T23:59:59Z",
    "+262142-12-31T23:59:59Z", "-262143-01-01T00:00:00Z", "+262143-01-01T00:00:00Z",
    "9999-12-31T23:59:59.9999999999999Z", "2025-02-29T00:00:00Z", "2024-02-29T00:00:00Z",
    "2025-11-25t10:30:00z", "2025-11-25 10:30:00 UTC", " 2025-11-25T10:30:00Z ", "2025-1-2T3:4:5Z",
    "2025-11-25T10:30:00+05:30", "2025-11-25T10:30:00-0800", "2025-11-25T10:30:00 +01 00",
    "2025-11-25T10:30:00\u221201:00", "2025-11-25T10:30:00+24:00", "2025-11-25T24:00:00Z",
    "2025-13-01T00:00:00Z", "2025-11-25T10:30:61Z", "2025-11-25T10:30:00", "2025-11-25",
    "", "Z", "2025-11-25T10:30:00.Z", "2025-11-25T10:30:00,5Z", "\x00", "2025-11-25T10:30:00Z\x00",
]

uris = [
    "mem:", "mem:name", "sqlite:tasks.db", "sqlite:/var/lib/taskctl/tasks.db", "sqlite:rel/x.db?busy_timeout=100",
    "sqlite:///abs/path.db", "sqlite:%2Ftmp%2Fx.db", "redis://127.0.0.1:6379", "redis://localhost",
    "redis://user:secret@127.0.0.1:6379/2?prefix=app", "redis://:p%40ss%3Aword@127.0.0.1/0",
    "redis://alice:a%2Fb9Secret@127.0.0.1:1", "redis://%00@127.0.0.1", "redis://u:x@[::1]:6379",
    "redis+unix:///run/redis.sock?db=3", "redis+unix://:pw@/run/redis.sock", "rediss://u:p@h:6380",
    "dynamodb://tasks?region=eu-west-1", "dynamodb://tasks?endpoint=http://127.0.0.1:8000&region=us-east-1",
    "dynamodb://t?endpoint=http://alice:a%2Fb9Secret@127.0.0.1:1/&region=x",
    "dynamodb://t?endpoint=http%3A%2F%2Fbob%3Ahunter2%40127.0.0.1%3A9%2F&region=x",
    "dynamodb://t?aws_secret_access_key=SECRETKEY&aws_access_key_id=AKIA&token=tok",
    "dynamodb://t?password=p&Password=q", "redis://u:pw@h?password=pw2&auth=x&credential=y",
    "redis://u:s@h:0", "redis://u:s@h:65536", "redis://u:s@h:abc", "redis://h#frag", "redis://h?a=1&a=2",
    "redis://h?=1", "redis://%zz@h", "1redis://h", ":nothing", "nocolon", "redis://[::1", "redis://[::1]x",
    "redis://a@b@c:d@h", "redis://u:@h", "redis://:@h", "x:?k=v&&k2", "DYNAMODB://T?Region=x",
]

durations = ["0", "1", "500ms", "2s", "1m", "1h", "7d", "-1", "18446744073709551616", "1.5s", "s", ""]

def resp_bulk(s):
    b = s.encode() if isinstance(s, str) else s
    return b"$%d\r\n%s\r\n" % (len(b), b)

redis = [
    b"*2\r\n" + resp_bulk("1") + resp_bulk(R1),
    b"*2\r\n" + resp_bulk("18446744073709551615") + resp_bulk(R2),
    b"*2\r\n" + resp_bulk("18446744073709551616") + resp_bulk(R1),
    b"*2\r\n" + resp_bulk("0") + resp_bulk(R1),
    b"*2\r\n" + resp_bulk("abc") + resp_bulk(R1),
    b"*2\r\n$-1\r\n" + resp_bulk(R1),
    b"*2\r\n" + resp_bulk("7") + b"$-1\r\n",
    b"*2\r\n$-1\r\n$-1\r\n",
    b"*2\r\n:5\r\n" + resp_bulk(R1),
    b"*1\r\n" + resp_bulk("1"),
    b"*3\r\n" + resp_bulk("1") + resp_bulk("x") + resp_bulk("y"),
    b"*-1\r\n", b"$-1\r\n", b":42\r\n", b"+OK\r\n", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    b"-ERR version\r\n", b"*2\r\n*2\r\n:1\r\n:2\r\n$1\r\nx\r\n", b"*2\r\n" + resp_bulk("00012") + resp_bulk("\x00\xff"),
    b"*2\r\n" + resp_bulk("1" * 30000 if False else "9" * 40) + resp_bulk("{}"),
    b"*2\r\n$3\r\n12", b"$99999999999\r\n", b"*9999999999\r\n", b"*1\r\n" * 12 + b":1\r\n", b"?\r\n",
    b"*2\r\n" + resp_bulk("1") + resp_bulk(R1) + b"*2\r\n$-1\r\n$-1\r\n",
]
# The first byte of a redis input chooses where the feed is split.
redis = [bytes([i * 37 % 256]) + r for i, r in enumerate(redis)]

def item(owner, task, version="1", data=R1, extra=None):
    it = {"PK": {"S": "OWNER#" + owner}, "SK": {"S": "TASK#" + task}}
    if version is not None:
        it["version"] = {"N": version}
    if data is not None:
        it["data"] = {"S": data}
    it["expires_at"] = {"N": "1764070200"}
    if extra:
        it.update(extra)
    return it

dynamo = [
    {"Item": item("user-123", "786512e2-9e0d-44bd-8f29-789f320fe840")},
    {},
    {"Items": [item("o", "t1"), item("o", "t2", "18446744073709551615", R2)], "Count": 2, "ScannedCount": 2},
    {"Items": [item("o", "t3", "0")], "Count": 1, "LastEvaluatedKey": {"PK": {"S": "OWNER#o"}, "SK": {"S": "TASK#t3"}}},
    {"Items": [item("o", "t4", "18446744073709551616")]},
    {"Items": [item("o", "t5", "abc"), item("o", "t6", None), item("o", "t7", "1", None)]},
    {"Items": [item("o:x", "t8"), item("", "t9"), {"PK": {"S": "OTHER#a"}, "SK": {"S": "TASK#b"}}]},
    {"Items": [{"PK": {"N": "1"}, "SK": {"S": "TASK#b"}}, {"PK": {"S": "OWNER#a"}, "SK": {"B": "AAAA"}}]},
    {"Items": [item("o", "t10", "1.5"), item("o", "t11", "-1"), item("o", "t12", "1e3"), item("o", "t13", " 1")]},
    {"Items": [item("o", "t14", extra={"data": {"N": "5"}}), item("o", "t15", extra={"version": {"S": "1"}})]},
    {"Items": "notalist"}, {"Items": [1, "x", None, []]},
    {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "Requested resource not found"},
    {"__type": "com.amazon.coral.validate#ValidationException", "Message": "1 validation error"},
    {"__type": "#ProvisionedThroughputExceededException", "message": "slow down"},
]
dynamo_raw = [json.dumps(d) for d in dynamo] + ['{"Item": {"PK": {"S": "OWNER#o"}, "SK": {"S": "TASK#t"}, "version": {"N": "01"}, "data": {"S": "\\u0000"}}}', "[", "null"]

def write(target, items):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    for i, x in enumerate(items):
        data = x if isinstance(x, bytes) else x.encode("utf-8", "surrogatepass")
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(data)

write("record", records)
write("validate", records)
write("time", times + [d for d in durations])
write("uri", uris + durations)
write("redis_reply", redis)
write("dynamodb_response", dynamo_raw)
