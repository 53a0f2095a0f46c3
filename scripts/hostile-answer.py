#!/usr/bin/env python3
"""A hostile server for scripts/hostile-rss.sh: `ping` answers pong; a
result answers {"success":1,"data":{"score":1,"x":[{},{},...]}} and a
completion page {"success":1,"data":{"tasks":{UUID:1,...}}} of SIZE bytes,
streamed (never held whole here either)."""
import socket, sys, threading

port, size = int(sys.argv[1]), int(sys.argv[2])

def body_parts(path):
    if "ping" in path:
        yield b'{"success": 1, "data": "pong"}'
        return
    if "get_completed" in path:
        head, unit = b'{"success": 1, "data": {"after": "2026-12-01 00:00:00", "before": "2026-12-01 00:00:01", "tasks": {', None
        yield head
        n = 0
        sent = len(head)
        chunk = []
        while sent < size - 64:
            u = b'"%032x": 1,' % n
            n += 1
            sent += len(u)
            chunk.append(u)
            if len(chunk) == 4096:
                yield b"".join(chunk)
                chunk = []
        yield b"".join(chunk) + b'"%032x": 1}}}' % n
        return
    head = b'{"success": 1, "data": {"score": 1, "x": ['
    yield head
    piece = b"{}," * 65536
    sent = len(head)
    while sent + len(piece) < size - 16:
        yield piece
        sent += len(piece)
    yield b"{}]}}"

def length(path):
    return sum(len(p) for p in body_parts(path)) if "ping" in path else None

def serve(conn):
    f = conn.makefile("rb")
    try:
        while True:
            line = f.readline()
            if not line:
                return
            path = line.split()[1].decode()
            clen = 0
            while True:
                h = f.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                if h.lower().startswith(b"content-length:"):
                    clen = int(h.split(b":")[1])
            f.read(clen)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            for p in body_parts(path):
                if p:
                    conn.sendall(b"%x\r\n" % len(p) + p + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        conn.close()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
