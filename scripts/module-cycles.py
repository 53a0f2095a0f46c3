#!/usr/bin/env python3
"""Import cycles among the modules of one crate's flat src/ directory.

Usage: scripts/module-cycles.py examples/cli/src
Prints each module's uses, then every cycle (strongly connected group of
more than one module); exits 1 if there is any. Reads `crate::name`
paths and `use crate::{a, b::c}` groups; test modules count too.
"""
import os
import re
import sys

src = sys.argv[1]
mods = sorted(f[:-3] for f in os.listdir(src) if f.endswith(".rs"))
graph = {}
for m in mods:
    text = open(os.path.join(src, m + ".rs")).read()
    used = set(re.findall(r"\bcrate::([a-z_]\w*)", text))
    for group in re.findall(r"\bcrate::\{([^}]*)\}", text, re.S):
        used |= {g.strip().split("::")[0] for g in group.split(",") if g.strip()}
    graph[m] = sorted(u for u in used if u in mods and u != m)
for m in mods:
    print(f"{m}: {' '.join(graph[m])}")
# Tarjan's strongly connected components.
index, low, stack, on, comps, n = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1
    stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        comps.append(comp)
for v in mods:
    if v not in index:
        visit(v)
cycles = [c for c in comps if len(c) > 1]
for c in cycles:
    print("cycle:", " <-> ".join(sorted(c)))
print(f"{len(cycles)} cycle(s)")
sys.exit(1 if cycles else 0)
