#!/usr/bin/env python3
"""Counts the API requests of one client in a kube-apiserver audit log, from a line
on: ResponseComplete events only (RequestReceived and ResponseStarted would count a
request twice), by user-agent prefix. Prints one JSON object:
{"requests", "deletes", "first", "last", "last_delete"}, times in seconds since the
epoch (requestReceivedTimestamp of the first, stageTimestamp of the others).

    audit_count.py AUDIT_LOG FROM_LINE USER_AGENT_PREFIX
"""
import json
import sys
from datetime import datetime


def seconds(stamp):
    # 2026-11-21T05:46:15.123456Z
    return datetime.strptime(stamp.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f").timestamp()


path, start, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = {"requests": 0, "deletes": 0, "first": None, "last": None, "last_delete": None}
with open(path) as log:
    for number, line in enumerate(log, 1):
        if number <= start:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("stage") != "ResponseComplete":
            continue
        if not event.get("userAgent", "").startswith(prefix):
            continue
        out["requests"] += 1
        received, done = seconds(event["requestReceivedTimestamp"]), seconds(event["stageTimestamp"])
        out["first"] = received if out["first"] is None else min(out["first"], received)
        out["last"] = done if out["last"] is None else max(out["last"], done)
        if event.get("verb") == "delete":
            out["deletes"] += 1
            out["last_delete"] = done if out["last_delete"] is None else max(out["last_delete"], done)
print(json.dumps(out))
