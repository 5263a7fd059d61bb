// @ts-check
/**
 * The isolation check panel: a one-line verdict people can copy (are tenants kept apart for this login, and on
 * what evidence), the words explained, then the check (optionally with the probe, which reads as a tenant and
 * verifies it sees only its own rows) and the findings grouped by severity, each with what is wrong, why it
 * matters and the SQL that fixes it, in a copyable block.
 */
import * as api from "../api.js";
import { copyButton } from "../elements/copy-button.js";
import { h, replace, uid } from "../dom.js";
import { errorBox } from "../errors.js";
import { localZone } from "../format.js";
import { isStale } from "../guard.js";
import { groupFindings } from "../matrix.js";
import { isolationVerdict } from "../verdict.js";

/** @typedef {import("../actions.js").Ctx} Ctx */
/** @typedef {import("../api.js").CheckReport} CheckReport */
/** @typedef {import("../api.js").Finding} Finding */
/** @typedef {import("../api.js").ProbeEvidence} ProbeEvidence */

const STATE_LABEL = /** @type {Record<string, string>} */ ({
  unset: "setting never set",
  empty: "setting empty",
  "unknown-tenant": "tenant that does not exist",
  tenant: "as tenant",
});

const SEVERITY_LABEL = /** @type {Record<string, string>} */ ({ critical: "Critical", warning: "Warnings", info: "Information" });

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 */
export function mount(root, ctx) {
  const { store } = ctx;
  const session = store.state.session;
  if (!session) return { unmount() {} };
  const tenant = store.state.tenant;
  const probeTenantId = uid("probe-tenant");
  const probeTenant = h("input", {
    id: probeTenantId, type: "text", autocomplete: "off", spellcheck: "false", testid: "probe-tenant",
    value: tenant?.slug ?? "", placeholder: "any tenant",
  });
  const run = h("button", { type: "button", class: "primary", testid: "check-run", on: { click: () => void go(false) } }, "Run check");
  const probe = h("button", { type: "button", testid: "check-probe", on: { click: () => void go(true) } }, "Check with probe");
  const out = h("div", { class: "check-results", testid: "check-results", "aria-live": "polite" });
  // The verdict first, in one line to copy into a ticket; it follows the last check run.
  const verdictId = uid("verdict");
  const verdictText = h("span", { id: verdictId, testid: "check-verdict-text" });
  const verdict = h("p", { class: "verdict", testid: "check-verdict", role: "status" }, verdictText, " ", copyButton(verdictId, "Copy the verdict"));
  const showVerdict = (/** @type {CheckReport | null} */ report, /** @type {string | number} */ at) => {
    const v = isolationVerdict({ report, login: session.login.user, bypassReasons: session.bypass_reasons, at, zone: localZone() });
    verdict.dataset.state = v.state;
    verdict.className = `verdict ${v.state}`;
    verdictText.textContent = v.text;
  };
  showVerdict(null, store.connectedAt ?? Date.now());
  const setting = store.state.profile?.tenant_setting;
  replace(
    root,
    h(
      "section",
      { class: "check-screen", "aria-labelledby": "check-title" },
      h("h1", { id: "check-title" }, "Isolation check"),
      verdict,
      h(
        "p",
        { class: "lead", testid: "check-intro" },
        "Whether the database itself keeps each customer's rows away from the others when this login reads them, not only the console's own filters.",
      ),
      h(
        "ul",
        { class: "check-modes" },
        h("li", { testid: "check-run-help" }, h("strong", null, "Run check"), ": reads the database's rules for this login (its roles, tables and policies) and lists what is wrong. Quick; reads no customer rows."),
        h("li", { testid: "check-probe-help" }, h("strong", null, "Check with probe"), ": the same, then proves it with rows: reads as a tenant, and as no tenant, on separate connections, and counts any row of another tenant it gets back."),
      ),
      h(
        "details",
        { class: "glossary", testid: "check-glossary" },
        h("summary", null, "What the words mean"),
        h(
          "dl",
          { class: "props" },
          h("dt", null, "RLS (row-level security)"),
          h("dd", null, "The database's own rule on a table that a login sees only the rows of the tenant it says it is working for."),
          h("dt", null, "Forced"),
          h("dd", null, "RLS applies even to the table's owner. Without it, a login that owns the table reads every tenant's rows."),
          h("dt", null, setting ? `The tenant setting (${setting})` : "The tenant setting"),
          h("dd", null, "The value the console sets on its connection to say which tenant it reads; the RLS rules compare each row with it."),
          h("dt", null, "BYPASSRLS, superuser"),
          h("dd", null, "Login attributes that skip RLS altogether: such a login reads every tenant's rows."),
          h("dt", null, "Probe"),
          h("dd", null, "Reading as a tenant, as a tenant that does not exist and with the setting unset or empty, to see that no other tenant's row comes back."),
        ),
      ),
      h(
        "div",
        { class: "toolbar" },
        run,
        h("div", { class: "field inline" }, h("label", { for: probeTenantId }, "Probe as tenant"), probeTenant),
        probe,
      ),
      out,
    ),
  );

  /** @param {boolean} withProbe */
  async function go(withProbe) {
    const t = store.guard.token("check");
    run.disabled = probe.disabled = true;
    replace(out, h("p", { class: "muted loading", "aria-busy": "true" }, withProbe ? "Running the check and the probe…" : "Running the check…"));
    try {
      const report = await store.guard.keep(
        t,
        api.isolationCheck(/** @type {import("../api.js").SessionInfo} */ (session).profile_id, { probe: withProbe, tenant: withProbe ? probeTenant.value.trim() || null : null }),
      );
      replace(out, reportView(report));
      showVerdict(report, Date.now());
    } catch (e) {
      if (isStale(e)) return;
      replace(out, errorBox(e, { retry: () => void go(withProbe) }));
    } finally {
      if (store.guard.isCurrent(t)) run.disabled = probe.disabled = false;
    }
  }

  return { unmount() { store.guard.abandon("check"); } };
}

/** @param {CheckReport} r */
export function reportView(r) {
  const login = typeof r.login === "string" ? r.login : r.login?.user ?? "";
  const groups = groupFindings(r.findings ?? []);
  // Info findings are things checked and found right: never "open".
  const open = (r.findings ?? []).filter((f) => !f.accepted && f.severity !== "info");
  const summary =
    open.length === 0
      ? h("p", { class: "summary ok", testid: "check-summary" }, `No open findings${login ? ` for login ${login}` : ""}: the database enforces tenant isolation.`)
      : h(
          "p",
          { class: "summary bad", testid: "check-summary" },
          `${open.length} open finding${open.length === 1 ? "" : "s"}${login ? ` for login ${login}` : ""}: ` +
            groups.map((g) => `${g.findings.length} ${g.severity}`).join(", "),
        );
  const reach = r.reach ?? [];
  return h(
    "div",
    null,
    summary,
    reach.length > 0 &&
      h("p", { class: "muted", testid: "check-reach" }, `Roles the login can become: ${reach.join(", ")}. Each was judged, and probed where it can read tenant tables.`),
    evidenceView(r.evidence ?? []),
    groups.map((g) =>
      h(
        "section",
        { class: `finding-group ${g.severity}`, testid: `findings-${g.severity}` },
        h("h2", null, `${SEVERITY_LABEL[g.severity] ?? g.severity} (${g.findings.length})`),
        g.findings.map(findingView),
      ),
    ),
  );
}

/** @param {Finding} f */
function findingView(f) {
  const preId = uid("fix");
  return h(
    "article",
    { class: f.accepted ? `finding ${f.severity} accepted` : `finding ${f.severity}`, testid: "finding", "data-code": f.code },
    h(
      "header",
      null,
      h("span", { class: `sev ${f.severity}` }, f.severity),
      h("code", { class: "code" }, f.code),
      h("span", { class: "object" }, f.object),
    ),
    h("p", { class: "problem" }, f.problem),
    // An info finding says what was checked and found right: it needs no "why it matters".
    f.severity === "info" ? h("p", { class: "why" }, f.why) : h("p", { class: "why" }, h("strong", null, "Why it matters: "), f.why),
    f.accepted && h("p", { class: "accepted-note" }, h("strong", null, "Accepted: "), f.accepted),
    f.fix_sql &&
      h(
        "div",
        { class: "fix" },
        h("div", { class: "fix-head" }, h("span", null, "Fix"), copyButton(preId, `Copy the fix for ${f.code}`)),
        h("pre", { id: preId, tabindex: "0", "aria-label": `SQL that fixes ${f.code}` }, f.fix_sql),
      ),
  );
}

/**
 * What the probe asked and saw, one row per role, state and relation: the proof behind "enforced".
 * @param {ProbeEvidence[]} evidence
 */
export function evidenceView(evidence) {
  if (evidence.length === 0) return null;
  const leaks = evidence.filter((e) => e.foreign_rows > 0).length;
  const captionText =
    leaks === 0
      ? `Probe: ${evidence.length} questions on dedicated connections, 0 foreign rows.`
      : `Probe: ${leaks} of ${evidence.length} questions returned rows they must not.`;
  return h(
    "details",
    { class: "evidence", testid: "check-evidence", open: leaks > 0 },
    h("summary", { testid: "check-evidence-summary" }, captionText),
    h(
      "table",
      { class: "grid compact" },
      h(
        "thead",
        null,
        h("tr", null, ["Role", "Setting", "Tenant", "Relation", "Rows in scope", "Foreign rows"].map((c) => h("th", { scope: "col" }, c))),
      ),
      h(
        "tbody",
        null,
        evidence.map((e) =>
          h(
            "tr",
            { class: e.foreign_rows > 0 ? "bad" : null, testid: "evidence-row" },
            h("td", null, e.role),
            h("td", null, STATE_LABEL[e.state] ?? e.state),
            h("td", null, e.tenant ?? "–"),
            h("td", null, h("code", null, e.relation)),
            // The probe counts a tenant's own rows up to 1,000 (a bounded query).
            h("td", { class: "num" }, e.rows_in_scope === null ? "–" : e.rows_in_scope >= 1000 ? "1,000+" : String(e.rows_in_scope)),
            h("td", { class: "num" }, e.error ? `error (${e.error})` : String(e.foreign_rows)),
          ),
        ),
      ),
    ),
  );
}
