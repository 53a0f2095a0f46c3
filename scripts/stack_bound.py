#!/usr/bin/env python3
"""Worst-case stack of a thumbv7em ELF built with -Z emit-stack-sizes.

Usage: stack_bound.py ELF LLVM_BIN_DIR [EXCLUDE_REGEX]

Frames come from llvm-readobj --stack-sizes; calls from llvm-objdump
(`bl`/`b` to a symbol). Direct calls are followed exactly (a function is
never counted twice on one chain). Each indirect call (`blx rN`: the
core's dyn Visitor / Sink / Params) is charged with the deepest direct
chain of any implementation of those traits, an over- rather than an
under-estimate. Prints the deepest chain and its total. Linear time.

With EXCLUDE_REGEX, frames of functions whose demangled path matches it
(searched from the start, after a leading `<` of a trait impl) count as 0:
the bound is then what the remaining code adds (e.g. our crates' share of
a TLS sensor's stack, with the TLS stack's own frames excluded). Matching
the path, not the whole mangled name, keeps our functions that are
generic over a TLS type (`lastline_embedded::blocking::recv::<TlsConnection>`)
counted as ours.
"""
import re
import subprocess
import sys

sys.setrecursionlimit(20000)
elf, llvm = sys.argv[1], sys.argv[2]
exclude = re.compile(sys.argv[3]) if len(sys.argv) > 3 else None

def nm(*flags):
    out = subprocess.run([f"{llvm}/llvm-nm", "--defined-only", *flags, elf], capture_output=True, text=True).stdout
    return [line.split(" ", 2)[-1] for line in out.splitlines()]


demangled = dict(zip(nm(), nm("-C")))


def excluded(name):
    return exclude is not None and exclude.match(demangled.get(name, name).lstrip("<")) is not None


sizes = {}
txt = subprocess.run([f"{llvm}/llvm-readobj", "--stack-sizes", elf], capture_output=True, text=True).stdout
for names, size in re.findall(r"Functions: \[(.*?)\]\s*Size: (0x[0-9a-fA-F]+)", txt):
    for n in names.split(", "):
        sizes[n] = 0 if excluded(n) else int(size, 16)

calls, indirect, cur = {}, set(), None
dis = subprocess.run([f"{llvm}/llvm-objdump", "-d", "--no-show-raw-insn", elf], capture_output=True, text=True).stdout
for line in dis.splitlines():
    m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
    if m:
        cur = m.group(1)
        calls.setdefault(cur, set())
        continue
    if cur is None:
        continue
    m = re.search(r"\s(bl|b|b\.w)\s+0x[0-9a-f]+ <([^+>]+)>", line)
    if m and m.group(2) != cur:
        calls[cur].add(m.group(2))
    elif re.search(r"\sblx\s+r\d+", line):
        indirect.add(cur)


def deepest(f, follow_indirect, memo, path=frozenset()):
    if f in memo:
        return memo[f]
    best = (0, [])
    if follow_indirect and f in indirect:
        best = DYN
    for g in calls.get(f, ()):
        if g in path or g == f:
            continue
        d = deepest(g, follow_indirect, memo, path | {f})
        if d[0] > best[0]:
            best = d
    out = (sizes.get(f, 0) + best[0], [f] + best[1])
    memo[f] = out
    return out


direct_memo = {}
impls = [f for f in sizes if re.search(r"(Visitor|Sink|Params)", f)]
DYN = max((deepest(f, False, direct_memo) for f in impls), default=(0, []))
root = next((f for f in sizes if f.endswith("main") and "cortex_m_rt" in f), "main")
total, chain = deepest(root, True, {})
for f in chain:
    print(f"{sizes.get(f, 0):>6}  {f[:110]}")
print(f"{total:>6}  worst-case stack from {root[:60]}")
