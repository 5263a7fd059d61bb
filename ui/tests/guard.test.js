import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Guard, isStale, StaleResponse } from "../guard.js";

/** A promise the test settles by hand, to play a slow response. */
function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("the stale-response guard", () => {
  test("a response for the current tenant is kept", async () => {
    const g = new Guard();
    g.enter("p1", "acme");
    const t = g.token("members");
    assert.deepEqual(await g.keep(t, Promise.resolve(["row"])), ["row"]);
  });

  test("a slow response for a tenant the user has left is dropped", async () => {
    const g = new Guard();
    g.enter("p1", "acme");
    const slow = deferred();
    const pending = g.keep(g.token("members"), slow.promise);
    g.enter("p1", "globex");
    slow.resolve(["acme row"]);
    await assert.rejects(pending, StaleResponse);
  });

  test("an error for a tenant the user has left is dropped too, not shown", async () => {
    const g = new Guard();
    g.enter("p1", "acme");
    const slow = deferred();
    const pending = g.keep(g.token(), slow.promise);
    g.enter("p1", "globex");
    slow.reject({ kind: "reason_required", message: "give a reason" });
    await assert.rejects(pending, (e) => isStale(e));
  });

  test("leaving a tenant and coming back still drops what the first visit asked for", async () => {
    const g = new Guard();
    g.enter("p1", "acme");
    const first = deferred();
    const pending = g.keep(g.token("audit"), first.promise);
    g.enter("p1", "globex");
    g.enter("p1", "acme");
    first.resolve("first visit");
    await assert.rejects(pending, StaleResponse);
    assert.equal(await g.keep(g.token("audit"), Promise.resolve("second visit")), "second visit");
  });

  test("the same tenant under another profile is another context", async () => {
    const g = new Guard();
    g.enter("p1", "acme");
    const t = g.token();
    g.enter("p2", "acme");
    assert.equal(g.isCurrent(t), false);
  });

  test("a newer request in the same lane supersedes an older one still in flight", async () => {
    const g = new Guard();
    g.enter("p1", "acme");
    const older = deferred();
    const a = g.keep(g.token("members"), older.promise);
    const b = g.keep(g.token("members"), Promise.resolve("bob"));
    assert.equal(await b, "bob");
    older.resolve("alice");
    await assert.rejects(a, StaleResponse);
  });

  test("requests of other lanes are not superseded", async () => {
    const g = new Guard();
    g.enter("p1", "acme");
    const roles = g.token("roles");
    g.token("members");
    assert.equal(g.isCurrent(roles), true);
  });

  test("abandoning a lane drops its requests in flight", async () => {
    const g = new Guard();
    g.enter("p1", "acme");
    const t = g.token("switcher");
    g.abandon("switcher");
    await assert.rejects(g.keep(t, Promise.resolve(1)), StaleResponse);
  });

  test("a dropped response is reported to onDrop with its token", async () => {
    const g = new Guard();
    const seen = [];
    g.onDrop = (t) => seen.push(t);
    g.enter("p1", "acme");
    const t = g.token("members");
    g.enter("p1", "globex");
    await assert.rejects(g.keep(t, Promise.resolve(1)));
    assert.deepEqual(seen, [t]);
    assert.equal(seen[0].tenant, "acme");
  });

  test("an error for the current tenant reaches the caller unchanged", async () => {
    const g = new Guard();
    g.enter("p1", "acme");
    const e = { kind: "query_timeout", message: "too slow" };
    await assert.rejects(g.keep(g.token(), Promise.reject(e)), (x) => x === e);
  });
});
