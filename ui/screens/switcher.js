// @ts-check
/**
 * The quick switcher (Ctrl/Cmd+K): type to find a tenant by name, slug or id; the recently used tenants that
 * match come first; arrows choose, Enter switches, Escape closes.
 */
import * as api from "../api.js";
import { focusFirst, openDialog } from "../dialog.js";
import { announce, debounce, h, replace, uid } from "../dom.js";
import { isStale } from "../guard.js";
import { keepActive, nextIndex } from "../keynav.js";
import { matchesTenant, switcherItems } from "../recent.js";
import { consentBadge } from "./consent.js";

/** @typedef {import("../actions.js").Ctx} Ctx */
/** @typedef {import("../api.js").SeenTenant} Tenant */

/** @returns {boolean} whether the switcher is showing */
export function isOpen() {
  return document.querySelector('dialog[data-testid="switcher"]') !== null;
}

/** @param {Ctx} ctx */
export function openSwitcher(ctx) {
  const { store, actions } = ctx;
  const session = store.state.session;
  // In a fleet, the switcher searches every shard and opens a tenant on its own shard.
  const fleet = store.state.fleet;
  if ((!session && !fleet) || isOpen()) return;
  const profileId = session?.profile_id ?? "";
  const d = openDialog({ title: "Switch tenant", testid: "switcher" });
  const listId = uid("switcher-list");
  const inputId = uid("switcher-input");
  const input = h("input", {
    id: inputId, type: "text", role: "combobox", autocomplete: "off", spellcheck: "false", autofocus: true,
    "aria-controls": listId, "aria-expanded": "true", "aria-autocomplete": "list", testid: "switcher-input",
    placeholder: "Tenant name, slug or id",
  });
  const list = h("ul", { id: listId, role: "listbox", class: "switcher-list", "aria-label": "Tenants", testid: "switcher-list" });
  const status = h("p", { class: "muted switcher-status", "aria-live": "polite", testid: "switcher-status" });
  d.body.append(
    h("label", { for: inputId, class: "visually-hidden" }, "Find a tenant"),
    input,
    list,
    status,
    h("p", { class: "hint keys" }, "↑↓ choose · Enter switch · Esc close"),
  );

  /** @type {{ tenant: Tenant, recent: boolean }[]} */
  let items = [];
  /** @type {Tenant[]} */
  let results = [];
  /** The query `results` answer; until the server answers a newer one, they are narrowed here. */
  let resultsQuery = "";
  let active = -1;

  function render() {
    const activeId = items[active]?.tenant.id ?? null;
    const q = input.value;
    const shown = q.trim() === resultsQuery ? results : results.filter((t) => matchesTenant(t, q));
    items = switcherItems(store.state.recent, shown, q);
    active = keepActive(items.map((i) => i.tenant.id), activeId);
    const current = store.state.tenant?.id;
    replace(
      list,
      items.map((it, i) =>
        h(
          "li",
          {
            id: `${listId}-${i}`, role: "option", "aria-selected": String(i === active), class: i === active ? "active" : "",
            testid: "switcher-option", "data-tenant-id": it.tenant.id, "data-shard": it.tenant.shard,
            on: { click: () => choose(it.tenant), mousemove: () => { if (active !== i) setActive(i); } },
          },
          h("span", { class: "name" }, it.tenant.name),
          h("span", { class: "mono slug" }, it.tenant.slug),
          fleet && it.tenant.shard && h("span", { class: "badge", testid: "switcher-option-shard" }, it.tenant.shard),
          it.tenant.status && it.tenant.status !== "active" && h("span", { class: "pill warn", testid: "switcher-option-status" }, it.tenant.status),
          /** @type {api.TenantRow} */ (it.tenant).consent_required && consentBadge(),
          it.recent && h("span", { class: "badge" }, "recent"),
          it.tenant.id === current && h("span", { class: "badge ok" }, "open"),
        ),
      ),
    );
    if (active >= 0) input.setAttribute("aria-activedescendant", `${listId}-${active}`);
    else input.removeAttribute("aria-activedescendant");
  }

  /** @param {number} i */
  function setActive(i) {
    active = i;
    list.querySelectorAll("li").forEach((li, j) => {
      li.setAttribute("aria-selected", String(j === i));
      li.classList.toggle("active", j === i);
    });
    const li = list.children[i];
    if (li) {
      input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    }
  }

  /** @param {Tenant} t */
  function choose(t) {
    d.close("chosen");
    if (!fleet) {
      void actions.openTenant(t);
      return;
    }
    // A search's row names the shard it came from; a recent tenant is looked up (it may have moved).
    const found = results.includes(t);
    actions.openFleetTenant(t, { found }).catch((e) => announce(`Could not open ${t.name}: ${api.toApiError(e).message}`));
  }

  async function search() {
    const q = input.value.trim();
    const tok = store.guard.token("switcher");
    status.textContent = "Searching…";
    try {
      /** @type {string} */
      let downNote = "";
      if (fleet) {
        status.textContent = `Searching ${fleet.view.shards.length} shards…`;
        const page = await store.guard.keep(tok, api.fleetSearch(fleet.name, { search: q || undefined, limit: 20 }));
        results = page.items;
        if (page.unavailable.length) downNote = ` · not answering: ${page.unavailable.map((u) => u.shard).join(", ")}`;
      } else {
        const page = await store.guard.keep(tok, api.tenantsSearch(profileId, { search: q || undefined, limit: 20 }));
        results = page.items;
      }
      resultsQuery = q;
      render();
      status.textContent = (items.length ? `${items.length} tenant${items.length === 1 ? "" : "s"}` : q ? `No tenant matches “${q}”.` : "No tenants.") + downNote;
    } catch (e) {
      if (isStale(e)) return;
      results = [];
      resultsQuery = q;
      render();
      status.textContent = api.toApiError(e).message;
    }
  }
  const later = debounce(() => void search(), 120);

  input.addEventListener("input", () => {
    // Recent tenants filter at once; the server's answer follows.
    render();
    later();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      const it = items[active];
      if (it) choose(it.tenant);
      return;
    }
    if (e.key === "Home" || e.key === "End") return;
    const next = nextIndex(e.key, active, items.length);
    if (next === null) return;
    e.preventDefault();
    setActive(next);
  });

  void d.closed.then(() => {
    later.cancel();
    store.guard.abandon("switcher");
  });
  render();
  void search();
  focusFirst(d);
}
