// @ts-check
/**
 * Modal dialogs on the native <dialog> (showModal makes the rest of the page inert). On top of it: a focus
 * trap (Tab and Shift+Tab cycle inside the dialog), Escape closes (as "cancel"), focus returns to where it was,
 * and the element is removed when closed. Each dialog is labelled by its heading.
 */
import { h, uid } from "./dom.js";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * @param {HTMLElement} root
 * @returns {HTMLElement[]} the focusable elements inside `root`, in tab order (visible ones only)
 */
export function focusables(root) {
  return /** @type {HTMLElement[]} */ ([...root.querySelectorAll(FOCUSABLE)]).filter(
    (el) => !el.closest("[hidden]") && el.getClientRects().length > 0,
  );
}

/**
 * @typedef {object} DialogHandle
 * @property {HTMLDialogElement} el
 * @property {HTMLElement} body
 * @property {HTMLElement} footer
 * @property {(result?: string) => void} close
 * @property {Promise<string>} closed   resolves with the close reason ("cancel" for Escape)
 */

/**
 * Opens a modal dialog.
 * @param {{ title: string, testid: string, wide?: boolean, onCancel?: () => boolean | void }} opts
 *   onCancel: called on Escape; return false to keep the dialog open (e.g. while an export runs)
 * @returns {DialogHandle}
 */
export function openDialog(opts) {
  const titleId = uid("dialog-title");
  const body = h("div", { class: "dialog-body" });
  const footer = h("div", { class: "dialog-footer" });
  const el = h(
    "dialog",
    { class: opts.wide ? "dialog wide" : "dialog", "aria-labelledby": titleId, testid: opts.testid },
    h("h2", { id: titleId }, opts.title),
    body,
    footer,
  );
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  /** @type {(r: string) => void} */
  let resolve = () => {};
  const closed = new Promise((r) => {
    resolve = r;
  });
  let done = false;
  const close = (/** @type {string | undefined} */ result) => {
    if (done) return;
    done = true;
    el.close();
    el.remove();
    if (opener && opener.isConnected) opener.focus();
    resolve(result ?? "close");
  };
  // Escape is handled in keydown below, once; the native "cancel" would otherwise close the dialog behind
  // onCancel's back.
  el.addEventListener("cancel", (e) => e.preventDefault());
  el.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      if (opts.onCancel && opts.onCancel() === false) return;
      close("cancel");
      return;
    }
    if (e.key !== "Tab") return;
    const items = focusables(el);
    if (!items.length) {
      e.preventDefault();
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !el.contains(document.activeElement))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (document.activeElement === last || !el.contains(document.activeElement))) {
      e.preventDefault();
      first.focus();
    }
  });
  document.body.append(el);
  el.showModal();
  return { el, body, footer, close, closed };
}

/**
 * Focuses the first control of a dialog marked [autofocus], else its first focusable element.
 * @param {DialogHandle} d
 */
export function focusFirst(d) {
  const auto = d.el.querySelector("[autofocus]");
  const target = auto instanceof HTMLElement ? auto : focusables(d.body)[0] ?? focusables(d.el)[0];
  target?.focus();
}

/**
 * Asks a yes/no question; resolves true for the confirming button.
 * @param {{ title: string, text: string, confirm: string, danger?: boolean, testid?: string }} opts
 * @returns {Promise<boolean>}
 */
export async function confirmDialog(opts) {
  const d = openDialog({ title: opts.title, testid: opts.testid ?? "confirm-dialog" });
  d.body.append(h("p", null, opts.text));
  const ok = h("button", { type: "button", class: opts.danger ? "danger" : "primary", testid: "confirm-ok", on: { click: () => d.close("ok") } }, opts.confirm);
  const cancel = h("button", { type: "button", on: { click: () => d.close("cancel") } }, "Cancel");
  d.footer.append(cancel, ok);
  cancel.focus();
  return (await d.closed) === "ok";
}
