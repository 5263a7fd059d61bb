import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { recentKey } from "../recent.js";
import { Store } from "../store.js";

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), map: m };
}
const profile = { id: "p1", name: "demo", host: "h", port: 5432, database: "d", user: "u", tls: "disable", tenant_setting: "app.tenant_id", access_reason: "off", statement_timeout_ms: 1000, password_stored: true };
const session = (over = {}) => ({ profile_id: "p1", profile_name: "demo", login: { user: "u", database: "d", server_version: "15", superuser: false, bypassrls: false, owns_unforced: [] }, bypass_reasons: [], bypass_accepted: false, access_reason: "off", ...over });
const acme = { id: "t-acme", slug: "acme", name: "Acme" };
const globex = { id: "t-globex", slug: "globex", name: "Globex" };

describe("the store", () => {
  test("connecting shows the tenants and loads the profile's recent tenants", () => {
    const storage = memoryStorage();
    storage.setItem(recentKey("p1"), JSON.stringify([globex]));
    const s = new Store(storage);
    s.connected(profile, session());
    assert.equal(s.state.screen, "tenants");
    assert.deepEqual(s.state.recent, [globex]);
  });

  test("opening a tenant enters a new guard context and persists it as recent", () => {
    const storage = memoryStorage();
    const s = new Store(storage);
    s.connected(profile, session());
    const before = s.guard.token();
    s.openTenant(acme);
    assert.equal(s.state.screen, "tenant");
    assert.equal(s.guard.isCurrent(before), false);
    assert.equal(s.guard.current.tenant, "t-acme");
    assert.deepEqual(JSON.parse(storage.getItem(recentKey("p1"))).map((t) => t.slug), ["acme"]);
  });

  test("switching tenants makes every token of the previous one stale", () => {
    const s = new Store(memoryStorage());
    s.connected(profile, session());
    s.openTenant(acme);
    const acmeToken = s.guard.token("members");
    s.openTenant(globex);
    assert.equal(s.guard.isCurrent(acmeToken), false);
    assert.deepEqual(s.state.recent.map((t) => t.slug), ["globex", "acme"]);
  });

  test("re-opening the open tenant (a double click) keeps its in-flight responses current", () => {
    const s = new Store(memoryStorage());
    s.connected(profile, session());
    s.openTenant(acme);
    const first = s.guard.token("open");
    s.show("tenants");
    s.openTenant(acme);
    assert.equal(s.guard.isCurrent(first), true);
    assert.equal(s.state.screen, "tenant");
  });

  test("a tenant's resolved name updates the tenant without a new context", () => {
    const s = new Store(memoryStorage());
    s.connected(profile, session());
    s.openTenant(acme);
    const t = s.guard.token();
    s.tenantResolved({ ...acme, name: "Acme Corporation" });
    assert.equal(s.state.tenant?.name, "Acme Corporation");
    assert.equal(s.guard.isCurrent(t), true);
  });

  test("disconnecting forgets the session and the tenant and drops what is in flight", () => {
    const s = new Store(memoryStorage());
    s.connected(profile, session());
    s.openTenant(acme);
    const t = s.guard.token();
    s.disconnected();
    assert.equal(s.state.session, null);
    assert.equal(s.state.tenant, null);
    assert.equal(s.state.screen, "profiles");
    assert.equal(s.guard.isCurrent(t), false);
  });

  test("reconnecting the same profile (bypass acknowledged) keeps the open tenant", () => {
    const s = new Store(memoryStorage());
    s.connected(profile, session({ bypass_reasons: ["superuser"] }));
    s.openTenant(acme);
    s.connected(profile, session({ bypass_reasons: ["superuser"], bypass_accepted: true }));
    assert.equal(s.state.tenant?.id, "t-acme");
    assert.equal(s.state.session?.bypass_accepted, true);
  });

  test("subscribers see every change with the previous state, and can unsubscribe", () => {
    const s = new Store(memoryStorage());
    const seen = [];
    const off = s.subscribe((st, prev) => seen.push([prev.screen, st.screen]));
    s.connected(profile, session());
    off();
    s.openTenant(acme);
    assert.deepEqual(seen, [["profiles", "tenants"]]);
  });

  test("the state is frozen: screens cannot change it behind the store's back", () => {
    const s = new Store(memoryStorage());
    s.connected(profile, session());
    assert.throws(() => {
      "use strict";
      s.state.screen = "profiles";
    }, TypeError);
  });
});

describe("the store's memory of this run: reasons, their reuse, refused passwords", () => {
  const zd = { category: "support-ticket", detail: "ZD-4711" };

  test("reasons given are remembered newest first, in memory only, and outlive a disconnect; their reuse does not", () => {
    const storage = memoryStorage();
    const s = new Store(storage);
    s.connected(profile, session({ access_reason: "required" }));
    s.rememberReason(zd);
    s.rememberReason({ category: "incident", detail: "INC-9" });
    s.rememberReason(zd);
    assert.deepEqual(s.reasons.map((r) => r.detail), ["ZD-4711", "INC-9"]);
    assert.equal([...storage.map.values()].some((v) => v.includes("ZD-4711")), false, "never written to storage");
    s.reasonReuse = { profileId: "p1", reason: zd, until: Date.now() + 60000 };
    s.disconnected();
    assert.equal(s.reasonReuse, null);
    assert.equal(s.reasons.length, 2);
  });

  test("a reuse ends when another profile connects", () => {
    const s = new Store(memoryStorage());
    s.connected(profile, session());
    s.reasonReuse = { profileId: "p1", reason: zd, until: Date.now() + 60000 };
    s.connected(profile, session());
    assert.notEqual(s.reasonReuse, null, "the same profile again (a reconnect) keeps it");
    s.connected({ ...profile, id: "p2" }, session({ profile_id: "p2" }));
    assert.equal(s.reasonReuse, null);
  });

  test("a refused password is marked until it is taken or replaced, and each change is announced to subscribers", () => {
    const s = new Store(memoryStorage());
    let changes = 0;
    s.subscribe((st, prev) => {
      if (st.refused !== prev.refused) changes += 1;
    });
    s.passwordRefused("p1", true);
    s.passwordRefused("p1", true);
    assert.deepEqual(s.state.refused, ["p1"]);
    s.passwordRefused("p1", false);
    assert.deepEqual(s.state.refused, []);
    assert.equal(changes, 2);
  });
});
