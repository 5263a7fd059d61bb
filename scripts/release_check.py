#!/usr/bin/env python3
"""Checks, offline, what the release workflow's runners need before a tag is ever pushed:

- package-lock.json resolves every optional native package of every package in it (the Tauri CLI's
  @tauri-apps/cli-darwin-arm64, -win32-x64-msvc, ...), each with its version and integrity, so `npm ci` on
  the macOS and Windows runners installs the CLI and `npm install` here adds nothing (git status stays clean);
- the workflow's matrix names the three platforms and runs `npm ci`;
- the bundle identifier is a reverse-DNS name Apple accepts that does not end in `.app` (Tauri warns: it clashes
  with the macOS application bundle extension).

Exit 1 with each problem. The workflow's YAML is checked against GitHub's schema by check-jsonschema
(scripts/test.sh).
"""
import json
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
problems = []

lock = json.load(open(os.path.join(root, "package-lock.json"), encoding="utf-8"))
packages = lock.get("packages", {})
for path, meta in packages.items():
    for dep, want in (meta.get("optionalDependencies") or {}).items():
        entry = packages.get(f"node_modules/{dep}")
        if entry is None:
            problems.append(f"package-lock.json: {path or 'the project'} needs {dep}@{want}, which is not locked "
                            "(npm ci on that platform's runner would fail)")
            continue
        for field in ("version", "integrity"):  # no "resolved": npm fetches from the configured registry
            if not entry.get(field):
                problems.append(f"package-lock.json: node_modules/{dep} has no {field}")
        if not (entry.get("os") or entry.get("cpu")):
            problems.append(f"package-lock.json: node_modules/{dep} names no os/cpu: npm would install it everywhere")

cli = packages.get("node_modules/@tauri-apps/cli", {}).get("optionalDependencies") or {}
for needed in ("darwin-arm64", "darwin-x64", "win32-x64-msvc", "linux-x64-gnu"):
    if f"@tauri-apps/cli-{needed}" not in cli:
        problems.append(f"the Tauri CLI in package-lock.json has no native package for {needed}")

workflow = open(os.path.join(root, ".github/workflows/release.yml"), encoding="utf-8").read()
for runner in ("ubuntu-", "windows-", "macos-"):
    if f"os: {runner}" not in workflow:
        problems.append(f"release.yml: no {runner}* runner in the matrix")
if "npm ci" not in workflow:
    problems.append("release.yml: the Tauri CLI is not installed with npm ci (the lockfile would not be followed)")

conf = json.load(open(os.path.join(root, "tauri.conf.json"), encoding="utf-8"))
ident = conf.get("identifier", "")
if not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+){2,}", ident):
    problems.append(f"tauri.conf.json: identifier {ident!r} is not a reverse-DNS name of letters, digits and '-'")
if ident.lower().endswith(".app"):
    problems.append(f"tauri.conf.json: identifier {ident!r} ends in .app, the macOS bundle extension")

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"release: {len(cli)} native Tauri CLI packages locked, three platforms in the workflow, identifier {ident}")
