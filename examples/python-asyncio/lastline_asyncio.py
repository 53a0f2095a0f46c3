#!/usr/bin/env python3
"""The Analyst API from Python's asyncio, through lastline-ffi's C ABI
(ctypes over the cdylib; the standard library only).

The library decides everything — requests, sessions, retries, redirects,
hash-first, the completion cursor — and asyncio's event loop does the
I/O: each exchange handle is driven by a coroutine, so several run at
once on one thread.

    lastline_asyncio.py --lib target/release/liblastline_ffi.so \\
        --header transports/ffi/include/lastline.h --host localhost --port 8642 \\
        --ca ca.pem --key KEY --token TOKEN --cursor state.bin [--pdf report.pdf] FILE...
"""

import argparse
import asyncio
import ctypes
import hashlib
import os
import re
import ssl
import sys
import time

# --- the ABI, read from the header: the constants are never written twice


def constants(header_path):
    """Every `#define LL_NAME number` of lastline.h."""
    found = {}
    with open(header_path) as f:
        for m in re.finditer(r"^#define (LL_[A-Z0-9_]+) (-?\d+)$", f.read(), re.M):
            found[m.group(1)] = int(m.group(2))
    return found


class Abi:
    def __init__(self, lib_path, header_path):
        self.c = constants(header_path)
        self.lib = ctypes.CDLL(lib_path)
        c = self.c

        class Config(ctypes.Structure):
            _fields_ = [
                ("host", ctypes.c_char_p), ("port", ctypes.c_uint16), ("tls", ctypes.c_uint32),
                ("key", ctypes.c_char_p), ("token", ctypes.c_char_p), ("auth", ctypes.c_uint32),
                ("base_path", ctypes.c_char_p), ("user_agent", ctypes.c_char_p),
                ("seed", ctypes.c_uint32), ("max_attempts", ctypes.c_uint32),
            ]

        class Step(ctypes.Structure):
            _fields_ = [
                ("kind", ctypes.c_uint32), ("result", ctypes.c_int32),
                ("data", ctypes.c_void_p), ("data_len", ctypes.c_size_t),
                ("space", ctypes.c_void_p), ("space_len", ctypes.c_size_t),
                ("host", ctypes.c_char_p), ("port", ctypes.c_uint16), ("tls", ctypes.c_uint32),
                ("sample_offset", ctypes.c_uint64), ("sample_len", ctypes.c_uint64),
                ("until_ms", ctypes.c_uint64), ("event", ctypes.c_uint32), ("attempt", ctypes.c_uint32),
                ("name", ctypes.c_void_p), ("name_len", ctypes.c_size_t),
                ("key", ctypes.c_void_p), ("key_len", ctypes.c_size_t),
                ("task_uuid", ctypes.c_char * 33), ("has_score", ctypes.c_uint32),
                ("score", ctypes.c_int32), ("uploaded", ctypes.c_uint32), ("more", ctypes.c_uint32),
                ("keep_connection", ctypes.c_uint32),
            ]

        class Param(ctypes.Structure):
            _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_char_p)]

        class Digests(ctypes.Structure):
            _fields_ = [
                ("md5", ctypes.c_uint8 * 16), ("sha1", ctypes.c_uint8 * 20),
                ("sha256", ctypes.c_uint8 * 32), ("len", ctypes.c_uint64), ("has", ctypes.c_uint32),
            ]

        class Error(ctypes.Structure):
            _fields_ = [
                ("result", ctypes.c_int32), ("api_code", ctypes.c_int32),
                ("http_status", ctypes.c_uint32), ("attempts", ctypes.c_uint32),
                ("text_len", ctypes.c_size_t),
            ]

        self.Config, self.Step, self.Param, self.Digests, self.Error = Config, Step, Param, Digests, Error
        p, i32, u32, u64, size = ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_size_t
        signatures = {
            "ll_version_number": ([], u32),
            "ll_result_str": ([i32], ctypes.c_char_p),
            "ll_exchange_init": ([p, size, ctypes.POINTER(Config)], i32),
            "ll_exchange_drop": ([p], i32),
            "ll_exchange_call": ([p, u32, ctypes.POINTER(Param), size, u32], i32),
            "ll_exchange_submit": ([p, ctypes.POINTER(Digests), ctypes.POINTER(Param), size], i32),
            "ll_exchange_completed": ([p, p, ctypes.c_int64], i32),
            "ll_exchange_next": ([p, u64, ctypes.POINTER(Step)], i32),
            "ll_exchange_wrote": ([p, size], i32),
            "ll_exchange_read": ([p, size], i32),
            "ll_exchange_failed": ([p, u32], i32),
            "ll_exchange_cannot_restart": ([p], i32),
            "ll_exchange_error": ([p, ctypes.POINTER(Error)], i32),
            "ll_exchange_error_text": ([p, ctypes.c_char_p, size, ctypes.POINTER(size)], i32),
            "ll_cursor_init": ([p, size, ctypes.c_int64], i32),
            "ll_cursor_restore": ([p, size, ctypes.c_char_p, size], i32),
            "ll_cursor_save": ([p, ctypes.c_char_p, size, ctypes.POINTER(size)], i32),
            "ll_cursor_drop": ([p], i32),
        }
        for name, (args, res) in signatures.items():
            f = getattr(self.lib, name)
            f.argtypes, f.restype = args, res
        if self.lib.ll_version_number() != c["LL_VERSION_NUMBER"]:
            raise RuntimeError("lastline.h and the library differ")

    def storage(self, size_macro):
        """Handle storage: 8-byte aligned, at a fixed address for its life."""
        return (ctypes.c_uint64 * (self.c[size_macro] // 8))()


class Failed(Exception):
    pass


class Exchange:
    """One handle, one connection, driven by a coroutine."""

    def __init__(self, abi, host, port, ca, key, token):
        self.abi, self.c = abi, abi.c
        self.handle = abi.storage("LL_EXCHANGE_SIZE")
        # The config's strings are copied by init; these keep them alive
        # until then.
        self._strings = [s.encode() for s in (host, key, token)]
        cfg = abi.Config(host=self._strings[0], port=port, tls=1, key=self._strings[1],
                         token=self._strings[2], auth=self.c["LL_AUTH_SESSION"],
                         seed=int.from_bytes(os.urandom(4), "little"))
        self.tls = ssl.create_default_context(cafile=ca)  # verification on, CA pinned
        self.reader = self.writer = None
        self.check(abi.lib.ll_exchange_init(self.handle, ctypes.sizeof(self.handle), ctypes.byref(cfg)))

    def check(self, r):
        if r != self.c["LL_OK"]:
            raise Failed(self.abi.lib.ll_result_str(r).decode())

    def failure(self, st):
        e = self.abi.Error()
        self.abi.lib.ll_exchange_error(self.handle, ctypes.byref(e))
        text = ctypes.create_string_buffer(e.text_len + 1)
        self.abi.lib.ll_exchange_error_text(self.handle, text, len(text), None)
        return Failed(f"{self.abi.lib.ll_result_str(st.result).decode()}: {text.value.decode()} "
                      f"(api {e.api_code}, http {e.http_status}, {e.attempts} attempts)")

    async def close(self):
        if self.writer:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass
        self.reader = self.writer = None

    async def run(self, sample=None, on_entry=None, on_data=None, on_event=None):
        """Drives the operation started on the handle to its DONE step."""
        lib, c, h = self.abi.lib, self.c, self.handle
        st = self.abi.Step()
        while True:
            self.check(lib.ll_exchange_next(h, int(time.monotonic() * 1000), ctypes.byref(st)))
            k = st.kind
            if k == c["LL_STEP_CONNECT"]:
                await self.close()
                try:
                    self.reader, self.writer = await asyncio.open_connection(
                        st.host.decode(), st.port, ssl=self.tls if st.tls else None)
                except ssl.SSLCertVerificationError:
                    lib.ll_exchange_failed(h, c["LL_TRANSPORT_REFUSED"])
                except OSError:
                    lib.ll_exchange_failed(h, c["LL_TRANSPORT_CONNECT"])
            elif k in (c["LL_STEP_WRITE"], c["LL_STEP_SEND_SAMPLE"]):
                if k == c["LL_STEP_WRITE"]:
                    chunk = ctypes.string_at(st.data, st.data_len)
                else:
                    chunk = sample[st.sample_offset:st.sample_offset + st.sample_len]
                try:
                    self.writer.write(chunk)
                    await self.writer.drain()
                    lib.ll_exchange_wrote(h, len(chunk))
                except (OSError, ssl.SSLError):
                    lib.ll_exchange_failed(h, c["LL_TRANSPORT_IO"])
            elif k == c["LL_STEP_READ"]:
                try:
                    got = await asyncio.wait_for(self.reader.read(st.space_len), 60)
                    ctypes.memmove(st.space, got, len(got))
                    lib.ll_exchange_read(h, len(got))
                except asyncio.TimeoutError:
                    lib.ll_exchange_failed(h, c["LL_TRANSPORT_TIMEOUT"])
                except (OSError, ssl.SSLError):
                    lib.ll_exchange_failed(h, c["LL_TRANSPORT_CLOSED"])
            elif k == c["LL_STEP_SLEEP"]:
                await asyncio.sleep(max(0, st.until_ms / 1000 - time.monotonic()))
            elif k == c["LL_STEP_EVENT"]:
                if on_event:
                    on_event(st)
            elif k == c["LL_STEP_ENTRY"]:
                if on_entry:
                    on_entry(st)
            elif k == c["LL_STEP_DATA"]:
                if on_data:
                    on_data(ctypes.string_at(st.data, st.data_len))
            elif k == c["LL_STEP_RESTART"]:
                lib.ll_exchange_cannot_restart(h)
            elif k == c["LL_STEP_DONE"]:
                if not st.keep_connection:
                    await self.close()
                if st.result != c["LL_OK"]:
                    raise self.failure(st)
                return st

    async def submit(self, path):
        """Hash-first: by hash, uploaded only when the server asks (101)."""
        with open(path, "rb") as f:
            sample = f.read()
        c = self.c
        d = self.abi.Digests(len=len(sample), has=c["LL_DIGEST_MD5"] | c["LL_DIGEST_SHA1"] | c["LL_DIGEST_SHA256"])
        for field, algo in (("md5", hashlib.md5), ("sha1", hashlib.sha1), ("sha256", hashlib.sha256)):
            getattr(d, field)[:] = list(algo(sample).digest())
        params = (self.abi.Param * 1)(self.abi.Param(b"filename", os.path.basename(path).encode()))
        self.check(self.abi.lib.ll_exchange_submit(self.handle, ctypes.byref(d), params, 1))

        def event(st):
            if st.event == self.c["LL_EVENT_UPLOAD"]:
                print(f"{path}: not known by hash: uploading", flush=True)
            elif st.event == self.c["LL_EVENT_RETRY"]:
                print(f"{path}: retrying in {st.until_ms} ms", flush=True)

        st = await self.run(sample=sample, on_event=event)
        task = st.task_uuid.decode()
        print(f"{path}: task {task} ({'uploaded' if st.uploaded else 'known hash, no upload'})", flush=True)
        return task

    async def completed(self, cursor, on_task):
        """One page of verdicts after the cursor; True when more are ready."""
        def entry(st):
            on_task(st.task_uuid.decode(), st.score if st.has_score else None)
        self.check(self.abi.lib.ll_exchange_completed(self.handle, cursor, int(time.time())))
        return bool((await self.run(on_entry=entry)).more)

    async def result_score(self, task):
        params = (self.abi.Param * 2)(self.abi.Param(b"uuid", task.encode()),
                                      self.abi.Param(b"score_only", b"1"))
        self.check(self.abi.lib.ll_exchange_call(self.handle, self.c["LL_METHOD_GET_RESULT"], params, 2,
                                                 self.c["LL_FORMAT_JSON"]))
        st = await self.run()
        m = re.search(rb'"score"\s*:\s*(-?\d+)', ctypes.string_at(st.data, st.data_len))
        return int(m.group(1)) if m else None

    async def report_pdf(self, task, path):
        """A task's report as PDF, streamed into `path` as it arrives."""
        params = (self.abi.Param * 1)(self.abi.Param(b"uuid", task.encode()))
        self.check(self.abi.lib.ll_exchange_call(self.handle, self.c["LL_METHOD_GET_RESULTS"], params, 1,
                                                 self.c["LL_FORMAT_PDF"]))
        with open(path, "wb") as f:
            await self.run(on_data=f.write)

    def drop(self):
        self.abi.lib.ll_exchange_drop(self.handle)


def load_cursor(abi, path):
    cursor = abi.storage("LL_CURSOR_SIZE")
    if os.path.exists(path):
        saved = open(path, "rb").read()
        if abi.lib.ll_cursor_restore(cursor, ctypes.sizeof(cursor), saved, len(saved)) == 0:
            print(f"cursor restored from {path}", flush=True)
            return cursor
    abi.lib.ll_cursor_init(cursor, ctypes.sizeof(cursor), int(time.time()) - 3600)
    return cursor


def save_cursor(abi, cursor, path):
    out = ctypes.create_string_buffer(abi.c["LL_CURSOR_SAVED_MAX"])
    n = ctypes.c_size_t()
    if abi.lib.ll_cursor_save(cursor, out, len(out), ctypes.byref(n)) != 0:
        raise Failed("cannot save the cursor")
    with open(path + ".tmp", "wb") as f:
        f.write(out.raw[:n.value])
    os.replace(path + ".tmp", path)


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", required=True)
    ap.add_argument("--header", required=True)
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--cursor", default="lastline-cursor.bin")
    ap.add_argument("--pdf", help="download the last file's report (PDF) here")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    abi = Abi(a.lib, a.header)

    # One handle per file: the submissions run at once on asyncio's loop.
    exchanges = [Exchange(abi, a.host, a.port, a.ca, a.key, a.token) for _ in a.files]
    tasks = await asyncio.gather(*(ex.submit(f) for ex, f in zip(exchanges, a.files)))

    scores = {t: None for t in tasks}
    cursor = load_cursor(abi, a.cursor)
    ex = exchanges[0]

    def on_task(task, score):
        print(f"completed {task} score {score}", flush=True)
        if task in scores:
            scores[task] = score

    for _ in range(120):
        more = await ex.completed(cursor, on_task)
        save_cursor(abi, cursor, a.cursor)
        if not more:
            for t in [t for t, s in scores.items() if s is None]:
                scores[t] = await ex.result_score(t)
        if all(s is not None for s in scores.values()):
            break
        if not more:
            await asyncio.sleep(0.5)
    for t, s in scores.items():
        print(f"verdict {t} {'malicious' if (s or 0) >= 70 else 'benign'} score {s}", flush=True)
    if a.pdf and tasks:
        await ex.report_pdf(tasks[-1], a.pdf)
        print(f"report of {tasks[-1]} saved to {a.pdf}", flush=True)
    for e in exchanges:
        await e.close()
        e.drop()
    abi.lib.ll_cursor_drop(cursor)
    return 0 if all(s is not None for s in scores.values()) else 1


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except Failed as e:
        print(f"failed: {e}", file=sys.stderr)
        sys.exit(1)
