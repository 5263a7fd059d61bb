// @ts-check
/**
 * The questions the app asks on the way to data: the database password when the keyring has none (remember it
 * in the keyring, or use it for this session only), whether to trust SSH host keys seen for the first time, and
 * the reason for opening a tenant when the profile asks for one. Each resolves with the answer, or null (false)
 * when the user cancels.
 */
import { focusFirst, openDialog } from "./dialog.js";
import { append, field, h, select, uid } from "./dom.js";

/** @typedef {import("./api.js").AccessReason} AccessReason */
/** @typedef {import("./api.js").ReasonCategory} ReasonCategory */
/** @typedef {import("./api.js").ReasonPolicy} ReasonPolicy */

/** The reason categories, as the core names them. */
export const REASON_CATEGORIES = /** @type {[ReasonCategory, string][]} */ ([
  ["support-ticket", "Support ticket"],
  ["incident", "Incident"],
  ["audit-request", "Audit request"],
  ["other", "Other"],
]);

/**
 * Asks for a profile's password.
 * @param {{ profileName: string, why: string, canRemember: boolean }} opts
 * @returns {Promise<{ password: string, remember: boolean } | null>}
 */
export async function askPassword(opts) {
  const d = openDialog({ title: `Password for ${opts.profileName}`, testid: "password-dialog" });
  const pw = h("input", { id: uid("pw"), type: "password", autocomplete: "current-password", required: true, autofocus: true, testid: "password-input" });
  const name = uid("pw-mode");
  const rememberId = uid("pw-remember");
  const sessionId = uid("pw-session");
  const remember = h("input", { type: "radio", name, id: rememberId, value: "remember", checked: opts.canRemember, disabled: !opts.canRemember, testid: "password-remember" });
  const session = h("input", { type: "radio", name, id: sessionId, value: "session", checked: !opts.canRemember, testid: "password-session" });
  const problem = h("p", { class: "field-error", role: "alert", hidden: true });
  const formId = uid("pw-form");
  const form = h(
    "form",
    { class: "stack", novalidate: true, id: formId },
    h("p", null, opts.why),
    field("Password", pw),
    h(
      "fieldset",
      { class: "choices" },
      h("legend", null, "Keep it"),
      h("div", { class: "choice" }, remember, h("label", { for: rememberId }, "Remember in the system keyring")),
      h("div", { class: "choice" }, session, h("label", { for: sessionId }, "This session only (asked again next time)")),
    ),
    problem,
  );
  pw.addEventListener("input", () => {
    problem.hidden = true;
  });
  /** @type {{ password: string, remember: boolean } | null} */
  let answer = null;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!pw.value) {
      problem.textContent = "Enter the password.";
      problem.hidden = false;
      pw.focus();
      return;
    }
    answer = { password: pw.value, remember: remember.checked };
    pw.value = "";
    d.close("ok");
  });
  d.body.append(form);
  d.footer.append(
    h("button", { type: "button", on: { click: () => d.close("cancel") } }, "Cancel"),
    h("button", { type: "submit", form: formId, class: "primary", testid: "password-ok" }, "Continue"),
  );
  focusFirst(d);
  await d.closed;
  return answer;
}

/**
 * Asks whether to trust SSH host keys no one vouched for (not in known_hosts, not pinned): each hop with its
 * key type and full fingerprint, to compare with what an administrator gives. Resolves true to trust them
 * (they are then pinned in the profile), false otherwise. A key that changed is never asked about: it is refused.
 * @param {{ profileName: string, keys: import("./api.js").HopKey[], pin: boolean }} opts
 * @returns {Promise<boolean>}
 */
export async function askHostKeys(opts) {
  const d = openDialog({ title: `New SSH host keys for ${opts.profileName}`, testid: "host-key-dialog", wide: true });
  d.body.append(
    h("p", null, "The console has not seen the keys of these SSH hosts before: they are not in your known_hosts and the profile pins no key for them. Nothing has been sent through them."),
    h(
      "ul",
      { class: "host-keys", testid: "host-key-list" },
      opts.keys.map((k) =>
        h(
          "li",
          { testid: "host-key", "data-hop": k.hop },
          h("strong", null, k.hop, k.user ? ` (as ${k.user})` : ""),
          h("span", { class: "muted" }, k.key_type),
          h("code", { testid: "host-key-fingerprint" }, k.fingerprint),
        ),
      ),
    ),
    h(
      "p",
      null,
      opts.pin
        ? "Compare each fingerprint with the one your administrator gives you (ssh-keygen -l on the host). Trusting pins them in this profile: a different key later is refused."
        : "Compare each fingerprint with the one your administrator gives you (ssh-keygen -l on the host). Trusting uses them for this test only.",
    ),
  );
  let trusted = false;
  d.footer.append(
    h("button", { type: "button", testid: "host-key-cancel", on: { click: () => d.close("cancel") } }, "Cancel"),
    h("button", { type: "button", class: "primary", testid: "host-key-trust", on: { click: () => { trusted = true; d.close("ok"); } } }, opts.pin ? "Trust and pin" : "Trust for this test"),
  );
  focusFirst(d);
  await d.closed;
  return trusted;
}

/**
 * Asks why a tenant is opened. With policy "optional" the user may open without a reason (resolves
 * `{ reason: null }`); with "required" a category and a detail are needed. The reasons given before in this run
 * (`recent`, newest first) are offered as choices, and Enter on an empty detail reuses the last one. With
 * `reuseMinutes`, a checkbox lets the reason cover the other tenants of the same ticket for that long (`reuse`).
 * @param {{ policy: ReasonPolicy, tenantName: string, action?: string, initial?: AccessReason | null,
 *           recent?: readonly AccessReason[], reuseMinutes?: number | null }} opts
 * @returns {Promise<{ reason: AccessReason | null, reuse: boolean } | null>} null when cancelled
 */
export async function askReason(opts) {
  const required = opts.policy === "required";
  const recent = opts.recent ?? [];
  const last = recent[0] ?? null;
  const d = openDialog({ title: `Why are you opening ${opts.tenantName}?`, testid: "reason-dialog" });
  const category = select({ id: uid("reason-cat"), testid: "reason-category" }, REASON_CATEGORIES, opts.initial?.category ?? "support-ticket");
  const detail = h("input", {
    id: uid("reason-detail"), type: "text", maxlength: "500", autocomplete: "off", autofocus: true, testid: "reason-detail",
    value: opts.initial?.detail ?? "", required: required && !last,
    placeholder: last ? `Enter to reuse: ${last.detail}` : "",
  });
  const problem = h("p", { class: "field-error", role: "alert", hidden: true });
  const formId = uid("reason-form");
  const labelOf = (/** @type {ReasonCategory} */ c) => REASON_CATEGORIES.find(([v]) => v === c)?.[1] ?? c;
  const recentList =
    recent.length > 0 &&
    h(
      "div",
      { class: "recent-reasons", role: "group", "aria-label": "Reasons used before", testid: "reason-recent" },
      h("span", { class: "label" }, "Used before"),
      recent.map((r) =>
        h(
          "button",
          {
            type: "button", class: "chip", testid: "reason-recent-option", "data-detail": r.detail,
            title: `${labelOf(r.category)}: ${r.detail}`,
            on: {
              click: () => {
                category.value = r.category;
                detail.value = r.detail;
                problem.hidden = true;
                detail.removeAttribute("aria-invalid");
                detail.focus();
              },
            },
          },
          h("span", { class: "chip-cat" }, labelOf(r.category)),
          " ",
          r.detail,
        ),
      ),
    );
  const reuseId = uid("reason-reuse");
  const reuse = opts.reuseMinutes ? h("input", { type: "checkbox", id: reuseId, testid: "reason-reuse" }) : null;
  const form = h(
    "form",
    { class: "stack", novalidate: true, id: formId },
    h(
      "p",
      null,
      required
        ? `This profile records why support staff ${opts.action ?? "open a tenant"}. The tenant's admins can read the reason in their access history.`
        : `This profile asks why support staff ${opts.action ?? "open a tenant"} (optional). The tenant's admins can read the reason in their access history.`,
    ),
    recentList,
    field("Category", category),
    field(
      "Detail",
      detail,
      last
        ? `A ticket id, an incident number, or a sentence (up to 500 characters). Leave it empty and press Enter to reuse the last one (${labelOf(last.category)}: ${last.detail}).`
        : "A ticket id, an incident number, or a sentence (up to 500 characters).",
    ),
    reuse &&
      h(
        "div",
        { class: "choice" },
        reuse,
        h(
          "label",
          { for: reuseId },
          `Use this reason for other tenants of the same ticket for ${opts.reuseMinutes} minutes (each is still recorded with it; no new question)`,
        ),
      ),
    problem,
  );
  detail.addEventListener("input", () => {
    problem.hidden = true;
    detail.removeAttribute("aria-invalid");
  });
  /** @type {{ reason: AccessReason | null, reuse: boolean } | null} */
  let answer = null;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = detail.value.trim();
    if (!text && last) {
      // Enter on an empty detail: the last reason again (the same ticket, another tenant).
      answer = { reason: { category: last.category, detail: last.detail }, reuse: reuse?.checked === true };
      d.close("ok");
      return;
    }
    if (!text) {
      problem.textContent = required ? "A detail is required: a ticket id, an incident number, or a sentence." : "Enter a detail, or open without a reason.";
      problem.hidden = false;
      detail.setAttribute("aria-invalid", "true");
      detail.focus();
      return;
    }
    answer = { reason: { category: /** @type {ReasonCategory} */ (category.value), detail: text }, reuse: reuse?.checked === true };
    d.close("ok");
  });
  d.body.append(form);
  append(d.footer, [
    h("button", { type: "button", on: { click: () => d.close("cancel") } }, "Cancel"),
    !required &&
      h("button", { type: "button", testid: "reason-skip", on: { click: () => { answer = { reason: null, reuse: false }; d.close("skip"); } } }, "Continue without a reason"),
    h("button", { type: "submit", form: formId, class: "primary", testid: "reason-ok" }, "Continue"),
  ]);
  focusFirst(d);
  await d.closed;
  return answer;
}
