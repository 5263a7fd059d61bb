import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { isolationVerdict } from "../verdict.js";

const at = "2026-11-20T14:05:00Z";
const critical = { code: "rls_not_forced", severity: "critical", object: "public.audit_logs", problem: "RLS is enabled but not forced on public.audit_logs", why: "", fix_sql: null, accepted: null };
const warning = { ...critical, code: "w", severity: "warning", problem: "a warning" };
const clean = { role: "console_reader", state: "tenant", tenant: "acme", relation: "public.audit_logs", rows_in_scope: 10, foreign_rows: 0, error: null };

describe("the isolation verdict, one line to copy", () => {
  test("proven with rows when the probe ran and saw no other tenant's row", () => {
    const v = isolationVerdict({ report: { login: "console_reader", findings: [warning], evidence: [clean] }, login: "console_reader", bypassReasons: [], at, zone: "UTC" });
    assert.deepEqual(v, { state: "proven", text: "Tenants are kept apart for this login (console_reader): proven with rows at 14:05 UTC." });
    const berlin = isolationVerdict({ report: { login: "x", findings: [], evidence: [clean] }, login: "x", bypassReasons: [], at, zone: "Europe/Berlin" });
    assert.match(berlin.text, /proven with rows at 15:05 Europe\/Berlin\.$/);
  });

  test("a leak found by the probe says how many rows, where and as whom", () => {
    const leak = { ...clean, role: "support_ops", relation: "public.memberships", foreign_rows: 3 };
    const v = isolationVerdict({ report: { login: "c", findings: [], evidence: [clean, leak] }, login: "c", bypassReasons: [], at, zone: "UTC" });
    assert.equal(v.state, "not-kept-apart");
    assert.equal(v.text, "Tenants are NOT kept apart for this login (c): the probe read 3 rows of other tenants from public.memberships as support_ops, at 14:05 UTC.");
  });

  test("an open critical finding is NOT kept apart; an accepted one is not counted", () => {
    const v = isolationVerdict({ report: { login: "c", findings: [critical, critical] }, login: "c", bypassReasons: [], at, zone: "UTC" });
    assert.equal(v.text, "Tenants are NOT kept apart for this login (c): 2 critical problems, the first: RLS is enabled but not forced on public.audit_logs (checked at 14:05 UTC).");
    const accepted = isolationVerdict({ report: { login: "c", findings: [{ ...critical, accepted: "ok" }] }, login: "c", bypassReasons: [], at, zone: "UTC" });
    assert.equal(accepted.state, "checked");
    assert.match(accepted.text, /not yet proven with rows \(Check with probe does that\)\.$/);
  });

  test("before any check: the database's word when connecting, or why RLS does not apply", () => {
    assert.equal(isolationVerdict({ report: null, login: "c", bypassReasons: [], at, zone: "UTC" }).state, "connected");
    const bypass = isolationVerdict({ report: null, login: "postgres", bypassReasons: ["superuser"], at, zone: "UTC" });
    assert.equal(bypass.text, "Tenants are NOT kept apart for this login (postgres): the database does not apply row-level security to it (superuser).");
  });
});
