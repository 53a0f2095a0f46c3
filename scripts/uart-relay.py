#!/usr/bin/env python3
"""Relay between the sensor image's UART (QEMU's chardev socket) and the
server, as a UART-attached modem would be: the image asks for TCP
connections, sends and receives their bytes, and closes them, in frames.

Frames from the image:  b'O' id            open a connection to the server
                        b'D' id len16 data  bytes for connection id
                        b'C' id            close connection id
Frames to the image:    b'o' id status     0: opened, 1: could not
                        b'd' id len16 data  the server's bytes
                        b'c' id            the server closed connection id
(len16 little-endian). Loopback only: both addresses must be 127.x or
::1. Exits when QEMU closes the UART socket.

    uart-relay.py --uart 127.0.0.1:PORT --upstream 127.0.0.1:PORT [--log]
"""
import argparse
import ipaddress
import socket
import struct
import sys
import threading
import time


def address(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"uart-relay: {text} is not a loopback address")
    return host, int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uart", required=True, type=address)
    ap.add_argument("--upstream", required=True, type=address)
    ap.add_argument("--log", action="store_true")
    a = ap.parse_args()

    deadline = time.monotonic() + 60
    while True:
        try:
            uart = socket.create_connection(a.uart)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("uart-relay: QEMU's UART socket never opened")
            time.sleep(0.05)
    uart.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lock = threading.Lock()
    conns = {}
    counts = {"opened": 0, "up": 0, "down": 0}

    def log(msg):
        if a.log:
            print(f"uart-relay: {msg}", file=sys.stderr, flush=True)

    def send(frame):
        with lock:
            uart.sendall(frame)

    def pump(cid, s):
        """The server's bytes to the image, then its close."""
        try:
            while True:
                data = s.recv(16384)
                if not data:
                    break
                counts["down"] += len(data)
                for i in range(0, len(data), 65535):
                    part = data[i : i + 65535]
                    send(b"d" + bytes([cid]) + struct.pack("<H", len(part)) + part)
        except OSError:
            pass
        try:
            send(b"c" + bytes([cid]))
        except OSError:
            pass
        log(f"connection {cid} closed by the server (or by the image)")

    reader = uart.makefile("rb")

    def read_exact(n):
        data = reader.read(n)
        if data is None or len(data) < n:
            raise EOFError
        return data

    try:
        while True:
            kind = read_exact(1)
            cid = read_exact(1)[0]
            if kind == b"O":
                old = conns.pop(cid, None)
                if old:
                    old.close()
                try:
                    s = socket.create_connection(a.upstream, timeout=10)
                    s.settimeout(None)
                except OSError as e:
                    log(f"connection {cid}: {e}")
                    send(b"o" + bytes([cid, 1]))
                    continue
                conns[cid] = s
                counts["opened"] += 1
                send(b"o" + bytes([cid, 0]))
                threading.Thread(target=pump, args=(cid, s), daemon=True).start()
                log(f"connection {cid} opened")
            elif kind == b"D":
                (n,) = struct.unpack("<H", read_exact(2))
                data = read_exact(n)
                counts["up"] += n
                s = conns.get(cid)
                if s:
                    try:
                        s.sendall(data)
                    except OSError:
                        pass
            elif kind == b"C":
                s = conns.pop(cid, None)
                if s:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()
                log(f"connection {cid} closed by the image")
            else:
                raise SystemExit(f"uart-relay: unknown frame {kind!r} from the image")
    except (EOFError, ConnectionError):
        pass
    print(
        f"uart-relay: {counts['opened']} connections, {counts['up']} bytes to the server, "
        f"{counts['down']} bytes to the image",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
