// @ts-check
/**
 * Masked columns: a column the login may not SELECT is read as null and named in the page's `masked_columns`
 * (`table.column`, as the profile's mapping names it). A masked value is shown as a distinct "masked" label,
 * never as an empty cell: "nothing there" and "not yours to read" must not look alike. Which entry masks which
 * field is matched on the column's name, since the mapping may name tables and columns its own way.
 */
import { h } from "./dom.js";

/** The column names a field is read from, as the reference schema and common mappings name them. */
const COLUMNS = /** @type {Record<string, string[]>} */ ({
  email: ["email", "email_address", "mail"],
  name: ["name", "display_name", "full_name"],
  role: ["role", "role_id", "role_name"],
  joined_at: ["created_at", "joined_at"],
  actor_id: ["actor_id", "user_id", "actor"],
  actor_email: ["email", "email_address", "mail"],
  action: ["action", "event", "event_type"],
  resource_type: ["resource_type", "target_type"],
  resource_id: ["resource_id", "target_id"],
  ip: ["ip", "ip_address", "remote_addr"],
  user_agent: ["user_agent"],
  metadata: ["metadata", "meta", "details", "data"],
});

/**
 * The masked column that explains why `field` is null, or null when the value is there or nothing masks it.
 * A field is masked when its value is null, the page names masked columns, and one of them is a column the
 * field is read from.
 * @param {string} field  the item's field (Member, AuditEvent)
 * @param {unknown} value
 * @param {readonly string[] | null | undefined} masked  the page's masked_columns
 * @returns {string | null}
 */
export function maskedBy(field, value, masked) {
  if (value !== null && value !== undefined) return null;
  if (!masked?.length) return null;
  const names = COLUMNS[field] ?? [field];
  return masked.find((q) => names.includes(columnOf(q))) ?? null;
}

/**
 * The column part of `table.column` (`schema.table.column` too), unquoted and lower-cased.
 * @param {string} qualified
 */
export function columnOf(qualified) {
  const i = qualified.lastIndexOf(".");
  return qualified.slice(i + 1).replaceAll('"', "").toLowerCase();
}

/**
 * The "masked" label for a masked value.
 * @param {string} column  the masked column (`users.email`)
 */
export function maskedLabel(column) {
  return h("span", { class: "masked", title: `This login may not read ${column}`, testid: "masked", "data-column": column }, "masked");
}

/**
 * The value as shown: the masked label when it is masked, else `shown(value)` (or "—" for nothing).
 * @template T
 * @param {string} field
 * @param {T | null | undefined} value
 * @param {readonly string[] | null | undefined} masked
 * @param {(v: T) => import("./dom.js").Children} [shown]
 * @returns {import("./dom.js").Children}
 */
export function cell(field, value, masked, shown) {
  const by = maskedBy(field, value, masked);
  if (by) return maskedLabel(by);
  if (value === null || value === undefined) return "—";
  return shown ? shown(value) : String(value);
}

/**
 * The line above a grid that names what this login may not read; hidden when nothing is masked.
 * @param {HTMLElement} el  the note, to fill or hide
 * @param {readonly string[] | null | undefined} masked
 */
export function updateMaskedNote(el, masked) {
  el.hidden = !masked?.length;
  el.textContent = masked?.length ? `Masked for this login: ${masked.join(", ")}` : "";
  el.title = masked?.length ? "The database login may not read these columns: their values show as “masked”." : "";
}

/** @param {string} testid */
export function maskedNote(testid) {
  return h("p", { class: "masked-note", testid, hidden: true, role: "note" });
}
