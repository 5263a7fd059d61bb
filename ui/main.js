// @ts-check
/**
 * Wiring: the store, the actions, the shell (navigation, session line, isolation status) and the screen for
 * the store's state. A screen is mounted for a context key (screen + profile + tenant visit) and unmounted
 * when the key changes; the open tenant's view is kept (hidden) while another screen shows, and unmounted as
 * soon as the tenant changes, so it never outlives the switch to another one.
 */
import * as api from "./api.js";
import { Actions, readsAllowed } from "./actions.js";
import { confirmDialog } from "./dialog.js";
import { announce, byId, h, replace } from "./dom.js";
import { define as defineCopyButton } from "./elements/copy-button.js";
import * as checkScreen from "./screens/check.js";
import * as fleetScreen from "./screens/fleet.js";
import * as isolation from "./screens/isolation.js";
import * as profilesScreen from "./screens/profiles.js";
import { isOpen as switcherOpen, openSwitcher } from "./screens/switcher.js";
import * as tenantScreen from "./screens/tenant.js";
import * as tenantsScreen from "./screens/tenants.js";
import { openVerify } from "./screens/verify.js";
import { Store } from "./store.js";

/** @typedef {import("./store.js").State} State */

defineCopyButton();

const store = new Store(window.localStorage);
store.guard.onDrop = (/** @type {import("./guard.js").Token} */ t) =>
  console.debug(`tenant-console: dropped a stale response (lane ${t.lane ?? "-"}, tenant ${t.tenant ?? "-"})`);
const actions = new Actions(store);
/** @type {import("./actions.js").Ctx} */
const ctx = { store, actions };

const main = byId("main", HTMLElement);
const nav = byId("nav", HTMLElement);
const sessionLine = byId("session-info", HTMLElement);
isolation.mount(byId("isolation", HTMLElement), ctx);

/** @typedef {{ key: string, el: HTMLElement, view: { unmount(): void } }} Mounted */
/**
 * The screen showing (profiles, tenants, check); replaced when its key changes.
 * @type {Mounted | null}
 */
let mounted = null;
/**
 * The open tenant's view. It stays mounted (hidden) while the user looks at another screen, so coming back
 * neither reloads it nor records the access again; it goes when the tenant (or the visit) changes.
 * @type {Mounted | null}
 */
let tenantView = null;
/** @type {string | null} */
let initialProfile = null;

/**
 * The context a screen is mounted for; a different key means a fresh screen.
 * @param {State} s
 */
function viewKey(s) {
  if (s.fleet) {
    // A fleet's tenants and check are the fleet's; an open tenant is its shard's session's.
    if (s.screen === "tenant") return tenantKey(s) ?? `fleet:${s.fleet.name}`;
    return s.screen === "check" ? `fleetcheck:${s.fleet.name}` : `fleet:${s.fleet.name}`;
  }
  const p = s.session?.profile_id ?? "";
  switch (s.screen) {
    case "tenants":
      return `tenants:${p}:${readsAllowed(s.session)}`;
    case "tenant":
      return tenantKey(s) ?? `tenants:${p}:${readsAllowed(s.session)}`;
    case "check":
      return `check:${p}`;
    default:
      return "profiles";
  }
}

/**
 * The key of the open tenant's visit, or null when no tenant can show.
 * @param {State} s
 */
function tenantKey(s) {
  if (!s.session || !s.tenant || !readsAllowed(s.session)) return null;
  return `tenant:${s.session.profile_id}:${s.tenant.id}:${store.guard.current.gen}`;
}

/** @param {Mounted | null} m */
function drop(m) {
  if (!m) return;
  m.view.unmount();
  m.el.remove();
}

function renderScreen() {
  const s = store.state;
  const tk = tenantKey(s);
  if (tenantView && tenantView.key !== tk) {
    drop(tenantView);
    tenantView = null;
  }
  const key = viewKey(s);
  if (mounted && key === mounted.key && !mounted.el.hidden) return;
  if (tenantView && key === tenantView.key) {
    if (!tenantView.el.hidden) return;
    drop(mounted);
    mounted = null;
    tenantView.el.hidden = false;
    return;
  }
  if (tenantView) tenantView.el.hidden = true;
  drop(mounted);
  const el = h("div", { class: "screen" });
  main.append(el);
  const kind = key.split(":")[0];
  let view;
  if (kind === "profiles" || (!s.session && !s.fleet)) {
    view = profilesScreen.mount(el, ctx, { initialProfile });
    initialProfile = null;
  } else if (kind === "tenant") {
    view = tenantScreen.mount(el, ctx);
    tenantView = { key, el, view };
    mounted = null;
    focusMain();
    return;
  } else if (kind === "fleet") view = fleetScreen.mount(el, ctx);
  else if (kind === "fleetcheck") view = fleetScreen.mountCheck(el, ctx);
  else if (kind === "check") view = checkScreen.mount(el, ctx);
  else view = tenantsScreen.mount(el, ctx);
  mounted = { key, el, view };
  focusMain();
}

/** The first screen is not focused: the first Tab of the session must reach "Skip to content". */
let firstScreen = true;

function focusMain() {
  if (firstScreen) {
    firstScreen = false;
    return;
  }
  if (!main.contains(document.activeElement) && !document.querySelector("dialog[open]")) main.focus({ preventScroll: true });
}

function renderShell() {
  const s = store.state;
  document.title = s.tenant && s.screen === "tenant" ? `${s.tenant.name} — Tenant Console` : "Tenant Console";
  if (!s.session && !s.fleet) {
    replace(nav);
    replace(sessionLine);
    return;
  }
  // In a fleet, searching is allowed before any shard is connected (each shard's login is judged as it is asked).
  const allowed = s.session ? readsAllowed(s.session) : true;
  const item = (/** @type {import("./dom.js").Children} */ label, /** @type {boolean} */ current, /** @type {string} */ testid, /** @type {() => void} */ go, /** @type {boolean} */ disabled = false) =>
    h("button", { type: "button", class: current ? "nav-item current" : "nav-item", "aria-current": current ? "page" : false, testid, disabled, on: { click: go } }, label);
  replace(
    nav,
    item("Tenants", s.screen === "tenants", "nav-tenants", () => store.show("tenants"), !allowed),
    s.tenant && tenantItem(s.tenant, s.screen === "tenant", item),
    item("Isolation check", s.screen === "check", "nav-check", () => store.show("check")),
    h("button", { type: "button", class: "nav-item", testid: "nav-verify", on: { click: () => openVerify(ctx) } }, "Verify a file"),
    h(
      "button",
      { type: "button", class: "nav-item switch", testid: "open-switcher", disabled: !allowed, "aria-keyshortcuts": "Control+K Meta+K", on: { click: () => openSwitcher(ctx) } },
      "Switch tenant ",
      h("kbd", null, isMac() ? "⌘K" : "Ctrl+K"),
    ),
  );
  replace(
    sessionLine,
    s.fleet && h("span", { class: "profile-name", testid: "session-fleet" }, `Fleet ${s.fleet.name}`),
    s.session
      ? [
          h("span", { class: s.fleet ? "shard-name" : "profile-name", testid: "session-profile" }, s.fleet ? `shard ${s.session.profile_name}` : s.session.profile_name),
          h("span", { class: "login" }, `${s.session.login.user}@${s.session.login.database}`),
        ]
      : h("span", { class: "login" }, `${s.fleet?.view.shards.length ?? 0} shards`),
    h("button", { type: "button", class: "quiet", testid: "disconnect", on: { click: () => void actions.disconnect() } }, s.fleet ? "Close fleet" : "Disconnect"),
  );
}

/**
 * The open tenant in the navigation: its name first, readable (it gives way only when the window is narrow), then
 * its status as a small badge that never shrinks, so "SUSPENDED" stays in sight without eating the name. The
 * whole name and status are in the hover text and the accessible name.
 * @param {import("./api.js").SeenTenant} t
 * @param {boolean} current
 * @param {(label: import("./dom.js").Children, current: boolean, testid: string, go: () => void) => HTMLButtonElement} item
 */
function tenantItem(t, current, item) {
  const status = inactive(t.status);
  const b = item(
    [h("span", { class: "nav-tenant-name", testid: "nav-tenant-name" }, t.name), status && h("span", { class: "pill warn", testid: "nav-tenant-status" }, status)],
    current,
    "nav-tenant",
    () => store.show("tenant"),
  );
  b.title = status ? `${t.name} (${status})` : t.name;
  return b;
}

/**
 * A status that must stand out wherever the tenant is named (suspended, deleted), or null for an active one.
 * @param {string | null | undefined} status
 */
function inactive(status) {
  return status && status !== "active" ? status : null;
}

function isMac() {
  return /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
}

/** A quit being asked about (a second Ctrl+Q while the question shows does nothing more). */
let quitting = false;

/** Ctrl+Q (Cmd+Q on macOS): quits the app; with an export running, asks first (quitting cancels it). */
async function quit() {
  if (quitting) return;
  quitting = true;
  try {
    if (store.exportsRunning > 0) {
      const ok = await confirmDialog({
        title: "Quit while an export runs?",
        text: `${store.exportsRunning === 1 ? "An export is" : `${store.exportsRunning} exports are`} still running. Quitting stops it before the file is complete: no file is written.`,
        confirm: "Quit anyway",
        danger: true,
        testid: "quit-dialog",
      });
      if (!ok) return;
    }
    await api.appQuit();
  } catch (e) {
    announce(`The app could not quit: ${api.toApiError(e).message}`);
  } finally {
    quitting = false;
  }
}

document.addEventListener("keydown", (e) => {
  // The platform's quit key: Cmd+Q on macOS, Ctrl+Q elsewhere.
  if ((isMac() ? e.metaKey : e.ctrlKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "q") {
    e.preventDefault();
    void quit();
    return;
  }
  if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "k") {
    const s = store.state;
    if (!s.session && !s.fleet) return;
    e.preventDefault();
    if ((s.session && !s.fleet && !readsAllowed(s.session)) || switcherOpen() || document.querySelector("dialog[open]")) return;
    openSwitcher(ctx);
  }
});

store.subscribe(() => {
  renderShell();
  renderScreen();
});

async function start() {
  try {
    const info = await api.appInfo();
    initialProfile = info.initial_profile;
    const v = document.getElementById("app-version");
    if (v) v.textContent = `v${info.version}`;
  } catch {
    // Outside the app or an older app: start without a preselected profile.
  }
  renderShell();
  renderScreen();
  // After the next paint the profiles screen is on screen and usable.
  requestAnimationFrame(() => setTimeout(() => { api.appReady().catch(() => {}); }, 0));
}

void start();
