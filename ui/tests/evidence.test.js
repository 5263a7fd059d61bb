import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { csvCell, eventAsCsv, eventAsJson, evidenceText } from "../evidence.js";

const ev = {
  id: "42", occurred_at: "2026-11-20T11:43:00Z", actor_id: "u1", actor_email: "a@x.example", action: "member.invited",
  resource_type: "member", resource_id: '=HYPERLINK("http://evil.example")', ip: "10.0.0.1", user_agent: "Mozilla, \"quoted\"",
  metadata: { note: "line1\nline2", n: 1 },
};

describe("copy formats", () => {
  test("a row as JSON keeps every field, in the export's order", () => {
    const o = JSON.parse(eventAsJson(ev));
    assert.deepEqual(Object.keys(o), ["id", "occurred_at", "actor_id", "actor_email", "action", "resource_type", "resource_id", "ip", "user_agent", "metadata"]);
    assert.deepEqual(o.metadata, ev.metadata);
    assert.equal(JSON.parse(eventAsJson({ ...ev, actor_id: null })).actor_id, null);
  });

  test("a row as CSV is RFC 4180 with formulas neutralised, as the export writes it", () => {
    const csv = eventAsCsv(ev);
    const [header, row] = csv.split("\r\n");
    assert.equal(header, "id,occurred_at,actor_id,actor_email,action,resource_type,resource_id,ip,user_agent,metadata");
    assert.match(row, /^42,2026-11-20T11:43:00Z,u1,/);
    assert.ok(row.includes(`"'=HYPERLINK(""http://evil.example"")"`), row);
    assert.ok(row.includes(`"Mozilla, ""quoted"""`), row);
    assert.ok(csv.endsWith("\r\n"));
    assert.equal(csvCell("-2+3"), "'-2+3");
    assert.equal(csvCell("plain"), "plain");
    assert.equal(csvCell(null), "");
  });
});

describe("evidence to paste", () => {
  const base = {
    tenant: { id: "t-acme", slug: "acme", name: "Acme Corporation" }, status: "suspended",
    filter: { action: "member.*", since: "2026-11-01T09:30:00+01:00" }, zone: "Europe/Berlin", recordId: "r-77",
    isolation: { login: "console_reader", database: "tenant_demo", enforced: true, reasons: [], checkedAt: "2026-11-20T12:00:00.000Z" },
    profile: "demo", version: "0.1.0", now: Date.parse("2026-11-20T12:05:00Z"),
  };

  test("it names the tenant, filters in UTC, the record and the isolation result with its time and login", () => {
    assert.equal(
      evidenceText(base),
      [
        "Tenant: Acme Corporation (acme) · id t-acme · status suspended",
        "Audit log filters: action member.* · from 2026-11-01T08:30:00Z until now (UTC)",
        "Times on screen: Europe/Berlin; times here are UTC",
        "Access record: r-77",
        "Isolation: RLS enforced for login console_reader on tenant_demo (checked 2026-11-20T12:00:00Z)",
        "Profile demo · Tenant Console 0.1.0 · copied 2026-11-20T12:05:00Z",
        "",
      ].join("\n"),
    );
  });

  test("no filter, no record, and a bypassing login are said as such", () => {
    const t = evidenceText({
      ...base, filter: {}, recordId: null,
      isolation: { ...base.isolation, enforced: false, reasons: ["superuser"] },
    });
    assert.match(t, /^Audit log filters: all events$/m);
    assert.match(t, /^Access record: none written for this visit$/m);
    assert.match(t, /^Isolation: NOT enforced for login console_reader on tenant_demo: superuser$/m);
  });
});

import { nextSort } from "../sort.js";

describe("sortable headers", () => {
  test("the same column reverses; another starts in its natural direction (dates newest first)", () => {
    assert.deepEqual(nextSort({ key: "email", descending: false }, "email"), { key: "email", descending: true });
    assert.deepEqual(nextSort({ key: "email", descending: true }, "email"), { key: "email", descending: false });
    assert.deepEqual(nextSort({ key: "email", descending: true }, "role"), { key: "role", descending: false });
    assert.deepEqual(nextSort({ key: "email", descending: false }, "joined", ["joined"]), { key: "joined", descending: true });
  });
});

import { withoutEmpty } from "../evidence.js";

describe("access details", () => {
  test("null, empty and empty-object fields are left out, recursively; values stay", () => {
    assert.deepEqual(withoutEmpty({ filters: { since: null, action: "member.", actor: "" }, rows: 0, file: "a.csv", x: {} }), {
      filters: { action: "member." }, rows: 0, file: "a.csv",
    });
  });
});
