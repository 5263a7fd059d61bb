import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keepActive, nearEnd, nextIndex, PAGE } from "../keynav.js";

describe("keyboard navigation of a list", () => {
  test("down and up move one row and stop at the ends", () => {
    assert.equal(nextIndex("ArrowDown", 0, 3), 1);
    assert.equal(nextIndex("ArrowDown", 2, 3), 2);
    assert.equal(nextIndex("ArrowUp", 1, 3), 0);
    assert.equal(nextIndex("ArrowUp", 0, 3), 0);
  });

  test("with no active row, down goes to the first and up to the last", () => {
    assert.equal(nextIndex("ArrowDown", -1, 5), 0);
    assert.equal(nextIndex("ArrowUp", -1, 5), 4);
  });

  test("page keys move a page, home and end go to the ends", () => {
    assert.equal(nextIndex("PageDown", 0, 100), PAGE);
    assert.equal(nextIndex("PageDown", 95, 100), 99);
    assert.equal(nextIndex("PageUp", 5, 100), 0);
    assert.equal(nextIndex("Home", 50, 100), 0);
    assert.equal(nextIndex("End", 0, 100), 99);
  });

  test("other keys are not navigation (they reach the input)", () => {
    assert.equal(nextIndex("a", 0, 3), null);
    assert.equal(nextIndex("Enter", 0, 3), null);
    assert.equal(nextIndex("ArrowLeft", 0, 3), null);
  });

  test("an empty list has no active row", () => {
    assert.equal(nextIndex("ArrowDown", -1, 0), -1);
    assert.equal(nextIndex("x", -1, 0), null);
  });

  test("reaching the last rows asks for the next page only when there is one", () => {
    assert.equal(nearEnd(47, 50, true), true);
    assert.equal(nearEnd(10, 50, true), false);
    assert.equal(nearEnd(49, 50, false), false);
  });

  test("after a new search the active row stays on the same tenant when it is still listed", () => {
    assert.equal(keepActive(["a", "b", "c"], "c"), 2);
    assert.equal(keepActive(["a", "b"], "z"), 0);
    assert.equal(keepActive([], "a"), -1);
    assert.equal(keepActive(["a"], null), 0);
  });
});
