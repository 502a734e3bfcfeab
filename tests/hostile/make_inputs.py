#!/usr/bin/env python3
"""Writes the checked-in hostile inputs, tests/hostile/inputs/* (run it when they change).

Large inputs (megabytes, a million levels deep) are not checked in: run.sh
generates them at test time into a temporary directory.
"""
import json, os

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inputs")
os.makedirs(out, exist_ok=True)

def record(owner="o", task="t1", status="working", expires="2099-01-01T00:00:00Z", **extra):
    r = {"task": {"taskId": task, "status": status, "createdAt": "2025-11-25T10:30:00.123Z",
                  "lastUpdatedAt": "2025-11-25T10:30:00.123Z", "ttl": 3600000, "pollInterval": 500},
         "ownerId": owner, "variables": {}, "result": None, "requestMethod": "tools/call",
         "expiresAt": expires}
    for k, v in extra.items():
        if k.startswith("task_"):
            r["task"][k[5:]] = v
        else:
            r[k] = v
    return r

def dump(r):
    return json.dumps(r, separators=(",", ":"))

files = {}
def put(name, data):
    files[name] = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")

# Valid records (the seed store and positive controls).
put("record-o-t1.json", dump(record()))
put("record-o-t2.json", dump(record(task="t2", status="completed", result={"answer": 42})))
put("record-p-t3.json", dump(record(owner="p", task="t3")))
put("record-o-old.json", dump(record(task="old", expires="2000-01-01T00:00:00Z")))
put("record-p-old.json", dump(record(owner="p", task="old", expires="2000-01-01T00:00:00Z")))
put("record-o-new.json", dump(record(task="new")))
put("record-o-pretty.json", json.dumps(record(task="pretty"), indent=2) + "\n")
# 1: the empty owner.
put("record-empty-owner.json", dump(record(owner="", task="e1")))
# 11: NUL bytes.
put("record-nul-garbage.json", dump(record()) + "\x00{{{garbage")
put("record-nul-middle.json", dump(record())[:40] + "\x00" + dump(record())[40:])
put("record-nul-trailing.json", dump(record()) + "\x00")
put("record-nul-in-string.json", dump(record()).replace('"tools/call"', '"tools\\u0000call"'))
# 13: leap seconds.
put("record-o-leap.json", dump(record(task="leap", expires="2016-12-31T23:59:60Z")))
put("record-o-leap-future.json", dump(record(task="leap-future", expires="2099-12-31T23:59:60.5Z")))
put("record-o-leap-created.json", dump(record(task="leap-created", task_createdAt="2016-12-31T23:59:60.123Z")))
# 14: incomplete records.
r = record(); del r["ownerId"]; put("record-no-owner.json", dump(r))
r = record(); del r["task"]; put("record-no-task.json", dump(r))
put("record-only-method.json", dump({"requestMethod": "tools/call"}))
put("record-only-expires.json", dump({"expiresAt": "2099-01-01T00:00:00Z", "x": 1}))
r = record(); del r["task"]["status"]; put("record-no-status.json", dump(r))
# Schema and values.
put("record-bad-status.json", dump(record(task_status="bogus")))
put("record-negative-ttl.json", dump(record(task_ttl=-1)))
put("record-ttl-overflow.json", dump(record(task_ttl=18446744073709551616)))
put("record-bad-expires.json", dump(record(expires="2099-13-01T00:00:00Z")))
put("record-key-mismatch.json", dump(record(owner="x", task="y")))
put("record-duplicate-field.json", dump(record())[:-1] + ',"ownerId":"o"}')
put("record-escape-status.json", dump(record(task="esc", task_statusMessage="\x1b]0;pwned\x07\x1b[2J\x1b[31mred")))
# 5: long words in places that reach error and warning text.
put("record-long-status.json", dump(record(task_status="k" * 40000)))
put("record-long-field.json", dump(record(**{"f" * 40000: 1})))
put("record-long-owner.json", dump(record(owner="w" * 30000)))
# Malformed JSON.
put("malformed-truncated.json", dump(record())[:-7])
put("malformed-trailing-comma.json", '{"a":1,}')
put("malformed-trailing-text.json", dump(record()) + " tail")
put("malformed-bom.json", "\ufeff" + dump(record()))
put("malformed-utf8.json", b'{"task":"\xff\xfe\xc0\x80"}')
put("malformed-lone-surrogate.json", '{"a":"\\ud800"}')
put("malformed-empty.json", "")
put("malformed-whitespace.json", " \n\t ")
put("malformed-two-values.json", "{} {}")
put("malformed-number-range.json", '{"a":1e309}')
put("malformed-unclosed-string.json", '{"a":"')
put("not-an-object.json", "[1,2,3]")
put("not-an-object-null.json", "null")
# Variables documents and limits (validate).
put("vars-ok.json", dump({"tool": "x", "n": 1, "nested": {"a": [1, 2, 3]}}))
put("vars-deep.json", '{"a":' + "[" * 11 + "1" + "]" * 11 + "}")
put("vars-long-string.json", dump({"s": "x" * 70000}))
put("vars-depth-bomb.json", '{"a":' + "[" * 600 + "]" * 600 + "}")
put("record-depth-bomb.json", dump(record())[:-1] + ',"result":' + "[" * 3000 + "]" * 3000 + "}")
put("record-recursion-limit.json", dump(record())[:-1].replace('"result":null', '"result":' + "[" * 130 + "]" * 130) + "}")
put("vars-escape-key.json", dump({"\x1b]0;pwned\x07\x1b[2J": "abcdef"}))
put("result-json.json", '{"answer":42}')

for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(len(files), "inputs")
