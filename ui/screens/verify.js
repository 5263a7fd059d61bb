// @ts-check
/**
 * "Verify a file": what `tenantctl verify` does, in the app. The file is one this session exported (by its
 * export id) or one chosen in the native open dialog (the Rust side opens it; the page names no path). Shows
 * this machine's signing key to give to auditors, takes the key to check against (empty: this machine's),
 * and, when connected, can count the manifest's range again in the tenant's scope (a recorded read).
 */
import * as api from "../api.js";
import { focusFirst, openDialog } from "../dialog.js";
import { copyButton } from "../elements/copy-button.js";
import { announce, field, h, replace, uid } from "../dom.js";
import { errorBox } from "../errors.js";
import { formatCount } from "../format.js";
import { askReason } from "../prompts.js";

/**
 * The verdict and its lines, in words, for a verification (pure: the page tests pin it).
 * @param {api.VerifyReport} r
 * @returns {{ ok: boolean, headline: string, lines: string[] }}
 */
export function describeVerification(r) {
  const recountOff = r.recount != null && (r.recount.difference !== 0 || r.recount.witnessed === null);
  const ok = r.ok && !recountOff;
  const onlyUnknownKey = !r.ok && r.unknown_key === true && r.problems.length === 1;
  const headline = onlyUnknownKey
    ? "Unaltered, but signed by a key you do not trust: it may be anyone's"
    : !r.ok
    ? "Does not match its manifest"
    : recountOff
      ? "Unaltered, but the database now holds a different number of events in that range"
      : r.key_trusted
        ? "Verified: complete, unaltered, signed by the expected key"
        : "Unaltered and signed, but by a key you did not name";
  /** @type {string[]} */
  const lines = [];
  for (const p of r.problems) lines.push(`✗ ${p}`);
  if (r.tenant) lines.push(`Tenant: ${r.tenant.name}${r.tenant.slug ? ` (${r.tenant.slug})` : ""} · ${r.tenant.id}`);
  if (r.rows_counted != null) lines.push(`Events in the file: ${formatCount(r.rows_counted)}`);
  if (r.sha256) lines.push(`SHA-256: ${r.sha256}`);
  if (r.signed_by) {
    lines.push(
      r.key_trusted
        ? `Signed by ${r.signed_by}, ${r.trusted_as ?? "the key it was checked against"}`
        : r.checked_against
          ? `Signed by ${r.signed_by}, not by the key it was checked against`
          : `Signed by ${r.signed_by}; no key was named to check it against: paste the auditor's copy of the public key`,
    );
  } else {
    lines.push("Not signed");
  }
  if (r.recount && "witnessed" in r.recount) {
    const w = r.recount.witnessed;
    lines.push(
      w
        ? `✓ The database recorded this very file (SHA-256) at the end of its export: record ${w.record_id}, ${w.recorded_at}, by ${w.db_user}`
        : "✗ The database holds no record of an export of this file: it is not a file the console exported as it is",
    );
  }
  if (r.recount) {
    const d = r.recount.difference;
    lines.push(
      d === 0
        ? `Counted again in the tenant's scope: ${formatCount(r.recount.rows_now)} events, the same as the file`
        : `Counted again in the tenant's scope: ${formatCount(r.recount.rows_now)} events now, ${formatCount(r.recount.rows_in_manifest)} in the file (${d > 0 ? "+" : ""}${formatCount(d)})`,
    );
  }
  return { ok, headline, lines };
}

/**
 * Opens the dialog.
 * @param {{ store: import("../store.js").Store }} ctx
 * @param {{ exportId?: string | null, fileName?: string | null }} [opts]  verify this session's export at once
 */
export function openVerify(ctx, opts = {}) {
  const d = openDialog({ title: "Verify an export", testid: "verify-dialog", wide: true });
  const keyHint = "Give this key to auditors: with it, tenantctl verify FILE --public-key KEY checks who signed an export.";
  // The same lines while the key is read as once it is there, so the dialog does not grow under the pointer.
  const keyBox = h(
    "div",
    { class: "evidence", testid: "verify-own-key" },
    h("p", null, "Reading this machine's signing key…"),
    h("div", { class: "fix-head" }, h("code", { class: "mono" }, "…")),
    h("p", { class: "hint" }, keyHint),
  );
  const keyInput = h("input", {
    id: uid("verify-key"), type: "text", autocomplete: "off", spellcheck: "false", testid: "verify-public-key",
    placeholder: "ed25519:… (empty: this machine's key)",
  });
  const session = ctx.store.state.session;
  const recount = h("input", { id: uid("verify-recount"), type: "checkbox", testid: "verify-recount", disabled: !session });
  const result = h("div", { class: "verify-result", testid: "verify-result", "aria-live": "polite" });
  const run = h("button", { type: "button", class: "primary", testid: "verify-run" }, opts.exportId ? `Verify ${opts.fileName ?? "this export"}` : "Choose a file and verify…");

  d.body.append(
    h("p", null, "Checks a file against its manifest as an auditor would: the SHA-256 of every byte, the signature, the rows counted again, the file parsed to the end."),
    h("h3", null, "This machine's signing key"),
    keyBox,
    field("Public key to check the signature against", keyInput, "The key the auditor was given. Empty: this machine's own key."),
    h(
      "label",
      { class: "check" },
      recount,
      session
        ? ` Also count the same range again in the tenant's scope on ${session.profile_name} (a recorded read)`
        : " Also count the range again in the tenant's scope (connect to a profile first)",
    ),
    result,
  );
  d.footer.append(h("button", { type: "button", testid: "verify-close", on: { click: () => d.close("cancel") } }, "Close"), run);

  void api.signingKeyShow().then(
    (k) => {
      const keyId = uid("own-key");
      replace(
        keyBox,
        h("p", null, `Fingerprint ${k.fingerprint}`),
        h("div", { class: "fix-head" }, h("code", { id: keyId, class: "mono", testid: "verify-own-key-text" }, k.public_key), copyButton(keyId, "Copy the public key")),
        h("p", { class: "hint" }, keyHint),
      );
    },
    (e) => replace(keyBox, errorBox(e, { testid: "verify-key-error" })),
  );

  run.addEventListener("click", async () => {
    run.disabled = true;
    replace(result, h("p", { class: "hint" }, "Verifying…"));
    try {
      const publicKey = keyInput.value.trim();
      let report = await api.verifyFile({ exportId: opts.exportId ?? null, publicKey });
      if (!report) {
        replace(result);
        return;
      }
      // The recount is a read of the tenant the manifest names: asked for (with its reason) once it is known.
      const s = ctx.store.state.session;
      if (recount.checked && s && report.tenant) {
        /** @type {api.AccessReason | null} */
        let reason = null;
        if (s.access_reason === "required" || s.access_reason === "optional") {
          const answer = await askReason({ policy: s.access_reason, tenantName: report.tenant.name, action: "count an exported range again" });
          if (answer) reason = answer.reason;
          else recount.checked = false;
        }
        if (recount.checked) {
          replace(result, h("p", { class: "hint" }, `Counting the range again as ${report.tenant.name}…`));
          report = (await api.verifyFile({ fileToken: report.file_token, publicKey, recountOn: s.profile_id, reason })) ?? report;
        }
      }
      const v = describeVerification(report);
      replace(
        result,
        h("p", { class: v.ok ? "ok-line" : "field-error", testid: v.ok ? "verify-ok" : "verify-failed", role: "status" }, v.headline),
        h("p", { class: "mono path", testid: "verify-file" }, report.file),
        h("ul", { class: "plain", testid: "verify-lines" }, v.lines.map((l) => h("li", null, l))),
      );
      announce(v.headline);
    } catch (e) {
      replace(result, errorBox(e, { testid: "verify-error" }));
    } finally {
      run.disabled = false;
    }
  });
  focusFirst(d);
  return d;
}
