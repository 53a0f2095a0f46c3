#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets from the API catalog.

Usage: python3 fuzz/make_seeds.py [path/to/api.json]
Seeds are plausible responses for every envelope type (success and
failure, each in three framings) plus raw downloads, list bodies and
multipart inputs. Fuzzing grows the corpora from here.
"""
import hashlib, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
cat_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "core", "tests", "data", "api.json")
cat = json.load(open(cat_path))
U1, U2 = "05243bb7443e4bba80a5890969102082", "a8ea86b5d0d84b4bb86fedd785a9d903"

def scalar(t):
    return {"string": "text \u00e9", "int": 42, "number": 0.5, "bool01": 1, "timestamp": "2020-08-07 00:25:49",
            "uuid": U2, "hex-md5": "0" * 32, "hex-sha1": "0" * 40, "hex-sha256": "0" * 64,
            "url": "http://example.com/"}[t]

def sample(f):
    t, item, nested = f["type"], f.get("item_type"), f.get("fields")
    obj = lambda fs: {x["name"]: sample(x) for x in fs}
    if t == "enum":
        return f["enum"][0]
    if t in ("list", "list|map"):
        if item == "object" and nested:
            return [obj(nested), obj(nested)]
        return [scalar(item), scalar(item)] if item else []
    if t == "map":
        key = U1 if f.get("map_key_type") == "uuid" else "activity"
        vt = f.get("map_value_type")
        val = obj(nested) if vt == "object" and nested else (["T1055"] if vt == "list" else scalar(vt))
        return {key: val}
    if t == "object":
        return obj(nested) if nested else {"big": [1, {"x": "y"}]}
    return scalar(t)

# Selector byte of each decoder in logic::response (low 5 bits).
SELECT = {"submit_file": 0, "get_results": 1, "get_result_activities": 2, "get_report_activities": 3,
          "get_completed": 4, "get_completed_with_metadata": 5, "get_pending": 6, "get_progress": 7,
          "get_task_metadata": 8, "query_file_hash": 9, "is_blocked_file_hash": 10, "query_task_artifact": 11,
          "get_network_iocs": 12, "get_ioc_metadata": 13, "get_api_utc_timestamp": 14, "get_analysis_tags": 15,
          "get_child_tasks_recursively": 16, "export_report": 17, "get_completed_exported_reports": 18,
          "is_risky_analysis_artifact": 19, "login": 20, "get_ioc_report": 21}

def framings(body):
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    chunks = b"".join(b"%x\r\n" % len(body[i:i + 17]) + body[i:i + 17] + b"\r\n" for i in range(0, len(body), 17))
    yield b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    yield b"HTTP/1.0 200 OK\r\n\r\n" + body

def write(target, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb").write(data)

for m in cat["methods"]:
    sel = SELECT.get(m["name"])
    if sel is None:
        continue
    r = m["response"]
    data = ("success" if m["name"] == "login" else {x["name"]: sample(x) for x in r["fields"] or []})
    ok = json.dumps({"success": 1, "data": data}).encode()
    err = json.dumps({"success": 0, "error_code": 107, "error": "try later"}).encode()
    for body in (ok, err):
        for i, wire in enumerate(framings(body)):
            write("response", bytes([sel | (i << 5)]) + wire)
    if m["name"] in ("get_completed", "get_completed_with_metadata", "get_pending", "get_child_tasks_recursively"):
        low = {"get_completed": 0, "get_completed_with_metadata": 1, "get_pending": 2, "get_child_tasks_recursively": 3}[m["name"]]
        for step in (0, 5, 63):
            write("list_stream", bytes([low | (step << 2)]) + ok)
for status in (200, 401, 404, 410, 412, 413, 422, 503):
    write("response", bytes([31]) + b"HTTP/1.1 %d X\r\nContent-Disposition: attachment; filename=a.bin\r\nContent-Length: 4\r\n\r\n\x00\x01\x02\x03" % status)
write("response", bytes([1]) + b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<html>502 bad</html>")
for d in (b"\x10\x03name.exe\x00host\x00pw1\x00pw2MZ\x90\x00", b"\x00\x00", b"\x01\x05abc\x00d\r\n--lastline-\r\n", bytes(range(256))):
    write("multipart", d)
