#!/usr/bin/env python3
"""Scales a real kube-apiserver audit log to a target size: the log is repeated,
each copy shifted in time by the log's own span (plus one second) so every
timestamp stays distinct and in order, and each copy's auditIDs are made unique.
The mix of clients, verbs, stages and codes is the source's.

    audit_scale.py SOURCE(.gz) OUT MIN_BYTES
"""
import gzip
import re
import sys
from datetime import datetime, timedelta, timezone

STAMP = re.compile(r'"(requestReceivedTimestamp|stageTimestamp)":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})Z"')
AUDIT_ID = re.compile(r'"auditID":"([0-9a-f]{8})')
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def micros(text):
    t = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return (t - EPOCH) // timedelta(microseconds=1)


def stamp(us):
    return (EPOCH + timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%f")


source, out, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
opener = gzip.open if source.endswith(".gz") else open
with opener(source, "rt") as f:
    lines = [l for l in f.read().splitlines() if l.strip()]

# Each line becomes a template: text pieces around its timestamps, and their microseconds.
templates, lo, hi = [], None, None
for line in lines:
    pieces, times, at = [], [], 0
    for m in STAMP.finditer(line):
        pieces.append(line[at:m.start(2)])
        us = micros(m.group(2))
        times.append(us)
        lo = us if lo is None else min(lo, us)
        hi = us if hi is None else max(hi, us)
        at = m.end(2)
    pieces.append(line[at:])
    templates.append((pieces, times))
shift = hi - lo + 1_000_000

written, copy = 0, 0
with open(out, "w") as f:
    while written < target:
        offset = copy * shift
        prefix = f"{copy:08x}"
        chunk = []
        for pieces, times in templates:
            parts = [pieces[0]]
            for i, us in enumerate(times):
                parts.append(stamp(us + offset))
                parts.append(pieces[i + 1])
            line = "".join(parts)
            chunk.append(AUDIT_ID.sub(f'"auditID":"{prefix}', line, count=1))
        text = "\n".join(chunk) + "\n"
        f.write(text)
        written += len(text)
        copy += 1
print(f"{copy} copies, {len(lines) * copy} lines, {written} bytes", file=sys.stderr)
