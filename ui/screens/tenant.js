// @ts-check
/**
 * The tenant view: opens the tenant (with the access reason when the profile wants one; the access is
 * recorded), then shows its overview and the tabs Members, Roles, Audit log and Access history. Each tab loads
 * when first shown and keeps its rows while the tenant stays open. A new tenant means a new view: this one is
 * unmounted and everything it still waits for is dropped by the guard.
 */
import * as api from "../api.js";
import { ErrorKind } from "../api.js";
import { announce, h, replace } from "../dom.js";
import { copyButton, writeText } from "../elements/copy-button.js";
import { evidenceText } from "../evidence.js";
import { errorBox } from "../errors.js";
import { formatAgo, formatCount, formatDate, formatEstimate, localZone, timeTitle } from "../format.js";
import { isStale } from "../guard.js";
import { askReason } from "../prompts.js";
import * as accessTab from "./access.js";
import * as auditTab from "./audit.js";
import * as membersTab from "./members.js";
import * as rolesTab from "./roles.js";

/** @typedef {import("../actions.js").Ctx} Ctx */
/** @typedef {import("../store.js").TenantTab} TenantTab */
/** @typedef {import("../api.js").TenantOverview} TenantOverview */
/** @typedef {import("../api.js").AccessReason} AccessReason */

/**
 * What a tab gets: the tenant it shows (fixed for its life) and the way back to the app.
 * @typedef {object} TabCtx
 * @property {import("../store.js").Store} store
 * @property {import("../actions.js").Actions} actions
 * @property {string} profileId
 * @property {import("../api.js").Tenant} tenant
 * @property {() => AccessReason | null} reason   the reason this tenant was opened with (for exports)
 * @property {import("../api.js").ReasonPolicy} policy
 * @property {(filter: import("../api.js").AuditFilter) => void} [setFilter]  the audit log's filters, for the evidence
 */

/** @typedef {{ unmount(): void, focus?(): void }} TabView */

const TABS = /** @type {[TenantTab, string][]} */ ([
  ["overview", "Overview"],
  ["members", "Members"],
  ["roles", "Roles"],
  ["audit", "Audit log"],
  ["access", "Access history"],
]);

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 */
export function mount(root, ctx) {
  const { store, actions } = ctx;
  const session = store.state.session;
  const tenant = store.state.tenant;
  if (!session || !tenant) return { unmount() {} };
  const profileId = session.profile_id;
  let reason = actions.takeReason(tenant.id);
  /** @type {Map<TenantTab, TabView>} */
  const views = new Map();
  /** @type {Map<TenantTab, { tab: HTMLButtonElement, panel: HTMLElement }>} */
  const parts = new Map();
  /** @type {TenantOverview | null} */
  let overview = null;

  const title = h("h1", { testid: "tenant-title" }, tenant.name);
  // The tenant's status stands beside its name: a suspended or deleted customer must be seen at once.
  const statusBadge = h("span", { class: "pill", testid: "tenant-status", hidden: true });
  const meta = h("p", { class: "tenant-meta" }, statusBadge, h("span", { class: "mono" }, tenant.slug), " · ", h("span", { class: "mono id" }, tenant.id));
  const recorded = h("p", { class: "recorded", testid: "access-recorded" });
  /** The audit log's filters on screen (the Audit log tab sets them), for the evidence. */
  /** @type {api.AuditFilter} */
  let auditFilter = {};
  const evidence = h("button", { type: "button", testid: "copy-evidence", hidden: true }, "Copy evidence for a ticket");
  evidence.addEventListener("click", async () => {
    const s = store.state.session;
    if (!s || !overview) return;
    const text = evidenceText({
      tenant: overview.tenant,
      status: overview.status ?? null,
      filter: auditFilter,
      zone: localZone(),
      recordId: overview.record_id ?? null,
      isolation: {
        login: s.login.user, database: s.login.database, enforced: s.bypass_reasons.length === 0,
        reasons: s.bypass_reasons, checkedAt: store.connectedAt,
      },
      profile: s.profile_name,
      version: document.getElementById("app-version")?.textContent?.replace(/^v/, "") || "?",
      now: Date.now(),
    });
    await writeText(text);
    evidence.dataset.copied = text;
    evidence.textContent = "Evidence copied";
    announce("The evidence was copied.");
    setTimeout(() => (evidence.textContent = "Copy evidence for a ticket"), 1500);
  });
  const body = h("div", { class: "tenant-body" });
  replace(
    root,
    h(
      "section",
      { class: "tenant-screen", "aria-labelledby": "tenant-title", testid: "tenant-view", "data-tenant-id": tenant.id },
      h("div", { class: "tenant-head" }, h("div", { id: "tenant-title" }, title, meta), h("div", { class: "tenant-head-side" }, recorded, evidence)),
      body,
    ),
  );

  /** @type {TabCtx} */
  const tabCtx = {
    store, actions, profileId, tenant, reason: () => reason, policy: session.access_reason,
    setFilter: (/** @type {api.AuditFilter} */ f) => {
      auditFilter = f;
    },
  };

  async function open() {
    const tok = store.guard.token("open");
    replace(body, h("p", { class: "muted loading", "aria-busy": "true", testid: "tenant-loading" }, `Opening ${tenant?.name}…`));
    try {
      overview = await store.guard.keep(tok, api.tenantOpen(profileId, /** @type {api.Tenant} */ (tenant).id, reason));
    } catch (err) {
      if (isStale(err)) return;
      const e = api.toApiError(err);
      if (e.kind === ErrorKind.ReasonRequired) {
        const answer = await askReason({ policy: "required", tenantName: /** @type {api.Tenant} */ (tenant).name, initial: reason });
        if (!store.guard.isCurrent(tok)) return;
        if (answer?.reason) {
          reason = answer.reason;
          void open();
          return;
        }
        replace(
          body,
          h(
            "div",
            { class: "empty-state", testid: "reason-missing" },
            h("p", null, e.message),
            h(
              "div",
              { class: "actions" },
              h("button", { type: "button", class: "primary", on: { click: () => void open() } }, "Give a reason…"),
              h("button", { type: "button", on: { click: () => store.show("tenants") } }, "Back to tenants"),
            ),
          ),
        );
        return;
      }
      replace(body, errorBox(e, { retry: () => void open(), reconnect: () => void actions.reconnect() }));
      return;
    }
    store.tenantResolved({ ...overview.tenant, status: overview.status ?? null });
    title.textContent = overview.tenant.name;
    if (overview.status) {
      statusBadge.textContent = overview.status;
      statusBadge.className = `pill ${overview.status === "active" ? "ok" : "warn"}`;
      statusBadge.dataset.status = overview.status;
      statusBadge.hidden = false;
    }
    recorded.textContent =
      overview.recorded === "yes"
        ? "This access was recorded in the tenant's support-access history."
        : overview.recorded === "no_log_table"
          ? "This database has no support-access log: the access was not recorded."
          : "";
    evidence.hidden = false;
    announce(`Opened tenant ${overview.tenant.name}.`);
    renderTabs();
  }

  function renderTabs() {
    const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Tenant" });
    const panels = h("div", { class: "panels" });
    for (const [key, label] of TABS) {
      const tab = h(
        "button",
        {
          type: "button", role: "tab", id: `tab-${key}`, "aria-controls": `panel-${key}`, "aria-selected": "false",
          tabindex: "-1", testid: `tab-${key}`, on: { click: () => select(key, true) },
        },
        label,
      );
      const panel = h("div", { id: `panel-${key}`, role: "tabpanel", "aria-labelledby": `tab-${key}`, hidden: true, testid: `panel-${key}`, class: "panel" });
      tablist.append(tab);
      panels.append(panel);
      parts.set(key, { tab, panel });
    }
    tablist.addEventListener("keydown", (e) => {
      const keys = TABS.map(([k]) => k);
      const i = keys.indexOf(store.state.tab);
      let next = -1;
      if (e.key === "ArrowRight") next = (i + 1) % keys.length;
      else if (e.key === "ArrowLeft") next = (i - 1 + keys.length) % keys.length;
      else if (e.key === "Home") next = 0;
      else if (e.key === "End") next = keys.length - 1;
      if (next < 0) return;
      e.preventDefault();
      select(keys[next], false);
      parts.get(keys[next])?.tab.focus();
    });
    replace(body, tablist, panels);
    select(store.state.tab, false);
  }

  /**
   * @param {TenantTab} key
   * @param {boolean} focusContent
   */
  function select(key, focusContent) {
    store.showTab(key);
    for (const [k, p] of parts) {
      const on = k === key;
      p.tab.setAttribute("aria-selected", String(on));
      p.tab.tabIndex = on ? 0 : -1;
      p.panel.hidden = !on;
    }
    const part = parts.get(key);
    if (!part) return;
    let view = views.get(key);
    if (!view) {
      view = mountTab(key, part.panel);
      views.set(key, view);
    }
    if (focusContent) view.focus?.();
  }

  /**
   * @param {TenantTab} key
   * @param {HTMLElement} panel
   * @returns {TabView}
   */
  function mountTab(key, panel) {
    switch (key) {
      case "overview":
        renderOverview(panel);
        return { unmount() {} };
      case "members":
        return membersTab.mount(panel, tabCtx);
      case "roles":
        return rolesTab.mount(panel, tabCtx);
      case "audit":
        return auditTab.mount(panel, tabCtx);
      case "access":
        return accessTab.mount(panel, tabCtx);
      default:
        return { unmount() {} };
    }
  }

  /** @param {HTMLElement} panel */
  function renderOverview(panel) {
    if (!overview) return;
    const s = overview.stats;
    const t = overview.tenant;
    const ev = s.audit_events_30d;
    replace(
      panel,
      h(
        "div",
        { class: "overview-top" },
      h(
        "div",
        { class: "stats", testid: "tenant-stats" },
        stat("Members", formatCount(s.members), "stat-members", null),
        stat(
          "Audit events, last 30 days",
          formatEstimate(ev),
          "stat-events",
          ev.is_estimate ? "Estimated from the database's statistics (≈): the exact count would scan too many rows." : null,
        ),
        stat("Last activity", s.last_activity ? formatAgo(s.last_activity, Date.now()) : "none", "stat-last", s.last_activity ? timeTitle(s.last_activity) : null),
      ),
      h(
        "dl",
        { class: "props" },
        h("dt", null, "Name"), h("dd", null, t.name),
        overview.status
          ? [h("dt", null, "Status"), h("dd", null, h("span", { class: `pill ${overview.status === "active" ? "ok" : "warn"}`, testid: "prop-status" }, overview.status))]
          : null,
        overview.plan ? [h("dt", null, "Plan"), h("dd", { testid: "prop-plan" }, overview.plan)] : null,
        overview.created_at
          ? [h("dt", null, "Created"), h("dd", { title: timeTitle(overview.created_at), testid: "prop-created" }, `${formatDate(overview.created_at)} (${formatAgo(overview.created_at, Date.now())})`)]
          : null,
        h("dt", null, "Slug"), h("dd", { class: "mono" }, t.slug),
        h("dt", null, "Id"), h("dd", { class: "mono" }, h("span", { id: "tenant-id-value" }, t.id), " ", copyButton("tenant-id-value", "Copy the tenant id")),
      ),
      ),
      glanceBox,
    );
    void loadGlance();
  }

  const glanceBox = h("div", { class: "glance", testid: "glance" }, h("p", { class: "muted loading", "aria-busy": "true" }, "Reading the latest events…"));

  async function loadGlance() {
    const tok = store.guard.token("glance");
    /** @type {api.Glance} */
    let g;
    try {
      g = await store.guard.keep(tok, api.tenantGlance(profileId, /** @type {api.Tenant} */ (tenant).id));
    } catch (err) {
      if (isStale(err)) return;
      replace(glanceBox, errorBox(err, { retry: () => void loadGlance() }));
      return;
    }
    const now = Date.parse(g.as_of) || Date.now();
    const when = (/** @type {string} */ iso) => h("time", { datetime: iso, title: timeTitle(iso) }, formatAgo(iso, now));
    const who = (/** @type {string | null} */ email, /** @type {string | null} */ id) =>
      email ? h("span", { title: id ?? "" }, email) : id ? h("span", { class: "mono", title: id }, id.slice(0, 8)) : h("span", { class: "muted" }, "system");
    const panel = (/** @type {string} */ title, /** @type {string} */ testid, /** @type {import("../dom.js").Children} */ content) =>
      h("section", { class: "glance-panel", testid, "aria-label": title }, h("h3", null, title), content);
    const empty = (/** @type {string} */ text) => h("p", { class: "muted" }, text);
    const latest = g.latest.length
      ? h(
          "table",
          { class: "data glance-table" },
          h("thead", null, h("tr", null, h("th", null, "When"), h("th", null, "Actor"), h("th", null, "Action"), h("th", null, "Resource"))),
          h(
            "tbody",
            null,
            g.latest.map((e) =>
              h(
                "tr",
                { testid: "glance-event", "data-event-id": e.id },
                h("td", { class: "nowrap" }, when(e.occurred_at)),
                h("td", { class: "cut" }, who(e.actor_email, e.actor_id)),
                h("td", { class: "mono cut" }, e.action),
                h("td", { class: "cut" }, [e.resource_type, e.resource_id].filter(Boolean).join(" · ")),
              ),
            ),
          ),
        )
      : empty("No events yet.");
    const aa = g.active_actors;
    const actors = aa.items.length
      ? h(
          "ol",
          { class: "ranked" },
          aa.items.map((a) =>
            h("li", { testid: "glance-actor" }, who(a.email, a.actor_id), h("span", { class: "count" }, `${formatCount(a.events)} event${a.events === 1 ? "" : "s"}`), " · last ", when(a.last)),
          ),
        )
      : empty("Nobody did anything in the last 30 days.");
    const fl = g.failed_logins;
    const failed = h(
      "div",
      null,
      h(
        "p",
        { class: fl.count.value > 0 ? "warn-line" : "muted", testid: "glance-failed-count" },
        fl.count.value > 0 ? `${formatEstimate(fl.count)} failed sign-in${fl.count.value === 1 ? "" : "s"} (${fl.action})` : `No failed sign-ins (${fl.action}).`,
      ),
      fl.latest.length > 0 &&
        h(
          "ul",
          { class: "plain" },
          fl.latest.map((e) => h("li", { testid: "glance-failed" }, when(e.occurred_at), " · ", who(e.actor_email, e.actor_id), e.ip ? h("span", { class: "mono" }, ` · ${e.ip}`) : null)),
        ),
    );
    const access = g.recent_access.length
      ? h(
          "ul",
          { class: "plain" },
          g.recent_access.map((a) =>
            h("li", { testid: "glance-access" }, when(a.at), ` · ${a.os_user || a.db_user} (${a.action})`, a.detail ? ` · ${a.category}: ${a.detail}` : " · no reason given"),
          ),
        )
      : empty("No support access recorded.");
    replace(
      glanceBox,
      h(
        "div",
        { class: "glance-grid" },
        panel("Latest events", "glance-latest", latest),
        h(
          "div",
          { class: "glance-side" },
          panel(
            "Most active, last 30 days",
            "glance-actors",
            [actors, aa.capped ? h("p", { class: "hint" }, `Counted over the newest ${formatCount(aa.events_read)} events.`) : null],
          ),
          panel("Failed sign-ins, last 30 days", "glance-failed-logins", failed),
          panel("Recent support access", "glance-access-panel", access),
        ),
      ),
    );
  }

  /**
   * @param {string} label
   * @param {string} value
   * @param {string} testid
   * @param {string | null} note
   */
  function stat(label, value, testid, note) {
    return h(
      "div",
      { class: "stat", testid },
      h("div", { class: "stat-value" }, value),
      h("div", { class: "stat-label" }, label),
      note && h("div", { class: "stat-note" }, note),
    );
  }

  void open();

  return {
    unmount() {
      for (const v of views.values()) v.unmount();
      store.guard.abandon("open");
      store.guard.abandon("glance");
    },
  };
}
