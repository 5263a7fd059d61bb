import assert from "node:assert/strict";
import { describe, test } from "node:test";

// Local times in the form are read in the process's time zone: pin one with an offset and no DST.
process.env.TZ = "Asia/Kolkata";
const {
  auditFilterFromForm, auditFormFromFilter, describeFilter, emptyAuditForm, exportFileName, exportFormatOf, localInputToRfc3339, rfc3339ToLocalInput, verifyCommand,
} = await import("../filters.js");

const NOW = Date.parse("2026-11-23T12:00:00Z");
const form = (over) => ({ ...emptyAuditForm(), ...over });

describe("audit filter form -> AuditFilter", () => {
  test("an empty form is no filter at all (every key absent, not empty)", () => {
    assert.deepEqual(auditFilterFromForm(emptyAuditForm(), NOW), { ok: true, filter: {} });
  });

  test("text fields are trimmed and empty ones left out", () => {
    const r = auditFilterFromForm(form({ action: "  member.* ", actor: "ada@example.com", resource_type: " ", resource_id: "res-1" }), NOW);
    assert.deepEqual(r, { ok: true, filter: { action: "member.*", actor: "ada@example.com", resource_id: "res-1" } });
  });

  test("a preset range counts back from now", () => {
    const r = auditFilterFromForm(form({ range: "24h" }), NOW);
    assert.deepEqual(r, { ok: true, filter: { since: "2026-11-22T12:00:00Z" } });
  });

  test("a custom range converts local wall-clock times to UTC instants", () => {
    const r = auditFilterFromForm(form({ range: "custom", since: "2026-11-01T09:30", until: "2026-11-02T00:00:15" }), NOW);
    assert.deepEqual(r, { ok: true, filter: { since: "2026-11-01T04:00:00Z", until: "2026-11-01T18:30:15Z" } });
  });

  test("a custom range with only a start is open-ended", () => {
    const r = auditFilterFromForm(form({ range: "custom", since: "2026-11-01T05:30" }), NOW);
    assert.deepEqual(r, { ok: true, filter: { since: "2026-11-01T00:00:00Z" } });
  });

  test("preset ranges ignore the custom fields left in the form", () => {
    const r = auditFilterFromForm(form({ range: "all", since: "2026-11-01T05:30" }), NOW);
    assert.deepEqual(r, { ok: true, filter: {} });
  });

  test("an empty or reversed range is refused with a message for the field", () => {
    const r = auditFilterFromForm(form({ range: "custom", since: "2026-11-02T00:00", until: "2026-11-01T00:00" }), NOW);
    assert.equal(r.ok, false);
    assert.match(r.errors.until, /after the start/);
  });

  test("a date that does not exist is refused, not rolled over", () => {
    const r = auditFilterFromForm(form({ range: "custom", since: "2026-02-30T10:00" }), NOW);
    assert.equal(r.ok, false);
    assert.ok(r.errors.since);
    assert.equal(localInputToRfc3339("yesterday"), null);
  });

  test("custom times are ISO 8601: a date, or a date and a time with a space or a T; never MM/DD/YYYY", () => {
    assert.equal(localInputToRfc3339("2026-11-01"), new Date(2026, 10, 1).toISOString().replace(/\.000Z$/, "Z"));
    assert.equal(localInputToRfc3339("2026-11-01 09:30"), localInputToRfc3339("2026-11-01T09:30"));
    assert.equal(localInputToRfc3339("2026-11-01 09:30:15"), new Date(2026, 10, 1, 9, 30, 15).toISOString().replace(/\.000Z$/, "Z"));
    assert.equal(localInputToRfc3339("11/01/2026"), null);
    assert.equal(localInputToRfc3339("11/01/2026 09:30"), null);
  });

  test("an unknown range name is refused", () => {
    const r = auditFilterFromForm(form({ range: "fortnight" }), NOW);
    assert.equal(r.ok, false);
  });
});

describe("AuditFilter -> form (export dialog pre-fill)", () => {
  test("a filter round-trips through the form", () => {
    const filter = { since: "2026-11-01T04:00:00Z", until: "2026-11-01T18:30:15Z", action: "member.", actor: "u1", resource_type: "project", resource_id: "r" };
    const f = auditFormFromFilter(filter);
    assert.equal(f.range, "custom");
    assert.equal(f.since, "2026-11-01 09:30");
    assert.equal(f.until, "2026-11-02 00:00:15");
    assert.deepEqual(auditFilterFromForm(f, NOW), { ok: true, filter });
  });

  test("no filter is the empty form", () => {
    assert.deepEqual(auditFormFromFilter({}), emptyAuditForm());
    assert.equal(rfc3339ToLocalInput(undefined), "");
  });

  test("a filter is summarised in one line", () => {
    assert.equal(describeFilter({}), "all events");
    assert.equal(describeFilter({ action: "member.*", actor: "u1" }), "action member.* · actor u1");
  });

  test("export file names are safe whatever the slug", () => {
    assert.equal(exportFileName("acme", NOW), "audit-acme-2026-11-23.csv");
    assert.equal(exportFileName("acme", NOW, "jsonl.gz"), "audit-acme-2026-11-23.jsonl.gz");
    assert.equal(exportFileName("../../etc/passwd", NOW), "audit-..-..-etc-passwd-2026-11-23.csv");
    assert.equal(exportFileName("///", NOW), "audit-tenant-2026-11-23.csv");
  });

});

test("the export's format follows the file's name, as the core reads it", () => {
  assert.deepEqual(exportFormatOf("a.csv"), { format: "csv", gzip: false, label: "CSV" });
  assert.deepEqual(exportFormatOf("A.JSONL"), { format: "jsonl", gzip: false, label: "JSON lines" });
  assert.deepEqual(exportFormatOf("a.jsonl.gz"), { format: "jsonl", gzip: true, label: "JSON lines, gzip-compressed" });
  assert.deepEqual(exportFormatOf("a.ndjson"), { format: "jsonl", gzip: false, label: "JSON lines" });
  assert.deepEqual(exportFormatOf("a.txt"), { format: "csv", gzip: false, label: "CSV" });
  assert.deepEqual(exportFormatOf("a.csv.gz"), { format: "csv", gzip: true, label: "CSV, gzip-compressed" });
});

test("the verify command quotes the path and key for a POSIX shell", () => {
  assert.equal(verifyCommand("/tmp/a.csv", "ed25519:K"), "tenantctl verify '/tmp/a.csv' --public-key 'ed25519:K'");
  assert.equal(
    verifyCommand("/tmp/it's $(rm -rf ~).csv", "ed25519:K"),
    "tenantctl verify '/tmp/it'\\''s $(rm -rf ~).csv' --public-key 'ed25519:K'",
  );
});
