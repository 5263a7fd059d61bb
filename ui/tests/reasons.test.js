import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DEFAULT_GRANT_MINUTES, pushReason, reasonLabel, REASONS_MAX, reusedReason, reuseMinutes, sameReason } from "../reasons.js";

const zd = { category: "support-ticket", detail: "ZD-4711" };
const inc = { category: "incident", detail: "INC-9" };

describe("recent access reasons", () => {
  test("the newest comes first, a repeat moves to the front instead of listing twice", () => {
    let list = pushReason([], zd);
    list = pushReason(list, inc);
    assert.deepEqual(list, [inc, zd]);
    assert.deepEqual(pushReason(list, { ...zd, detail: " ZD-4711 " }), [zd, inc]);
  });

  test("the list is bounded and an empty detail is not remembered", () => {
    let list = [];
    for (let i = 0; i < REASONS_MAX + 3; i += 1) list = pushReason(list, { category: "other", detail: `r${i}` });
    assert.equal(list.length, REASONS_MAX);
    assert.equal(list[0].detail, `r${REASONS_MAX + 2}`);
    assert.deepEqual(pushReason([zd], { category: "other", detail: "  " }), [zd]);
  });

  test("a category is part of the reason", () => {
    assert.equal(sameReason(zd, { ...zd, category: "incident" }), false);
    assert.equal(sameReason(zd, null), false);
    assert.equal(reasonLabel(zd), "support-ticket: ZD-4711");
  });
});

describe("one reason for the tenants of a ticket", () => {
  const now = Date.parse("2026-11-20T12:00:00Z");
  const reuse = { profileId: "p-demo", reason: zd, until: now + 30 * 60000 };

  test("is used while it lasts, for the profile it was given on", () => {
    assert.deepEqual(reusedReason(reuse, "p-demo", now), zd);
    assert.equal(reusedReason(reuse, "p-other", now), null);
    assert.equal(reusedReason(reuse, "p-demo", reuse.until), null);
    assert.equal(reusedReason(null, "p-demo", now), null);
  });

  test("lasts as long as the grant a reason opens, and only where reasons are asked for", () => {
    assert.equal(reuseMinutes("required", 45), 45);
    assert.equal(reuseMinutes("optional", undefined), DEFAULT_GRANT_MINUTES);
    assert.equal(reuseMinutes("off", 45), null);
  });
});
