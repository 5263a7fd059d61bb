// @ts-check
/**
 * The isolation status, always visible while connected: green when RLS applies to the login; a red banner
 * listing why it does not, with a required "I understand, continue" that reconnects with the bypass allowed;
 * after that, a red bar that stays. `data-state` says which (enforced, bypass, bypass-accepted) for tests.
 */
import { h, replace } from "../dom.js";
import { errorBox } from "../errors.js";

/** @typedef {import("../actions.js").Ctx} Ctx */
/** @typedef {import("../api.js").SessionInfo} SessionInfo */

/**
 * @param {HTMLElement} el  the page's #isolation element
 * @param {Ctx} ctx
 */
export function mount(el, ctx) {
  const { store, actions } = ctx;
  /** @type {SessionInfo | null} */
  let shown = null;

  function render() {
    const s = store.state.session;
    if (s === shown) return;
    shown = s;
    if (!s) {
      el.hidden = true;
      el.removeAttribute("data-state");
      el.className = "isolation";
      replace(el);
      return;
    }
    el.hidden = false;
    const user = s.login.user;
    if (s.bypass_reasons.length === 0) {
      el.dataset.state = "enforced";
      el.className = "isolation enforced";
      el.removeAttribute("role");
      replace(
        el,
        h("span", { class: "iso-icon", "aria-hidden": "true" }, "✓"),
        h("span", { class: "iso-text" }, `RLS enforced for login ${user}`),
        h(
          "span",
          { class: "iso-detail", testid: "session-detail" },
          `${s.profile_name} · ${s.login.database}` +
            (s.login.standby ? ` · read replica${s.records_to ? `, accesses recorded on ${s.records_to}` : ""}` : ""),
        ),
        h("button", { type: "button", class: "link", testid: "open-check", on: { click: () => store.show("check") } }, "Isolation check"),
      );
      return;
    }
    if (s.bypass_accepted) {
      el.dataset.state = "bypass-accepted";
      el.className = "isolation bypass accepted";
      el.removeAttribute("role");
      replace(
        el,
        h("span", { class: "iso-icon", "aria-hidden": "true" }, "!"),
        h("span", { class: "iso-text" }, `RLS NOT enforced for login ${user}`),
        h("span", { class: "iso-detail" }, `Tenant isolation rests on the console's own tenant filters only (${s.bypass_reasons.join("; ")}).`),
        h("button", { type: "button", class: "link", testid: "open-check", on: { click: () => store.show("check") } }, "Isolation check"),
      );
      return;
    }
    el.dataset.state = "bypass";
    el.className = "isolation bypass banner";
    el.setAttribute("role", "alert");
    const ack = h("button", { type: "button", class: "danger", testid: "bypass-ack" }, "I understand, continue");
    const problem = h("div");
    ack.addEventListener("click", async () => {
      ack.disabled = true;
      replace(problem);
      try {
        await actions.acknowledgeBypass();
      } catch (e) {
        replace(problem, errorBox(e));
      } finally {
        if (ack.isConnected) ack.disabled = false;
      }
    });
    replace(
      el,
      h(
        "div",
        { class: "banner-body" },
        h("h2", null, `Row-level security is NOT enforced for login ${user}`),
        h("p", null, "The database will not stop this login from reading every tenant's rows:"),
        h("ul", { testid: "bypass-reasons" }, s.bypass_reasons.map((r) => h("li", null, r))),
        h(
          "p",
          null,
          "If you continue, tenant isolation rests only on the console's own tenant filters. Prefer a login without these attributes (e.g. console_reader). Tenant data stays hidden until you decide.",
        ),
        h(
          "div",
          { class: "banner-actions" },
          ack,
          h("button", { type: "button", testid: "bypass-disconnect", on: { click: () => void actions.disconnect() } }, "Disconnect"),
        ),
        problem,
      ),
    );
  }

  render();
  return store.subscribe(render);
}
