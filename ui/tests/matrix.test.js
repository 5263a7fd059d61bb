import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { groupFindings, permissionMatrix, splitPermission } from "../matrix.js";

const role = (id, permissions, members = 0) => ({ id, description: null, permissions, builtin: true, global: false, members });
const finding = (code, severity) => ({ code, severity, object: "t", problem: "p", why: "w", fix_sql: null, accepted: null });

describe("the permission matrix", () => {
  test("columns are every permission once, grouped by area; cells say who has what", () => {
    const m = permissionMatrix([role("OWNER", ["members:manage", "data:write", "data:read"]), role("VIEWER", ["data:read"])]);
    assert.deepEqual(m.permissions, ["data:read", "data:write", "members:manage"]);
    assert.deepEqual(m.rows.map((r) => [r.role.id, r.has]), [["OWNER", [true, true, true]], ["VIEWER", [true, false, false]]]);
  });

  test("roles keep the order they came in", () => {
    const m = permissionMatrix([role("B", []), role("A", [])]);
    assert.deepEqual(m.rows.map((r) => r.role.id), ["B", "A"]);
    assert.deepEqual(m.permissions, []);
  });

  test("a permission without an area is its own area", () => {
    assert.deepEqual(splitPermission("superpower"), ["superpower", ""]);
    assert.deepEqual(splitPermission("audit:read"), ["audit", "read"]);
  });
});

describe("isolation findings by severity", () => {
  test("critical first, then warnings, then information; empty groups left out", () => {
    const g = groupFindings([finding("a", "info"), finding("b", "critical"), finding("c", "info")]);
    assert.deepEqual(g.map((x) => [x.severity, x.findings.map((f) => f.code)]), [["critical", ["b"]], ["info", ["a", "c"]]]);
  });

  test("an unknown severity is still shown, after the known ones", () => {
    const g = groupFindings([finding("x", "fatal"), finding("y", "warning")]);
    assert.deepEqual(g.map((x) => x.severity), ["warning", "fatal"]);
  });

  test("no findings, no groups", () => {
    assert.deepEqual(groupFindings([]), []);
  });
});
