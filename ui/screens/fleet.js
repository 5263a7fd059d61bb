// @ts-check
/**
 * A fleet open: its tenants searched over every shard (each row names its shard; a shard that did not answer is
 * a badge and a line, not a failure), and its isolation check as a table of shards with the fleet's verdict. A
 * tenant chosen here opens on its shard, connected as that shard's profile (actions.openFleetTenant).
 */
import * as api from "../api.js";
import { announce, debounce, h, replace, uid } from "../dom.js";
import { errorBox } from "../errors.js";
import { isStale } from "../guard.js";
import { keepActive, nextIndex } from "../keynav.js";

/** @typedef {import("../actions.js").Ctx} Ctx */
/** @typedef {import("../api.js").FleetTenantRow} FleetTenantRow */
/** @typedef {import("../api.js").Unavailable} Unavailable */

/**
 * The shards that did not answer, as badges with their reason in the hover text and a line to read.
 * @param {Unavailable[]} down
 * @param {number} total
 */
export function unavailableNote(down, total) {
  if (!down.length) return null;
  return h(
    "div",
    { class: "report warn fleet-unavailable", testid: "fleet-unavailable", role: "status" },
    h("p", null, `${down.length} of ${total} shard${total === 1 ? "" : "s"} did not answer: their tenants are not in this list.`),
    h(
      "ul",
      { class: "badges" },
      down.map((u) =>
        h("li", null, h("span", { class: "badge bad", testid: "shard-unavailable", "data-shard": u.shard, title: u.message }, `${u.shard}: unavailable`), " ", h("small", { class: "muted" }, u.message)),
      ),
    ),
  );
}

/**
 * The fleet's tenants screen.
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 */
export function mount(root, ctx) {
  const { store, actions } = ctx;
  const fleet = store.state.fleet;
  if (!fleet) return { unmount() {} };
  const fleetName = fleet.name;
  let alive = true;
  /** @type {FleetTenantRow[]} */
  let rows = [];
  let active = -1;
  const searchId = uid("fleet-search");
  const search = h("input", {
    id: searchId, type: "search", autocomplete: "off", spellcheck: "false", testid: "fleet-search",
    placeholder: "Name, slug or id, on every shard",
  });
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "data tenants", role: "grid", "aria-label": `Tenants of fleet ${fleet.name}`, tabindex: "0", testid: "fleet-table" },
    h("thead", null, h("tr", null, h("th", null, "Name"), h("th", null, "Slug"), h("th", null, "Status"), h("th", null, "Shard"))),
    tbody,
  );
  const status = h("p", { class: "muted", "aria-live": "polite", testid: "fleet-status" });
  const down = h("div");
  const problem = h("div");
  const shards = fleet.status;
  const answered = shards.filter((s) => s.answered).length;
  replace(
    root,
    h(
      "section",
      { class: "fleet-screen", testid: "fleet-screen" },
      h("div", { class: "pane-head" }, h("h1", null, `Fleet ${fleet.name}`), h("span", { class: "muted", testid: "fleet-shards" }, `${answered} of ${shards.length} shards answered · at most ${fleet.view.max_connections} connections at once`)),
      h(
        "details",
        { class: "fleet-shards" },
        h("summary", null, "Shards"),
        h(
          "table",
          { class: "data", testid: "fleet-shard-table" },
          h("thead", null, h("tr", null, h("th", null, "Shard"), h("th", null, "Answered"), h("th", null, "Server"), h("th", null, "Role"), h("th", null, "Latency"))),
          h(
            "tbody",
            null,
            shards.map((s) =>
              h(
                "tr",
                { "data-shard": s.shard, testid: "fleet-shard-row" },
                h("td", null, s.shard),
                h("td", null, s.answered ? h("span", { class: "badge ok" }, "yes") : h("span", { class: "badge bad", title: s.unavailable?.message ?? "" }, "unavailable")),
                h("td", null, s.server_version ?? "—"),
                h("td", null, s.role ?? "—"),
                h("td", null, s.latency_ms == null ? "—" : `${s.latency_ms.toFixed(1)} ms`),
              ),
            ),
          ),
        ),
      ),
      h("div", { class: "toolbar" }, h("div", { class: "field inline grow" }, h("label", { for: searchId }, "Search every shard"), search)),
      down,
      table,
      status,
      problem,
    ),
  );

  function render() {
    active = keepActive(rows.map((r) => `${r.shard}/${r.id}`), rows[active] ? `${rows[active].shard}/${rows[active].id}` : null);
    replace(
      tbody,
      rows.map((r, i) =>
        h(
          "tr",
          {
            class: i === active ? "active" : "", "aria-selected": String(i === active), testid: "fleet-row",
            "data-tenant-id": r.id, "data-shard": r.shard,
            on: { click: () => { active = i; render(); }, dblclick: () => void open(r) },
          },
          h("td", null, r.name),
          h("td", { class: "mono" }, r.slug ?? ""),
          h("td", null, r.status && r.status !== "active" ? h("span", { class: "pill warn" }, r.status) : (r.status ?? "")),
          h("td", null, h("span", { class: "badge", testid: "fleet-row-shard" }, r.shard)),
        ),
      ),
    );
  }

  /** @param {FleetTenantRow} r */
  async function open(r) {
    replace(problem);
    try {
      await actions.openFleetTenant({ id: r.id, slug: r.slug, name: r.name, status: r.status, shard: r.shard }, { found: true });
    } catch (e) {
      if (alive) replace(problem, errorBox(e, { testid: "fleet-open-error" }));
    }
  }

  async function load() {
    const q = search.value.trim();
    const tok = store.guard.token("fleet-search");
    status.textContent = `Searching ${shards.length} shards…`;
    try {
      const page = await store.guard.keep(tok, api.fleetSearch(fleetName, { search: q || undefined, limit: 50 }));
      if (!alive) return;
      rows = page.items;
      active = rows.length ? 0 : -1;
      render();
      replace(down, unavailableNote(page.unavailable, shards.length));
      status.textContent = `${rows.length}${page.more ? "+" : ""} tenant${rows.length === 1 ? "" : "s"}${page.more ? " (narrow the search for the rest)" : ""}`;
    } catch (e) {
      if (isStale(e) || !alive) return;
      status.textContent = "";
      replace(problem, errorBox(e, { retry: () => void load() }));
    }
  }
  const later = debounce(() => void load(), 200);
  search.addEventListener("input", () => later());
  const keys = (/** @type {KeyboardEvent} */ e) => {
    if (e.key === "Enter") {
      const r = rows[active];
      if (r) {
        e.preventDefault();
        void open(r);
      }
      return;
    }
    const next = nextIndex(e.key, active, rows.length);
    if (next === null) return;
    e.preventDefault();
    active = next;
    render();
  };
  search.addEventListener("keydown", keys);
  table.addEventListener("keydown", keys);
  void load();
  return {
    unmount() {
      alive = false;
      later.cancel();
      store.guard.abandon("fleet-search");
    },
  };
}

/**
 * The fleet's isolation check: one row per shard (its verdict, or why it did not answer) and the fleet's.
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 */
export function mountCheck(root, ctx) {
  const { store } = ctx;
  const fleet = store.state.fleet;
  if (!fleet) return { unmount() {} };
  const f = fleet;
  let alive = true;
  const out = h("div", { "aria-live": "polite", testid: "fleet-check-results" });
  const run = h("button", { type: "button", class: "primary", testid: "fleet-check-run", on: { click: () => void go(false) } }, "Check every shard");
  const probe = h("button", { type: "button", testid: "fleet-check-probe", on: { click: () => void go(true) } }, "Check with probe");
  replace(
    root,
    h(
      "section",
      { class: "fleet-check", testid: "fleet-check" },
      h("h1", null, `Isolation check: fleet ${fleet.name}`),
      h("p", { class: "muted" }, `The check runs on each of the ${fleet.view.shards.length} shards as its profile's login, at most ${fleet.view.max_connections} connections at once. The fleet is enforced only when every shard answered and held.`),
      h("div", { class: "actions" }, run, probe),
      out,
    ),
  );

  /** @param {boolean} withProbe */
  async function go(withProbe) {
    run.disabled = probe.disabled = true;
    replace(out, h("p", { class: "muted loading" }, `Checking ${f.view.shards.length} shards${withProbe ? " with the probe" : ""}…`));
    try {
      const r = await api.fleetCheck(f.name, withProbe);
      if (!alive) return;
      const state = r.isolation_enforced ? "enforced" : r.leaking.length ? "not-enforced" : "unknown";
      replace(
        out,
        h(
          "p",
          { class: `verdict ${state}`, testid: "fleet-verdict", "data-state": state, role: "status" },
          r.isolation_enforced
            ? `Isolation enforced on every shard of fleet ${r.fleet} (${r.shards.length} shards${withProbe ? ", proven by the probe" : ""}).`
            : r.leaking.length
              ? `Isolation NOT enforced on fleet ${r.fleet}: ${r.leaking.join(", ")}${r.unavailable.length ? `; not checked: ${r.unavailable.join(", ")}` : ""}.`
              : `Not known for fleet ${r.fleet}: ${r.unavailable.join(", ")} did not answer.`,
        ),
        h(
          "table",
          { class: "data", testid: "fleet-check-table" },
          h("thead", null, h("tr", null, h("th", null, "Shard"), h("th", null, "Verdict"), h("th", null, "Failing findings"), h("th", null, "Login"))),
          h(
            "tbody",
            null,
            r.shards.map((v) => {
              const failing = v.report ? v.report.findings.filter((f) => f.severity === "critical" && !f.accepted).length : 0;
              const leaks = r.leaking.includes(v.shard);
              return h(
                "tr",
                { testid: "fleet-check-row", "data-shard": v.shard, "data-state": v.report ? (leaks ? "not-enforced" : "enforced") : "unavailable" },
                h("td", null, v.shard),
                h(
                  "td",
                  null,
                  v.report
                    ? leaks
                      ? h("span", { class: "badge bad" }, "NOT enforced")
                      : h("span", { class: "badge ok" }, "enforced")
                    : h("span", { class: "badge bad", testid: "shard-unavailable", title: v.unavailable?.message ?? "" }, "unavailable"),
                ),
                h("td", null, v.report ? String(failing) : (v.unavailable?.message ?? "")),
                h("td", null, v.report ? v.report.login.user : "—"),
              );
            }),
          ),
        ),
      );
      announce(r.isolation_enforced ? "Every shard holds." : `Fleet check: ${r.leaking.length} leaking, ${r.unavailable.length} unavailable.`);
    } catch (e) {
      if (alive) replace(out, errorBox(e, { retry: () => void go(withProbe) }));
    } finally {
      if (alive) run.disabled = probe.disabled = false;
    }
  }
  return {
    unmount() {
      alive = false;
    },
  };
}
