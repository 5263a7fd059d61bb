// @ts-check
/**
 * The export dialog: the audit filters pre-filled from the tab, a save path from the native dialog (its suggested
 * name carries the range exported), options (byte-order mark, time zone; the native save dialog asks before
 * replacing a file), the reason when the profile asks for one (the last one given is offered), then a progress bar
 * with rows per second and time left from the command's channel, cancel, and "Show in folder" when done. A range
 * entered in the computer's zone while the file's times are UTC is said in words, never left to disagree.
 */
import * as api from "../api.js";
import { ErrorKind } from "../api.js";
import { focusFirst, openDialog } from "../dialog.js";
import { announce, calendarPicker, field, h, replace, select, uid } from "../dom.js";
import { errorBox } from "../errors.js";
import {
  auditFilterFromForm, auditFormFromFilter, describeFilter, exportFileName, exportFormatOf, exportZoneNote, RANGES, rangeExamples, verifyCommand,
} from "../filters.js";
import { copyButton } from "../elements/copy-button.js";
import { exportProgress, formatBytes, formatCount, formatDuration, formatExportProgress, localZone } from "../format.js";
import { REASON_CATEGORIES } from "../prompts.js";
import { openVerify } from "./verify.js";

/** @typedef {import("./tenant.js").TabCtx} TabCtx */
/** @typedef {import("../api.js").AuditFilter} AuditFilter */
/** @typedef {import("../api.js").ExportSummary} ExportSummary */

/** @returns {string} a fresh id for one export (what audit_export_cancel names) */
function newExportId() {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `export-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/**
 * Opens the export dialog for the tab's tenant with `filter` pre-filled (`range`: the audit tab's preset, kept
 * when it is a calendar one such as "Last month").
 * @param {TabCtx} ctx
 * @param {AuditFilter} filter
 * @param {string} [range]
 */
export function openExport(ctx, filter, range) {
  const { profileId, tenant, policy, store } = ctx;
  const here = localZone();
  /** @type {"form" | "running" | "done"} */
  let phase = "form";
  /** @type {string | null} */
  let exportId = null;
  const d = openDialog({
    title: `Export the audit log of ${tenant.name}`,
    testid: "export-dialog",
    wide: true,
    // While the export runs, Escape does not walk away from it: cancel it first.
    onCancel: () => phase !== "running",
  });

  // --- filters, pre-filled ---
  const form0 = auditFormFromFilter(filter, range);
  const fid = (/** @type {string} */ n) => uid(`ex-${n}`);
  const examples = rangeExamples(Date.now(), here);
  const rangeSel = select({ id: fid("range"), testid: "export-range" }, RANGES.map((r) => [r.value, r.label]), form0.range);
  const since = h("input", { id: fid("since"), type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false", placeholder: examples.since, value: form0.since, testid: "export-since" });
  const until = h("input", { id: fid("until"), type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false", placeholder: examples.until, value: form0.until, testid: "export-until" });
  const txt = (/** @type {string} */ n, /** @type {string} */ v) =>
    h("input", { id: fid(n), type: "text", autocomplete: "off", spellcheck: "false", value: v, testid: `export-${n}` });
  const action = txt("action", form0.action);
  const actor = txt("actor", form0.actor);
  const rtype = txt("resource-type", form0.resource_type);
  const rid = txt("resource-id", form0.resource_id);
  const dateField = (/** @type {HTMLInputElement} */ input, /** @type {string} */ name, /** @type {string} */ testid) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: input.id }, `${name} (${here})`),
      h("div", { class: "date-pair" }, input, calendarPicker(input, `${name}: pick on a calendar (${here})`, testid)),
    );
  const customRange = h(
    "div",
    { class: "row", hidden: form0.range !== "custom" },
    dateField(since, "From", "export-since-picker"),
    dateField(until, "Until", "export-until-picker"),
  );
  rangeSel.addEventListener("change", () => {
    customRange.hidden = rangeSel.value !== "custom";
    syncZoneNote();
  });

  // --- destination and options ---
  // Where to save comes from the native save dialog, opened by the app itself: the page holds a one-time token
  // and shows the name and folder; it never names a path. The dialog asks before replacing a file.
  /** @type {api.Destination | null} */
  let destination = null;
  const pathId = fid("path");
  const path = h("output", { id: pathId, class: "mono chosen-path", testid: "export-path" }, "No file chosen yet");
  const choose = h("button", { type: "button", testid: "export-choose", "aria-describedby": pathId }, "Choose…");
  // The format is the file's name's: the choice here names the suggested file; the name chosen decides.
  const formatSel = select(
    { id: fid("format"), testid: "export-format" },
    [["csv", "CSV (spreadsheets)"], ["jsonl", "JSON lines (one event per line)"]],
    "csv",
  );
  const gzipId = fid("gzip");
  const gzip = h("input", { id: gzipId, type: "checkbox", testid: "export-gzip" });
  const formatNote = h("p", { class: "hint", testid: "export-format-note" }, "");
  const ext = () => `${formatSel.value}${gzip.checked ? ".gz" : ""}`;
  const syncFormat = () => {
    const f = destination ? exportFormatOf(destination.file_name) : null;
    const wanted = exportFormatOf(`x.${ext()}`);
    formatNote.textContent = !f
      ? ""
      : f.label === wanted.label
        ? `Written as ${f.label}, from the file's name.`
        : `The file chosen is written as ${f.label}, from its name: choose again to save as ${wanted.label}.`;
  };
  formatSel.addEventListener("change", syncFormat);
  gzip.addEventListener("change", syncFormat);
  choose.addEventListener("click", async () => {
    try {
      const now = Date.now();
      const r = readFilter();
      const suggested = exportFileName(tenant.slug ?? tenant.id, now, ext(), r.ok ? r.filter : {}, here);
      const d = await api.exportDestination(suggested);
      if (d) {
        destination = d;
        path.textContent = `${d.file_name} in ${d.folder}`;
        path.removeAttribute("aria-invalid");
        // A file is chosen now: "Choose where to save the file." no longer applies.
        problem.querySelector('[data-testid="export-no-destination"]')?.remove();
        syncFormat();
      }
      choose.focus();
    } catch (e) {
      replace(problem, errorBox(e));
    }
  });
  const bomId = fid("bom");
  const bom = h("input", { id: bomId, type: "checkbox", testid: "export-bom" });
  // Shown only when the keyring that keeps the signing key is locked: an unsigned manifest is asked for, never silent.
  const unsignedId = fid("unsigned");
  const unsigned = h("input", { id: unsignedId, type: "checkbox", testid: "export-unsigned" });
  const unsignedRow = h(
    "div",
    { class: "choice", hidden: true },
    unsigned,
    h("label", { for: unsignedId }, "Write the manifest unsigned (the keyring that keeps the signing key is locked; verify will say unsigned)"),
  );
  /** @type {[string, string][]} */
  const zones = [["UTC", "UTC"]];
  if (here && here !== "UTC") zones.push([here, `${here} (this computer)`]);
  const tz = select({ id: fid("tz"), testid: "export-tz" }, zones, "UTC");
  // The range is entered in the computer's zone; the file's times are UTC unless chosen: say which, in words.
  const zoneNote = h("p", { class: "notice zone-note", testid: "export-zone-note", role: "note", hidden: true });
  function readFilter() {
    return auditFilterFromForm(
      { range: rangeSel.value, since: since.value, until: until.value, action: action.value, actor: actor.value, resource_type: rtype.value, resource_id: rid.value },
      Date.now(),
      here,
    );
  }
  function syncZoneNote() {
    const r = readFilter();
    const text = r.ok ? exportZoneNote(r.filter, here, tz.value) : null;
    zoneNote.hidden = !text;
    zoneNote.textContent = text ?? "";
  }
  tz.addEventListener("change", syncZoneNote);
  since.addEventListener("change", syncZoneNote);
  until.addEventListener("change", syncZoneNote);
  since.addEventListener("input", syncZoneNote);
  until.addEventListener("input", syncZoneNote);
  syncZoneNote();

  // --- reason ---
  // The reason the tenant was opened with, else the last one given in this run (the same ticket, most likely).
  const given = ctx.reason() ?? store.reasons[0] ?? null;
  const category = select({ id: fid("cat"), testid: "export-reason-category" }, REASON_CATEGORIES, given?.category ?? "support-ticket");
  const detail = h("input", { id: fid("detail"), type: "text", maxlength: "500", value: given?.detail ?? "", testid: "export-reason-detail", required: policy === "required" });

  const problem = h("div", { "aria-live": "assertive" });
  const formId = uid("export-form");
  const form = h(
    "form",
    { id: formId, class: "stack", novalidate: true },
    h(
      "fieldset",
      null,
      h("legend", null, "Events"),
      h("div", { class: "row" }, field(`Time range (${here})`, rangeSel)),
      customRange,
      h("div", { class: "row" }, field("Action", action), field("Actor", actor)),
      h("div", { class: "row" }, field("Resource type", rtype), field("Resource id", rid)),
    ),
    h(
      "fieldset",
      null,
      h("legend", null, "File"),
      h("div", { class: "field" }, h("span", { class: "label", id: `${pathId}-label` }, "Save as"), h("div", { class: "input-with-button", role: "group", "aria-labelledby": `${pathId}-label` }, path, choose)),
      h("div", { class: "row" }, field("Format", formatSel), field("Times in", tz)),
      zoneNote,
      h("div", { class: "choice" }, gzip, h("label", { for: gzipId }, "Compress (gzip)")),
      formatNote,
      h("div", { class: "choice" }, bom, h("label", { for: bomId }, "Start with a byte-order mark (for Excel)")),
      unsignedRow,
    ),
    policy !== "off" &&
      h(
        "fieldset",
        null,
        h("legend", null, policy === "required" ? "Reason (required)" : "Reason (optional)"),
        h("p", { class: "hint" }, "Recorded in the tenant's access history with the export."),
        h("div", { class: "row" }, field("Category", category), field("Detail", detail)),
      ),
    problem,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void start();
  });
  // A field's error goes when that field changes.
  form.addEventListener("input", (e) => {
    const el = e.target;
    if (!(el instanceof HTMLElement) || el.getAttribute("aria-invalid") !== "true") return;
    el.removeAttribute("aria-invalid");
    if (!form.querySelector('[aria-invalid="true"]')) problem.querySelector(".field-error")?.remove();
  });

  const progress = h("progress", { max: "1", testid: "export-progress", "aria-label": "Export progress" });
  const progressText = h("p", { class: "progress-text", testid: "export-progress-text", "aria-live": "polite" }, "Starting…");
  const runningFile = h("p", { class: "mono path", testid: "export-running-file" }, "");
  const running = h("div", { class: "export-running", hidden: true }, runningFile, progress, progressText);
  const result = h("div", { "aria-live": "polite" });
  d.body.append(form, running, result);

  const cancelBtn = h("button", { type: "button", testid: "export-close", on: { click: () => d.close("cancel") } }, "Close");
  const startBtn = h("button", { type: "submit", form: formId, class: "primary", testid: "export-start" }, "Export");
  const abortBtn = h("button", { type: "button", class: "danger", testid: "export-cancel", hidden: true }, "Cancel export");
  abortBtn.addEventListener("click", async () => {
    if (!exportId) return;
    abortBtn.disabled = true;
    abortBtn.textContent = "Cancelling…";
    try {
      await api.auditExportCancel(exportId);
    } catch (e) {
      replace(result, errorBox(e));
    }
  });
  d.footer.append(cancelBtn, abortBtn, startBtn);
  focusFirst(d);

  async function start() {
    replace(problem);
    const r = readFilter();
    if (!r.ok) {
      replace(problem, h("p", { class: "field-error", role: "alert" }, Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join("; ")));
      return;
    }
    if (!destination) {
      replace(problem, h("p", { class: "field-error", role: "alert", testid: "export-no-destination" }, "Choose where to save the file."));
      path.setAttribute("aria-invalid", "true");
      choose.focus();
      return;
    }
    /** @type {api.AccessReason | null} */
    let reason = null;
    if (policy !== "off") {
      const text = detail.value.trim();
      if (text) {
        reason = { category: /** @type {api.ReasonCategory} */ (category.value), detail: text };
        store.rememberReason(reason);
      } else if (policy === "required") {
        replace(problem, h("p", { class: "field-error", role: "alert" }, "A reason is required: a ticket id, an incident number, or a sentence."));
        detail.setAttribute("aria-invalid", "true");
        detail.focus();
        return;
      }
    }

    // A token is good for one export: the next export asks the dialog again (but for a signing key that could
    // not be had: nothing started, and the same file is kept for the second try).
    const chosen = destination;
    const token = destination.token;
    runningFile.textContent = `Writing ${destination.file_name} in ${destination.folder}`;
    destination = null;
    path.textContent = "No file chosen yet";
    phase = "running";
    exportId = newExportId();
    form.hidden = true;
    running.hidden = false;
    startBtn.hidden = true;
    cancelBtn.hidden = true;
    abortBtn.hidden = false;
    abortBtn.disabled = false;
    abortBtn.textContent = "Cancel export";
    progress.removeAttribute("value");
    progressText.textContent = `Exporting ${describeFilter(r.filter)}…`;
    abortBtn.focus();
    replace(result);

    /** @type {ExportSummary} */
    let summary;
    store.exportsRunning += 1;
    try {
      summary = await api.auditExport(
        { profileId, tenant: tenant.id, exportId, destination: token, filter: r.filter, options: { tz: tz.value, bom: bom.checked, unsigned: unsigned.checked }, reason },
        (p) => {
          if (phase !== "running") return;
          const { fraction } = exportProgress(p);
          if (fraction === null) progress.removeAttribute("value");
          else progress.value = fraction;
          progressText.textContent = formatExportProgress(p);
        },
      );
    } catch (err) {
      store.exportsRunning -= 1;
      const e = api.toApiError(err);
      phase = "form";
      exportId = null;
      running.hidden = true;
      abortBtn.hidden = true;
      form.hidden = false;
      startBtn.hidden = false;
      cancelBtn.hidden = false;
      if (e.kind === ErrorKind.SigningKeyUnavailable) {
        destination = chosen;
        path.textContent = `${chosen.file_name} in ${chosen.folder}`;
        unsignedRow.hidden = false;
        replace(problem, errorBox(e, { testid: "export-error" }));
        unsigned.focus();
      } else if (e.kind === ErrorKind.Cancelled) {
        replace(result, h("p", { class: "notice", testid: "export-cancelled", role: "status" }, "Export cancelled. No file was kept."));
        announce("Export cancelled.");
        startBtn.focus();
      } else {
        replace(problem, errorBox(e, { testid: "export-error" }));
        startBtn.focus();
      }
      return;
    }
    store.exportsRunning -= 1;
    phase = "done";
    progress.value = 1;
    running.hidden = true;
    abortBtn.hidden = true;
    cancelBtn.hidden = false;
    cancelBtn.textContent = "Close";
    const done = /** @type {string} */ (exportId);
    const commandId = uid("verify-cmd");
    const evidence = summary.manifest
      ? h(
          "div",
          { class: "evidence", testid: "export-evidence" },
          h(
            "p",
            { class: summary.signed_by ? "ok-line" : "notice" },
            summary.signed_by
              ? `Signed · SHA-256 ${(summary.sha256 ?? "").slice(0, 16)}… · key ${summary.signed_by}`
              : `Not signed (no system keyring) · SHA-256 ${(summary.sha256 ?? "").slice(0, 16)}…`,
          ),
          h("p", { class: "mono path", testid: "export-manifest-path" }, summary.manifest),
          summary.public_key &&
            h(
              "div",
              { class: "fix-head" },
              h("code", { id: commandId, class: "mono", testid: "export-verify-command" }, verifyCommand(summary.path ?? "", summary.public_key)),
              copyButton(commandId, "Copy the verify command"),
            ),
        )
      : null;
    // Opening the folder or the file needs a file manager or a desktop portal, which minimal desktops lack:
    // a failure is said below the buttons, in words, and the success line and the path stay.
    const openProblem = h("div", { testid: "export-open-problem" });
    const opener = (/** @type {string} */ label, /** @type {string} */ testid, /** @type {(id: string) => Promise<null>} */ open, /** @type {string} */ what) => {
      const b = h("button", { type: "button", testid }, label);
      b.addEventListener("click", async () => {
        replace(openProblem);
        try {
          await open(done);
        } catch (e) {
          replace(
            openProblem,
            h("p", { class: "field-error", role: "alert", testid: "export-open-error" }, `This desktop could not ${what}: ${api.toApiError(e).message}. The file is saved; copy its path above.`),
          );
        }
      });
      return b;
    };
    const show = opener("Show in folder", "export-show", api.showInFolder, "show the folder");
    show.classList.add("primary");
    const openFile = opener("Open file", "export-open-file", api.openExport, "open the file");
    const pathId = uid("done-path");
    const verify = h("button", { type: "button", testid: "export-verify" }, "Verify…");
    verify.addEventListener("click", () => openVerify({ store: ctx.store }, { exportId: done, fileName: summary.path?.split(/[\\/]/).pop() ?? null }));
    replace(
      result,
      h(
        "div",
        { class: "export-done", testid: "export-done" },
        h("p", { class: "ok-line" }, `Exported ${formatCount(summary.rows)} event${summary.rows === 1 ? "" : "s"} (${formatBytes(summary.bytes)}) in ${formatDuration(summary.seconds)}.`),
        h("div", { class: "fix-head" }, h("p", { id: pathId, class: "mono path", testid: "export-done-path" }, summary.path), copyButton(pathId, "Copy path")),
        summary.recorded === "yes" && h("p", { class: "hint" }, "The export was recorded in the tenant's access history."),
        evidence,
        h("div", { class: "row-actions" }, show, openFile, verify),
        openProblem,
      ),
    );
    announce(`Export done: ${summary.rows} events.`);
    show.focus();
  }
}
