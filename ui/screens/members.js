// @ts-check
/**
 * The Members tab: the tenant's members as the tenant sees them (RLS), filtered by role and by email as you
 * type, paged on the cursor.
 */
import * as api from "../api.js";
import { debounce, h, replace, select, uid } from "../dom.js";
import { formatDate } from "../format.js";
import { isStale } from "../guard.js";
import { pagedTable } from "../paged.js";

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
  const table = h(
    "table",
    { class: "data members", "aria-label": `Members of ${tenant.name}`, testid: "member-table" },
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "Email"), h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Role"), h("th", { scope: "col", class: "num" }, "Joined"))),
  );
  const list = pagedTable({
    guard: store.guard,
    lane: "members",
    table,
    noun: "member",
    testid: "members",
    fetch: (after) =>
      api.membersPage(profileId, tenant.id, { role: roleSel.value || undefined, email: email.value.trim() || undefined, after, limit: 100 }),
    row: (m) =>
      h(
        "tr",
        { testid: "member-row", "data-member-id": m.id, "data-tenant-id": tenant.id },
        h("td", { class: "email" }, m.email ?? "—"),
        h("td", null, m.name ?? "—"),
        h("td", null, h("span", { class: "pill" }, m.role)),
        h("td", { class: "num", title: m.joined_at ?? "" }, formatDate(m.joined_at)),
      ),
    emptyText: () =>
      roleSel.value || email.value.trim() ? "No member matches these filters." : `${tenant.name} has no members.`,
    reconnect: () => void ctx.actions.reconnect(),
  });
  replace(
    panel,
    h(
      "div",
      { class: "toolbar" },
      h("div", { class: "field inline" }, h("label", { for: roleSel.id }, "Role"), roleSel),
      h("div", { class: "field inline grow" }, h("label", { for: emailId }, "Email"), email),
    ),
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
      if (!isStale(e)) roleSel.title = "The roles could not be loaded.";
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
  };
}
