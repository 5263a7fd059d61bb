// @ts-check
/**
 * The profiles screen: the saved connection profiles, one selected at a time, with connect, test (the doctor's
 * diagnosis, or who the login is and whether RLS applies to it), edit, add and remove. The password field sends
 * the password once, to the keyring, and is cleared; the screen only ever knows whether one is stored, and
 * whether the server refused it on the last try. A new profile's TLS follows the host typed (none for this
 * computer, verified elsewhere) until the user picks one; a test's result shows beside its button.
 */
import * as api from "../api.js";
import { ErrorKind } from "../api.js";
import { confirmDialog } from "../dialog.js";
import { announce, field, h, replace, select, uid } from "../dom.js";
import { errorBox } from "../errors.js";
import { defaultTlsForHost } from "../hosts.js";
import { askHostKeys, askPassword } from "../prompts.js";

/** @typedef {import("../actions.js").Ctx} Ctx */
/** @typedef {import("../api.js").ProfileView} ProfileView */
/** @typedef {import("../api.js").ConnectionReport} ConnectionReport */
/** @typedef {import("../api.js").LoginInfo} LoginInfo */

const TLS = /** @type {[string, string][]} */ ([
  ["verify-full", "Verify certificate and host name (verify-full)"],
  ["require", "Encrypt, do not verify the certificate (require)"],
  ["disable", "No encryption (disable) — loopback or trusted network only"],
]);
const REASON = /** @type {[string, string][]} */ ([
  ["off", "Off — not asked"],
  ["optional", "Optional — asked, may be skipped"],
  ["required", "Required — no tenant opens without one"],
]);

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 * @param {{ initialProfile?: string | null }} [opts]  the profile (name or id) to select first
 */
export function mount(root, ctx, opts = {}) {
  const { store, actions } = ctx;
  /** @type {ProfileView[]} */
  let profiles = [];
  /** @type {"view" | "edit" | "new"} "view" shows the selected profile; "edit" / "new" show the form */
  let mode = "view";
  let alive = true;
  let initial = opts.initialProfile ?? null;

  const list = h("ul", { class: "profile-list", role: "listbox", "aria-label": "Profiles", testid: "profile-list", tabindex: "0" });
  const detail = h("section", { class: "profile-detail", "aria-label": "Profile" });
  // Fleets (many databases as one: tenantctl fleet add makes them) are listed beside the profiles.
  const fleetList = h("ul", { class: "profile-list fleet-list", "aria-label": "Fleets", testid: "fleet-list" });
  const fleetHead = h("div", { class: "pane-head", hidden: true }, h("h2", null, "Fleets"));
  /** @type {import("../api.js").FleetView[]} */
  let fleets = [];
  /** @type {string | null} the fleet shown in the detail pane, instead of a profile */
  let fleetShown = null;
  const listPane = h(
    "aside",
    { class: "profile-pane" },
    h("div", { class: "pane-head" }, h("h1", null, "Profiles"), h("button", { type: "button", testid: "profile-new", on: { click: () => startNew() } }, "New profile")),
    list,
    fleetHead,
    fleetList,
  );
  replace(root, h("div", { class: "profiles-screen" }, listPane, detail));

  list.addEventListener("keydown", (e) => {
    if (!profiles.length) return;
    const i = profiles.findIndex((p) => p.id === store.state.profile?.id);
    let next = i;
    if (e.key === "ArrowDown") next = Math.min(i + 1, profiles.length - 1);
    else if (e.key === "ArrowUp") next = Math.max(i - 1, 0);
    else if (e.key === "Enter" && store.state.profile) {
      e.preventDefault();
      void doConnect(store.state.profile);
      return;
    } else return;
    e.preventDefault();
    selectProfile(profiles[next]);
  });

  const unsubscribe = store.subscribe((s, prev) => {
    if (s.profile !== prev.profile || s.refused !== prev.refused) renderList();
    if (s.refused !== prev.refused && mode === "view") renderDetail();
  });

  async function loadFleets() {
    try {
      fleets = await api.fleetsList();
    } catch (e) {
      // A fleets.toml that cannot be read says so (with the file and the line), where the fleets would be.
      if (!alive) return;
      fleets = [];
      fleetHead.hidden = false;
      replace(fleetList, h("li", { class: "empty", testid: "fleet-list-error" }, errorBox(e)));
      return;
    }
    if (!alive) return;
    fleetHead.hidden = fleets.length === 0;
    replace(
      fleetList,
      fleets.map((f) =>
        h(
          "li",
          {
            role: "option", class: f.name === fleetShown ? "profile-item selected" : "profile-item", "aria-selected": String(f.name === fleetShown),
            testid: "fleet-item", "data-fleet": f.name,
            on: { click: () => showFleet(f), dblclick: () => void doOpenFleet(f) },
          },
          h("span", { class: "profile-name" }, f.name),
          h("span", { class: "profile-target" }, `${f.shards.length} shard${f.shards.length === 1 ? "" : "s"}`),
          h("span", { class: "badge" }, "fleet"),
        ),
      ),
    );
  }

  /** @param {import("../api.js").FleetView} f */
  function showFleet(f) {
    fleetShown = f.name;
    mode = "view";
    void loadFleets();
    const missing = f.shards.filter((s) => !s.profile_id);
    replace(
      detail,
      h(
        "div",
        { class: "detail-head" },
        h("h2", { testid: "fleet-title" }, `Fleet ${f.name}`),
        h("div", { class: "actions" }, h("button", { type: "button", class: "primary", testid: "fleet-open", on: { click: () => void doOpenFleet(f) } }, "Open fleet")),
      ),
      h(
        "dl",
        { class: "props" },
        prop("Shards", f.shards.map((s) => s.name).join(", ")),
        prop("Connections", `at most ${f.max_connections} open at once over all shards`),
        prop("Directory", f.directory ? `tenant locations read on ${f.directory}` : "none: a lookup asks every shard"),
        missing.length ? prop("Missing profiles", missing.map((s) => s.name).join(", ")) : null,
      ),
      h("p", { class: "hint" }, "Fleets are made with tenantctl fleet add NAME PROFILE…; opening one searches every shard, each as its own profile."),
      h("div", { id: "fleet-open-error", "aria-live": "assertive" }),
    );
  }

  /** @param {import("../api.js").FleetView} f */
  async function doOpenFleet(f) {
    const btn = detail.querySelector('[data-testid="fleet-open"]');
    const errBox = detail.querySelector("#fleet-open-error");
    if (btn instanceof HTMLButtonElement) {
      btn.disabled = true;
      btn.textContent = `Asking ${f.shards.length} shards…`;
    }
    if (errBox) replace(errBox);
    try {
      await actions.openFleet(f.name);
    } catch (e) {
      if (alive && errBox) replace(errBox, errorBox(e, { testid: "fleet-open-error" }));
    } finally {
      if (alive && btn instanceof HTMLButtonElement && btn.isConnected) {
        btn.disabled = false;
        btn.textContent = "Open fleet";
      }
    }
  }

  async function load() {
    void loadFleets();
    replace(list, h("li", { class: "muted loading", "aria-busy": "true" }, "Loading profiles…"));
    try {
      profiles = await api.profilesList();
    } catch (e) {
      if (!alive) return;
      replace(list);
      replace(detail, errorBox(e, { retry: () => void load() }));
      return;
    }
    if (!alive) return;
    const sel = store.state.profile;
    const want = initial ?? sel?.id ?? null;
    initial = null;
    const found = profiles.find((p) => p.id === want || p.name === want) ?? (sel ? null : profiles[0]) ?? null;
    store.selectProfile(found ?? profiles[0] ?? null);
    renderList();
    // A new profile being typed while the list loaded (right after Disconnect, say) keeps what was typed.
    if (mode === "new" && detail.querySelector('[data-testid="profile-form"]')) return;
    // A fleet chosen while the list loaded stays shown.
    if (fleetShown) return;
    if (!profiles.length) startNew();
    else renderDetail();
  }

  function renderList() {
    if (!profiles.length) {
      replace(list, h("li", { class: "empty" }, "No profiles yet. Add one to connect to a database."));
      list.removeAttribute("aria-activedescendant");
      return;
    }
    const selected = store.state.profile?.id;
    replace(
      list,
      profiles.map((p) =>
        h(
          "li",
          {
            id: `profile-${p.id}`,
            role: "option",
            "aria-selected": String(p.id === selected),
            class: p.id === selected ? "profile-item selected" : "profile-item",
            testid: "profile-item",
            "data-profile-id": p.id,
            "data-profile-name": p.name,
            on: { click: () => selectProfile(p), dblclick: () => void doConnect(p) },
          },
          h("span", { class: "profile-name" }, p.name),
          h("span", { class: "profile-target" }, `${p.user}@${p.host}:${p.port}/${p.database}`),
          passwordBadge(p),
        ),
      ),
    );
    if (selected) list.setAttribute("aria-activedescendant", `profile-${selected}`);
  }

  /**
   * Whether the profile has a password in the keyring, and whether the server took it: a stored password the
   * server just refused is no longer shown as a green "stored".
   * @param {ProfileView} p
   */
  function passwordBadge(p) {
    if (p.password_stored && store.state.refused.includes(p.id)) {
      return h(
        "span",
        { class: "badge bad", testid: "password-indicator", "data-state": "refused", title: "The server refused the stored password on the last try: enter it again when connecting, or edit the profile to replace it." },
        "stored password refused",
      );
    }
    return h(
      "span",
      { class: p.password_stored ? "badge ok" : "badge", testid: "password-indicator", "data-state": p.password_stored ? "stored" : "none" },
      p.password_stored ? "password stored" : "no password stored",
    );
  }

  /** @param {ProfileView} p */
  function selectProfile(p) {
    mode = "view";
    if (fleetShown) {
      fleetShown = null;
      void loadFleets();
    }
    store.selectProfile(p);
    renderDetail();
  }

  function startNew() {
    mode = "new";
    renderDetail();
  }

  function renderDetail() {
    const p = store.state.profile;
    if (mode !== "view") {
      renderForm(mode === "edit" ? p : null);
      return;
    }
    if (!p) {
      replace(detail, h("div", { class: "empty-state" }, h("p", null, "Select a profile, or add one.")));
      return;
    }
    const connect = h("button", { type: "button", class: "primary", testid: "connect-button", on: { click: () => void doConnect(p) } }, "Connect");
    const test = h("button", { type: "button", testid: "profile-test", on: { click: () => void doTest(p) } }, "Test connection");
    const result = h("div", { class: "test-result", testid: "profile-test-result", "aria-live": "polite", tabindex: "-1", "aria-label": "Connection test result" });
    replace(
      detail,
      h(
        "div",
        { class: "detail-head" },
        h("h2", { testid: "profile-title" }, p.name),
        h(
          "div",
          { class: "actions" },
          connect,
          test,
          h("button", { type: "button", testid: "profile-edit", on: { click: () => { mode = "edit"; renderDetail(); } } }, "Edit"),
          h("button", { type: "button", class: "danger-quiet", testid: "profile-remove", on: { click: () => void doRemove(p) } }, "Remove"),
        ),
      ),
      // The test's result right under its button, where the eye is.
      result,
      h(
        "dl",
        { class: "props" },
        prop("Server", `${p.host}:${p.port}`),
        p.ssh ? prop("Through SSH", [...(p.ssh_jump ?? []), p.ssh].join(" → ")) : null,
        p.ssh && Object.keys(p.ssh_host_keys ?? {}).length
          ? prop("Pinned host keys", Object.entries(p.ssh_host_keys ?? {}).map(([hop, fp]) => `${hop} ${fp}`).join("; "))
          : null,
        prop("Database", p.database),
        prop("User", p.user),
        prop(
          "Password",
          p.password_command
            ? `from a command, run before every new connection: ${p.password_command}`
            : p.password_stored
              ? store.state.refused.includes(p.id)
                ? "stored in the system keyring, but the server refused it on the last try (enter it again when connecting)"
                : "stored in the system keyring"
              : "not stored (asked when connecting)",
        ),
        prop("TLS", TLS.find(([v]) => v === p.tls)?.[1] ?? p.tls),
        p.ca_file ? prop("CA file", p.ca_file) : null,
        prop("Tenant setting", p.tenant_setting),
        prop("Mapping file", p.mapping_file || "built-in reference schema"),
        prop("Access reason", REASON.find(([v]) => v === p.access_reason)?.[1] ?? p.access_reason),
        p.access_reason === "required" ? prop("A reason lasts", `${p.access_grant_minutes} min`) : null,
        prop("Statement timeout", `${p.statement_timeout_ms} ms`),
        prop("Export time limit", p.export_timeout_minutes ? `${p.export_timeout_minutes} min` : "none"),
        p.record_to ? prop("Records accesses on", profiles.find((x) => x.id === p.record_to)?.name ?? p.record_to) : null,
      ),
      h("div", { id: "connect-error", "aria-live": "assertive" }),
    );
  }

  /**
   * @param {string} k
   * @param {string} v
   */
  function prop(k, v) {
    return [h("dt", null, k), h("dd", null, v)];
  }

  /** @param {ProfileView} p */
  async function doConnect(p) {
    const btn = detail.querySelector('[data-testid="connect-button"]');
    const errBox = detail.querySelector("#connect-error");
    if (btn instanceof HTMLButtonElement) {
      btn.disabled = true;
      btn.textContent = "Connecting…";
    }
    if (errBox) replace(errBox);
    try {
      await actions.connect(p);
    } catch (e) {
      if (alive && errBox) replace(errBox, errorBox(e, { testid: "connect-error" }));
    } finally {
      if (alive && btn instanceof HTMLButtonElement && btn.isConnected) {
        btn.disabled = false;
        btn.textContent = "Connect";
      }
    }
  }

  /** @param {ProfileView} p */
  async function doTest(p) {
    const result = detail.querySelector('[data-testid="profile-test-result"]');
    if (!(result instanceof HTMLElement)) return;
    replace(result, h("p", { class: "muted loading" }, `Testing ${p.host}:${p.port}…`));
    /** @type {string | undefined} */
    let password;
    for (;;) {
      try {
        const report = await api.profilesTest(p.id, password);
        if (!alive || store.state.profile?.id !== p.id) return;
        const unknown = report.diagnosis?.kind === "ssh_host_key_unknown" ? (report.diagnosis.ssh?.unknown_keys ?? []) : [];
        if (unknown.length && (await askHostKeys({ profileName: p.name, keys: unknown, pin: true }))) {
          await api.profilesPinHostKeys(p.id, unknown.map((k) => ({ hop: k.hop, fingerprint: k.fingerprint })));
          continue;
        }
        replace(result, reportView(report));
        // A refused password shows on the profile as refused; one that worked clears that.
        if (password === undefined && p.password_stored) {
          if (report.diagnosis?.kind === "auth") store.passwordRefused(p.id, true);
          else if (report.ok) store.passwordRefused(p.id, false);
        }
        reveal(result);
        announce(report.ok ? "Connection test passed." : `Connection test failed: ${report.diagnosis?.cause ?? ""}`);
        return;
      } catch (err) {
        const e = api.toApiError(err);
        if (!alive || store.state.profile?.id !== p.id) return;
        if (password === undefined && (e.kind === ErrorKind.SecretMissing || e.kind === ErrorKind.KeyringUnavailable)) {
          const answer = await askPassword({ profileName: p.name, why: `${e.message} Enter the password to test with (it is not stored).`, canRemember: false });
          if (!answer) {
            replace(result);
            return;
          }
          password = answer.password;
          continue;
        }
        replace(result, errorBox(e));
        reveal(result);
        return;
      }
    }
  }

  /**
   * Brings a result into view and gives it the focus, so it is seen and read out where it appeared.
   * @param {HTMLElement} el
   */
  function reveal(el) {
    if (!el.isConnected) return;
    el.scrollIntoView({ block: "nearest" });
    el.focus({ preventScroll: true });
  }

  /** @param {ProfileView} p */
  async function doRemove(p) {
    const ok = await confirmDialog({
      title: `Remove ${p.name}?`,
      text: `The profile and its stored password are deleted from this computer. The database is not touched.`,
      confirm: "Remove profile",
      danger: true,
      testid: "remove-dialog",
    });
    if (!ok) return;
    try {
      await api.profilesRemove(p.id);
      announce(`Profile ${p.name} removed.`);
      store.selectProfile(null);
      mode = "view";
      await load();
    } catch (e) {
      replace(detail, errorBox(e, { retry: () => void doRemove(p) }));
    }
  }

  /** @param {ProfileView | null} p  null for a new profile */
  function renderForm(p) {
    const id = (/** @type {string} */ name) => uid(`pf-${name}`);
    const input = (/** @type {string} */ name, /** @type {Record<string, unknown>} */ props) =>
      h("input", { id: id(name), name, autocomplete: "off", spellcheck: "false", ...props });
    const f = {
      name: input("name", { type: "text", required: true, value: p?.name ?? "", testid: "pf-name" }),
      host: input("host", { type: "text", required: true, value: p?.host ?? "localhost", testid: "pf-host" }),
      port: input("port", { type: "number", min: "1", max: "65535", required: true, value: String(p?.port ?? 5432), testid: "pf-port" }),
      database: input("database", { type: "text", required: true, value: p?.database ?? "", testid: "pf-database" }),
      user: input("user", { type: "text", required: true, value: p?.user ?? "", testid: "pf-user" }),
      password: input("password", {
        type: "password", autocomplete: "new-password", testid: "pf-password",
        placeholder: p?.password_stored ? "•••••• stored — type to replace" : "",
      }),
      tls: select({ id: id("tls"), name: "tls", testid: "pf-tls" }, TLS, p?.tls ?? "verify-full"),
      ca_file: input("ca_file", { type: "text", value: p?.ca_file ?? "", testid: "pf-ca-file", placeholder: "system trust store" }),
      tenant_setting: input("tenant_setting", { type: "text", required: true, value: p?.tenant_setting ?? "app.current_tenant_id", testid: "pf-tenant-setting" }),
      mapping_file: input("mapping_file", { type: "text", value: p?.mapping_file ?? "", testid: "pf-mapping-file", placeholder: "built-in reference schema" }),
      access_reason: select({ id: id("access_reason"), name: "access_reason", testid: "pf-access-reason" }, REASON, p?.access_reason ?? "off"),
      access_grant_minutes: input("access_grant_minutes", { type: "number", min: "1", max: "1440", step: "1", value: String(p?.access_grant_minutes ?? 30), testid: "pf-grant-minutes" }),
      export_timeout_minutes: input("export_timeout_minutes", { type: "number", min: "0", step: "1", value: String(p?.export_timeout_minutes ?? 60), testid: "pf-export-minutes" }),
      statement_timeout_ms: input("statement_timeout_ms", { type: "number", min: "100", step: "100", value: String(p?.statement_timeout_ms ?? 30000), testid: "pf-timeout" }),
      record_to: select(
        { id: id("record_to"), name: "record_to", testid: "pf-record-to" },
        /** @type {[string, string][]} */ ([
          ["", "This server (a primary)"],
          ...profiles.filter((x) => x.id !== p?.id).map((x) => /** @type {[string, string]} */ ([x.id, x.name])),
        ]),
        p?.record_to ?? "",
      ),
      pooled: input("pooled", { type: "checkbox", checked: Boolean(p?.pooled), testid: "pf-pooled" }),
      ssh: input("ssh", { type: "text", value: p?.ssh ?? "", testid: "pf-ssh", placeholder: "none: connect directly" }),
      ssh_jump: input("ssh_jump", { type: "text", value: (p?.ssh_jump ?? []).join(", "), testid: "pf-ssh-jump", placeholder: "none" }),
      ssh_config: input("ssh_config", { type: "text", value: p?.ssh_config ?? "", testid: "pf-ssh-config", placeholder: "~/.ssh/config" }),
      password_command: input("password_command", { type: "text", value: p?.password_command ?? "", testid: "pf-password-command", placeholder: "none: a stored or typed password" }),
    };
    /** Host keys pinned (the profile's, and those trusted while testing this form). @type {Record<string, string>} */
    let hostKeys = { ...(p?.ssh_host_keys ?? {}) };
    /** A libpq service was imported and .pgpass has its password: saving stores it (it never enters the page). */
    let fromPgpass = false;
    const pins = h("ul", { class: "host-keys", testid: "pf-host-keys" });
    const renderPins = () =>
      replace(
        pins,
        Object.keys(hostKeys).length === 0 ? h("li", { class: "muted" }, "none yet: asked on the first connection") : null,
        Object.entries(hostKeys).map(([hop, fp]) =>
          h(
            "li",
            null,
            h("strong", null, hop),
            h("code", null, fp),
            h("button", { type: "button", class: "link", on: { click: () => { delete hostKeys[hop]; renderPins(); } } }, "Forget"),
          ),
        ),
      );
    renderPins();
    const syncSsh = () => {
      const on = f.ssh.value.trim() !== "";
      f.ssh_jump.disabled = !on;
      f.ssh_config.disabled = !on;
    };
    f.ssh.addEventListener("input", syncSsh);
    syncSsh();
    const syncCommand = () => {
      const cmd = f.password_command.value.trim() !== "";
      f.password.disabled = cmd;
      if (cmd) f.password.value = "";
    };
    f.password_command.addEventListener("input", syncCommand);
    syncCommand();
    // A new profile's TLS follows its host until the user picks one: this computer has no certificate to
    // verify (the core's default for loopback), any other host is verified. An edited profile keeps its own.
    let tlsChosen = p !== null;
    const tlsHint = h("small", { class: "hint", id: `${f.tls.id}-auto`, testid: "pf-tls-auto", hidden: true });
    const syncTls = () => {
      f.ca_file.disabled = f.tls.value === "disable";
    };
    const followHost = () => {
      if (tlsChosen) {
        tlsHint.hidden = true;
        return;
      }
      const host = f.host.value.trim();
      f.tls.value = defaultTlsForHost(host);
      tlsHint.hidden = !host;
      tlsHint.textContent =
        f.tls.value === "disable"
          ? `Chosen from the host: ${host} is this computer, whose server usually has no certificate. Pick another mode to encrypt.`
          : `Chosen from the host: a server on the network is verified. Pick another mode if it has no certificate from a CA you trust.`;
      syncTls();
    };
    f.tls.addEventListener("change", () => {
      tlsChosen = true;
      tlsHint.hidden = true;
      syncTls();
    });
    f.host.addEventListener("input", followHost);
    followHost();
    syncTls();
    const problem = h("div", { "aria-live": "assertive" });
    const formId = uid("profile-form");
    const form = h(
      "form",
      { id: formId, class: "profile-form", novalidate: true, testid: "profile-form", "aria-label": p ? `Edit ${p.name}` : "New profile" },
      h(
        "fieldset",
        null,
        h("legend", null, "Connection"),
        field("Name", f.name, "How this profile is listed: letters, digits, “-”, “_” or “.”, e.g. “prod-readonly”."),
        h("div", { class: "row" }, field("Host", f.host), field("Port", f.port)),
        h("div", { class: "row" }, field("Database", f.database), field("User", f.user, "A login without BYPASSRLS, e.g. console_reader.")),
        field(
          "Password",
          f.password,
          p?.password_stored
            ? "A password is stored in the system keyring. Leave empty to keep it (it is sent only while server, database, user, TLS and SSH route stay the same); it is never shown."
            : "Sent once to the system keyring and never shown again. Leave empty to be asked when connecting.",
        ),
        field(
          "Password command",
          f.password_command,
          "For passwords that are short-lived tokens: a command whose first line of output is the password, run before every new connection (e.g. aws rds generate-db-auth-token …). Nothing is stored.",
        ),
      ),
      h(
        "fieldset",
        null,
        h("legend", null, "SSH"),
        field("SSH destination", f.ssh, "Reach the database through SSH: a Host alias of ~/.ssh/config, user@host, or ssh://user@host:port. The host above is then resolved there."),
        field("Jump hosts", f.ssh_jump, "Bastions before the destination, in order, comma-separated (as ssh -J)."),
        field("SSH configuration file", f.ssh_config, "Empty for ~/.ssh/config. Keys come from your agent or the configured IdentityFile."),
        h("div", { class: "field" }, h("span", { class: "label" }, "Pinned host keys"), pins, h("small", { class: "muted" }, "Keys you trusted after comparing fingerprints; a different key is refused.")),
      ),
      h("fieldset", null, h("legend", null, "TLS"), field("Mode", f.tls), tlsHint, field("CA file", f.ca_file, "PEM file of the CA that signed the server's certificate (verify-full).")),
      h(
        "fieldset",
        null,
        h("legend", null, "Tenant isolation"),
        field("Tenant setting", f.tenant_setting, "The setting your RLS policies read (current_setting), e.g. app.current_tenant_id."),
        field("Mapping file", f.mapping_file, "TOML file that maps your table and column names; empty for the reference schema."),
        field("Access reason", f.access_reason, "Whether opening a tenant asks support staff why (recorded in the tenant's access history)."),
        field("A reason lasts (minutes)", f.access_grant_minutes, "Under \"required\": how long a reason given when opening a tenant covers it, and the tenants opened after it (1 to 1440)."),
        field("Statement timeout (ms)", f.statement_timeout_ms),
        field("Export time limit (minutes)", f.export_timeout_minutes, "How long an export may run before it is stopped; 0 for none."),
        field(
          "Record accesses on",
          f.record_to,
          "For a read replica (hot standby), where nothing can be written: the primary's profile, where the access records go.",
        ),
        field(
          "Behind PgBouncer (transaction mode)",
          f.pooled,
          "Found by itself when the pooler listens on another port than the server; tick it when both use the same port number.",
        ),
      ),
      problem,
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void save();
    });
    const cancel = h("button", { type: "button", on: { click: () => { mode = "view"; renderDetail(); } } }, "Cancel");
    const saveBtn = h("button", { type: "submit", form: formId, class: "primary", testid: "profile-save" }, p ? "Save changes" : "Save profile");
    const testBtn = h("button", { type: "button", testid: "profile-test-draft", on: { click: () => void testDraft() } }, "Test connection");
    const serviceName = h("input", { id: id("service"), type: "text", autocomplete: "off", spellcheck: "false", testid: "pf-service", placeholder: "service name" });
    const importNotes = h("div", { "aria-live": "polite", testid: "pf-import-result" });
    const importBtn = h("button", { type: "button", testid: "pf-import", on: { click: () => void importService() } }, "Fill in from pg_service.conf");
    const importRow = p
      ? null
      : h("div", { class: "import-row" }, field("libpq service", serviceName, "A [service] of your pg_service.conf; its .pgpass password goes to the keyring when you save."), importBtn, importNotes);

    async function importService() {
      const name = serviceName.value.trim();
      if (!name) {
        serviceName.focus();
        return;
      }
      try {
        const got = await api.profilesImportService(name);
        const v = got.profile;
        f.name.value = v.name ?? name;
        f.host.value = v.host ?? "";
        f.port.value = String(v.port ?? 5432);
        f.database.value = v.database ?? "";
        f.user.value = v.user ?? "";
        if (v.tls) {
          // The service says which: that is a choice, not a default to follow the host.
          f.tls.value = v.tls;
          tlsChosen = true;
          tlsHint.hidden = true;
        } else followHost();
        f.ca_file.value = v.ca_file ?? "";
        syncTls();
        fromPgpass = got.password_found;
        replace(
          importNotes,
          h("p", { class: "ok-line" }, `Filled in from ${got.service_file}.`),
          got.notes.map((n) => h("p", { class: "muted" }, n)),
        );
      } catch (e) {
        replace(importNotes, errorBox(e));
      }
    }
    // The test's result sits right under the buttons (not above the form's long end) and is focused, so it is
    // seen and read out where the user clicked.
    const draftResult = h("div", { "aria-live": "polite", testid: "draft-test-result", class: "draft-result", tabindex: "-1", "aria-label": "Connection test result" });
    replace(
      detail,
      h("div", { class: "detail-head" }, h("h2", null, p ? `Edit ${p.name}` : "New profile")),
      importRow,
      form,
      h("div", { class: "form-actions" }, store.state.profile || profiles.length ? cancel : null, testBtn, saveBtn),
      draftResult,
    );
    // An error shown for a field goes when that field changes: its mark at once, the message once no field
    // is marked; a save refused for what was typed goes with the next change too.
    for (const el of Object.values(f)) {
      const clear = () => {
        const was = el.getAttribute("aria-invalid") === "true";
        el.removeAttribute("aria-invalid");
        // A save or a test refused for what was typed (invalid_input) is about the old values.
        problem.querySelector('[data-testid="profile-save-error"][data-kind="invalid_input"]')?.remove();
        draftResult.querySelector('[data-testid="draft-test-error"][data-kind="invalid_input"]')?.remove();
        if (was && !form.querySelector('[aria-invalid="true"]')) replace(problem);
      };
      el.addEventListener("input", clear);
      el.addEventListener("change", clear);
    }
    f.name.focus();

    /** The form's values, or null (with the fields marked) when a required one is empty. */
    function values() {
      replace(problem);
      const missing = [f.name, f.host, f.port, f.database, f.user, f.tenant_setting].filter((el) => !el.value.trim());
      for (const el of Object.values(f)) el.removeAttribute("aria-invalid");
      if (missing.length) {
        for (const el of missing) el.setAttribute("aria-invalid", "true");
        replace(problem, h("p", { class: "field-error", role: "alert" }, "Fill in the required fields."));
        missing[0].focus();
        return null;
      }
      /** @type {api.ProfileForm} */
      const form = {
        name: f.name.value.trim(),
        host: f.host.value.trim(),
        port: Number(f.port.value),
        database: f.database.value.trim(),
        user: f.user.value.trim(),
        tls: /** @type {api.TlsMode} */ (f.tls.value),
        ca_file: f.tls.value === "disable" ? "" : f.ca_file.value.trim(),
        tenant_setting: f.tenant_setting.value.trim(),
        mapping_file: f.mapping_file.value.trim(),
        access_reason: /** @type {api.ReasonPolicy} */ (f.access_reason.value),
        access_grant_minutes: Number(f.access_grant_minutes.value) || 30,
        statement_timeout_ms: Number(f.statement_timeout_ms.value) || 30000,
        export_timeout_minutes: f.export_timeout_minutes.value.trim() === "" ? 60 : Number(f.export_timeout_minutes.value),
        record_to: f.record_to.value,
        pooled: f.pooled.checked,
        ssh: f.ssh.value.trim(),
        ssh_jump: f.ssh.value.trim() ? f.ssh_jump.value.split(",").map((x) => x.trim()).filter(Boolean) : [],
        ssh_config: f.ssh.value.trim() ? f.ssh_config.value.trim() : "",
        ssh_host_keys: f.ssh.value.trim() ? hostKeys : {},
        password_command: f.password_command.value.trim(),
      };
      if (p) form.id = p.id;
      return form;
    }

    // Test the form as it stands, before saving: the doctor's diagnosis, or who the login is. The password
    // typed is sent for the test only and stays in the field for the save.
    async function testDraft() {
      const form = values();
      if (!form) return;
      testBtn.disabled = true;
      replace(draftResult, h("p", { class: "muted", "aria-busy": "true" }, `Connecting to ${form.host}:${form.port}…`));
      reveal(draftResult);
      try {
        /** @type {string[]} */
        const accepted = [];
        let report = await api.profilesTestDraft(form, f.password.value || undefined);
        // SSH keys seen for the first time: compared and trusted here, they are pinned when the form is saved.
        while (alive && report.diagnosis?.kind === "ssh_host_key_unknown" && report.diagnosis.ssh?.unknown_keys?.length) {
          const keys = report.diagnosis.ssh.unknown_keys;
          if (!(await askHostKeys({ profileName: form.name ?? "this profile", keys, pin: true }))) break;
          for (const k of keys) {
            hostKeys[k.hop] = k.fingerprint;
            accepted.push(k.fingerprint);
          }
          renderPins();
          report = await api.profilesTestDraft({ ...form, ssh_host_keys: hostKeys }, f.password.value || undefined, accepted);
        }
        if (alive) replace(draftResult, reportView(report));
      } catch (e) {
        if (alive) replace(draftResult, errorBox(e, { testid: "draft-test-error" }));
      } finally {
        testBtn.disabled = false;
      }
      if (alive) reveal(draftResult);
    }

    async function save() {
      const form = values();
      if (!form) return;
      const password = f.password.value;
      // The password leaves the page once, with this call; the field never holds it again.
      f.password.value = "";
      saveBtn.disabled = true;
      try {
        const saved = await api.profilesSave(form, password || undefined, { fromPgpass: fromPgpass && !password });
        if (!alive) return;
        announce(`Profile ${saved.name} saved${password ? ", password stored in the keyring" : ""}.`);
        // A new password replaces the one the server refused.
        if (password || fromPgpass) store.passwordRefused(saved.id, false);
        mode = "view";
        profiles = await api.profilesList();
        if (!alive) return;
        store.selectProfile(profiles.find((x) => x.id === saved.id) ?? null);
        renderList();
        renderDetail();
      } catch (e) {
        if (!alive) return;
        saveBtn.disabled = false;
        replace(problem, errorBox(e, { testid: "profile-save-error" }));
      }
    }
  }

  void load();
  return {
    unmount() {
      alive = false;
      unsubscribe();
    },
  };
}

/**
 * The result of a connection test: the doctor's diagnosis when it failed; who the login is and whether RLS
 * applies to it when it worked.
 * @param {ConnectionReport} r
 */
export function reportView(r) {
  if (!r.ok || !r.login) {
    const d = r.diagnosis;
    return h(
      "div",
      { class: "report fail", testid: "test-fail", "data-kind": d?.kind ?? "" },
      h("h3", null, `Cannot connect to ${r.target}`),
      d ? h("p", { class: "cause", testid: "diagnosis-cause" }, d.cause) : h("p", null, "The connection failed."),
      d && h("p", { class: "hint", testid: "diagnosis-hint" }, h("strong", null, "Try: "), d.hint),
      d && h("small", { class: "error-kind" }, `code: connect_${d.kind === "other" ? "failed" : d.kind}`),
    );
  }
  const l = r.login;
  const bypass = r.bypass_reasons.length > 0;
  return h(
    "div",
    { class: bypass ? "report warn" : "report ok", testid: "test-ok" },
    h("h3", null, `Connected to ${r.target}`),
    h(
      "dl",
      { class: "props" },
      loginProps(l),
      r.server ? [h("dt", null, "Server role"), h("dd", { testid: "server-role", class: r.server.standby ? "warn" : "" }, r.server.summary)] : null,
    ),
    bypass
      ? h(
          "div",
          { class: "bypass-list" },
          h("p", null, h("strong", null, "Row-level security does not apply to this login:")),
          h("ul", null, r.bypass_reasons.map((x) => h("li", null, x))),
          h("p", null, "Use a login without these attributes (e.g. console_reader) so the database enforces isolation."),
        )
      : h("p", { class: "ok-line" }, `Row-level security applies to login ${l.user}.`),
  );
}

/** @param {LoginInfo} l */
export function loginProps(l) {
  const yesNo = (/** @type {boolean} */ b) => (b ? "yes" : "no");
  return [
    h("dt", null, "Login"), h("dd", null, l.user),
    h("dt", null, "Database"), h("dd", null, l.database),
    h("dt", null, "Server"), h("dd", null, l.server_version),
    h("dt", null, "Superuser"), h("dd", { class: l.superuser ? "bad" : "" }, yesNo(l.superuser)),
    h("dt", null, "BYPASSRLS"), h("dd", { class: l.bypassrls ? "bad" : "" }, yesNo(l.bypassrls)),
    h("dt", null, "Owns unforced tables"), h("dd", { class: l.owns_unforced.length ? "bad" : "" }, l.owns_unforced.length ? l.owns_unforced.join(", ") : "none"),
  ];
}
