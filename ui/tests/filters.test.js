import assert from "node:assert/strict";
import { describe, test } from "node:test";

// Local times in the form are read in the process's time zone: pin one with an offset and no DST.
process.env.TZ = "Asia/Kolkata";
const {
  auditFilterFromForm, auditFormFromFilter, calendarRange, describeFilter, emptyAuditForm, exportFileName, exportFormatOf, exportZoneNote,
  localInputToRfc3339, rangeExamples, RANGES, rfc3339ToLocalInput, verifyCommand, zonedTime,
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

  test("with a range, the file is named after the days exported, in the zone they were entered in", () => {
    // Last month as the audit filter computes it in Berlin: the name says November, not the UTC instants.
    const last = calendarRange("last-month", Date.parse("2026-12-03T10:00:00Z"), "Europe/Berlin");
    assert.equal(exportFileName("globex", NOW, "csv", last, "Europe/Berlin"), "globex-audit-2026-11-01_2026-11-30.csv");
    // One day is that day; an open end is today; a bound off midnight carries its time.
    const yesterday = calendarRange("yesterday", NOW, "UTC");
    assert.equal(exportFileName("acme", NOW, "jsonl", yesterday, "UTC"), "acme-audit-2026-11-22.jsonl");
    assert.equal(exportFileName("acme", NOW, "csv", { since: "2026-11-20T00:00:00Z" }, "UTC"), "acme-audit-2026-11-20_2026-11-23.csv");
    assert.equal(exportFileName("acme", NOW, "csv", { since: "2026-11-20T14:30:00Z", until: "2026-11-20T18:00:00Z" }, "UTC"), "acme-audit-2026-11-20T1430_2026-11-20T1800.csv");
    assert.equal(exportFileName("acme", NOW, "csv", { until: "2026-11-01T00:00:00Z" }, "UTC"), "acme-audit-start_2026-10-31.csv");
    // Filters other than time keep the plain name.
    assert.equal(exportFileName("acme", NOW, "csv", { action: "member." }, "UTC"), "audit-acme-2026-11-23.csv");
  });
});

describe("calendar presets: today, yesterday, this month, last month", () => {
  test("the presets are offered beside the relative ones, in the select's order", () => {
    assert.deepEqual(
      RANGES.map((r) => r.value),
      ["all", "1h", "24h", "7d", "30d", "today", "yesterday", "this-month", "last-month", "custom"],
    );
  });

  test("each is a day or a month from midnight to midnight (until exclusive) in the zone shown", () => {
    // 2026-11-23 12:00 UTC is 17:30 in Kolkata.
    assert.deepEqual(calendarRange("today", NOW, "Asia/Kolkata"), { since: "2026-11-22T18:30:00Z", until: "2026-11-23T18:30:00Z" });
    assert.deepEqual(calendarRange("yesterday", NOW, "Asia/Kolkata"), { since: "2026-11-21T18:30:00Z", until: "2026-11-22T18:30:00Z" });
    assert.deepEqual(calendarRange("this-month", NOW, "UTC"), { since: "2026-11-01T00:00:00Z", until: "2026-12-01T00:00:00Z" });
    assert.deepEqual(calendarRange("last-month", NOW, "UTC"), { since: "2026-10-01T00:00:00Z", until: "2026-11-01T00:00:00Z" });
    assert.equal(calendarRange("7d", NOW, "UTC"), null);
  });

  test("the local day decides, not the UTC one: just after midnight in Tokyo it is already tomorrow there", () => {
    const t = Date.parse("2026-11-30T15:30:00Z"); // 2026-12-01 00:30 in Tokyo
    assert.deepEqual(calendarRange("today", t, "Asia/Tokyo"), { since: "2026-11-30T15:00:00Z", until: "2026-12-01T15:00:00Z" });
    assert.deepEqual(calendarRange("last-month", t, "Asia/Tokyo"), { since: "2026-10-31T15:00:00Z", until: "2026-11-30T15:00:00Z" });
    assert.deepEqual(calendarRange("yesterday", t, "UTC"), { since: "2026-11-29T00:00:00Z", until: "2026-11-30T00:00:00Z" });
  });

  test("months and days across a DST change keep their midnights (Berlin's October has 31 days and 745 hours)", () => {
    const oct = calendarRange("last-month", Date.parse("2026-11-10T12:00:00Z"), "Europe/Berlin");
    assert.deepEqual(oct, { since: "2026-09-30T22:00:00Z", until: "2026-10-31T23:00:00Z" });
    assert.equal((Date.parse(oct.until) - Date.parse(oct.since)) / 3600000, 745);
    // The day the clocks go back is 25 hours long; the day they go forward in New York, 23.
    const back = calendarRange("today", Date.parse("2026-10-25T12:00:00Z"), "Europe/Berlin");
    assert.equal((Date.parse(back.until) - Date.parse(back.since)) / 3600000, 25);
    const fwd = calendarRange("today", Date.parse("2026-03-08T18:00:00Z"), "America/New_York");
    assert.deepEqual(fwd, { since: "2026-03-08T05:00:00Z", until: "2026-03-09T04:00:00Z" });
    // January: last month is December of the year before.
    assert.deepEqual(calendarRange("last-month", Date.parse("2027-01-15T12:00:00Z"), "UTC"), { since: "2026-12-01T00:00:00Z", until: "2027-01-01T00:00:00Z" });
  });

  test("a wall-clock time skipped by DST moves forward, as clocks do", () => {
    assert.equal(new Date(zonedTime(2026, 3, 29, 2, 30, "Europe/Berlin")).toISOString(), "2026-03-29T01:30:00.000Z");
  });

  test("the form's calendar preset becomes the range in the zone given", () => {
    assert.deepEqual(auditFilterFromForm(form({ range: "last-month", action: "member." }), NOW, "UTC"), {
      ok: true, filter: { since: "2026-10-01T00:00:00Z", until: "2026-11-01T00:00:00Z", action: "member." },
    });
    // Without a zone: this runtime's (the custom fields' zone too), Kolkata here.
    assert.deepEqual(auditFilterFromForm(form({ range: "today" }), NOW), { ok: true, filter: calendarRange("today", NOW, "Asia/Kolkata") });
  });

  test("a calendar preset is kept when the export dialog is filled from the filter; others become a custom range", () => {
    const f = calendarRange("last-month", NOW, "UTC");
    assert.equal(auditFormFromFilter(f, "last-month").range, "last-month");
    assert.equal(auditFormFromFilter(f, "24h").range, "custom");
    assert.equal(auditFormFromFilter({}, "24h").range, "all");
  });

  test("the custom range's examples are today, never a fixed date", () => {
    assert.deepEqual(rangeExamples(NOW, "UTC"), { since: "2026-11-23 00:00", until: "2026-11-23 12:00" });
    assert.deepEqual(rangeExamples(Date.parse("2027-02-01T23:59:00Z"), "Asia/Kolkata"), { since: "2027-02-02 00:00", until: "2027-02-02 05:29" });
    // The examples are what the fields read.
    assert.ok(localInputToRfc3339(rangeExamples(NOW).since));
  });
});

describe("the export dialog's word on time zones", () => {
  const nov = { since: "2026-10-31T23:00:00Z", until: "2026-11-30T23:00:00Z" };

  test("a range entered in a local zone and a file in UTC: both zones are named, with the range in each", () => {
    assert.equal(
      exportZoneNote(nov, "Europe/Berlin", "UTC"),
      "The range is in Europe/Berlin, as entered: 2026-11-01 00:00 to 2026-12-01 00:00 (2026-10-31T23:00:00Z to 2026-11-30T23:00:00Z in UTC). " +
        "The file's times are written in UTC, not Europe/Berlin: choose Europe/Berlin under “Times in” to write them as entered.",
    );
  });

  test("a file in the zone the range was entered in says they agree", () => {
    assert.match(exportZoneNote(nov, "Europe/Berlin", "Europe/Berlin") ?? "", /The file's times are written in Europe\/Berlin, as the range\.$/);
    assert.match(exportZoneNote({ since: nov.since }, "Europe/Berlin", "UTC") ?? "", /2026-11-01 00:00 to now/);
  });

  test("nothing to say when everything is UTC; a zone chosen without a range is still named", () => {
    assert.equal(exportZoneNote(nov, "UTC", "UTC"), null);
    assert.equal(exportZoneNote({}, "Europe/Berlin", "UTC"), null);
    assert.equal(exportZoneNote({}, "Europe/Berlin", "Europe/Berlin"), "Times in the file are written in Europe/Berlin.");
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
