// @ts-check
/**
 * Consent the database enforces, as the tenant view shows it: a tenant that requires its own live approval
 * before support reads it. The panel says so, offers "Request access" (a reason, how long, read or export),
 * then waits for the tenant's answer — live on the app's channel, or by asking every 5 seconds where there is
 * none (a transaction pooler) — and hands over as soon as the approval is there. While an approved tenant is
 * open, `followApproval` keeps its time left in sight and says when it ends (expired, revoked). Nothing here
 * reads the tenant's data: only where this login stands with it.
 */
import * as api from "../api.js";
import { announce, field, h, replace, select, uid } from "../dom.js";
import { errorBox } from "../errors.js";
import { formatTime, formatTimeLeft, timeLeftTick, timeTitle } from "../format.js";
import { REASON_CATEGORIES } from "../prompts.js";

/** @typedef {import("../actions.js").Actions} Actions */
/** @typedef {import("../api.js").AccessStatus} AccessStatus */
/** @typedef {import("../api.js").AccessRequest} AccessRequest */
/** @typedef {import("../api.js").Approval} Approval */

/** How often a page without a live channel asks where the approval stands, while waiting or approved. */
export const POLL_MS = 5000;
/** With a live channel, still ask now and then: a channel can end without a word (a dropped connection). */
const SAFETY_POLL_MS = 60000;
/** The longest access a request may ask for (the core's MAX_MINUTES): one week. */
export const MAX_MINUTES = 7 * 24 * 60;

/**
 * "14:05" in the user's time zone.
 * @param {string | null | undefined} iso
 */
function hhmm(iso) {
  const t = formatTime(iso);
  return /^\d{4}-/.test(t) ? t.slice(11, 16) : t;
}

/**
 * Watches where this login stands with one tenant: on each change the channel announces for it (or for any
 * tenant: ""), and every `pollMs` where there is no channel (or rarely, as a safety net, where there is).
 * @param {{ actions: Actions, profileId: string, tenantId: string, check: () => void, poll: () => boolean }} o
 *   `poll`: whether to poll now (waiting or approved), asked at each tick
 */
function follow(o) {
  let stopped = false;
  const sub = o.actions.watchConsent(o.profileId, (tid) => {
    if (!stopped && (tid === "" || tid === o.tenantId)) o.check();
  });
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  /** @type {boolean | null} */
  let isLive = null;
  void sub.live.then((live) => {
    if (stopped) return;
    isLive = live;
    timer = setInterval(() => {
      if (!stopped && o.poll()) o.check();
    }, live ? SAFETY_POLL_MS : POLL_MS);
  });
  return {
    /** true: changes arrive live; false: polled; null: not known yet */
    get live() {
      return isLive;
    },
    liveness: sub.live,
    stop() {
      stopped = true;
      clearInterval(timer);
      sub.stop();
    },
  };
}

/**
 * The panel shown in the tenant view instead of its data.
 * @param {object} o
 * @param {Actions} o.actions
 * @param {string} o.profileId
 * @param {api.Tenant} o.tenant
 * @param {string | null} o.message   the refusal's message (for the details), when there was one
 * @param {boolean} o.closed          the tenant was open and has just been closed for it
 * @param {api.AccessReason | null} o.reason  offered in the request form (the reason given on opening)
 * @param {boolean} [o.autoOpen]  open as soon as it is approved (default); false right after an opening on an
 *   approval was refused anyway, so the two never chase each other: the user opens it again
 * @param {(request: AccessRequest | null) => void} o.onApproved  the approval is there: open the tenant again
 * @param {() => void} o.onBack
 */
export function consentPanel(o) {
  const { tenant } = o;
  let destroyed = false;
  /** @type {"ask" | "form" | "pending"} */
  let shown = "ask";
  /** The last status read (none yet: the first check failed or is on its way). */
  /** @type {AccessStatus | null} */
  let status = null;
  /** Which check is the newest: an older answer arriving late is not shown. */
  let seq = 0;

  const stateLine = h("p", { class: "consent-state", testid: "consent-state", role: "status" }, "Checking where this login stands with the tenant…");
  const area = h("div", { class: "consent-area" });
  const titleId = uid("consent-title");
  const el = h(
    "section",
    { class: "consent-panel", testid: "consent-panel", "data-state": "checking", "aria-labelledby": titleId },
    h(
      "div",
      { class: "consent-head" },
      h("span", { class: "consent-icon", "aria-hidden": "true" }),
      h(
        "div",
        null,
        h("h2", { id: titleId, testid: "consent-title" }, `${tenant.name} requires its own approval`),
        h(
          "p",
          { class: "consent-explain" },
          "Support reads this tenant only while one of its admins has approved it, for your database login, for a limited time. Ask for access: the tenant's admins see your reason and approve or refuse it in the product.",
        ),
      ),
    ),
    stateLine,
    area,
    o.message && h("details", { class: "consent-said" }, h("summary", null, "What the database said"), h("p", { class: "mono" }, o.message)),
  );

  const watch = follow({
    actions: o.actions,
    profileId: o.profileId,
    tenantId: tenant.id,
    check: () => void check(),
    poll: () => shown === "pending",
  });

  /** @param {string} text */
  const setState = (text) => {
    stateLine.textContent = text;
  };

  async function check() {
    const mine = ++seq;
    /** @type {AccessStatus} */
    let st;
    try {
      st = await api.accessStatus(o.profileId, tenant.id);
    } catch (err) {
      if (destroyed || mine !== seq) return;
      if (!status) {
        setState("Where this login stands with the tenant could not be read.");
        replace(area, errorBox(err, { retry: () => void check() }), askActions());
      }
      return;
    }
    if (destroyed || mine !== seq) return;
    render(st);
  }

  /** @param {AccessStatus} st */
  function render(st) {
    status = st;
    el.dataset.state = st.state;
    if ((st.state === "approved" || st.state === "not_required") && o.autoOpen === false) {
      setState(`${tenant.name} shows an approval, but opening it was refused (see what the database said below).`);
      shown = "ask";
      replace(
        area,
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "primary", testid: "consent-open", on: { click: () => { destroy(); o.onApproved(st.request); } } }, "Open it again"),
          h("button", { type: "button", testid: "consent-back", on: { click: () => o.onBack() } }, "Back to tenants"),
        ),
      );
      return;
    }
    if (st.state === "approved" || st.state === "not_required") {
      setState(st.state === "approved" ? `${tenant.name} approved the access. Opening…` : `${tenant.name} no longer requires its approval. Opening…`);
      announce(`${tenant.name} approved the access.`);
      const request = st.request;
      destroy();
      o.onApproved(request);
      return;
    }
    if (st.state === "pending" && st.request) {
      showPending(st.request);
      return;
    }
    const by = st.approved_by ? ` (approved by ${st.approved_by})` : "";
    const closed = o.closed ? " The tenant was closed." : "";
    if (st.state === "revoked") {
      setState(`${tenant.name} revoked its approval${st.revoked_at ? ` at ${hhmm(st.revoked_at)}` : ""}${by}.${closed} Request access again to continue.`);
    } else if (st.state === "expired") {
      setState(`The approval ran out${st.expires_at ? ` at ${hhmm(st.expires_at)}` : ""}${by}.${closed} Request access again to continue.`);
    } else {
      setState(
        st.request
          ? `No access is approved: the last request (${hhmm(st.request.created_at)}) was not approved.${closed}`
          : `No access has been requested yet.${closed}`,
      );
    }
    if (shown === "pending" || !area.firstChild) showAsk();
  }

  function askActions() {
    return h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", testid: "consent-request", on: { click: () => showForm() } }, "Request access…"),
      h("button", { type: "button", testid: "consent-back", on: { click: () => o.onBack() } }, "Back to tenants"),
    );
  }

  function showAsk() {
    shown = "ask";
    replace(area, askActions());
  }

  function showForm() {
    shown = "form";
    const category = select({ id: uid("consent-cat"), testid: "consent-category" }, REASON_CATEGORIES, o.reason?.category ?? "support-ticket");
    const detail = h("input", {
      id: uid("consent-detail"), type: "text", maxlength: "500", autocomplete: "off", spellcheck: "false", required: true,
      value: o.reason?.detail ?? "", testid: "consent-detail",
    });
    const minutes = h("input", {
      id: uid("consent-minutes"), type: "number", min: "1", max: String(MAX_MINUTES), step: "1", value: "60", required: true,
      inputmode: "numeric", testid: "consent-minutes",
    });
    const scopeName = uid("consent-scope");
    const readId = uid("consent-read");
    const exportId = uid("consent-export");
    const read = h("input", { type: "radio", name: scopeName, id: readId, value: "read", checked: true, testid: "consent-scope-read" });
    const exp = h("input", { type: "radio", name: scopeName, id: exportId, value: "export", testid: "consent-scope-export" });
    const problem = h("div", { class: "field-error", role: "alert", hidden: true, testid: "consent-problem" });
    const formId = uid("consent-form");
    const send = h("button", { type: "submit", form: formId, class: "primary", testid: "consent-send" }, "Send the request");
    const form = h(
      "form",
      { id: formId, class: "consent-form stack", novalidate: true, testid: "consent-form", "aria-label": `Request access to ${tenant.name}` },
      h(
        "div",
        { class: "row" },
        field("Category", category),
        field("Reason", detail, "A ticket id, an incident number, or a sentence: the tenant's admins read it."),
      ),
      h(
        "div",
        { class: "row" },
        field("For how long (minutes)", minutes, `1 to ${MAX_MINUTES} (a week).`),
        h(
          "fieldset",
          { class: "choices" },
          h("legend", null, "Access to"),
          h("div", { class: "choice" }, read, h("label", { for: readId }, "Read the tenant")),
          h("div", { class: "choice" }, exp, h("label", { for: exportId }, "Read and export its audit log")),
        ),
      ),
      problem,
      h(
        "div",
        { class: "actions" },
        send,
        h("button", { type: "button", testid: "consent-cancel", on: { click: () => showAsk() } }, "Cancel"),
      ),
    );
    for (const input of [detail, minutes]) {
      input.addEventListener("input", () => {
        input.removeAttribute("aria-invalid");
        problem.hidden = true;
      });
    }
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = detail.value.trim();
      const n = Number(minutes.value);
      /** @type {string | null} */
      let wrong = null;
      if (!text) {
        wrong = "Give a reason: the tenant's admins decide on it.";
        detail.setAttribute("aria-invalid", "true");
        detail.focus();
      } else if (!Number.isInteger(n) || n < 1 || n > MAX_MINUTES) {
        wrong = `Ask for 1 to ${MAX_MINUTES} whole minutes.`;
        minutes.setAttribute("aria-invalid", "true");
        minutes.focus();
      }
      if (wrong) {
        replace(problem, wrong);
        problem.hidden = false;
        return;
      }
      send.disabled = true;
      send.textContent = "Sending…";
      try {
        const res = await api.accessRequest(
          o.profileId,
          tenant.id,
          { category: /** @type {api.ReasonCategory} */ (category.value), detail: text },
          n,
          exp.checked ? "export" : "read",
        );
        if (destroyed) return;
        seq += 1; // an older check must not undo the pending state
        el.dataset.state = "pending";
        showPending(res.request);
        announce(`Access requested. Waiting for ${tenant.name}'s approval.`);
        // The answer may already be there (an admin who approves at once): look now.
        void check();
      } catch (err) {
        if (destroyed) return;
        send.disabled = false;
        send.textContent = "Send the request";
        replace(problem, errorBox(err));
        problem.hidden = false;
      }
    });
    replace(area, form);
    detail.value ? minutes.focus() : detail.focus();
  }

  /** @param {AccessRequest} r */
  function showPending(r) {
    shown = "pending";
    setState(`Waiting for ${tenant.name}'s approval — requested ${hhmm(r.created_at)}`);
    stateLine.title = timeTitle(r.created_at);
    const how = h("p", { class: "hint", testid: "consent-how" }, "…");
    const showHow = (/** @type {boolean | null} */ live) => {
      how.textContent =
        live === false
          ? "This connection has no live channel (a transaction pooler): the console asks every 5 seconds and opens the tenant once it is approved."
          : "The tenant opens here as soon as it is approved.";
    };
    showHow(watch.live);
    void watch.liveness.then((live) => showHow(live));
    replace(
      area,
      h(
        "div",
        { class: "consent-pending", testid: "consent-pending" },
        h("span", { class: "loading", "aria-hidden": "true" }),
        h(
          "p",
          { testid: "consent-request-summary" },
          `${r.minutes} min, ${r.scope === "export" ? "read and export" : "read"} · ${r.category}: ${r.detail}`,
        ),
      ),
      how,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", testid: "consent-check", on: { click: () => void check() } }, "Check now"),
        h("button", { type: "button", testid: "consent-back", on: { click: () => o.onBack() } }, "Back to tenants"),
      ),
    );
  }

  function destroy() {
    destroyed = true;
    watch.stop();
  }

  void check();
  return { el, destroy };
}

/**
 * Keeps an open tenant's approval in sight ("Approved by X · 23 min left") and watches it: when the channel
 * (or, without one, the 5-second poll) says it is no longer approved, or its time is up, `onEnd` gets the
 * state it ended in (`revoked`, `expired`, ...).
 * @param {object} o
 * @param {Actions} o.actions
 * @param {string} o.profileId
 * @param {api.Tenant} o.tenant
 * @param {Approval} o.approval
 * @param {HTMLElement} o.line  where the time left shows
 * @param {(state: import("../api.js").ConsentState) => void} o.onEnd
 */
export function followApproval(o) {
  let stopped = false;
  let approvedBy = o.approval.approved_by;
  let scope = o.approval.scope;
  /** The end, on this computer's clock (set again from the server's seconds_left at each check). */
  let deadline = Date.parse(o.approval.expires_at);
  // An end this page cannot read: the server's seconds_left sets it at the first check.
  const unreadable = !Number.isFinite(deadline);
  if (unreadable) deadline = Date.now() + POLL_MS;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let tick;
  let seq = 0;
  const text = h("span", { testid: "approval-left-text" });
  const scopePill = h("span", { class: "pill", testid: "approval-scope" });
  replace(o.line, h("span", { class: "consent-icon small", "aria-hidden": "true" }), text, scopePill);
  o.line.hidden = false;

  const watch = follow({ actions: o.actions, profileId: o.profileId, tenantId: o.tenant.id, check: () => void check(), poll: () => true });

  function show() {
    clearTimeout(tick);
    if (stopped) return;
    const left = deadline - Date.now();
    text.textContent = `Approved by ${approvedBy} · ${formatTimeLeft(left)}`;
    scopePill.textContent = scope === "export" ? "read + export" : "read only";
    o.line.classList.toggle("ending", left < 5 * 60000);
    o.line.title = `The tenant's approval ends at ${timeTitle(new Date(deadline).toISOString())}; the tenant closes then.`;
    if (left <= 0) {
      void check(true);
      return;
    }
    tick = setTimeout(show, timeLeftTick(left));
  }

  /** @param {boolean} [due]  the time is up on this computer's clock */
  async function check(due = false) {
    const mine = ++seq;
    /** @type {AccessStatus} */
    let st;
    try {
      st = await api.accessStatus(o.profileId, o.tenant.id);
    } catch {
      // Where it stands cannot be read now: the next change, poll or page says.
      if (due && !stopped && mine === seq) tick = setTimeout(() => void check(true), POLL_MS);
      return;
    }
    if (stopped || mine !== seq) return;
    if (st.state === "approved" && (st.seconds_left ?? 1) > 0) {
      // The server's clock decides: an approval extended, or this computer's clock ahead.
      if (st.seconds_left !== null) deadline = Date.now() + st.seconds_left * 1000;
      else if (st.expires_at) deadline = Date.parse(st.expires_at);
      if (st.approved_by) approvedBy = st.approved_by;
      if (st.scope) scope = st.scope;
      show();
      return;
    }
    if (st.state === "not_required") {
      stop();
      o.line.hidden = true;
      return;
    }
    stop();
    o.line.hidden = true;
    replace(o.line);
    o.onEnd(st.state === "approved" ? "expired" : st.state);
  }

  function stop() {
    stopped = true;
    clearTimeout(tick);
    watch.stop();
  }

  show();
  if (unreadable) void check();
  return {
    stop() {
      stop();
      o.line.hidden = true;
      replace(o.line);
    },
  };
}

/** The badge of a tenant that requires its own approval before support reads it. */
export function consentBadge() {
  return h(
    "span",
    { class: "badge consent", testid: "consent-badge", title: "This tenant requires its own live approval before support reads it: opening it offers to request access" },
    "approval required",
  );
}
