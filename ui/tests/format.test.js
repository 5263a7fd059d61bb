import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  exportProgress, formatAgo, formatBytes, formatCount, formatDate, formatDuration, formatEstimate,
  formatExportProgress, formatJson, formatTime, formatTimeLeft, roundSignificant, timeLeftTick,
} from "../format.js";

describe("counts and estimates", () => {
  test("exact counts are grouped by thousands", () => {
    assert.equal(formatCount(1234567), "1,234,567");
    assert.equal(formatCount(0), "0");
  });

  test("exact counts are shown exactly, without the estimate sign", () => {
    assert.equal(formatEstimate({ value: 1234, is_estimate: false }), "1,234");
  });

  test("estimates are labelled ≈ and rounded to two significant digits", () => {
    assert.equal(formatEstimate({ value: 1234567, is_estimate: true }), "≈ 1,200,000");
    assert.equal(formatEstimate({ value: 250345, is_estimate: true }), "≈ 250,000");
    assert.equal(formatEstimate({ value: 87, is_estimate: true }), "≈ 87");
  });

  test("rounding to significant digits keeps small numbers and zero", () => {
    assert.equal(roundSignificant(0, 2), 0);
    assert.equal(roundSignificant(9, 2), 9);
    assert.equal(roundSignificant(155, 2), 160);
  });

  test("bytes use binary units", () => {
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(50 * 1024 * 1024), "50 MiB");
  });
});

describe("durations and export progress", () => {
  test("durations read as people say them", () => {
    assert.equal(formatDuration(0.2), "under 1 s");
    assert.equal(formatDuration(4.4), "4 s");
    assert.equal(formatDuration(125), "2 min 5 s");
    assert.equal(formatDuration(120), "2 min");
    assert.equal(formatDuration(3780), "1 h 3 min");
    assert.equal(formatDuration(-1), "unknown");
  });

  test("rate and time left come from rows, elapsed time and the estimated total", () => {
    const p = exportProgress({ rows: 3000, bytes: 0, total_estimate: 10000, elapsed_ms: 1500 });
    assert.equal(p.rate, 2000);
    assert.equal(p.secondsLeft, 3.5);
    assert.equal(p.fraction, 0.3);
  });

  test("without an estimated total there is a rate but no fraction and no time left", () => {
    const p = exportProgress({ rows: 500, bytes: 0, total_estimate: null, elapsed_ms: 1000 });
    assert.deepEqual(p, { fraction: null, rate: 500, secondsLeft: null });
  });

  test("before any time has passed there is no rate (no division by zero)", () => {
    const p = exportProgress({ rows: 0, bytes: 0, total_estimate: 100, elapsed_ms: 0 });
    assert.equal(p.rate, null);
    assert.equal(p.secondsLeft, null);
  });

  test("passing the estimated total does not show more than 100 % or a negative time left", () => {
    const p = exportProgress({ rows: 12000, bytes: 0, total_estimate: 10000, elapsed_ms: 6000 });
    assert.ok(p.fraction !== null && p.fraction < 1);
    assert.equal(p.secondsLeft, 0);
    assert.match(formatExportProgress({ rows: 12000, bytes: 0, total_estimate: 10000, elapsed_ms: 6000 }), /almost done/);
    // Under a second left is "almost done", never "about under 1 s left".
    const nearly = formatExportProgress({ rows: 9990, bytes: 0, total_estimate: 10000, elapsed_ms: 5000 });
    assert.match(nearly, /almost done/);
    assert.doesNotMatch(nearly, /about under/);
  });

  test("the progress line says rows, bytes, rate, elapsed and time left", () => {
    assert.equal(
      formatExportProgress({ rows: 3000, bytes: 360000, total_estimate: 10000, elapsed_ms: 1500 }),
      "3,000 of ≈ 10,000 rows · 352 KiB · 2,000 rows/s · 2 s elapsed · about 4 s left",
    );
    assert.equal(formatExportProgress({ rows: 500, bytes: 0, total_estimate: null, elapsed_ms: 1000 }), "500 rows · 500 rows/s · 1 s elapsed");
  });
});

describe("times", () => {
  test("a timestamp is shown sortable in the given time zone", () => {
    assert.equal(formatTime("2026-01-31T23:30:05Z", "UTC"), "2026-01-31 23:30:05");
    assert.equal(formatTime("2026-01-31T23:30:05Z", "Asia/Tokyo"), "2026-02-01 08:30:05");
  });

  test("a missing time reads as a dash and an unreadable one as itself", () => {
    assert.equal(formatTime(null, "UTC"), "—");
    assert.equal(formatTime("not a time", "UTC"), "not a time");
  });

  test("a date keeps only the day", () => {
    assert.equal(formatDate("2026-01-31T23:30:05Z", "UTC"), "2026-01-31");
  });

  test("ages are coarse", () => {
    const now = Date.parse("2026-02-01T00:00:00Z");
    assert.equal(formatAgo("2026-01-31T23:59:30Z", now), "just now");
    assert.equal(formatAgo("2026-01-31T23:00:00Z", now), "1 h ago");
    assert.equal(formatAgo("2026-01-30T00:00:00Z", now), "2 days ago");
    assert.equal(formatAgo(null, now), "never");
  });

  test("event metadata is indented JSON, whatever it holds", () => {
    assert.equal(formatJson({ a: [1, "<b>"] }), '{\n  "a": [\n    1,\n    "<b>"\n  ]\n}');
    assert.equal(formatJson(undefined), "null");
  });
});

describe("an approval's time left", () => {
  test("whole minutes, rounded up, while more than two are left; then minutes and seconds", () => {
    assert.equal(formatTimeLeft(60 * 60000), "60 min left");
    assert.equal(formatTimeLeft(23 * 60000 - 500), "23 min left");
    assert.equal(formatTimeLeft(121000), "3 min left");
    assert.equal(formatTimeLeft(120000), "2:00 left");
    assert.equal(formatTimeLeft(65000), "1:05 left");
    assert.equal(formatTimeLeft(3200), "0:04 left");
    assert.equal(formatTimeLeft(0), "no time left");
    assert.equal(formatTimeLeft(-5), "no time left");
  });

  test("long approvals in hours and days (a request may ask for a week)", () => {
    assert.equal(formatTimeLeft(120 * 60000), "2 h left");
    assert.equal(formatTimeLeft(150 * 60000), "2 h 30 min left");
    assert.equal(formatTimeLeft(7 * 24 * 3600000), "7 d left");
    assert.equal(formatTimeLeft(50 * 3600000), "2 d 2 h left");
  });

  test("the next tick is when the text changes: the next second near the end, else the next minute", () => {
    assert.equal(timeLeftTick(65500), 500);
    assert.equal(timeLeftTick(65000), 1000);
    assert.equal(timeLeftTick(23 * 60000 - 500), 60000 - 500);
    assert.equal(timeLeftTick(180000), 60000);
    for (const ms of [3200, 65500, 121500, 10 * 60000 + 700]) {
      const t = timeLeftTick(ms);
      assert.ok(t >= 50, `${ms}: ${t}`);
      // Just before the tick it reads as now, at the tick it reads differently.
      assert.equal(formatTimeLeft(ms - t + 1), formatTimeLeft(ms), `${ms}`);
      assert.notEqual(formatTimeLeft(ms - t), formatTimeLeft(ms), `${ms}`);
    }
  });
});
