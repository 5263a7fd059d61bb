// @ts-check
/**
 * The tenant view: opens the tenant (with the access reason when the profile wants one; the access is
 * recorded), then shows its overview and the tabs Members, Roles, Audit log and Access history. Each tab loads
 * when first shown and keeps its rows while the tenant stays open. A new tenant means a new view: this one is
 * unmounted and everything it still waits for is dropped by the guard. A tenant that requires its own approval
 * shows the consent panel instead (consent.js) and opens once approved; while open, its time left stays in the
 * header, and when the approval ends (revoked, expired, or a page refused for it) the tabs close and the panel
 * comes back.
 */
import * as api from "../api.js";
import { ErrorKind } from "../api.js";
import { announce, h, replace } from "../dom.js";
import { copyButton, writeText } from "../elements/copy-button.js";
import { evidenceMarkdown, evidenceText } from "../evidence.js";
import { errorBox } from "../errors.js";
import { formatAgo, formatCount, formatDate, formatEstimate, formatTime, localZone, timeTitle } from "../format.js";
import { isStale } from "../guard.js";
import { cell, maskedBy, maskedLabel, maskedNote, updateMaskedNote } from "../masked.js";
import { askReason } from "../prompts.js";
import { reasonLabel, reusedReason, reuseMinutes, sameReason } from "../reasons.js";
import * as accessTab from "./access.js";
import * as auditTab from "./audit.js";
import { consentPanel, followApproval } from "./consent.js";
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
 * @property {(get: () => AuditView) => void} [provideAudit]  the Audit log tab says how to read what it shows
 *   (filters, the event whose detail is open, the rows), for the evidence
 * @property {(who: { email: string }) => void} [showMember]  opens the Members tab filtered to one member
 * @property {(error: unknown) => boolean} consentLost  a read failed: true when it was refused for want of the
 *   tenant's approval (the view then closes its tabs and shows the consent panel; the caller shows nothing)
 */

/**
 * What the Audit log tab shows, for the evidence.
 * @typedef {object} AuditView
 * @property {import("../api.js").AuditFilter} filter
 * @property {import("../api.js").AuditEvent | null} selected   the event whose detail is open
 * @property {import("../api.js").AuditEvent[]} rows           the rows loaded, in the order shown
 * @property {string[]} masked
 */

/** @typedef {{ unmount(): void, focus?(): void, showMember?(who: { email: string }): void }} TabView */

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
  // A tenant open on its approval: who approved and the time left, always in sight.
  const approvalLine = h("p", { class: "approval-line", testid: "approval-left", hidden: true, role: "status" });
  /** @type {{ stop(): void } | null} */
  let approval = null;
  /** @type {{ el: HTMLElement, destroy(): void } | null} */
  let consent = null;
  /** The opening under way was started by an approval (so a refusal now must not start another by itself). */
  let onApproval = false;
  /** How to read what the Audit log tab shows (set when it mounts), for the evidence. */
  /** @type {(() => AuditView) | null} */
  let auditView = null;
  const evidenceInput = () => {
    const s = store.state.session;
    if (!s || !overview) return null;
    const v = auditView?.() ?? null;
    return {
      tenant: overview.tenant,
      status: overview.status ?? null,
      filter: v ? v.filter : null,
      events: v ? (v.selected ? [v.selected] : v.rows) : [],
      eventOpen: !!v?.selected,
      masked: v?.masked ?? [],
      zone: localZone(),
      reason,
      policy: s.access_reason,
      recordId: overview.record_id ?? null,
      recorded: overview.recorded ?? null,
      isolation: {
        login: s.login.user, database: s.login.database, enforced: s.bypass_reasons.length === 0,
        reasons: s.bypass_reasons, checkedAt: store.connectedAt,
      },
      profile: s.profile_name,
      version: document.getElementById("app-version")?.textContent?.replace(/^v/, "") || "?",
      now: Date.now(),
    };
  };
  /**
   * A button that copies the evidence in one format.
   * @param {string} label
   * @param {string} testid
   * @param {(e: import("../evidence.js").EvidenceInput) => string} render
   * @param {string} what  for the announcement
   * @param {string} done  the button's text for a moment after copying
   */
  const evidenceButton = (label, testid, render, what, done) => {
    const b = h("button", { type: "button", testid, "aria-label": `Copy evidence for a ticket ${what}` }, label);
    b.addEventListener("click", async () => {
      const input = evidenceInput();
      if (!input) return;
      const text = render(input);
      await writeText(text);
      b.dataset.copied = text;
      b.textContent = done;
      announce(`The evidence was copied ${what}.`);
      setTimeout(() => (b.textContent = label), 1500);
    });
    return b;
  };
  const evidence = h(
    "div",
    { class: "evidence-actions", role: "group", "aria-label": "Evidence for a ticket", hidden: true, testid: "evidence-actions" },
    evidenceButton("Copy evidence for a ticket", "copy-evidence", evidenceText, "as plain text", "Evidence copied"),
    evidenceButton("as Markdown", "copy-evidence-markdown", evidenceMarkdown, "as Markdown", "Markdown copied"),
  );
  evidence.title = "The tenant, the reason and access record of this visit, the audit filters and the event on screen (its detail, else the rows), the isolation status: to paste into the ticket.";
  // The reason this tenant was opened with, in sight (it goes into the tenant's access history), and whether it
  // covers the next tenants of the ticket too.
  const reasonLine = h("p", { class: "reason-line", testid: "tenant-reason", hidden: true });
  function renderReason() {
    const s = store.state.session;
    if (!reason || !s || s.access_reason === "off") {
      reasonLine.hidden = true;
      return;
    }
    const live = reusedReason(store.reasonReuse, s.profile_id, Date.now());
    const reused = live && sameReason(live, reason) ? /** @type {import("../reasons.js").ReasonReuse} */ (store.reasonReuse) : null;
    replace(
      reasonLine,
      h("span", null, `Reason: ${reasonLabel(reason)}`),
      reused &&
        h(
          "span",
          { class: "muted", testid: "tenant-reason-reuse" },
          ` · used for other tenants until ${formatTime(new Date(reused.until).toISOString(), localZone()).slice(11, 16)}`,
        ),
      reused &&
        h(
          "button",
          {
            type: "button", class: "link", testid: "reason-reuse-stop",
            on: { click: () => { store.reasonReuse = null; renderReason(); announce("The next tenant will ask for its reason."); } },
          },
          "Stop",
        ),
    );
    reasonLine.hidden = false;
  }
  const body = h("div", { class: "tenant-body" });
  replace(
    root,
    h(
      "section",
      { class: "tenant-screen", "aria-labelledby": "tenant-title", testid: "tenant-view", "data-tenant-id": tenant.id },
      h("div", { class: "tenant-head" }, h("div", { id: "tenant-title" }, title, meta), h("div", { class: "tenant-head-side" }, approvalLine, recorded, reasonLine, evidence)),
      body,
    ),
  );

  /** @type {TabCtx} */
  const tabCtx = {
    store, actions, profileId, tenant, reason: () => reason, policy: session.access_reason,
    provideAudit: (get) => {
      auditView = get;
    },
    showMember: (who) => {
      select("members", false);
      views.get("members")?.showMember?.(who);
    },
    consentLost: (err) => {
      if (!(err instanceof api.ApiError) || err.kind !== ErrorKind.ConsentRequired) return false;
      if (!consent) showConsent(err.message, true);
      return true;
    },
  };

  /**
   * Shows the consent panel instead of the tenant's data: its tabs close, nothing of it stays on screen.
   * @param {string | null} message  the refusal's words
   * @param {boolean} closed  the tenant was open until now
   */
  function showConsent(message, closed) {
    approval?.stop();
    approval = null;
    closeTabs();
    evidence.hidden = true;
    reasonLine.hidden = true;
    recorded.textContent = "";
    consent?.destroy();
    const s = store.state.session;
    consent = consentPanel({
      actions, profileId, tenant: /** @type {api.Tenant} */ (tenant), message, closed, reason: reason ?? store.reasons[0] ?? null, autoOpen: !onApproval,
      onApproved: (request) => {
        consent = null;
        onApproval = true;
        // Opening carries a reason where the profile asks for one: the one the request gave, if none was given.
        if (!reason && request && s?.access_reason !== "off") {
          reason = { category: /** @type {api.ReasonCategory} */ (request.category), detail: request.detail };
        }
        void open();
      },
      onBack: () => store.show("tenants"),
    });
    replace(body, consent.el);
    if (closed) announce(`The access to ${tenant?.name} ended: its data was closed.`);
  }

  /** Unmounts the tabs and forgets them (their rows go with them). */
  function closeTabs() {
    for (const v of views.values()) v.unmount();
    views.clear();
    parts.clear();
    store.guard.abandon("glance");
    overview = null;
  }

  async function open() {
    const tok = store.guard.token("open");
    replace(body, h("p", { class: "muted loading", "aria-busy": "true", testid: "tenant-loading" }, `Opening ${tenant?.name}…`));
    try {
      overview = await store.guard.keep(tok, api.tenantOpen(profileId, /** @type {api.Tenant} */ (tenant).id, reason));
    } catch (err) {
      if (isStale(err)) return;
      const e = api.toApiError(err);
      if (e.kind === ErrorKind.ConsentRequired) {
        showConsent(e.message, false);
        onApproval = false;
        return;
      }
      onApproval = false;
      if (e.kind === ErrorKind.ReasonRequired) {
        const minutes = reuseMinutes("required", store.state.profile?.access_grant_minutes);
        const answer = await askReason({
          policy: "required", tenantName: /** @type {api.Tenant} */ (tenant).name, initial: reason, recent: store.reasons, reuseMinutes: minutes,
        });
        if (!store.guard.isCurrent(tok)) return;
        if (answer?.reason) {
          reason = answer.reason;
          store.rememberReason(reason);
          const s = store.state.session;
          if (answer.reuse && minutes && s) store.reasonReuse = { profileId: s.profile_id, reason, until: Date.now() + minutes * 60000 };
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
    onApproval = false;
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
        ? `This access was recorded in the tenant's support-access history${overview.record_id ? ` (record ${overview.record_id})` : ""}.`
        : overview.recorded === "no_log_table"
          ? "This database has no support-access log: the access was not recorded."
          : "";
    evidence.hidden = false;
    renderReason();
    announce(`Opened tenant ${overview.tenant.name}.`);
    approval?.stop();
    approval = null;
    if (overview.approval) {
      approval = followApproval({
        actions, profileId, tenant: overview.tenant, approval: overview.approval, line: approvalLine,
        onEnd: () => {
          approval = null;
          if (!consent) showConsent(null, true);
        },
      });
    }
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
    // A suspended (or deleted) customer is said in a sentence above everything else. The overview carries no
    // date of the change, so there is no "since" to give.
    const inactive = overview.status && overview.status !== "active" ? overview.status : null;
    replace(
      panel,
      inactive &&
        h(
          "p",
          { class: "status-notice", role: "note", testid: "tenant-status-notice" },
          h("span", { class: "pill warn" }, inactive),
          ` ${t.name} is ${inactive}.`,
        ),
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
    replace(glanceBox, h("p", { class: "muted loading", "aria-busy": "true" }, "Reading the latest events…"));
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
      if (isStale(err) || tabCtx.consentLost(err)) return;
      replace(glanceBox, errorBox(err, { retry: () => void loadGlance() }));
      return;
    }
    const now = Date.parse(g.as_of) || Date.now();
    const when = (/** @type {string} */ iso) => h("time", { datetime: iso, title: timeTitle(iso) }, formatAgo(iso, now));
    const masked = g.masked_columns ?? [];
    const who = (/** @type {string | null} */ email, /** @type {string | null} */ id) => {
      if (email) return h("span", { title: id ?? "" }, email);
      if (id) return h("span", { class: "mono", title: id }, id.slice(0, 8));
      const by = maskedBy("actor_email", null, masked) ?? maskedBy("actor_id", null, masked);
      return by ? maskedLabel(by) : h("span", { class: "muted" }, "system");
    };
    const resource = (/** @type {api.AuditEvent} */ e) => {
      if (e.resource_type || e.resource_id) return [e.resource_type, e.resource_id].filter(Boolean).join(" · ");
      const by = maskedBy("resource_type", null, masked) ?? maskedBy("resource_id", null, masked);
      return by ? maskedLabel(by) : "";
    };
    const maskedPart = (/** @type {string} */ testid, /** @type {string} */ what) =>
      h("p", { class: "muted masked-part", testid }, h("span", { class: "masked" }, "masked for this login"), ` — ${what}`);
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
                h("td", { class: "mono cut" }, cell("action", e.action, masked)),
                h("td", { class: "cut" }, resource(e)),
              ),
            ),
          ),
        )
      : empty("No events yet.");
    const aa = g.active_actors;
    const actors = aa.masked
      ? maskedPart("glance-actors-masked", "the audit log's actor column cannot be read, so no one can be ranked.")
      : aa.items.length
      ? h(
          "ol",
          { class: "ranked" },
          aa.items.map((a) =>
            h("li", { testid: "glance-actor" }, who(a.email, a.actor_id), h("span", { class: "count" }, `${formatCount(a.events)} event${a.events === 1 ? "" : "s"}`), " · last ", when(a.last)),
          ),
        )
      : empty("Nobody did anything in the last 30 days.");
    const fl = g.failed_logins;
    const failed = fl.masked
      ? maskedPart("glance-failed-masked", `the audit log's action column cannot be read, so failed sign-ins (${fl.action}) cannot be told apart.`)
      : h(
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
    const note = maskedNote("glance-masked-note");
    updateMaskedNote(note, masked);
    replace(
      glanceBox,
      note,
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
      approval?.stop();
      consent?.destroy();
    },
  };
}
