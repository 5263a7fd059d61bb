import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { columnOf, maskedBy } from "../masked.js";

describe("masked columns", () => {
  test("a null field is masked by the masked column it is read from", () => {
    const masked = ["users.email", "audit_logs.ip"];
    assert.equal(maskedBy("email", null, masked), "users.email");
    assert.equal(maskedBy("actor_email", null, masked), "users.email");
    assert.equal(maskedBy("ip", null, masked), "audit_logs.ip");
    assert.equal(maskedBy("joined_at", null, ["memberships.created_at"]), "memberships.created_at");
    assert.equal(maskedBy("name", null, ["users.display_name"]), "users.display_name");
  });

  test("a value that is there is never masked, and a null is only masked when a column explains it", () => {
    assert.equal(maskedBy("email", "a@b.example", ["users.email"]), null);
    assert.equal(maskedBy("name", null, ["users.email"]), null, "an empty name stays an empty name");
    assert.equal(maskedBy("email", null, []), null);
    assert.equal(maskedBy("email", null, undefined), null);
    assert.equal(maskedBy("metadata", undefined, ["audit_logs.metadata"]), "audit_logs.metadata");
  });

  test("the column is the last part of a qualified, possibly quoted, name", () => {
    assert.equal(columnOf("users.email"), "email");
    assert.equal(columnOf('public."Users"."Email"'), "email");
    assert.equal(maskedBy("email", null, ['app."Users"."Email"']), 'app."Users"."Email"');
  });
});
