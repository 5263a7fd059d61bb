// @ts-check
// A stand-in for `window.__TAURI__` in page tests: the app's commands (docs/ipc.md) over in-memory fake data,
// a Channel, and the save dialog. `installMock` runs inside the page (page.addInitScript), so it is
// self-contained: no imports, no closures over test code. Tests steer it through `window.__MOCK__`:
//   calls                     every invoke as { cmd, args } (a Channel argument shows as "[Channel]")
//   hold(cmd, tenant)         from now on, calls of cmd for that tenant wait ...
//   release(cmd, tenant)      ... until released (all of them, oldest first; holding stops)
//   releaseNewest(cmd, tenant) releases only the newest held call (to make an older answer arrive last)
//   export.finish()           lets a running export complete
//
// Config (the argument of installMock): { reasonPolicy, bypassProfile, failTest, failStats, secretMissing, tenantOpenRejects,
// holds: [[cmd, tenant]], exportTotal, savePath, freezePrototype, desktopMissing (show/open fail as on a minimal
// desktop), verifyChoice (the file the open dialog answers with), verifyTampered, wrongPassword (connect_auth
// until the password "the-right-one" is given), connectLogError (a failure that points to the log), sshProfile (a third
// profile "bastion-prod" through SSH whose two host keys are unknown until pinned or accepted), pgService (a libpq
// service "prod-ro" to import, with a .pgpass password), signingKeyLocked (audit_export refuses until options.unsigned),
// fleet (a fleet "eu" of shards demo, down (refuses connections) and east (tenant initech); fleet_open, fleet_search,
// fleet_locate and fleet_check answer for it; failShard: a shard profile id whose connect is refused; fleetsBroken: fleets_list rejects as for an unreadable fleets.toml), consentTenants (slugs of tenants that require their own approval: every read refuses with consent_required until
// approved), consentWatch (false: access_watch answers false, as behind a transaction pooler, and no change is
// announced), masked (columns this login may not read, e.g. ["users.email", "audit_logs.ip"]: their fields are null
// and the pages name them), isolationClean (the check finds nothing open and the probe no foreign row), statuses ({ slug: status }: e.g. { acme: "suspended" }) }.
// app_quit is recorded (callsOf("app_quit")) and does nothing else. tenant_open answers record_id (3, 4, … per
// open) and grant_seconds (1800) when a reason is given or asked for, as the core does.
// Also: route(status) sends a tunnel state to the page's route watch, and
//   consent.approve(slug, { minutes, seconds, scope, by, silent })  the tenant's admin approves (announced on the
//                                                                     access_watch channel unless silent)
//   consent.revoke(slug, { silent })                                  the tenant revokes its live approvals
//   consent.notify(tenantId)                                          announces a change ("" = something changed)
//   consent.watchers()                                                how many access_watch channels are open

/**
 * What each command answers, as the app does: the types generated from the Rust ones (ui/ipc.d.ts). The mock is
 * type-checked against them (`npm run typecheck`, ui/tests/jsconfig.json), so a shape the app changes fails here
 * too instead of leaving the page tests on a shape the app no longer sends.
 * @template T
 * @typedef {(a: any) => T | Promise<T>} Answers
 */
/**
 * @typedef {object} MockCommands
 * @property {Answers<import("../../ipc").AppInfo>} app_info
 * @property {Answers<null>} app_ready
 * @property {Answers<null>} app_quit
 * @property {Answers<import("../../ipc").ProfileView[]>} profiles_list
 * @property {Answers<import("../../ipc").Profile>} profiles_save
 * @property {Answers<null>} profiles_remove
 * @property {Answers<import("../../ipc").ConnectionReport>} profiles_test
 * @property {Answers<import("../../ipc").ConnectionReport>} profiles_test_draft
 * @property {Answers<import("../../ipc").SessionInfo>} session_connect
 * @property {Answers<null>} session_route_watch
 * @property {Answers<import("../../ipc").Profile>} profiles_pin_host_keys
 * @property {Answers<import("../../ipc").ServiceImport>} profiles_import_service
 * @property {Answers<null>} session_disconnect
 * @property {Answers<import("../../ipc").TenantPage>} tenants_search
 * @property {Answers<import("../../ipc").TenantStatsRow[]>} tenants_stats
 * @property {Answers<import("../../ipc").TenantOverview>} tenant_open
 * @property {Answers<import("../../ipc").AccessRequested>} access_request
 * @property {Answers<import("../../ipc").AccessStatus>} access_status
 * @property {Answers<boolean>} access_watch
 * @property {Answers<import("../../ipc").MemberPage>} members_page
 * @property {Answers<import("../../ipc").Role[]>} roles_list
 * @property {Answers<import("../../ipc").AuditPage>} audit_page
 * @property {Answers<import("../../ipc").Count>} audit_count
 * @property {Answers<import("../../ipc").Glance>} tenant_glance
 * @property {Answers<import("../../ipc").AccessPage>} access_history
 * @property {Answers<import("../../ipc").Report>} isolation_check
 * @property {Answers<import("../../ipc").ExportSummary>} audit_export
 * @property {Answers<null>} audit_export_cancel
 * @property {Answers<null>} show_in_folder
 * @property {Answers<null>} open_export
 * @property {Answers<null>} open_log
 * @property {Answers<import("../../ipc").SigningKeyInfo>} signing_key_show
 * @property {Answers<import("../../ipc").VerifyReport | null>} verify_file
 * @property {Answers<import("../../ipc").Destination | null>} export_destination
 * @property {Answers<import("../../ipc").FleetView[]>} fleets_list
 * @property {Answers<import("../../ipc").FleetOpened>} fleet_open
 * @property {Answers<null>} fleet_close
 * @property {Answers<import("../../ipc").FleetTenantPage>} fleet_search
 * @property {Answers<import("../../ipc").Located>} fleet_locate
 * @property {Answers<import("../../ipc").FleetCheck>} fleet_check
 */

/** @param {Record<string, any>} config */
export function installMock(config) {
  const cfg = Object.assign(
    { reasonPolicy: "off", holds: [], exportTotal: 10000, savePath: "/home/me/audit-acme.csv", freezePrototype: true },
    config || {},
  );
  const clone = (v) => JSON.parse(JSON.stringify(v));
  /** Files verified, by the token verify_file answered with. */
  const verified = new Map();
  const err = (kind, message) => ({ kind, message });
  const day = 86400000;
  const base = Date.parse("2026-11-20T12:00:00Z");
  const iso = (ms) => new Date(ms).toISOString();

  // ---------------------------------------------------------------- data
  /** @type {import("../../ipc").ProfileView[]} */
  const profiles = [
    {
      id: "p-demo", name: "demo", host: "127.0.0.1", port: 5432, database: "tenant_demo", user: "console_reader",
      tls: "disable", tenant_setting: "app.tenant_id", access_reason: /** @type {import("../../ipc").ReasonPolicy} */ (cfg.reasonPolicy), access_grant_minutes: 30, statement_timeout_ms: 10000, export_timeout_minutes: 60,
      password_stored: !cfg.secretMissing,
    },
    {
      id: "p-super", name: "superuser (bypass)", host: "db.internal", port: 5432, database: "tenant_demo", user: "postgres",
      tls: "verify-full", tenant_setting: "app.tenant_id", access_reason: "off", access_grant_minutes: 30, statement_timeout_ms: 10000, export_timeout_minutes: 60, password_stored: true,
    },
  ];
  const sshKeys = [
    { hop: "10.20.0.2:22", user: "ops", key_type: "ssh-ed25519", fingerprint: "SHA256:PKtcAqLa5eq8M01Nfehq/wG7UyyxidlrGmxOkAx6DZE", trusted_by: "" },
    { hop: "db-host.internal:22", user: "ops", key_type: "ssh-ed25519", fingerprint: "SHA256:rSZ0biNGCxDSMhSHhkH30Kip50Cn6KdZxNiYMOq9o0s", trusted_by: "" },
  ];
  if (cfg.sshProfile) {
    profiles.push({
      id: "p-ssh", name: "bastion-prod", host: "db.internal", port: 5432, database: "app", user: "console_reader",
      tls: "verify-full", tenant_setting: "app.tenant_id", access_reason: "off", access_grant_minutes: 30, statement_timeout_ms: 10000, export_timeout_minutes: 60, password_stored: true,
      ssh: "db-host", ssh_jump: ["ops@10.20.0.2"],
    });
  }
  if (cfg.fleet) {
    for (const [id, name] of [["p-east", "east"], ["p-down", "down"]]) {
      profiles.push({
        id, name, host: `${name}.db.internal`, port: 5432, database: "app", user: "console_reader", tls: "verify-full",
        tenant_setting: "app.tenant_id", access_reason: "off", access_grant_minutes: 30, statement_timeout_ms: 10000, export_timeout_minutes: 60, password_stored: true,
      });
    }
  }
  /** The page's route watch (session_route_watch's channel). */
  let routeChannel = null;
  const unknownKeys = (p, accepted) =>
    sshKeys.filter((k) => !(p.ssh_host_keys && p.ssh_host_keys[k.hop] === k.fingerprint) && !(accepted || []).includes(k.fingerprint));
  /** @returns {import("../../ipc").LoginInfo} */
  const login = (user, bypass) => ({
    user, database: "tenant_demo", server_version: "15.10", superuser: bypass, bypassrls: bypass, owns_unforced: bypass ? ["public.audit_logs"] : [],
    owns_tenant_tables: bypass ? ["public.audit_logs"] : [], standby: false,
  });
  const bypassReasons = (user) => [`login "${user}" is a superuser`, `login "${user}" has the BYPASSRLS attribute`, `login "${user}" owns "public"."audit_logs" whose RLS is not forced`];

  const named = [
    { id: "t-acme", slug: "acme", name: "Acme Corporation", plan: "enterprise", status: "active" },
    { id: "t-globex", slug: "globex", name: "Globex, Inc.", plan: "pro", status: "active" },
    { id: "t-hostile", slug: "hooli", name: '<img src=x onerror="window.__pwned=1">Hooli =HYPERLINK("x")', plan: "free", status: "suspended" },
  ];
  if (cfg.longName) named[1].name = "Globex International Holdings and Subsidiaries of the Northern and Southern Hemispheres, Incorporated";
  for (const t of named) if (cfg.statuses && cfg.statuses[t.slug]) t.status = cfg.statuses[t.slug];
  const tenants = named.slice();
  for (let i = 1; i <= 60; i += 1) {
    const n = String(i).padStart(2, "0");
    tenants.push({ id: `t-filler-${n}`, slug: `filler-${n}`, name: `Tenant ${n} (filler)`, plan: i % 3 ? "pro" : "free", status: "active" });
  }
  // The fleet's second shard has a tenant of its own (the rest are on demo).
  if (cfg.fleet) tenants.push({ id: "t-initech", slug: "initech", name: "Initech", plan: "pro", status: "active" });
  tenants.forEach((t, i) => {
    t.created_at = iso(base - (i + 1) * 37 * day);
  });
  const shardOf = (/** @type {{ id: string }} */ t) => (t.id === "t-initech" ? "east" : "demo");
  /** @type {import("../../ipc").Unavailable} */
  const downShard = { shard: "down", kind: "connect_refused", message: "connection refused by down.db.internal:5432 (is PostgreSQL running there?)" };
  /** The open fleet's name (fleet_open), or null. */
  let fleetOpen = null;
  const fleetView = () => ({
    name: "eu", max_connections: 8, directory: null,
    shards: [{ name: "demo", profile_id: "p-demo" }, { name: "down", profile_id: "p-down" }, { name: "east", profile_id: "p-east" }],
  });
  const needFleet = (/** @type {any} */ a) => {
    if (!cfg.fleet || a.fleet !== "eu") throw err("invalid_input", `no fleet is named "${a.fleet}"`);
    if (fleetOpen !== "eu") throw err("not_connected", `fleet "${a.fleet}" is not open; open it first`);
  };
  const consentSlugs = new Set(cfg.consentTenants || []);
  tenants.forEach((t) => {
    t.consent_required = consentSlugs.has(t.slug);
  });

  const roleSets = {
    "t-acme": [
      ["OWNER", "Full control", ["tenant:manage", "billing:manage", "members:manage", "audit:read", "data:read", "data:write"], true],
      ["ADMIN", "Manage members", ["members:manage", "audit:read", "data:read", "data:write"], true],
      ["MEMBER", "Use the product", ["data:read", "data:write"], true],
      ["BILLING", "Finance team", ["billing:manage", "data:read"], false],
    ],
    "t-globex": [
      ["OWNER", "Full control", ["tenant:manage", "members:manage", "data:read"], true],
      ["SUPPORT", "Tier 1 support", ["data:read", "members:read"], false],
    ],
  };
  const members = {};
  const mk = (tid, domain, n, roles) => {
    const list = [];
    for (let i = 1; i <= n; i += 1) {
      list.push({
        id: `${tid}-m${i}`,
        email: i === 3 ? `=cmd|' /C calc'!A0@${domain}` : `user${i}@${domain}`,
        name: i === 2 ? "<b>Bold</b> O'Brien" : `${domain.split(".")[0]} person ${i}`,
        role: roles[i % roles.length],
        joined_at: iso(base - i * 5 * day),
      });
    }
    members[tid] = list;
  };
  mk("t-acme", "acme.example", 130, ["OWNER", "ADMIN", "MEMBER", "BILLING"]);
  mk("t-globex", "globex.example", 8, ["OWNER", "SUPPORT"]);
  mk("t-hostile", "hooli.example", 2, ["OWNER"]);

  const audits = {};
  const actions = ["member.invited", "member.removed", "auth.login", "project.created", "invoice.paid", "settings.updated"];
  const mkAudit = (tid, n) => {
    const list = [];
    for (let i = 1; i <= n; i += 1) {
      list.push({
        id: `${tid}-e${i}`,
        occurred_at: iso(base - i * 17 * 60000),
        actor_id: `${tid}-m${1 + (i % 5)}`,
        actor_email: `user${1 + (i % 5)}@${tid.slice(2)}.example`,
        action: actions[i % actions.length],
        resource_type: ["member", "session", "project"][i % 3],
        resource_id: i % 40 === 0 ? '=HYPERLINK("http://evil.example","click")' : `res-${i}`,
        ip: `10.0.${i % 250}.${1 + (i % 200)}`,
        user_agent: "Mozilla/5.0 Demo",
        metadata: { seq: i, tenant: tid, note: i % 2 ? "ok" : "<script>alert(1)</script>", nested: { a: [1, 2] } },
      });
    }
    audits[tid] = list;
  };
  mkAudit("t-acme", 250);
  const failedLogins = {
    "t-acme": [1, 2, 3].map((k) => ({
      id: `t-acme-f${k}`, occurred_at: iso(base - k * 3600000), actor_id: "t-acme-m2", actor_email: "user2@acme.example",
      action: "auth.login_failed", resource_type: "session", resource_id: null, ip: `203.0.113.${k}`, user_agent: "curl/8", metadata: {},
    })),
  };
  mkAudit("t-globex", 40);
  const access = {
    "t-acme": [
      { id: "a1", at: iso(base - 2 * day), db_user: "console_reader", os_user: "demo", client_host: "demo-host", category: "support-ticket", detail: "ZD-1001", action: "view", details: {} },
      { id: "a0", at: iso(base - 3 * day), db_user: "console_reader", os_user: "demo", client_host: "demo-host", category: "none", detail: "", action: "export", details: { file: "acme.csv" } },
    ],
    "t-globex": [],
  };

  // ---------------------------------------------------------------- consent and masked columns
  // Approvals and requests by tenant id; times on the real clock (approvals run out while a test waits).
  const approvals = new Map();
  const requests = new Map();
  const watchChannels = [];
  let seqId = 0;
  /** Access records written by tenant_open (the first is 3: two were there before). */
  let recordSeq = 2;
  const nowIso = () => new Date().toISOString();
  const live = (a, need) => !a.revoked_at && Date.parse(a.expires_at) > Date.now() && (need === "read" || a.scope === "export");
  const liveApproval = (t, need = "read") =>
    (approvals.get(t.id) || []).filter((a) => live(a, need)).sort((x, y) => y.expires_at.localeCompare(x.expires_at))[0] || null;
  const consentStatus = (t) => {
    const list = (approvals.get(t.id) || []).slice();
    const request = (requests.get(t.id) || []).at(-1) || null;
    /** @type {import("../../ipc").AccessStatus} */
    const st = {
      tenant: { id: t.id, slug: t.slug, name: t.name }, state: /** @type {import("../../ipc").ConsentState} */ ("not_required"), consent_required: !!t.consent_required,
      approval_id: null, approved_by: null, expires_at: null, revoked_at: null, scope: null, seconds_left: null,
      request: request ? clone(request) : null, as_of: nowIso(),
    };
    if (!t.consent_required) return st;
    const a = liveApproval(t) || list.sort((x, y) => y.created_at.localeCompare(x.created_at))[0] || null;
    if (a) Object.assign(st, { approval_id: a.id, approved_by: a.approved_by, expires_at: a.expires_at, revoked_at: a.revoked_at, scope: a.scope });
    if (a && live(a, "read")) {
      st.state = "approved";
      st.seconds_left = Math.max(0, Math.floor((Date.parse(a.expires_at) - Date.now()) / 1000));
    } else if (request && !(a && (a.request_id === request.id || a.created_at >= request.created_at))) st.state = "pending";
    else if (a) st.state = a.revoked_at ? "revoked" : "expired";
    else st.state = "none";
    return st;
  };
  /** As the door: a tenant that requires consent is not read without a live approval covering the read. */
  const gate = (t, need = "read") => {
    if (!t.consent_required || liveApproval(t, need)) return liveApproval(t, need);
    const st = consentStatus(t);
    const now = { pending: "a request is waiting for the tenant's answer", revoked: "the last approval was revoked by the tenant", expired: "the last approval expired" }[st.state] || "nothing has been asked yet";
    throw err(
      "consent_required",
      `tenant ${t.slug} requires its own approval before support reads its data, and none is live for this login (${now}); nothing was read. Ask with \`tenantctl access request --tenant ${t.slug} --reason CATEGORY:DETAIL --minutes 60\` or "Request access" in the app; the tenant's admins approve it in the product`,
    );
  };
  const notify = (tenantId) => {
    for (const ch of watchChannels) ch.onmessage({ tenant_id: tenantId });
    return watchChannels.length;
  };
  // Masked columns: which field of a member / an audit event each mapped column feeds.
  const masked = cfg.masked || [];
  const memberColumns = { email: "users.email", name: "users.display_name", role: "memberships.role", joined_at: "memberships.created_at" };
  const auditColumns = {
    actor_id: "audit_logs.actor_id", action: "audit_logs.action", resource_type: "audit_logs.resource_type", resource_id: "audit_logs.resource_id",
    ip: "audit_logs.ip", user_agent: "audit_logs.user_agent", metadata: "audit_logs.metadata", actor_email: "users.email",
  };
  const maskedOf = (columns) => Object.values(columns).filter((c, i, all) => masked.includes(c) && all.indexOf(c) === i);
  const isMasked = (columns, field) => masked.includes(columns[field]);
  const maskItems = (items, columns) =>
    items.map((x) => {
      const y = { ...x };
      for (const f of Object.keys(columns)) if (isMasked(columns, f)) y[f] = null;
      return y;
    });

  // ---------------------------------------------------------------- plumbing
  const calls = [];
  const held = new Map(); // key -> [resolve]
  const holding = new Set((cfg.holds || []).map(([c, t]) => `${c}|${t}`));
  const sessions = new Map();
  /** @type {any} */
  let exportRun = null;
  // Save-dialog tokens -> paths, as the app keeps them on its side.
  const tokens = new Map();
  let destinations = 0;

  const page = (list, after, limit, def) => {
    const n = limit || def;
    const start = after ? Number(after) : 0;
    const items = list.slice(start, start + n);
    return { items: clone(items), next_cursor: start + n < list.length ? String(start + n) : null };
  };
  const findTenant = (ref) => tenants.find((t) => t.id === ref || t.slug === ref);
  const need = (args, names) => {
    for (const n of names) if (args[n] === undefined || args[n] === null) throw err("invalid_input", `missing argument ${n}`);
  };
  const only = (cmd, args, names) => {
    for (const k of Object.keys(args)) if (!names.includes(k)) throw err("invalid_input", `${cmd}: unexpected argument ${k}`);
  };
  const session = (profileId) => {
    const s = sessions.get(profileId);
    if (!s) throw err("not_connected", "the profile is not connected");
    if (s.bypass_reasons.length && !s.bypass_accepted) throw err("isolation_not_enforced", "row-level security does not apply to this login");
    return s;
  };
  const statsOf = (t) => {
    const m = members[t.id] || [];
    const ev = audits[t.id] || [];
    return { members: m.length, audit_events_30d: { value: ev.length * 1000 + 345, is_estimate: t.id === "t-acme" }, last_activity: ev[0] ? ev[0].occurred_at : null };
  };
  const tenantOf = (args) => {
    session(args.profileId);
    const t = findTenant(args.tenant);
    if (!t) throw err("unknown_tenant", `unknown tenant "${args.tenant}": no tenant has that id or slug`);
    return t;
  };

  /** @type {MockCommands} */
  const commands = {
    app_info: () => ({ version: "0.1.0-test", initial_profile: cfg.initialProfile || null }),
    app_ready: () => null,
    app_quit: (a) => {
      only("app_quit", a, []);
      return null;
    },
    profiles_list: () => clone(profiles),
    profiles_save: (a) => {
      only("profiles_save", a, ["profile", "password", "fromPgpass"]);
      const form = a.profile;
      if (!form || typeof form !== "object") throw err("invalid_input", "a profile must be an object of fields");
      let p = form.id ? profiles.find((x) => x.id === form.id) : null;
      if (form.id && !p) throw err("unknown_profile", `no profile ${form.id}`);
      if (!p) {
        if (!form.name) throw err("invalid_input", "a profile needs a name");
        if (profiles.some((x) => x.name === form.name)) throw err("invalid_input", `a profile named "${form.name}" exists`);
        // The core's defaults for what the form leaves out (profile.rs).
        p = {
          id: `p-${profiles.length + 1}`, name: form.name, host: "", port: 5432, database: "", user: "", tls: "verify-full",
          tenant_setting: "app.current_tenant_id", access_reason: "off", access_grant_minutes: 30, statement_timeout_ms: 30000,
          export_timeout_minutes: 60, password_stored: false,
        };
        profiles.push(p);
      }
      for (const [k, v] of Object.entries(form)) {
        if (k === "id") continue;
        if (v === "" || v === null) delete p[k];
        else p[k] = v;
      }
      if (a.password || a.fromPgpass) p.password_stored = true;
      const out = clone(p);
      delete out.password_stored;
      return out;
    },
    profiles_remove: (a) => {
      only("profiles_remove", a, ["id"]);
      const i = profiles.findIndex((p) => p.id === a.id);
      if (i < 0) throw err("unknown_profile", `no profile ${a.id}`);
      profiles.splice(i, 1);
      return null;
    },
    profiles_test: (a) => {
      only("profiles_test", a, ["id", "password", "acceptHostKeys"]);
      const p = profiles.find((x) => x.id === a.id);
      if (!p) throw err("unknown_profile", `no profile ${a.id}`);
      if (!p.password_stored && !a.password) throw err("secret_missing", `no password is stored in the system keyring for profile "${p.name}"`);
      const target = `${p.user}@${p.host}:${p.port}/${p.database}`;
      if (cfg.wrongPassword && a.password !== "the-right-one") {
        return { server: null, route: null, ok: false, target, server_version: null, login: null, bypass_reasons: [], diagnosis: { kind: "auth", cause: `the server refused the password of user "${p.user}"`, hint: "enter the password again; check the user name" } };
      }
      if (cfg.failTest) {
        return { server: null, route: null, ok: false, target, server_version: null, login: null, bypass_reasons: [], diagnosis: { kind: "refused", cause: `nothing listens on ${p.host}:${p.port}`, hint: "check that PostgreSQL runs and the port is right" } };
      }
      const bypass = p.id === "p-super";
      return { server: null, route: null, ok: true, target, server_version: "15.10", login: login(p.user, bypass), bypass_reasons: bypass ? bypassReasons(p.user) : [], diagnosis: null };
    },
    profiles_test_draft: (a) => {
      only("profiles_test_draft", a, ["profile", "password", "acceptHostKeys"]);
      need(a, ["profile"]);
      const p = a.profile;
      if (p.ssh) {
        const unknown = unknownKeys(p, a.acceptHostKeys);
        if (unknown.length) {
          return {
            ok: false, target: `${p.user}@${p.host}:${p.port}/${p.database}`, server_version: null, login: null, bypass_reasons: [], server: null, route: null,
            diagnosis: { kind: "ssh_host_key_unknown", cause: "the SSH host key is not known: nothing was sent through it", hint: "compare the fingerprint", ssh: { hop: unknown[0].hop, unknown_keys: clone(unknown) } },
          };
        }
      }
      if (!p.id && !a.password) throw err("invalid_input", "enter the password to test the connection (it is not kept until the profile is saved)");
      const target = `${p.user}@${p.host}:${p.port}/${p.database}`;
      if (p.port === 8080) {
        return { server: null, route: null, ok: false, target, server_version: null, login: null, bypass_reasons: [], diagnosis: { kind: "not_postgres", cause: `something at ${p.host}:8080 answered, but it is not PostgreSQL (it said "HTTP/1.1 400 Bad Request")`, hint: "check the port: PostgreSQL usually listens on 5432 and PgBouncer on 6432; this one may be a web server or another service" } };
      }
      return { server: null, route: null, ok: true, target, server_version: "15.10", login: login(p.user, false), bypass_reasons: [], diagnosis: null };
    },
    session_connect: (a) => {
      only("session_connect", a, ["profileId", "password", "allowBypass", "acceptHostKeys", "fleet"]);
      if (a.fleet !== undefined) needFleet(a);
      if (a.profileId === "p-down" || (cfg.failShard && a.profileId === cfg.failShard)) throw err("connect_refused", downShard.message);
      // One open shard per fleet: connecting one closes the other.
      if (a.fleet) for (const id of ["p-demo", "p-east"]) sessions.delete(id);
      need(a, ["profileId", "allowBypass"]);
      const p = profiles.find((x) => x.id === a.profileId);
      if (!p) throw err("unknown_profile", `no profile ${a.profileId}`);
      if (p.ssh) {
        const unknown = unknownKeys(p, a.acceptHostKeys);
        if (unknown.length) {
          throw { kind: "connect_ssh_host_key_unknown", message: "the SSH host keys are not known: nothing was sent through them", ssh: { hop: unknown[0].hop, unknown_keys: clone(unknown) } };
        }
      }
      if (!p.password_stored && !a.password) throw err("secret_missing", `no password is stored in the system keyring for profile "${p.name}"`);
      if (cfg.wrongPassword && a.password !== "the-right-one") {
        throw err("connect_auth", `password authentication failed for user "${p.user}" (check the password (enter it again) and the user name)`);
      }
      if (cfg.connectLogError) {
        throw { kind: "connect_failed", message: "could not connect to 127.0.0.1:5432 (the log has the details)", log_file: "/home/me/.local/share/tenant-console/logs/app.log.2026-11-20" };
      }
      const bypass = p.id === "p-super" || cfg.bypassProfile === p.id;
      const s = {
        profile_id: p.id, profile_name: p.name, login: login(p.user, bypass), bypass_reasons: bypass ? bypassReasons(p.user) : [],
        bypass_accepted: bypass && a.allowBypass === true, access_reason: p.access_reason,
        route: p.ssh ? { via: "ssh", hops: sshKeys.map((k) => ({ ...k, trusted_by: "pinned" })) } : { via: "direct" },
      };
      sessions.set(p.id, s);
      return clone(s);
    },
    session_route_watch: (a) => {
      only("session_route_watch", a, ["profileId", "onRoute"]);
      routeChannel = a.onRoute;
      return null;
    },
    profiles_pin_host_keys: (a) => {
      only("profiles_pin_host_keys", a, ["id", "keys"]);
      const p = profiles.find((x) => x.id === a.id);
      if (!p) throw err("unknown_profile", `no profile ${a.id}`);
      p.ssh_host_keys = Object.assign({}, p.ssh_host_keys || {});
      for (const k of a.keys) p.ssh_host_keys[k.hop] = k.fingerprint;
      const out = clone(p);
      delete out.password_stored;
      return out;
    },
    profiles_import_service: (a) => {
      only("profiles_import_service", a, ["name"]);
      if (!cfg.pgService || a.name !== "prod-ro") throw err("invalid_input", `no service "${a.name}" in /home/me/.pg_service.conf`);
      return {
        profile: { name: "prod-ro", host: "db.prod.internal", port: 6432, database: "app", user: "console_reader", tls: "verify-full", ca_file: "/etc/ssl/prod-ca.pem" },
        service_file: "/home/me/.pg_service.conf",
        password_found: true,
        notes: ["The password from /home/me/.pgpass line 2 goes to the system keyring when you save; the file stays as it is."],
      };
    },
    session_disconnect: (a) => {
      sessions.delete(a.profileId);
      return null;
    },
    tenants_search: (a) => {
      only("tenants_search", a, ["profileId", "search", "sort", "after", "limit"]);
      session(a.profileId);
      let list = tenants.slice();
      if (a.search) {
        const q = a.search.toLowerCase();
        list = list.filter((t) => t.name.toLowerCase().includes(q) || t.slug.includes(q) || t.id === a.search);
      }
      const sort = a.sort || "name";
      if (!["name", "slug", "created_at"].includes(sort)) throw err("invalid_input", `unknown sort "${sort}"`);
      list.sort((x, y) => (sort === "created_at" ? y.created_at.localeCompare(x.created_at) : x[sort].localeCompare(y[sort])));
      return page(list, a.after, a.limit, 50);
    },
    tenants_stats: (a) => {
      only("tenants_stats", a, ["profileId", "tenants"]);
      session(a.profileId);
      if (a.tenants.length > 100) throw err("invalid_input", "at most 100");
      if (cfg.failStats) throw err("query_timeout", "the query took longer than the statement timeout");
      return a.tenants
        .map((id) => tenants.find((t) => t.id === id))
        .filter((t) => t && (!t.consent_required || liveApproval(t)))
        .map((t) => ({ tenant_id: t.id, stats: statsOf(t) }));
    },
    tenant_open: (a) => {
      only("tenant_open", a, ["profileId", "tenant", "reason"]);
      const s = session(a.profileId);
      const t = tenantOf(a);
      if ((s.access_reason === "required" || cfg.tenantOpenRejects) && !a.reason) {
        throw err("reason_required", "this profile requires a reason to open a tenant");
      }
      if (a.reason && !["support-ticket", "incident", "audit-request", "other"].includes(a.reason.category)) throw err("invalid_input", "bad category");
      const approval = gate(t);
      // The mock records every open (its tests pin "recorded" under the policy off too); a grant comes with a
      // reason given or asked for, as the door's.
      const grants = s.access_reason !== "off" || !!a.reason;
      return {
        tenant: { id: t.id, slug: t.slug, name: t.name },
        status: t.status,
        plan: t.plan,
        created_at: "2026-01-15T09:00:00Z",
        stats: statsOf(t),
        recorded: "yes",
        record_id: String(++recordSeq),
        grant_seconds: grants ? 1800 : null,
        approval: approval ? clone(approval) : null,
      };
    },
    access_request: (a) => {
      only("access_request", a, ["profileId", "tenant", "reason", "minutes", "scope"]);
      need(a, ["reason", "minutes"]);
      const t = tenantOf(a);
      if (!a.reason.detail || !["support-ticket", "incident", "audit-request", "other"].includes(a.reason.category)) throw err("invalid_input", "a request needs a reason: a category and a detail");
      if (!Number.isInteger(a.minutes) || a.minutes < 1 || a.minutes > 10080) throw err("invalid_input", "ask for 1 to 10080 minutes");
      if (a.scope !== undefined && a.scope !== "read" && a.scope !== "export") throw err("invalid_input", `unknown access scope "${a.scope}": use read or export`);
      if (!t.consent_required) throw err("invalid_input", `tenant ${t.slug} does not require approval: open it`);
      const request = {
        id: String(++seqId), db_user: "console_reader", category: a.reason.category, detail: a.reason.detail, minutes: a.minutes,
        scope: a.scope || "read", created_at: nowIso(),
      };
      requests.set(t.id, [...(requests.get(t.id) || []), request]);
      return { tenant: { id: t.id, slug: t.slug, name: t.name }, request: clone(request) };
    },
    access_status: (a) => {
      only("access_status", a, ["profileId", "tenant"]);
      return consentStatus(tenantOf(a));
    },
    access_watch: (a) => {
      only("access_watch", a, ["profileId", "onChange"]);
      need(a, ["onChange"]);
      session(a.profileId);
      if (cfg.consentWatch === false) return false;
      watchChannels.push(a.onChange);
      return true;
    },
    members_page: (a) => {
      only("members_page", a, ["profileId", "tenant", "role", "email", "after", "limit", "sort", "descending"]);
      const t = tenantOf(a);
      gate(t);
      if (a.email && isMasked(memberColumns, "email")) throw err("invalid_input", "the email search needs users.email, which this login may not read (it is masked)");
      if (a.role && isMasked(memberColumns, "role")) throw err("invalid_input", "the role filter needs memberships.role, which this login may not read (it is masked)");
      let list = (members[t.id] || []).slice();
      if (a.role) list = list.filter((m) => m.role === a.role);
      if (a.email) list = list.filter((m) => (m.email || "").includes(a.email));
      let field = { email: "email", name: "name", role: "role", joined: "joined_at" }[a.sort || "email"];
      if (!field) throw err("invalid_input", `unknown sort ${a.sort}`);
      // As the core: a masked column sorts by nothing, so by user id.
      if (isMasked(memberColumns, field)) field = "id";
      list.sort((x, y) => String(x[field] ?? "").localeCompare(String(y[field] ?? "")) || x.id.localeCompare(y.id));
      if (a.descending) list.reverse();
      const p = page(list, a.after, a.limit, 100);
      return { ...p, items: maskItems(p.items, memberColumns), masked_columns: maskedOf(memberColumns) };
    },
    roles_list: (a) => {
      only("roles_list", a, ["profileId", "tenant"]);
      const t = tenantOf(a);
      gate(t);
      return (roleSets[t.id] || []).map(([id, description, permissions, builtin]) => ({
        id, description, permissions, builtin, global: false, members: (members[t.id] || []).filter((m) => m.role === id).length,
      }));
    },
    audit_page: (a) => {
      only("audit_page", a, ["profileId", "tenant", "filter", "after", "limit", "oldestFirst"]);
      need(a, ["filter"]);
      const t = tenantOf(a);
      gate(t);
      const f = a.filter;
      let list = audits[t.id] || [];
      if (f.action) list = list.filter((e) => (f.action.endsWith("*") || f.action.endsWith(".") ? e.action.startsWith(f.action.replace(/\*$/, "")) : e.action === f.action));
      if (f.since) list = list.filter((e) => e.occurred_at >= f.since);
      if (f.until) list = list.filter((e) => e.occurred_at < f.until);
      if (f.actor) list = list.filter((e) => e.actor_email === f.actor || e.actor_id === f.actor);
      if (f.resource_type) list = list.filter((e) => e.resource_type === f.resource_type);
      if (f.resource_id) list = list.filter((e) => e.resource_id === f.resource_id);
      if (a.oldestFirst) list = list.slice().reverse();
      const p = page(list, a.after, a.limit, 100);
      return { ...p, items: maskItems(p.items, auditColumns), masked_columns: maskedOf(auditColumns) };
    },
    audit_count: (a) => {
      only("audit_count", a, ["profileId", "tenant", "filter"]);
      const r = /** @type {import("../../ipc").AuditPage} */ (commands.audit_page({ profileId: a.profileId, tenant: a.tenant, filter: a.filter, limit: 1e9 }));
      return { value: r.items.length, is_estimate: false };
    },
    tenant_glance: (a) => {
      only("tenant_glance", a, ["profileId", "tenant"]);
      const t = tenantOf(a);
      gate(t);
      const list = audits[t.id] || [];
      const asOf = iso(base);
      const since = iso(base - 30 * day);
      const recent = list.filter((e) => e.occurred_at >= since);
      const byActor = new Map();
      for (const e of recent) {
        if (!e.actor_id) continue;
        const x = byActor.get(e.actor_id) || { actor_id: e.actor_id, email: e.actor_email, events: 0, last: e.occurred_at };
        x.events += 1;
        if (e.occurred_at > x.last) x.last = e.occurred_at;
        byActor.set(e.actor_id, x);
      }
      // Failed sign-ins are kept apart from the audit list (its counts are pinned by other tests).
      const failed = (failedLogins[t.id] || []).filter((e) => e.occurred_at >= since);
      const actorMasked = isMasked(auditColumns, "actor_id");
      const actionMasked = isMasked(auditColumns, "action");
      const emailMasked = isMasked(auditColumns, "actor_email");
      return {
        latest: maskItems(list.slice(0, 20), auditColumns),
        active_actors: {
          since, events_read: actorMasked ? 0 : recent.length, capped: false, masked: actorMasked,
          items: actorMasked
            ? []
            : [...byActor.values()]
                .sort((x, y) => y.events - x.events || (y.last > x.last ? 1 : -1))
                .slice(0, 5)
                .map((x) => ({ ...x, email: emailMasked ? null : x.email })),
        },
        failed_logins: {
          action: "auth.login_failed", since, count: { value: actionMasked ? 0 : failed.length, is_estimate: false },
          latest: actionMasked ? [] : maskItems(failed.slice(0, 5), auditColumns), masked: actionMasked,
        },
        recent_access: (access[t.id] || []).slice(0, 5),
        masked_columns: maskedOf(auditColumns),
        as_of: asOf,
      };
    },
    access_history: (a) => {
      only("access_history", a, ["profileId", "tenant", "after"]);
      const t = tenantOf(a);
      gate(t);
      return page(access[t.id] || [], a.after, 100, 100);
    },
    fleets_list: () => {
      if (cfg.fleetsBroken) throw err("profile", "/home/me/.config/tenant-console/fleets.toml is not a valid fleet file (line 3: expected `=`); fix or move it");
      return cfg.fleet ? [fleetView()] : [];
    },
    fleet_open: (a) => {
      only("fleet_open", a, ["fleet"]);
      if (!cfg.fleet || a.fleet !== "eu") throw err("invalid_input", `no fleet is named "${a.fleet}"`);
      fleetOpen = "eu";
      const up = (/** @type {string} */ shard) => ({ shard, answered: true, server_version: "15.10", role: "primary", latency_ms: 1.4, unavailable: null });
      return { fleet: fleetView(), status: [up("demo"), { shard: "down", answered: false, server_version: null, role: null, latency_ms: null, unavailable: clone(downShard) }, up("east")] };
    },
    fleet_close: (a) => {
      only("fleet_close", a, []);
      fleetOpen = null;
      for (const id of ["p-demo", "p-east"]) sessions.delete(id);
      return null;
    },
    fleet_search: (a) => {
      only("fleet_search", a, ["fleet", "search", "sort", "limit"]);
      needFleet(a);
      let list = tenants.slice();
      if (a.search) {
        const q = a.search.toLowerCase();
        list = list.filter((t) => t.name.toLowerCase().includes(q) || t.slug.includes(q) || t.id === a.search);
      }
      list.sort((x, y) => x.name.localeCompare(y.name));
      const limit = a.limit || 50;
      const rows = list.slice(0, limit).map((t) => ({
        id: t.id, slug: t.slug, name: t.name, plan: t.plan, status: t.status, created_at: t.created_at, consent_required: Boolean(t.consent_required), shard: shardOf(t),
      }));
      return { items: rows, more: list.length > limit, unavailable: [clone(downShard)] };
    },
    fleet_locate: (a) => {
      only("fleet_locate", a, ["fleet", "key", "near"]);
      needFleet(a);
      const t = findTenant(a.key);
      if (!t) throw err("unknown_tenant", `tenant "${a.key}" is on none of the 2 shards that answered (demo, east); not asked or not answering: down (connect_refused)`);
      return { shard: shardOf(t), tenant: { id: t.id, slug: t.slug, name: t.name }, unavailable: [clone(downShard)], not_asked: [] };
    },
    fleet_check: (a) => {
      only("fleet_check", a, ["fleet", "probe"]);
      needFleet(a);
      /** @returns {import("../../ipc").Report} */
      const report = () => ({
        login: login("console_reader", false), findings: [], reach: [], evidence: [], tables_checked: ["public.audit_logs"],
        probed_tenants: [], isolation_enforced: true,
      });
      return {
        fleet: "eu", leaking: [], unavailable: ["down"], isolation_enforced: false,
        shards: [
          { shard: "demo", report: report(), unavailable: null },
          { shard: "down", report: null, unavailable: clone(downShard) },
          { shard: "east", report: report(), unavailable: null },
        ],
      };
    },
    isolation_check: (a) => {
      only("isolation_check", a, ["profileId", "probe", "tenant"]);
      const s = sessions.get(a.profileId);
      if (!s) throw err("not_connected", "the profile is not connected");
      /** @type {import("../../ipc").Finding[]} */
      const findings = [
        { code: "rls_not_forced", severity: "critical", object: "public.audit_logs", problem: "RLS is enabled but not forced on public.audit_logs", why: "The table's owner bypasses its policies.", fix_sql: "ALTER TABLE public.audit_logs FORCE ROW LEVEL SECURITY;", accepted: null },
        { code: "policy_permissive_true", severity: "warning", object: "public.projects", problem: "A permissive policy allows every row", why: "Any tenant can read every project.", fix_sql: "DROP POLICY allow_all ON public.projects;", accepted: null },
        { code: "no_log_table", severity: "info", object: "support_access_log", problem: "No support-access log table", why: "Support access is not recorded.", fix_sql: null, accepted: "we record access elsewhere" },
      ];
      if (cfg.isolationClean) findings.splice(0, 2);
      if (a.probe) findings.push({ code: "probe_ok", severity: "info", object: a.tenant || "acme", problem: "The probe saw only its own rows", why: "Evidence that RLS isolates tenants.", fix_sql: null, accepted: null });
      /** @type {import("../../ipc").ProbeEvidence[]} */
      const evidence = a.probe
        ? [
            { role: s.login.user, state: "unset", tenant: null, relation: "public.audit_logs", rows_in_scope: null, foreign_rows: 0, error: null },
            { role: s.login.user, state: "tenant", tenant: a.tenant || "acme", relation: "public.audit_logs", rows_in_scope: 1000, foreign_rows: 0, error: null },
            { role: "support_ops", state: "tenant", tenant: a.tenant || "acme", relation: "public.memberships", rows_in_scope: 12, foreign_rows: cfg.isolationClean ? 0 : 3, error: null },
          ]
        : [];
      return {
        login: s.login, findings, reach: a.probe ? ["support_ops (set role)"] : [], evidence,
        tables_checked: ["public.audit_logs", "public.memberships", "public.projects"],
        probed_tenants: a.probe ? [a.tenant || "acme"] : [], isolation_enforced: cfg.isolationClean === true,
      };
    },
    audit_export: (args) => {
      let a = args;
      only("audit_export", a, ["profileId", "tenant", "exportId", "destination", "filter", "options", "reason", "onProgress"]);
      need(a, ["exportId", "destination", "filter", "options", "onProgress"]);
      const t = tenantOf(a);
      gate(t, "export");
      if (typeof a.options.bom !== "boolean") throw err("invalid_input", "options.bom is a boolean");
      // As the app: the signing key is asked for before the token is used.
      if (cfg.signingKeyLocked && a.options.unsigned !== true) {
        throw err("signing_key_unavailable", "the export's manifest is signed with a key kept in the system keyring, and the system keyring is locked or unavailable: unlock the keyring, or export with an unsigned manifest (verify then reports it unsigned)");
      }
      // As the app: a destination token is good for one export.
      const path = tokens.get(a.destination);
      if (!path) throw err("invalid_input", "choose where to save the file first");
      tokens.delete(a.destination);
      a = { ...a, path };
      const ch = a.onProgress;
      const total = cfg.exportTotal;
      return new Promise((resolve, reject) => {
        exportRun = { id: a.exportId, resolve, reject, path, tenant: t.id };
        // Three progress messages at once; the rest when the test calls export.finish() (or cancels).
        ch.onmessage({ rows: 1000, bytes: 120000, total_estimate: total, elapsed_ms: 500 });
        ch.onmessage({ rows: 2000, bytes: 240000, total_estimate: total, elapsed_ms: 1000 });
        ch.onmessage({ rows: 3000, bytes: 360000, total_estimate: total, elapsed_ms: 1500 });
        exportRun.finish = () => {
          ch.onmessage({ rows: total, bytes: 1200000, total_estimate: total, elapsed_ms: 5000 });
          resolve({
            rows: total, bytes: 1200000, seconds: 5, path, recorded: "yes", record_id: "rec-export-1", manifest: `${path}.manifest.json`,
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            signed_by: "SHA256:q1w2e3r4t5y6u7i8o9p0", public_key: "ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIQ==",
          });
        };
      });
    },
    audit_export_cancel: (a) => {
      only("audit_export_cancel", a, ["exportId"]);
      if (exportRun && exportRun.id === a.exportId) {
        const r = exportRun;
        exportRun = null;
        setTimeout(() => r.reject(err("cancelled", "the export was cancelled")), 0);
      }
      return null;
    },
    show_in_folder: (a) => {
      only("show_in_folder", a, ["exportId"]);
      need(a, ["exportId"]);
      if (cfg.desktopMissing) throw err("desktop", "no file manager or desktop portal answered (asked to show the folder)");
      return null;
    },
    open_export: (a) => {
      only("open_export", a, ["exportId"]);
      need(a, ["exportId"]);
      if (cfg.desktopMissing) throw err("desktop", "no file manager or desktop portal answered (asked to open the file)");
      return null;
    },
    open_log: (a) => {
      only("open_log", a, []);
      return null;
    },
    signing_key_show: (a) => {
      only("signing_key_show", a, []);
      return { public_key: "ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIQ==", fingerprint: "SHA256:q1w2e3r4t5y6u7i8o9p0" };
    },
    verify_file: (a) => {
      only("verify_file", a, ["exportId", "fileToken", "publicKey", "recountOn", "reason"]);
      // Without an export id or a token, the native open dialog: `verifyChoice` stands for the user's choice.
      const file = a.exportId ? cfg.savePath : a.fileToken ? verified.get(a.fileToken) : cfg.verifyChoice ?? null;
      if (!file) return null;
      const fileToken = `verified-${verified.size + 1}`;
      verified.set(fileToken, file);
      const tampered = !!cfg.verifyTampered;
      const otherKey = !!a.publicKey && a.publicKey !== "ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIQ==";
      const problems = [];
      if (tampered) problems.push("the file's SHA-256 is 00ff…, not the manifest's 9f86…: its bytes differ from the export's");
      if (otherKey) problems.push("the manifest was signed with key SHA256:q1w2e3r4t5y6u7i8o9p0, not with the key given (SHA256:other)");
      return {
        ok: problems.length === 0, problems, file, manifest: `${file}.manifest.json`,
        tenant: { id: "t-acme", slug: "acme", name: "Acme Corporation" }, rows_counted: 10000,
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        signed_by: "SHA256:q1w2e3r4t5y6u7i8o9p0", key_trusted: !otherKey, trusted_as: otherKey ? null : "this machine's key",
        unknown_key: false, checked_against: a.publicKey || "ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIQ==",
        file_token: fileToken,
        recount: a.recountOn ? { rows_now: 10003, rows_in_manifest: 10000, difference: 3, from_utc: null, to_utc: "2026-11-20T12:00:00Z", witnessed: null } : null,
      };
    },
    export_destination: (a) => {
      only("export_destination", a, ["suggestedName"]);
      if (cfg.savePath === null) return null;
      const slash = cfg.savePath.lastIndexOf("/");
      const token = `dest-${++destinations}`;
      tokens.set(token, cfg.savePath);
      return { token, file_name: cfg.savePath.slice(slash + 1), folder: cfg.savePath.slice(0, slash) || "/" };
    },
  };

  async function invoke(cmd, args) {
    const a = args || {};
    const shown = {};
    for (const [k, v] of Object.entries(a)) shown[k] = v instanceof Channel ? "[Channel]" : clone(v);
    calls.push({ cmd, args: shown });
    const fn = commands[cmd];
    if (!fn) throw err("ipc", `command ${cmd} not found`);
    const key = `${cmd}|${a.tenant}`;
    if (holding.has(key)) {
      await new Promise((resolve) => {
        const list = held.get(key) || [];
        list.push(resolve);
        held.set(key, list);
      });
    }
    // Like Tauri, answer asynchronously even when the work is synchronous.
    await Promise.resolve();
    return fn(a);
  }

  class Channel {
    constructor() {
      this.onmessage = () => {};
    }
  }

  /** @type {any} */ (window).__MOCK__ = {
    calls,
    config: cfg,
    callsOf: (cmd) => calls.filter((c) => c.cmd === cmd),
    hold: (cmd, tenant) => holding.add(`${cmd}|${tenant}`),
    heldCount: (cmd, tenant) => (held.get(`${cmd}|${tenant}`) || []).length,
    release: (cmd, tenant) => {
      const key = `${cmd}|${tenant}`;
      holding.delete(key);
      const list = held.get(key) || [];
      held.delete(key);
      list.forEach((r) => r());
      return list.length;
    },
    releaseNewest: (cmd, tenant) => {
      const list = held.get(`${cmd}|${tenant}`) || [];
      const r = list.pop();
      if (r) r();
      return r ? 1 : 0;
    },
    consent: {
      approve: (slug, o = {}) => {
        const t = findTenant(slug);
        const now = Date.now();
        const ms = o.seconds !== undefined ? o.seconds * 1000 : (o.minutes || 60) * 60000;
        const request = (requests.get(t.id) || []).at(-1) || null;
        const a = {
          id: `appr-${++seqId}`, request_id: request ? request.id : null, approved_by: o.by || "admin@globex.example",
          expires_at: new Date(now + ms).toISOString(), revoked_at: null, scope: o.scope || (request ? request.scope : "read"),
          created_at: new Date(now).toISOString(),
        };
        approvals.set(t.id, [...(approvals.get(t.id) || []), a]);
        if (!o.silent) notify(t.id);
        return clone(a);
      },
      revoke: (slug, o = {}) => {
        const t = findTenant(slug);
        for (const a of approvals.get(t.id) || []) if (!a.revoked_at) a.revoked_at = nowIso();
        if (!o.silent) notify(t.id);
        return true;
      },
      notify,
      watchers: () => watchChannels.length,
      status: (slug) => consentStatus(findTenant(slug)),
    },
    route: (status) => {
      if (!routeChannel) return false;
      routeChannel.onmessage(status);
      return true;
    },
    export: {
      running: () => exportRun !== null,
      finish: () => {
        if (!exportRun) return false;
        exportRun.finish();
        exportRun = null;
        return true;
      },
    },
  };
  /** @type {any} */ (window).__TAURI__ = {
    core: { invoke, Channel },
  };
  // The app runs with Tauri's freezePrototype: make the page the same.
  if (cfg.freezePrototype) Object.freeze(Object.prototype);
}
