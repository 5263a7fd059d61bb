#!/usr/bin/env python3
"""Checks that the core reads in floors: each module imports only modules on its own floor or below, and no two
modules import each other in a circle. Also no import cycle in tenantctl or the app. And the core's statements
are pooler-safe: made only by the `sql` module's helpers (unnamed, never a named prepared statement), and run
only in transactions (no module but `db` touches the pool). Exit 1 with each breach.

The floors (bottom-up) are the README's architecture section; a new module must be given a floor here.
"""
import os
import re
import sys

CORE_FLOORS = [
    ("identifiers, SQL building and diagnosis; the process kept out of dumps", ["sql", "doctor", "harden"]),
    ("errors", ["error"]),
    ("mapping, cursors, secrets, the signing key; the way in (SSH, tokens, libpq files)",
     ["mapping", "cursor", "secret", "signing", "reach"]),
    ("connection", ["db"]),
    ("scope", ["scope"]),
    ("queries", ["tenants", "members", "roles", "audit"]),
    ("access: the door, grants, records; the tenant at a glance", ["access", "glance"]),
    ("profiles", ["profile"]),
    ("export and isolation", ["export", "isolation"]),
    ("test support (feature testing only)", ["testing"]),
]


def modules(src):
    mods = {}
    for name in os.listdir(src):
        path = os.path.join(src, name)
        if name.endswith(".rs") and name not in ("lib.rs", "main.rs"):
            mods[name[:-3]] = [path]
        elif os.path.isdir(path):
            mods.setdefault(name, []).extend(
                os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".rs"))
    return mods


def code(path):
    text = open(path, encoding="utf-8").read()
    cut = text.find("#[cfg(test)]")  # test modules sit at the end of a file by convention
    text = text if cut < 0 else text[:cut]
    return re.sub(r"//[^\n]*", "", text)


def imports(mods):
    edges = {m: set() for m in mods}
    for m, files in mods.items():
        for f in files:
            body = code(f)
            used = set(re.findall(r"\bcrate::(\w+)", body))
            for group in re.findall(r"\buse\s+crate::\{([^;]*)\}", body, re.S):
                used.update(re.findall(r"(?:^|[,{\s])(\w+)(?=::|\s*[,}]|$)", group))
            edges[m].update(u for u in used if u in mods and u != m)
    return edges


def cycles(edges):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    problems = []
    core = os.path.join(root, "crates/core/src")
    mods = modules(core)
    floor = {m: i for i, (_, ms) in enumerate(CORE_FLOORS) for m in ms}
    for m in mods:
        if m not in floor:
            problems.append(f"core module {m} has no floor: give it one in scripts/floors.py and the README")
    edges = imports(mods)
    for m, used in sorted(edges.items()):
        for u in sorted(used):
            if m in floor and u in floor and floor[u] > floor[m]:
                problems.append(
                    f"core: {m} ({CORE_FLOORS[floor[m]][0]}) imports {u}, a floor above ({CORE_FLOORS[floor[u]][0]})")
    for src in ["crates/core/src", "crates/tenantctl/src", "src-tauri/src"]:
        for c in cycles(imports(modules(os.path.join(root, src)))):
            problems.append(f"{src}: import cycle {' -> '.join(c)}")
    statement_makers = re.compile(r"\bsqlx::query(_as|_scalar|_with)?(::<|\()|\.build(_query_as|_query_scalar)?\(\)")
    pool_use = re.compile(r"\.pool\(\)|\bcatalog_pool\(\)|\.acquire\(\)")
    for m, files in mods.items():
        for f in files:
            rel = os.path.relpath(f, core)
            body = code(f)
            if m != "sql" and statement_makers.search(body):
                problems.append(f"core: {rel} makes a statement itself; use crate::sql::query/query_as/query_scalar/built "
                                "(unnamed statements, safe behind a pooler)")
            if m != "db" and pool_use.search(body):
                problems.append(f"core: {rel} uses the pool directly; take a transaction from Db (read_tx, write_tx)")
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"floors: {len(mods)} core modules on {len(CORE_FLOORS)} floors, no upward import, no cycle")


main()
