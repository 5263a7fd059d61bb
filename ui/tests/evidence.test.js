import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { accessRecordText, csvCell, eventAsCsv, eventAsJson, evidenceMarkdown, evidenceText, mdCode, mdText } from "../evidence.js";

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

  test("it names the tenant, the reason, the record in words, filters in UTC and the isolation result with its time and login", () => {
    assert.equal(
      evidenceText({ ...base, reason: { category: "support-ticket", detail: "ZD-4711" }, policy: "required" }),
      [
        "Tenant: Acme Corporation (acme) · id t-acme · status suspended",
        "Reason given when the tenant was opened: support-ticket: ZD-4711",
        "Access record r-77 in the tenant's support-access history: this look at the tenant was recorded",
        "Audit log filters: action member.* · from 2026-11-01T08:30:00Z until now (UTC)",
        "Times: UTC (ISO 8601); event times also in Europe/Berlin, the zone on screen",
        "Isolation: RLS enforced for login console_reader on tenant_demo (checked 2026-11-20T12:00:00Z)",
        "Profile demo · Tenant Console 0.1.0 · copied 2026-11-20T12:05:00Z",
        "",
      ].join("\n"),
    );
  });

  test("the event whose detail is open is written out: id, time in UTC and in the zone shown, actor with email and id, action, resource", () => {
    const t = evidenceText({ ...base, events: [ev], eventOpen: true });
    assert.match(
      t,
      /^Event \(its detail was open\):\n {2}Event id: 42\n {2}Time: 2026-11-20T11:43:00Z UTC · 2026-11-20 12:43:00 Europe\/Berlin\n {2}Actor: a@x\.example \(user id u1\)\n {2}Action: member\.invited\n {2}Resource: member =HYPERLINK\("http:\/\/evil\.example"\)\n {2}IP: 10\.0\.0\.1$/m,
    );
    // Without a detail open: the rows on screen, one a line, the first ten of them.
    const rows = Array.from({ length: 12 }, (_, i) => ({ ...ev, id: `e${i}` }));
    const list = evidenceText({ ...base, zone: "UTC", events: rows });
    assert.match(list, /^Events on screen: the first 10 of 12 loaded, in the order listed:$/m);
    assert.match(list, /^ {2}- 2026-11-20T11:43:00Z UTC · a@x\.example \(user id u1\) · member\.invited · member =HYPERLINK.* · event e0$/m);
    assert.equal((list.match(/^ {2}- /gm) ?? []).length, 10);
    assert.doesNotMatch(evidenceText(base), /^Event/m, "no event on screen, none written");
  });

  test("masked fields and a missing actor are said in words, not left empty", () => {
    const t = evidenceText({ ...base, events: [{ ...ev, actor_email: null, ip: null }], eventOpen: true, masked: ["users.email", "audit_logs.ip"] });
    assert.match(t, /^ {2}Actor: user id u1 \(email masked for this login\)$/m);
    assert.match(t, /^ {2}IP: masked for this login$/m);
    const sys = evidenceText({ ...base, events: [{ ...ev, actor_email: null, actor_id: null }], eventOpen: true });
    assert.match(sys, /^ {2}Actor: none \(the system\)$/m);
  });

  test("the access record is explained whatever happened", () => {
    assert.equal(accessRecordText({ ...base, recordId: "3" }), "Access record 3 in the tenant's support-access history: this look at the tenant was recorded");
    assert.match(accessRecordText({ ...base, recordId: null, recorded: "no_log_table" }), /^No access record: this database has no support-access log/);
    assert.match(accessRecordText({ ...base, recordId: null, policy: "off" }), /^No access record: this profile records a look at a tenant only when a reason is given/);
    assert.match(accessRecordText({ ...base, recordId: null, policy: "required", reason: null }), /^No new access record: the reason given earlier in this session still covers this tenant/);
  });

  test("the audit log not opened is said, not shown as 'all events'", () => {
    assert.match(evidenceText({ ...base, filter: null }), /^Audit log filters: the audit log was not opened in this visit$/m);
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

describe("evidence as Markdown", () => {
  const base = {
    tenant: { id: "t-h", slug: "hooli", name: '<img src=x onerror="1">Hooli *bold* [link](x) a|b' }, status: "suspended",
    filter: { action: "member.removed" }, zone: "Europe/Berlin", recordId: "3", reason: { category: "support-ticket", detail: "ZD-1" }, policy: "required",
    isolation: { login: "console_reader", database: "tenant_demo", enforced: true, reasons: [], checkedAt: null },
    profile: "demo", version: "0.1.0", now: Date.parse("2026-11-20T12:05:00Z"),
  };

  test("the facts are a list, the open event a table; user text cannot format, link or open HTML", () => {
    const md = evidenceMarkdown({ ...base, events: [ev], eventOpen: true });
    assert.match(md, /^- \*\*Tenant:\*\* \\<img src=x onerror="1"\\>Hooli \\\*bold\\\* \\\[link\\\]\(x\) a\\\|b \(`hooli`\) · id `t-h` · status \*\*suspended\*\*$/m);
    assert.match(md, /^- \*\*Access record:\*\* Access record 3 in the tenant's support-access history: this look at the tenant was recorded$/m);
    assert.match(md, /^- \*\*Reason given when the tenant was opened:\*\* support-ticket: ZD-1$/m);
    assert.match(md, /^\| Event id \| `42` \|$/m);
    assert.match(md, /^\| Time \(UTC\) \| 2026-11-20T11:43:00Z \|$/m);
    assert.match(md, /^\| Time \(Europe\/Berlin\) \| 2026-11-20 12:43:00 \|$/m);
    assert.match(md, /^\| Actor \| a@x\.example \(user id u1\) \|$/m);
    assert.match(md, /^\| Action \| `member\.invited` \|$/m);
  });

  test("rows on screen are one table row each", () => {
    const md = evidenceMarkdown({ ...base, zone: "UTC", events: [ev, { ...ev, id: "43" }] });
    assert.match(md, /^\| Time \(UTC\) \| Actor \| Action \| Resource \| Event id \|$/m);
    assert.equal((md.match(/^\| 2026-11-20T11:43:00Z \|/gm) ?? []).length, 2);
  });

  test("code spans survive backticks and pipes", () => {
    assert.equal(mdCode("a`b"), "`` a`b ``");
    assert.equal(mdCode("a|b"), "`a\\|b`");
    assert.equal(mdText("line1\nline2 _x_"), "line1 line2 \\_x\\_");
  });
});

import { eventMembers } from "../evidence.js";

describe("the member an audit event is about", () => {
  test("the actor by email; a member resource by its id when that is an email, else an email in the metadata", () => {
    assert.deepEqual(eventMembers(ev), { actor: "a@x.example", resource: null });
    assert.deepEqual(eventMembers({ ...ev, resource_type: "member", resource_id: "bob@x.example" }).resource, "bob@x.example");
    assert.deepEqual(eventMembers({ ...ev, resource_type: "member", resource_id: "u9", metadata: { member_email: "cy@x.example" } }).resource, "cy@x.example");
    assert.deepEqual(eventMembers({ ...ev, resource_type: "project", resource_id: "p@x" }).resource, null);
    assert.deepEqual(eventMembers({ ...ev, actor_email: null }).actor, null, "no email: nothing the Members tab can filter on");
  });
});
