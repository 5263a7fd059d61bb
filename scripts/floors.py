#!/usr/bin/env python3
"""Checks that the core reads in floors: each module imports only modules on its own floor or below, and no two
modules import each other in a circle. Also no import cycle in tenantctl or the app. And the core's statements
are pooler-safe: made only by the `sql` module's helpers (unnamed, never a named prepared statement), and run
only in transactions (no module but `db` touches the pool). Exit 1 with each breach.

The floors (bottom-up) are docs/architecture.md's "The core reads in floors"; a new module must be given a floor here.
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
    ("fleets: many databases as one", ["fleet"]),
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
    # Test modules sit at the end of a file by convention (`#[cfg(test)]`, `#[cfg(all(test, unix))]`).
    m = re.search(r"#\[cfg\((?:all\()?test\b", text)
    text = text if m is None else text[:m.start()]
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


def submodule_imports(src, module):
    """The import graph between the sibling files of one module directory (and their own sub-modules), by the
    names `super::x` and `crate::module::x`."""
    base = os.path.join(src, module)
    files = {}
    for d, _, fs in os.walk(base):
        for f in fs:
            if f.endswith(".rs"):
                rel = os.path.relpath(os.path.join(d, f), base)[:-3]
                name = rel.split(os.sep)[0] if os.sep in rel else rel
                files.setdefault("mod" if name == "mod" else name, []).append(os.path.join(d, f))
    edges = {m: set() for m in files}
    for m, paths in files.items():
        for path in paths:
            body = code(path)
            used = set(re.findall(r"\bsuper::(\w+)", body)) | set(re.findall(rf"\bcrate::{module}::(\w+)", body))
            for group in re.findall(r"\buse\s+super::\{([^;]*)\}", body, re.S):
                used.update(re.findall(r"(?:^|[,{\s])(\w+)(?=::|\s*[,}]|$)", group))
            if m == "mod":
                for child in files:
                    if child != "mod" and re.search(rf"\buse\s+{child}::", body):
                        used.add(child)
            edges[m].update(u for u in used if u in files and u != m)
    # The parent is the module's facade (it declares and re-exports its children, and may hold what they
    # share): the circles that count are those between siblings.
    return {m: {u for u in us if u != "mod"} for m, us in edges.items() if m != "mod"}


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    problems = []
    core = os.path.join(root, "crates/core/src")
    mods = modules(core)
    floor = {m: i for i, (_, ms) in enumerate(CORE_FLOORS) for m in ms}
    for m in mods:
        if m not in floor:
            problems.append(f"core module {m} has no floor: give it one in scripts/floors.py and docs/architecture.md")
    edges = imports(mods)
    for m, used in sorted(edges.items()):
        for u in sorted(used):
            if m in floor and u in floor and floor[u] > floor[m]:
                problems.append(
                    f"core: {m} ({CORE_FLOORS[floor[m]][0]}) imports {u}, a floor above ({CORE_FLOORS[floor[u]][0]})")
    subs = 0
    for m, files in sorted(mods.items()):
        if os.path.isdir(os.path.join(core, m)):
            subs += 1
            for c in cycles(submodule_imports(core, m)):
                problems.append(f"core/{m}: import cycle between its sub-modules {' -> '.join(c)}")
    for src in ["crates/core/src", "crates/tenantctl/src", "src-tauri/src"]:
        for c in cycles(imports(modules(os.path.join(root, src)))):
            problems.append(f"{src}: import cycle {' -> '.join(c)}")
    # No glob imports between a module's own files outside tests: every name a file takes from a sibling or
    # from its parent is written where it is used.
    glob = re.compile(r"\buse\s+(?:super|self|crate::\w+)(?:::\w+)*::\*\s*;|^\s*(?:pub\s+)?use\s+[a-z_]+::\*\s*;", re.M)
    for m, files in mods.items():
        for f in files:
            if glob.search(code(f)):
                problems.append(f"core: {os.path.relpath(f, core)} has a glob import of its own crate's items "
                                "(`use super::*`): name what it takes")
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
    print(f"floors: {len(mods)} core modules on {len(CORE_FLOORS)} floors, no upward import, no cycle "
          f"(also none inside the {subs} modules that have sub-modules)")


main()
