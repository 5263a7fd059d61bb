// @ts-check
/**
 * How a failed command shows: the command's message (written for people), a line of advice chosen by the
 * error's kind, and an action when there is an obvious one (retry, reconnect). Branches on `kind`, never on
 * the message's words.
 */
import { ApiError, ErrorKind, openLog, toApiError } from "./api.js";
import { h, uid } from "./dom.js";
import { copyButton } from "./elements/copy-button.js";

/**
 * Advice for a kind, or null when the message says it all.
 * @param {string} kind
 * @returns {string | null}
 */
export function adviceFor(kind) {
  switch (kind) {
    case ErrorKind.NotConnected:
      return "The profile is not connected any more. Connect it again from the profiles screen.";
    case ErrorKind.ConnectionLost:
      return "The connection to the database was lost. Reconnect, then try again.";
    case ErrorKind.QueryTimeout:
      return "The query took longer than the profile's statement timeout. Narrow the filters, or raise the timeout in the profile.";
    case ErrorKind.IsolationNotEnforced:
      return "Row-level security does not apply to this login. Read the red banner at the top and acknowledge it to continue.";
    case ErrorKind.PermissionDenied:
      return "The database login lacks a privilege for this. Ask the database owner to grant it (see the isolation check).";
    case ErrorKind.KeyringUnavailable:
      return "The system keyring is locked or missing. Unlock it and try again, or leave the password out: you will be asked for it when connecting, for that session only.";
    case ErrorKind.KeyringNotPersistent:
      return "The keyring here does not keep passwords after a restart. Leave the password out: you will be asked for it when connecting, for that session only.";
    case ErrorKind.Mapping:
      return "The profile's table mapping does not match the database. Check the mapping file in the profile.";
    case ErrorKind.ConsentRequired:
      return "The tenant requires its own live approval for this, and none covers it now. Request access from the tenant's view (choose Export to export its audit log); its admins approve it in the product.";
    case ErrorKind.Ipc:
      return "The window could not reach the app. Restart Tenant Console; if it persists, see its log.";
    default:
      // A connection failure's message already carries the doctor's cause and what to try.
      return null;
  }
}

/**
 * An error block (role="alert") for a failed command.
 * @param {unknown} err
 * @param {{ retry?: () => void, reconnect?: () => void, reenter?: () => void, testid?: string }} [opts]
 */
export function errorBox(err, opts = {}) {
  const e = err instanceof ApiError ? err : toApiError(err);
  const advice = adviceFor(e.kind);
  const lost = e.kind === ErrorKind.ConnectionLost || e.kind === ErrorKind.NotConnected;
  return h(
    "div",
    { class: "error-box", role: "alert", testid: opts.testid ?? "error", "data-kind": e.kind },
    h("p", { class: "error-message" }, e.message),
    advice && h("p", { class: "error-advice" }, advice),
    h(
      "div",
      { class: "error-actions" },
      lost && opts.reconnect && h("button", { type: "button", on: { click: opts.reconnect } }, "Reconnect"),
      opts.retry && h("button", { type: "button", on: { click: opts.retry } }, "Try again"),
      opts.reenter && h("button", { type: "button", testid: "error-reenter", on: { click: opts.reenter } }, "Enter the password again…"),
      h("small", { class: "error-kind" }, `code: ${e.kind}`),
    ),
    e.logFile && logLine(e.logFile),
  );
}

/**
 * Where the log is, with Copy and Open: "the log has the details" must say which log.
 * @param {string} path
 */
function logLine(path) {
  const id = uid("log-path");
  const problem = h("span", { class: "field-error" });
  return h(
    "div",
    { class: "error-log", testid: "error-log" },
    "The app's log: ",
    h("code", { id, class: "mono" }, path),
    " ",
    copyButton(id, "Copy the log's path"),
    " ",
    h(
      "button",
      {
        type: "button", testid: "error-open-log",
        on: { click: () => void openLog().catch((err) => { problem.textContent = ` ${toApiError(err).message}`; }) },
      },
      "Open the log",
    ),
    problem,
  );
}
