#!/usr/bin/env python3
"""Bulk submission over a WAN round trip: `lastline submit --jobs N`
against the naive sequential loop a user would write with `requests`.

Makes N distinct 4 KiB files, starts the emulator (release build) on
loopback with every response held --latency-ms (a WAN round trip), and
times, in the same run:

  (a) every hash already known (the files were submitted once before):
      one request a file;
  (b) every file uploaded (the emulator forgets files: 101, then the
      upload): two requests a file;

for `lastline submit --jobs 1`, `--jobs 8`, `--jobs 32` and the Python
loop (one `requests.Session`; per file: MD5 and SHA-1, a submission by
hash, and on 101 the upload). Wall time and peak RSS (/usr/bin/time).
Loopback only; it stops by itself.

    scripts/bulk-bench.py [--files 1000] [--latency-ms 25]
"""
import argparse
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY, TOKEN = "bench-key", "bench-token"

PYTHON_LOOP = r'''
import hashlib, os, sys, requests
base, key, token, paths = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
s = requests.Session()
s.auth = (key, token)
done = 0
for p in paths:
    data = open(p, "rb").read()
    form = {"md5": hashlib.md5(data).hexdigest(), "sha1": hashlib.sha1(data).hexdigest(),
            "full_report_score": "-1"}
    r = s.post(base + "/analysis/submit/file.json", data=form).json()
    if not r.get("success") and r.get("error_code") == 101:
        r = s.post(base + "/analysis/submit/file.json", data={"full_report_score": "-1"},
                   files={"file": (os.path.basename(p), data)}).json()
    if not r.get("success"):
        sys.exit(f"{p}: {r}")
    done += 1
print(done)
'''


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def timed(cmd, env=None):
    """Wall seconds and peak RSS (KiB) of `cmd`, which must succeed."""
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    if p.returncode not in (0, 3, 4):
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd[:6])}...\n{p.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return wall, rss, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--latency-ms", type=int, default=25)
    a = ap.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "lastline-cli", "-p", "lastline-emulator"],
                   cwd=ROOT, check=True)
    cli = os.path.join(target, "release", "lastline")
    emulator = os.path.join(target, "release", "lastline-emulator")

    work = tempfile.mkdtemp(prefix="lastline-bulk-")
    files = []
    for i in range(a.files):
        p = os.path.join(work, f"sample-{i:05}.bin")
        with open(p, "wb") as f:
            f.write(hashlib.sha256(f"bulk {i}".encode()).digest() * 128)  # 4 KiB, distinct
        files.append(p)

    rows = []
    for case, extra in (("a: hashes known", []), ("b: every file uploaded", ["--forget-files"])):
        port = free_port()
        emu = subprocess.Popen(
            [emulator, "--listen", f"127.0.0.1:{port}", "--key", KEY, "--token", TOKEN,
             "--latency-ms", str(a.latency_ms), "--upload-limit", "1048576", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            base = f"http://127.0.0.1:{port}"
            env = dict(os.environ, LASTLINE_API_KEY=KEY, LASTLINE_API_TOKEN=TOKEN)
            env.pop("LASTLINE_CONFIG", None)
            submit = [cli, "--base-url", base, "--json", "submit", "--recursive", work]
            if not extra:
                # Known hashes: the server has every file once already.
                timed([*submit, "--jobs", "32"], env)
            for jobs in (1, 8, 32):
                wall, rss, out = timed([*submit, "--jobs", str(jobs)], env)
                told = sum(1 for l in out.splitlines() if json.loads(l).get("event") == "submitted")
                assert told == a.files, (told, a.files)
                rows.append((case, f"lastline submit --jobs {jobs}", wall, rss))
            wall, rss, out = timed([sys.executable, "-c", PYTHON_LOOP, base, KEY, TOKEN, *files])
            assert int(out.strip()) == a.files
            rows.append((case, "Python requests loop", wall, rss))
        finally:
            emu.terminate()
            emu.wait()

    print(f"{a.files} files of 4 KiB, every response held {a.latency_ms} ms (loopback emulator)")
    print(f"| case | client | wall s | files/s | vs Python | peak RSS KiB |")
    print(f"|---|---|---:|---:|---:|---:|")
    for case, client, wall, rss in rows:
        python = next(w for c, n, w, _ in rows if c == case and n.startswith("Python"))
        print(f"| {case} | {client} | {wall:.2f} | {a.files / wall:.0f} | {python / wall:.1f}x | {rss} |")


if __name__ == "__main__":
    main()
