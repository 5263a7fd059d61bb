import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { compareBy } from "../sort.js";

describe("ordering the loaded rows on the page", () => {
  test("by text, numbers in their natural order, case-insensitive; empty values last either way round", () => {
    const rows = ["res-10", null, "Res-9", "res-100", "", "alpha"].map((v, i) => ({ v, i }));
    const asc = rows.slice().sort(compareBy((r) => r.v, false)).map((r) => r.v);
    assert.deepEqual(asc, ["alpha", "Res-9", "res-10", "res-100", null, ""]);
    const desc = rows.slice().sort(compareBy((r) => r.v, true)).map((r) => r.v);
    assert.deepEqual(desc, ["res-100", "res-10", "Res-9", "alpha", null, ""]);
  });

  test("ties keep the order they came in (the server's: newest first)", () => {
    const rows = [{ a: "x", n: 1 }, { a: "y", n: 2 }, { a: "x", n: 3 }];
    assert.deepEqual(rows.slice().sort(compareBy((r) => r.a, false)).map((r) => r.n), [1, 3, 2]);
  });
});
