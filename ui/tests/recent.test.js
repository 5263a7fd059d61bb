import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadRecent, pushRecent, RECENT_MAX, recentKey, saveRecent, switcherItems } from "../recent.js";

/** A Storage stand-in over a Map. */
function memoryStorage(init = {}) {
  const m = new Map(Object.entries(init));
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), map: m };
}
const t = (slug, name = slug.toUpperCase()) => ({ id: `id-${slug}`, slug, name });

describe("recent tenants", () => {
  test("the tenant opened last comes first, without duplicates", () => {
    let list = [];
    list = pushRecent(list, t("acme"));
    list = pushRecent(list, t("globex"));
    list = pushRecent(list, t("acme"));
    assert.deepEqual(list.map((x) => x.slug), ["acme", "globex"]);
  });

  test("the list keeps at most RECENT_MAX tenants, dropping the oldest", () => {
    let list = [];
    for (let i = 0; i < RECENT_MAX + 3; i += 1) list = pushRecent(list, t(`t${i}`));
    assert.equal(list.length, RECENT_MAX);
    assert.equal(list[0].slug, `t${RECENT_MAX + 2}`);
    assert.ok(!list.some((x) => x.slug === "t0"));
  });

  test("only id, slug and name are kept (no tenant data)", () => {
    const [entry] = pushRecent([], { ...t("acme"), plan: "enterprise", members: 12 });
    assert.deepEqual(Object.keys(entry).sort(), ["id", "name", "slug"]);
  });

  test("lists persist per profile", () => {
    const s = memoryStorage();
    saveRecent(s, "p1", [t("acme")]);
    saveRecent(s, "p2", [t("globex")]);
    assert.deepEqual(loadRecent(s, "p1").map((x) => x.slug), ["acme"]);
    assert.deepEqual(loadRecent(s, "p2").map((x) => x.slug), ["globex"]);
    assert.deepEqual(loadRecent(s, "p3"), []);
  });

  test("an unreadable stored list reads as empty, and bad entries are skipped", () => {
    assert.deepEqual(loadRecent(memoryStorage({ [recentKey("p1")]: "{not json" }), "p1"), []);
    assert.deepEqual(loadRecent(memoryStorage({ [recentKey("p1")]: '{"a":1}' }), "p1"), []);
    const mixed = JSON.stringify([t("acme"), { id: 3 }, null, t("acme"), t("globex")]);
    assert.deepEqual(loadRecent(memoryStorage({ [recentKey("p1")]: mixed }), "p1").map((x) => x.slug), ["acme", "globex"]);
  });

  test("a storage that throws (disabled, full) does not break the app", () => {
    const broken = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("full"); } };
    assert.deepEqual(loadRecent(broken, "p1"), []);
    assert.doesNotThrow(() => saveRecent(broken, "p1", [t("acme")]));
  });
});

describe("the quick switcher's list", () => {
  const recent = [t("globex", "Globex, Inc."), t("acme", "Acme Corporation")];
  const results = [t("acme", "Acme Corporation"), t("acme-labs", "Acme Labs"), t("initech", "Initech")];

  test("with nothing typed, recent tenants come first, then the others", () => {
    const items = switcherItems(recent, results, "");
    assert.deepEqual(items.map((i) => [i.tenant.slug, i.recent]), [["globex", true], ["acme", true], ["acme-labs", false], ["initech", false]]);
  });

  test("typing filters the recent tenants by name or slug, case-insensitively", () => {
    const items = switcherItems(recent, [t("acme-labs", "Acme Labs")], "ACM");
    assert.deepEqual(items.map((i) => i.tenant.slug), ["acme", "acme-labs"]);
    assert.equal(items[0].recent, true);
  });

  test("a tenant is listed once even when recent and found", () => {
    const items = switcherItems(recent, results, "acme");
    assert.equal(items.filter((i) => i.tenant.slug === "acme").length, 1);
  });

  test("the list is capped", () => {
    const many = Array.from({ length: 50 }, (_, i) => t(`t${i}`));
    assert.equal(switcherItems([], many, "", 20).length, 20);
  });

  test("a recent tenant the search also found is shown as the server has it now", () => {
    const recent = [t("hooli", "Hooli (old name)")];
    const results = [{ ...t("hooli", "Hooli"), status: "suspended" }];
    const [item] = switcherItems(recent, results, "");
    assert.equal(item.recent, true);
    assert.equal(item.tenant.name, "Hooli");
    assert.equal(item.tenant.status, "suspended");
  });
});

describe("recent tenants of a fleet", () => {
  test("the same id on two shards is two tenants, each kept with its shard, also across a reload", () => {
    const storage = memoryStorage();
    let list = [];
    list = pushRecent(list, { id: "42", slug: "north", name: "North", shard: "shard-a" });
    list = pushRecent(list, { id: "42", slug: "south", name: "South", shard: "shard-b" });
    assert.deepEqual(list.map((x) => `${x.shard}/${x.slug}`), ["shard-b/south", "shard-a/north"]);
    list = pushRecent(list, { id: "42", slug: "north", name: "North", shard: "shard-a" });
    assert.deepEqual(list.map((x) => `${x.shard}/${x.slug}`), ["shard-a/north", "shard-b/south"]);
    saveRecent(storage, "fleet:eu", list);
    assert.deepEqual(loadRecent(storage, "fleet:eu"), list);
  });

  test("the switcher does not take one shard's tenant for another shard's with the same id", () => {
    const recent = [{ id: "42", slug: "north", name: "North", shard: "shard-a" }];
    const results = [{ id: "42", slug: "south", name: "South", shard: "shard-b" }];
    const items = switcherItems(recent, results, "");
    assert.deepEqual(items.map((i) => [i.tenant.shard, i.tenant.slug, i.recent]), [["shard-a", "north", true], ["shard-b", "south", false]]);
  });
});
