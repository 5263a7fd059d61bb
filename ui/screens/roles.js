// @ts-check
/**
 * The Roles tab: the permission matrix, roles × permissions, with each role's member count, and which roles
 * are built in, custom or global.
 */
import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { errorBox } from "../errors.js";
import { formatCount } from "../format.js";
import { isStale } from "../guard.js";
import { permissionMatrix, splitPermission } from "../matrix.js";

/** @typedef {import("./tenant.js").TabCtx} TabCtx */

/**
 * @param {HTMLElement} panel
 * @param {TabCtx} ctx
 */
export function mount(panel, ctx) {
  const { store, profileId, tenant } = ctx;

  async function load() {
    const tok = store.guard.token("roles");
    replace(panel, h("p", { class: "muted loading", "aria-busy": "true" }, "Loading roles…"));
    try {
      const roles = await store.guard.keep(tok, api.rolesList(profileId, tenant.id));
      if (!roles.length) {
        replace(panel, h("p", { class: "empty", testid: "roles-empty" }, `${tenant.name} has no roles.`));
        return;
      }
      const { permissions, rows } = permissionMatrix(roles);
      const table = h(
        "table",
        { class: "data matrix", testid: "role-matrix", "aria-label": `Permissions of the roles of ${tenant.name}` },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { scope: "col" }, "Role"),
            h("th", { scope: "col", class: "num" }, "Members"),
            permissions.map((p) => {
              const [area, verb] = splitPermission(p);
              return h("th", { scope: "col", class: "perm", title: p }, h("span", { class: "area" }, area), verb && h("span", { class: "verb" }, verb));
            }),
          ),
        ),
        h(
          "tbody",
          null,
          rows.map(({ role, has }) =>
            h(
              "tr",
              { testid: "role-row", "data-role": role.id },
              h(
                "th",
                { scope: "row", class: "role" },
                h(
                  "div",
                  { class: "role-head" },
                  h("span", { class: "role-name" }, role.id),
                  h("span", { class: role.builtin ? "badge" : "badge custom" }, role.builtin ? "built-in" : "custom"),
                  role.global && h("span", { class: "badge" }, "global"),
                ),
                role.description && h("small", { class: "role-desc" }, role.description),
              ),
              h("td", { class: "num" }, formatCount(role.members)),
              has.map((yes, i) =>
                h("td", { class: yes ? "cell yes" : "cell no", "aria-label": `${role.id} ${yes ? "has" : "lacks"} ${permissions[i]}` }, yes ? "✓" : ""),
              ),
            ),
          ),
        ),
      );
      replace(
        panel,
        h("p", { class: "list-status" }, `${roles.length} role${roles.length === 1 ? "" : "s"} · ${permissions.length} permission${permissions.length === 1 ? "" : "s"}`),
        h("div", { class: "table-scroll" }, table),
      );
    } catch (e) {
      if (isStale(e) || ctx.consentLost(e)) return;
      replace(panel, errorBox(e, { retry: () => void load(), reconnect: () => void ctx.actions.reconnect() }));
    }
  }

  void load();
  return {
    unmount() {
      store.guard.abandon("roles");
    },
  };
}
