#!/usr/bin/env python3
"""Hash-first submission throughput: the C client (examples/c-posix on
lastline-ffi, mbedTLS) against the Rust CLI (`lastline submit-file`,
rustls), on the same files, against the same emulator, which forgets
every upload (`--forget-files`) so that each run hashes the file, asks by
hash, is told 101 and uploads it. Neither client copies the sample on the
way: the C client writes from its mapping of the file, the CLI streams it.

Runs alternate between the clients; the median of each is reported, in
MB/s of sample (hashing + submission + upload), over plain HTTP and over
TLS on loopback.

    python3 scripts/c-client-bench.py [--size-mib 128] [--runs 5]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def sh(*args, **kw):
    subprocess.run(args, check=True, cwd=ROOT, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=128)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    out = os.path.join(TARGET, "c-client-bench")
    os.makedirs(out, exist_ok=True)
    sh("scripts/test-pki.sh", os.path.join(TARGET, "test-pki"), stdout=subprocess.DEVNULL)
    sh("cargo", "build", "-q", "--release", "-p", "lastline-ffi", "-p", "lastline-emulator", "-p", "lastline-cli")
    client = os.path.join(out, "lastline-c-posix")
    sh("cc", "-std=c99", "-O2", "-Itransports/ffi/include", "examples/c-posix/main.c", "examples/c-posix/net.c",
       os.path.join(TARGET, "release", "liblastline_ffi.a"), "-lmbedtls", "-lmbedx509", "-lmbedcrypto",
       "-lpthread", "-ldl", "-lm", "-o", client)
    sample = os.path.join(out, f"sample-{a.size_mib}MiB.bin")
    if not os.path.exists(sample) or os.path.getsize(sample) != a.size_mib << 20:
        with open(sample, "wb") as f:
            for _ in range(a.size_mib):
                f.write(os.urandom(1 << 20))
    pki = os.path.join(TARGET, "test-pki")
    port = free_port()
    emu = subprocess.Popen(
        [os.path.join(TARGET, "release", "lastline-emulator"), "--listen", f"127.0.0.1:{port}",
         "--key", "bench-key", "--token", "bench-token", "--forget-files",
         "--upload-limit", str(4 << 30), "--tls-cert", os.path.join(pki, "server.pem"),
         "--tls-key", os.path.join(pki, "server.key")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    plain_port = free_port()
    emu_plain = subprocess.Popen(
        [os.path.join(TARGET, "release", "lastline-emulator"), "--listen", f"127.0.0.1:{plain_port}",
         "--key", "bench-key", "--token", "bench-token", "--forget-files", "--upload-limit", str(4 << 30)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for p in (port, plain_port):
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", p), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
        env = dict(os.environ, LASTLINE_API_KEY="bench-key", LASTLINE_API_TOKEN="bench-token")
        cli = os.path.join(TARGET, "release", "lastline")
        cases = {
            "plain HTTP": {
                "C (lastline-ffi)": [client, "--plain", "--host", "127.0.0.1", "--port", str(plain_port),
                                     "--key", "bench-key", "--token", "bench-token", "--no-verdicts", sample],
                "Rust CLI": [cli, "-q", "--insecure-http", "--base-url", f"http://127.0.0.1:{plain_port}",
                             "submit-file", sample],
            },
            "TLS": {
                "C (lastline-ffi)": [client, "--host", "localhost", "--port", str(port), "--ca",
                                     os.path.join(pki, "ca.pem"), "--key", "bench-key", "--token",
                                     "bench-token", "--no-verdicts", sample],
                "Rust CLI": [cli, "-q", "--ca", os.path.join(pki, "ca.pem"), "--base-url",
                             f"https://localhost:{port}", "submit-file", sample],
            },
        }
        size_mb = (a.size_mib << 20) / 1e6
        print(f"{a.size_mib} MiB random sample, {a.runs} runs each, alternating; median MB/s of sample")
        for case, clients in cases.items():
            times = {name: [] for name in clients}
            for _ in range(a.runs):
                for name, cmd in clients.items():
                    t0 = time.perf_counter()
                    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    dt = time.perf_counter() - t0
                    if r.returncode != 0:
                        sys.exit(f"{name} failed: {r.stdout}{r.stderr}")
                    # --forget-files makes every run an upload; the C client says so.
                    if name.startswith("C") and "(uploaded)" not in r.stdout:
                        sys.exit(f"{name} did not upload: {r.stdout}")
                    times[name].append(dt)
            rates = {n: size_mb / statistics.median(t) for n, t in times.items()}
            base = rates["Rust CLI"]
            for n, rate in rates.items():
                spread = ", ".join(f"{size_mb / t:.0f}" for t in sorted(times[n]))
                print(f"  {case:10} {n:17} {rate:7.1f} MB/s  ({rate / base:.2f}x the CLI; runs: {spread})")
    finally:
        emu.kill()
        emu_plain.kill()


if __name__ == "__main__":
    main()
