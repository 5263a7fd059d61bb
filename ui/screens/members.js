// @ts-check
/**
 * The Members tab: the tenant's members as the tenant sees them (RLS), filtered by role and by email as you
 * type, paged on the cursor. Columns the login may not read show as "masked", named in a line above the grid;
 * a filter on a masked column is turned off (the server would refuse it). An audit event's member opens here,
 * filtered to their email.
 */
import * as api from "../api.js";
import { announce, debounce, h, replace, select, uid } from "../dom.js";
import { formatDate, timeTitle } from "../format.js";
import { isStale } from "../guard.js";
import { cell, maskedBy, maskedNote, updateMaskedNote } from "../masked.js";
import { pagedTable } from "../paged.js";
import { nextSort, sortHeaders } from "../sort.js";

/** @typedef {import("./tenant.js").TabCtx} TabCtx */
/** @typedef {import("../api.js").Member} Member */

/**
 * @param {HTMLElement} panel
 * @param {TabCtx} ctx
 */
export function mount(panel, ctx) {
  const { store, profileId, tenant } = ctx;
  const roleSel = select({ id: uid("member-role"), testid: "member-role" }, [["", "All roles"]], "");
  const emailId = uid("member-email");
  const email = h("input", { id: emailId, type: "search", autocomplete: "off", spellcheck: "false", placeholder: "part of an email", testid: "member-email" });
  /** @type {import("../sort.js").SortState<api.MemberSort>} */
  let order = { key: "email", descending: false };
  const headers = sortHeaders(
    /** @type {[string, api.MemberSort, string?][]} */ ([["Email", "email"], ["Name", "name"], ["Role", "role"], ["Joined", "joined", "num"]]),
    (key) => {
      order = nextSort(order, key, ["joined"]);
      headers.update(order);
      void list.reload();
    },
    "member-sort",
  );
  headers.update(order);
  const table = h(
    "table",
    { class: "data members", "aria-label": `Members of ${tenant.name}`, testid: "member-table" },
    h("thead", null, h("tr", null, headers.ths)),
  );
  /** @type {string[]} the columns this login may not read, as the last page said */
  let masked = [];
  const note = maskedNote("members-masked-note");
  const list = pagedTable({
    guard: store.guard,
    lane: "members",
    table,
    noun: "member",
    testid: "members",
    fetch: (after) =>
      api.membersPage(profileId, tenant.id, {
        role: roleSel.value || undefined, email: email.value.trim() || undefined, after, limit: 100,
        sort: order.key, descending: order.descending,
      }),
    onPage: (page) => {
      masked = page.masked_columns ?? [];
      updateMaskedNote(note, masked);
      // The server refuses a filter on a masked column: say so where the filter is, instead.
      const emailMasked = maskedBy("email", null, masked);
      email.disabled = !!emailMasked && !email.value;
      email.placeholder = email.disabled ? "masked for this login" : "part of an email";
      email.title = email.disabled ? `This login may not read ${emailMasked}` : "";
      const roleMasked = maskedBy("role", null, masked);
      roleSel.disabled = !!roleMasked && !roleSel.value;
      roleSel.title = roleSel.disabled ? `This login may not read ${roleMasked}` : roleSel.title;
    },
    row: (m) =>
      h(
        "tr",
        { testid: "member-row", "data-member-id": m.id, "data-tenant-id": tenant.id },
        h("td", { class: "email" }, cell("email", m.email, masked)),
        h("td", null, cell("name", m.name, masked)),
        h("td", null, cell("role", m.role, masked, (r) => h("span", { class: "pill" }, r))),
        h("td", { class: "num", title: timeTitle(m.joined_at) }, cell("joined_at", m.joined_at, masked, (j) => formatDate(j))),
      ),
    emptyText: () =>
      roleSel.value || email.value.trim() ? "No member matches these filters." : `${tenant.name} has no members.`,
    reconnect: () => void ctx.actions.reconnect(),
    intercept: ctx.consentLost,
  });
  replace(
    panel,
    h(
      "div",
      { class: "toolbar" },
      h("div", { class: "field inline" }, h("label", { for: roleSel.id }, "Role"), roleSel),
      h("div", { class: "field inline grow" }, h("label", { for: emailId }, "Email"), email),
    ),
    note,
    list.el,
  );
  const later = debounce(() => void list.reload(), 250);
  email.addEventListener("input", later);
  email.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      later.flush();
    }
  });
  roleSel.addEventListener("change", () => void list.reload());

  // The role filter's choices are the tenant's roles (built-in and custom).
  const tok = store.guard.token("member-roles");
  store.guard
    .keep(tok, api.rolesList(profileId, tenant.id))
    .then((roles) => {
      for (const r of roles) roleSel.append(h("option", { value: r.id }, r.id));
    })
    .catch((e) => {
      if (isStale(e) || ctx.consentLost(e)) return;
      roleSel.title = "The roles could not be loaded.";
    });

  void list.reload();
  return {
    unmount() {
      later.cancel();
      list.destroy();
      store.guard.abandon("member-roles");
    },
    focus() {
      email.focus();
    },
    /**
     * Shows one member (from an audit event): the email search set to them, the other filters cleared.
     * @param {{ email: string }} who
     */
    showMember(who) {
      later.cancel();
      roleSel.value = "";
      email.value = who.email;
      email.disabled = false;
      void list.reload();
      announce(`Members filtered to ${who.email}.`);
      email.focus();
    },
  };
}
