// Page tests: the real ui/ in headless Chromium (Debian's /usr/bin/chromium through playwright-core), served
// with the app's CSP, against a mock of the Tauri IPC (support/mock-tauri.js) with two tenants whose members
// differ. Each test opens a fresh browser context, so no state carries over. Screenshots go to artifacts/ui/.

import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { launch, openApp, settle, shot, startServer } from "../support/harness.js";

let server;
let browser;
/** @type {Awaited<ReturnType<typeof openApp>> | null} */
let app = null;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

afterEach(async () => {
  if (!app) return;
  const problems = app.problems.slice();
  await app.close();
  app = null;
  // Console errors, page errors and CSP violations fail the test that caused them.
  assert.deepEqual(problems, [], "the page logged errors");
});

/** Opens the app with the mock configured; returns the page. */
async function start(mock = {}, opts = {}) {
  app = await openApp(browser, server.url, mock, opts);
  await app.page.locator('[data-testid="profile-item"]').first().waitFor();
  return app.page;
}

const calls = (page, cmd) => page.evaluate((c) => window.__MOCK__.callsOf(c), cmd);

/** Connects a profile by its name and waits until the isolation status shows. */
async function connect(page, name = "demo") {
  await page.click(`[data-testid="profile-item"][data-profile-name="${name}"]`);
  await page.click('[data-testid="connect-button"]');
  await page.locator('[data-testid="isolation-status"]:not([hidden])').waitFor();
}

/** Opens a tenant from the tenants screen by slug and waits for its overview. */
async function openTenant(page, slug) {
  await page.locator(`[data-testid="tenant-row"][data-tenant-slug="${slug}"]`).click();
  await page.locator('[data-testid="tenant-stats"]').waitFor();
}

async function rowTexts(page, sel) {
  return page.locator(sel).allTextContents();
}

describe("profiles", () => {
  test("the profiles screen lists the profiles with their password state", async () => {
    const page = await start({ secretMissing: true });
    const items = page.locator('[data-testid="profile-item"]');
    assert.equal(await items.count(), 2);
    assert.deepEqual(await page.locator('[data-testid="password-indicator"]').allTextContents(), ["no password stored", "password stored"]);
    assert.equal(await page.locator('[data-testid="isolation-status"]').isHidden(), true);
    await shot(page, "profiles-light");
  });

  test("saving a new profile sends the password once and never shows it again", async () => {
    const page = await start();
    await page.click('[data-testid="profile-new"]');
    await page.fill('[data-testid="pf-name"]', "staging");
    await page.fill('[data-testid="pf-host"]', "db.staging.internal");
    await page.fill('[data-testid="pf-port"]', "6432");
    await page.fill('[data-testid="pf-database"]', "app");
    await page.fill('[data-testid="pf-user"]', "console_reader");
    await page.fill('[data-testid="pf-password"]', "hunter2-secret");
    await page.selectOption('[data-testid="pf-tls"]', "verify-full");
    await page.fill('[data-testid="pf-ca-file"]', "/etc/ssl/staging-ca.pem");
    await page.selectOption('[data-testid="pf-access-reason"]', "required");
    // How long a reason lasts, and the export's time limit (0: none): the profile's own, edited here.
    await page.fill('[data-testid="pf-grant-minutes"]', "45");
    await page.fill('[data-testid="pf-export-minutes"]', "0");
    // A replica records its accesses on the primary's profile, chosen by name and sent by id.
    await page.selectOption('[data-testid="pf-record-to"]', { label: "demo" });
    await shot(page, "profile-form-light");
    await page.locator('[data-testid="pf-pooled"]').scrollIntoViewIfNeeded();
    await shot(page, "profile-form-replica-light");
    await page.click('[data-testid="profile-save"]');
    await page.locator('[data-testid="profile-item"][data-profile-name="staging"]').waitFor();

    const [save] = await calls(page, "profiles_save");
    assert.equal(save.args.password, "hunter2-secret");
    assert.deepEqual(
      { ...save.args.profile },
      {
        name: "staging", host: "db.staging.internal", port: 6432, database: "app", user: "console_reader", tls: "verify-full",
        ca_file: "/etc/ssl/staging-ca.pem", tenant_setting: "app.current_tenant_id", mapping_file: "", access_reason: "required", access_grant_minutes: 45,
        statement_timeout_ms: 30000, export_timeout_minutes: 0, record_to: "p-demo", pooled: false, ssh: "", ssh_jump: [], ssh_config: "", ssh_host_keys: {}, password_command: "",
      },
    );
    const item = page.locator('[data-testid="profile-item"][data-profile-name="staging"]');
    assert.equal(await item.locator('[data-testid="password-indicator"]').textContent(), "password stored");
    assert.equal(await page.locator('[data-testid="profile-title"]').textContent(), "staging");
    const details = await page.locator(".props").first().textContent();
    assert.match(details, /A reason lasts\s*45 min/);
    assert.match(details, /Export time limit\s*none/);
    // The password is nowhere in the page: not in a field, not in the text.
    const inPage = await page.evaluate(() => {
      const values = [...document.querySelectorAll("input")].map((i) => i.value);
      return values.includes("hunter2-secret") || document.body.textContent.includes("hunter2-secret");
    });
    assert.equal(inPage, false);
  });

  test("editing a profile without typing a password keeps the stored one (none is sent)", async () => {
    const page = await start();
    await page.click('[data-testid="profile-edit"]');
    assert.match(await page.locator('[data-testid="pf-password"]').getAttribute("placeholder"), /stored/);
    await page.fill('[data-testid="pf-host"]', "10.0.0.5");
    await page.click('[data-testid="profile-save"]');
    await page.locator('[data-testid="connect-button"]').waitFor();
    const [save] = await calls(page, "profiles_save");
    assert.equal(save.args.profile.id, "p-demo");
    assert.equal(save.args.profile.host, "10.0.0.5");
    assert.equal("password" in save.args, false);
  });

  test("a profile form with empty required fields is not sent", async () => {
    const page = await start();
    await page.click('[data-testid="profile-new"]');
    await page.fill('[data-testid="pf-host"]', "");
    await page.click('[data-testid="profile-save"]');
    await page.locator('[data-testid="profile-form"] [role="alert"]').waitFor();
    assert.equal(await page.locator('[data-testid="pf-name"]').getAttribute("aria-invalid"), "true");
    assert.equal((await calls(page, "profiles_save")).length, 0);
  });

  test("a failed connection test shows the doctor's cause and hint", async () => {
    const page = await start({ failTest: true });
    await page.click('[data-testid="profile-test"]');
    await page.locator('[data-testid="test-fail"]').waitFor();
    assert.match(await page.locator('[data-testid="diagnosis-cause"]').textContent(), /nothing listens on 127\.0\.0\.1:5432/);
    assert.match(await page.locator('[data-testid="diagnosis-hint"]').textContent(), /check that PostgreSQL runs/);
    await shot(page, "profile-test-fail-light");
  });

  test("a passing connection test shows the login and whether RLS applies to it", async () => {
    const page = await start();
    await page.click('[data-testid="profile-item"][data-profile-name="superuser (bypass)"]');
    await page.click('[data-testid="profile-test"]');
    await page.locator('[data-testid="test-ok"]').waitFor();
    const text = await page.locator('[data-testid="test-ok"]').textContent();
    assert.match(text, /postgres/);
    assert.match(text, /has the BYPASSRLS attribute/);
    await shot(page, "profile-test-bypass-light");
  });

  test("removing a profile asks first", async () => {
    const page = await start();
    await page.click('[data-testid="profile-remove"]');
    await page.locator('[data-testid="remove-dialog"]').waitFor();
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="remove-dialog"]').waitFor({ state: "detached" });
    assert.equal((await calls(page, "profiles_remove")).length, 0);
    await page.click('[data-testid="profile-remove"]');
    await page.click('[data-testid="confirm-ok"]');
    await page.locator('[data-testid="profile-item"][data-profile-name="demo"]').waitFor({ state: "detached" });
    assert.deepEqual((await calls(page, "profiles_remove")).map((c) => c.args), [{ id: "p-demo" }]);
  });
});

describe("reaching a database through SSH and with tokens", () => {
  test("the form's SSH section and password command are saved as typed; no password goes with a command", async () => {
    const page = await start();
    await page.click('[data-testid="profile-new"]');
    await page.fill('[data-testid="pf-name"]', "prod-iam");
    await page.fill('[data-testid="pf-host"]', "db.prod.internal");
    await page.fill('[data-testid="pf-database"]', "app");
    await page.fill('[data-testid="pf-user"]', "console_iam");
    await page.fill('[data-testid="pf-password"]', "typed-then-replaced");
    await page.fill('[data-testid="pf-password-command"]', "aws rds generate-db-auth-token --hostname db.prod.internal --port 5432 --username console_iam");
    assert.equal(await page.locator('[data-testid="pf-password"]').isDisabled(), true, "a command replaces the password field");
    assert.equal(await page.locator('[data-testid="pf-ssh-jump"]').isDisabled(), true, "no jump hosts without a destination");
    await page.fill('[data-testid="pf-ssh"]', "db-host");
    await page.fill('[data-testid="pf-ssh-jump"]', "ops@bastion-a, bastion-b:2222");
    await page.locator('[data-testid="pf-ssh"]').scrollIntoViewIfNeeded();
    await shot(page, "profile-form-ssh-light");
    await page.click('[data-testid="profile-save"]');
    await page.locator('[data-testid="profile-item"][data-profile-name="prod-iam"]').waitFor();
    const [save] = await calls(page, "profiles_save");
    assert.equal("password" in save.args, false, "no password with a password command");
    assert.equal(save.args.profile.ssh, "db-host");
    assert.deepEqual(save.args.profile.ssh_jump, ["ops@bastion-a", "bastion-b:2222"]);
    assert.match(save.args.profile.password_command, /^aws rds generate-db-auth-token/);
  });

  test("unknown SSH host keys are shown in full and pinned only when trusted; then the connection goes through", async () => {
    const page = await start({ sshProfile: true });
    await page.click('[data-testid="profile-item"][data-profile-name="bastion-prod"]');
    await page.click('[data-testid="connect-button"]');
    const dialog = page.locator('[data-testid="host-key-dialog"]');
    await dialog.waitFor();
    assert.deepEqual(await dialog.locator('[data-testid="host-key-fingerprint"]').allTextContents(), [
      "SHA256:PKtcAqLa5eq8M01Nfehq/wG7UyyxidlrGmxOkAx6DZE",
      "SHA256:rSZ0biNGCxDSMhSHhkH30Kip50Cn6KdZxNiYMOq9o0s",
    ]);
    await shot(page, "host-key-prompt-light");
    // Cancel: nothing pinned, not connected.
    await page.click('[data-testid="host-key-cancel"]');
    assert.equal((await calls(page, "profiles_pin_host_keys")).length, 0);
    assert.equal(await page.locator('[data-testid="isolation-status"]').isHidden(), true);
    // Trust: pinned by hop, then connected.
    await page.click('[data-testid="connect-button"]');
    await dialog.waitFor();
    await page.click('[data-testid="host-key-trust"]');
    await page.locator('[data-testid="isolation-status"]:not([hidden])').waitFor();
    const [pin] = await calls(page, "profiles_pin_host_keys");
    assert.deepEqual(pin.args.keys.map((k) => k.hop), ["10.20.0.2:22", "db-host.internal:22"]);
    // A tunnel that dies is re-opened: the window says so, then that it is back.
    await page.waitForFunction(() => window.__MOCK__.callsOf("session_route_watch").length === 1);
    await page.evaluate(() => window.__MOCK__.route({ state: "reconnecting", route: "ops@10.20.0.2 → db-host" }));
    const line = page.locator('[data-testid="route-status"]');
    await line.waitFor();
    assert.match(await line.textContent(), /Reconnecting through the bastion \(ops@10\.20\.0\.2 → db-host\)…/);
    await shot(page, "route-reconnecting-light");
    await page.evaluate(() => window.__MOCK__.route({ state: "up" }));
    assert.equal(await line.textContent(), "Reconnected through the bastion.");
  });

  test("testing a new SSH profile asks about its keys and the trusted ones are pinned when it is saved", async () => {
    const page = await start();
    await page.click('[data-testid="profile-new"]');
    await page.fill('[data-testid="pf-name"]', "through-bastion");
    await page.fill('[data-testid="pf-host"]', "db.internal");
    await page.fill('[data-testid="pf-database"]', "app");
    await page.fill('[data-testid="pf-user"]', "console_reader");
    await page.fill('[data-testid="pf-password"]', "pw-for-test");
    await page.fill('[data-testid="pf-ssh"]', "db-host");
    await page.click('[data-testid="profile-test-draft"]');
    await page.locator('[data-testid="host-key-dialog"]').waitFor();
    await page.click('[data-testid="host-key-trust"]');
    await page.locator('[data-testid="draft-test-result"] [data-testid="test-ok"]').waitFor();
    assert.equal(await page.locator('[data-testid="pf-host-keys"] li').count(), 2);
    await page.click('[data-testid="profile-save"]');
    await page.locator('[data-testid="profile-item"][data-profile-name="through-bastion"]').waitFor();
    const [save] = await calls(page, "profiles_save");
    assert.equal(save.args.profile.ssh_host_keys["10.20.0.2:22"], "SHA256:PKtcAqLa5eq8M01Nfehq/wG7UyyxidlrGmxOkAx6DZE");
  });

  test("a libpq service fills the new-profile form and its .pgpass password is stored without entering the page", async () => {
    const page = await start({ pgService: true });
    await page.click('[data-testid="profile-new"]');
    await page.fill('[data-testid="pf-service"]', "prod-ro");
    await page.click('[data-testid="pf-import"]');
    await page.locator('[data-testid="pf-import-result"] .ok-line').waitFor();
    assert.equal(await page.locator('[data-testid="pf-host"]').inputValue(), "db.prod.internal");
    assert.equal(await page.locator('[data-testid="pf-port"]').inputValue(), "6432");
    assert.match(await page.locator('[data-testid="pf-import-result"]').textContent(), /\.pgpass line 2/);
    await page.click('[data-testid="profile-save"]');
    await page.locator('[data-testid="profile-item"][data-profile-name="prod-ro"]').waitFor();
    const [save] = await calls(page, "profiles_save");
    assert.equal(save.args.fromPgpass, true);
    assert.equal("password" in save.args, false);
  });
});

describe("connecting", () => {
  test("connecting shows the green status with the login", async () => {
    const page = await start();
    await connect(page);
    const status = page.locator('[data-testid="isolation-status"]');
    assert.equal(await status.getAttribute("data-state"), "enforced");
    assert.match(await status.textContent(), /RLS enforced for login console_reader/);
    const [c] = await calls(page, "session_connect");
    assert.deepEqual(c.args, { profileId: "p-demo", allowBypass: false });
  });

  test("a bypassing login shows the red banner, hides tenant data until acknowledged, then keeps a red bar", async () => {
    const page = await start();
    await connect(page, "superuser (bypass)");
    const status = page.locator('[data-testid="isolation-status"]');
    assert.equal(await status.getAttribute("data-state"), "bypass");
    assert.equal(await status.getAttribute("role"), "alert");
    const reasons = await page.locator('[data-testid="bypass-reasons"] li').allTextContents();
    assert.deepEqual(reasons, ['login "postgres" is a superuser', 'login "postgres" has the BYPASSRLS attribute', 'login "postgres" owns "public"."audit_logs" whose RLS is not forced']);
    await page.locator('[data-testid="tenants-blocked"]').waitFor();
    assert.equal(await page.locator('[data-testid="open-switcher"]').isDisabled(), true);
    await page.keyboard.press("Control+k");
    assert.equal(await page.locator('[data-testid="switcher"]').count(), 0);
    assert.equal((await calls(page, "tenants_search")).length, 0, "no tenant read before the acknowledgement");
    await shot(page, "bypass-banner-light");

    await page.click('[data-testid="bypass-ack"]');
    await page.locator('[data-testid="isolation-status"][data-state="bypass-accepted"]').waitFor();
    const connects = await calls(page, "session_connect");
    assert.deepEqual(connects.map((c) => c.args.allowBypass), [false, true]);
    assert.match(await status.textContent(), /RLS NOT enforced for login postgres/);
    await page.locator('[data-testid="tenant-row"]').first().waitFor();
    // The red bar stays while browsing.
    await openTenant(page, "acme");
    assert.equal(await status.getAttribute("data-state"), "bypass-accepted");
    assert.equal(await status.isVisible(), true);
    await shot(page, "bypass-accepted-light");
  });

  test("a missing password is asked for; 'this session only' sends it with the connection and stores nothing", async () => {
    const page = await start({ secretMissing: true });
    await page.click('[data-testid="connect-button"]');
    await page.locator('[data-testid="password-dialog"]').waitFor();
    await shot(page, "password-prompt-light");
    await page.fill('[data-testid="password-input"]', "only-now");
    await page.check('[data-testid="password-session"]');
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="isolation-status"][data-state="enforced"]').waitFor();
    const connects = await calls(page, "session_connect");
    assert.deepEqual(connects.map((c) => c.args.password ?? null), [null, "only-now"]);
    assert.equal((await calls(page, "profiles_save")).length, 0);
  });

  test("a missing password with 'remember' goes to the keyring, then the connection reads it from there", async () => {
    const page = await start({ secretMissing: true });
    await page.click('[data-testid="connect-button"]');
    await page.fill('[data-testid="password-input"]', "keep-me");
    await page.click('[data-testid="password-ok"]');
    await page.locator('[data-testid="isolation-status"][data-state="enforced"]').waitFor();
    const [save] = await calls(page, "profiles_save");
    assert.deepEqual(save.args, { profile: { id: "p-demo" }, password: "keep-me" });
    const connects = await calls(page, "session_connect");
    assert.equal(connects.at(-1).args.password, undefined);
  });

  test("disconnecting goes back to the profiles and hides the status", async () => {
    const page = await start();
    await connect(page);
    await page.click('[data-testid="disconnect"]');
    await page.locator('[data-testid="connect-button"]').waitFor();
    assert.equal(await page.locator('[data-testid="isolation-status"]').isHidden(), true);
    assert.equal((await calls(page, "session_disconnect")).length, 1);
  });
});

describe("tenants", () => {
  test("searching as you type narrows the list; arrows and Enter open a tenant", async () => {
    const page = await start();
    await connect(page);
    await page.locator('[data-testid="tenant-row"]').first().waitFor();
    await shot(page, "tenants-light");
    await page.locator('[data-testid="tenant-search"]').pressSequentially("glob");
    await page.locator('[data-testid="tenants-status"]', { hasText: "matching “glob”" }).waitFor();
    assert.deepEqual(await page.locator('[data-testid="tenant-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.tenantSlug)), ["globex"]);
    const searches = (await calls(page, "tenants_search")).map((c) => c.args.search ?? "");
    assert.equal(searches.at(-1), "glob");
    assert.ok(searches.length < 5, `typing was debounced (${searches.length} searches)`);
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="tenant-title"]', { hasText: "Globex, Inc." }).waitFor();
  });

  test("a search that matches nothing says so", async () => {
    const page = await start();
    await connect(page);
    await page.locator('[data-testid="tenant-row"]').first().waitFor();
    await page.fill('[data-testid="tenant-search"]', "no-such-tenant");
    await page.locator('[data-testid="tenants-empty"]').waitFor();
    assert.match(await page.locator('[data-testid="tenants-empty"]').textContent(), /No tenant matches “no-such-tenant”/);
    assert.equal(await page.locator('[data-testid="tenant-row"]').count(), 0);
  });

  test("sorting asks the server again and more rows load on the cursor", async () => {
    const page = await start();
    await connect(page);
    await page.locator('[data-testid="tenant-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="tenant-row"]').count(), 50);
    assert.equal(await page.locator('[data-testid="tenants-more"]').isVisible(), true);
    // Scrolling to the end loads the next page (infinite scroll on the cursor).
    await page.locator('[data-testid="tenant-row"]').nth(49).scrollIntoViewIfNeeded();
    await page.locator('[data-testid="tenant-row"]').nth(62).waitFor();
    assert.equal(await page.locator('[data-testid="tenant-row"]').count(), 63);
    assert.equal(await page.locator('[data-testid="tenants-more"]').isHidden(), true);
    assert.deepEqual((await calls(page, "tenants_search")).map((c) => c.args.after ?? null), [null, "50"]);
    await page.click('[data-testid="sort-slug"]');
    await page.locator('[data-testid="tenant-row"]').first().waitFor();
    const last = (await calls(page, "tenants_search")).at(-1);
    assert.equal(last.args.sort, "slug");
    assert.equal(await page.locator('[data-testid="tenant-row"]').first().getAttribute("data-tenant-slug"), "acme");
  });

  test("the stats columns fill in after the rows are shown, each on its own tenant's row", async () => {
    const page = await start();
    await connect(page);
    const acme = page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]');
    await acme.locator('[data-stat="members"]:not(.pending)').waitFor();
    const all = await page.evaluate(() => window.__MOCK__.calls.map((c) => c.cmd));
    assert.ok(all.indexOf("tenants_search") < all.indexOf("tenants_stats"), "the list is asked first");
    const asked = await calls(page, "tenants_stats");
    assert.equal(asked.length, 1);
    const shown = await page.locator('[data-testid="tenant-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.tenantId));
    assert.deepEqual(asked[0].args.tenants, shown, "stats for exactly the rows shown");
    assert.match(await acme.locator('[data-stat="members"]').textContent(), /^\d+$/);
    // acme's event count is a planner estimate in the mock: labelled as one; globex's is exact.
    assert.match(await acme.locator('[data-stat="events"]').textContent(), /^≈ /);
    const globex = page.locator('[data-testid="tenant-row"][data-tenant-slug="globex"]');
    assert.match(await globex.locator('[data-stat="events"]').textContent(), /^[\d,]+$/);
    assert.match(await globex.locator('[data-stat="last"]').textContent(), /ago|just now/);
    await shot(page, "tenants-stats");
    // The next page gets its own stats.
    await page.locator('[data-testid="tenant-row"]').nth(49).scrollIntoViewIfNeeded();
    await page.locator('[data-testid="tenant-row"]').nth(62).locator('[data-stat="members"]:not(.pending)').waitFor();
    const more = await calls(page, "tenants_stats");
    assert.equal(more.length, 2);
    assert.equal(more[1].args.tenants.length, 13);
    assert.equal(await page.locator('[data-stat].pending').count(), 0);
  });

  test("stats that cannot be read leave the list usable and say why", async () => {
    const page = await start({ failStats: true });
    await connect(page);
    const acme = page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]');
    await acme.locator('[data-stat="members"]:not(.pending)').waitFor();
    assert.equal(await acme.locator('[data-stat="members"]').textContent(), "—");
    assert.match(await acme.locator('[data-stat="members"]').getAttribute("title"), /could not be read: the query took longer/);
    assert.equal(await page.locator('[data-testid="tenant-row"]').count(), 50);
    await openTenant(page, "acme");
  });

  test("hostile tenant names are shown as text, never run", async () => {
    const page = await start();
    await connect(page);
    const row = page.locator('[data-testid="tenant-row"][data-tenant-slug="hooli"]');
    await row.waitFor();
    assert.match(await row.textContent(), /<img src=x onerror="window.__pwned=1">Hooli =HYPERLINK\("x"\)/);
    assert.equal(await page.locator("main img").count(), 0);
    await openTenant(page, "hooli");
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator("main img, main b").count(), 0);
  });
});

describe("tenant view", () => {
  test("a suspended tenant's status stands beside its name, and the overview shows status, plan and age", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "hooli");
    const badge = page.locator('[data-testid="tenant-status"]');
    assert.equal(await badge.textContent(), "suspended");
    assert.match(await badge.getAttribute("class"), /\bwarn\b/);
    assert.equal(await badge.isVisible(), true);
    assert.equal(await page.locator('[data-testid="prop-status"]').textContent(), "suspended");
    assert.equal(await page.locator('[data-testid="prop-plan"]').textContent(), "free");
    // Everywhere the tenant is named: the header's tab, and the quick switcher.
    assert.equal(await page.locator('[data-testid="nav-tenant-status"]').textContent(), "suspended");
    await shot(page, "tenant-suspended-light");
    await page.keyboard.press("Control+k");
    await page.fill('[data-testid="switcher-input"]', "hooli");
    const option = page.locator('[data-testid="switcher-option"][data-tenant-id="t-hostile"]');
    await option.locator('[data-testid="switcher-option-status"]').waitFor();
    assert.equal(await option.locator('[data-testid="switcher-option-status"]').textContent(), "suspended");
    await shot(page, "switcher-suspended-light");
  });

  test("an active tenant's status is shown quietly", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    const badge = page.locator('[data-testid="tenant-status"]');
    assert.equal(await badge.textContent(), "active");
    assert.match(await badge.getAttribute("class"), /\bok\b/);
    assert.equal(await page.locator('[data-testid="nav-tenant-status"]').count(), 0, "an active tenant's tab stays plain");
  });

  test("opening a tenant shows its stats (estimates marked ≈) and records the access", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    assert.equal(await page.locator('[data-testid="stat-members"] .stat-value').textContent(), "130");
    assert.equal(await page.locator('[data-testid="stat-events"] .stat-value').textContent(), "≈ 250,000");
    assert.match(await page.locator('[data-testid="access-recorded"]').textContent(), /recorded/);
    const [open] = await calls(page, "tenant_open");
    assert.deepEqual(open.args, { profileId: "p-demo", tenant: "t-acme" });
    await shot(page, "tenant-overview-light");
    // Looking at the tenant list and coming back neither reloads the tenant nor records the access again.
    await page.click('[data-testid="tab-members"]');
    await page.locator('[data-testid="member-row"]').first().waitFor();
    await page.click('[data-testid="nav-tenants"]');
    await page.locator('[data-testid="tenant-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="tenant-view"]').isVisible(), false);
    await page.click('[data-testid="nav-tenant"]');
    await page.locator('[data-testid="member-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="tenant-row"]').count(), 0);
    assert.equal((await calls(page, "tenant_open")).length, 1);
    assert.equal((await calls(page, "members_page")).length, 1);
    // Picking the open tenant again in the list shows the same view too.
    await page.click('[data-testid="nav-tenants"]');
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]').click();
    await page.locator('[data-testid="member-row"]').first().waitFor();
    assert.equal((await calls(page, "tenant_open")).length, 1);
    assert.equal(await page.locator('[data-testid="tenant-view"]').count(), 1);
    // Another tenant is a new visit, and the first one's view is gone.
    await page.click('[data-testid="nav-tenants"]');
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="globex"]').click();
    await page.waitForFunction(() => window.__MOCK__.callsOf("members_page").length === 2);
    await page.locator('[data-testid="member-row"]').first().waitFor();
    assert.deepEqual((await calls(page, "tenant_open")).map((c) => c.args.tenant), ["t-acme", "t-globex"]);
    assert.deepEqual(await page.locator('[data-testid="tenant-view"]').evaluateAll((v) => v.map((x) => x.dataset.tenantId)), ["t-globex"]);
  });

  test("members: the tenant's rows, role filter, email search and load more", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-members"]');
    await page.locator('[data-testid="member-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="member-row"]').count(), 100);
    assert.equal(await page.locator('[data-testid="member-row"]:not([data-tenant-id="t-acme"])').count(), 0);
    await shot(page, "members-light");
    // The keyboard reaches the next page too: End in the table goes to the last row, which loads more.
    await page.focus('[data-testid="member-table"]');
    await page.keyboard.press("End");
    await page.locator('[data-testid="member-row"]').nth(129).waitFor();
    assert.equal(await page.locator('[data-testid="member-row"]').count(), 130);

    await page.locator('[data-testid="member-role"] option[value="BILLING"]').waitFor({ state: "attached" });
    await page.selectOption('[data-testid="member-role"]', "BILLING");
    await page.locator('[data-testid="members-status"]', { hasText: "32 members" }).waitFor();
    const roles = await page.locator('[data-testid="member-row"] td:nth-child(3)').allTextContents();
    assert.ok(roles.length > 0 && roles.every((r) => r === "BILLING"));

    await page.fill('[data-testid="member-email"]', "user11@");
    await page.locator('[data-testid="members-status"]', { hasText: "1 member" }).waitFor();
    assert.deepEqual(await rowTexts(page, '[data-testid="member-row"] td.email'), ["user11@acme.example"]);
    const last = (await calls(page, "members_page")).at(-1);
    assert.deepEqual(last.args, { profileId: "p-demo", tenant: "t-acme", role: "BILLING", email: "user11@", limit: 100, sort: "email", descending: false });
  });

  test("a slow member search is superseded by the newer one typed after it", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-members"]');
    await page.locator('[data-testid="member-row"]').first().waitFor();
    await page.evaluate(() => window.__MOCK__.hold("members_page", "t-acme"));
    await page.fill('[data-testid="member-email"]', "user7@");
    await page.waitForFunction(() => window.__MOCK__.heldCount("members_page", "t-acme") === 1);
    await page.evaluate(() => window.__MOCK__.release("members_page", "t-acme"));
    // Hold the next search and release the first one after it: the first must not win.
    await page.evaluate(() => window.__MOCK__.hold("members_page", "t-acme"));
    await page.fill('[data-testid="member-email"]', "user8@");
    await page.waitForFunction(() => window.__MOCK__.heldCount("members_page", "t-acme") === 1);
    await page.fill('[data-testid="member-email"]', "user9@");
    await page.waitForFunction(() => window.__MOCK__.heldCount("members_page", "t-acme") === 2);
    // The newer search answers first ...
    await page.evaluate(() => window.__MOCK__.releaseNewest("members_page", "t-acme"));
    await page.locator('[data-testid="member-row"] td.email', { hasText: "user9@acme.example" }).waitFor();
    // ... then the older one, late: it must not replace the rows.
    assert.equal(await page.evaluate(() => window.__MOCK__.release("members_page", "t-acme")), 1);
    await settle(page);
    assert.deepEqual(await rowTexts(page, '[data-testid="member-row"] td.email'), ["user9@acme.example"]);
    assert.ok(app.dropped.length >= 1, "the superseded response was dropped by the guard");
  });

  test("roles: the permission matrix with member counts", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-roles"]');
    await page.locator('[data-testid="role-matrix"]').waitFor();
    const billing = page.locator('[data-testid="role-row"][data-role="BILLING"]');
    assert.match(await billing.textContent(), /custom/);
    assert.equal(await billing.locator("td.num").textContent(), "32");
    assert.equal(await billing.locator("td.cell.yes").count(), 2);
    assert.equal(await page.locator('[data-testid="role-row"]').count(), 4);
    await shot(page, "roles-light");
  });

  test("audit log: filters become the AuditFilter, rows page on the cursor, the detail shows the JSON", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-audit"]');
    await page.locator('[data-testid="audit-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="audit-count"]').textContent(), "250 events");
    await page.locator('[data-testid="audit-more"]').scrollIntoViewIfNeeded();
    await page.locator('[data-testid="audit-row"]').nth(199).waitFor();
    assert.deepEqual((await calls(page, "audit_page")).map((c) => c.args.after ?? null).slice(0, 2), [null, "100"]);

    await page.fill('[data-testid="audit-action"]', "member.*");
    await page.fill('[data-testid="audit-resource-type"]', "member");
    await page.click('[data-testid="audit-apply"]');
    await page.locator('[data-testid="audit-count"]', { hasText: /^\d+ events?$/ }).waitFor();
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.action === "member.*");
    const last = (await calls(page, "audit_page")).at(-1);
    assert.deepEqual(last.args.filter, { action: "member.*", resource_type: "member" });
    await settle(page);
    const actions = await rowTexts(page, '[data-testid="audit-row"] td:nth-child(3)');
    assert.ok(actions.length > 0 && actions.every((a) => a.startsWith("member.")));

    await page.locator('[data-testid="audit-row"]').first().click();
    await page.locator('[data-testid="event-detail"]:not([hidden])').waitFor();
    const json = await page.locator('[data-testid="event-metadata"]').textContent();
    assert.deepEqual(Object.keys(JSON.parse(json)), ["seq", "tenant", "note", "nested"]);
    assert.match(json, /\n {2}"seq"/);
    assert.equal(await page.locator('[data-testid="event-detail"] script').count(), 0);
    // The viewer: keys and values as text (the script tag in a value is text), nested levels folded by the
    // user, long values wrapped inside the panel.
    const view = page.locator('[data-testid="event-detail"] [data-testid="json-view"]');
    assert.match(await view.textContent(), /"seq": \d+/);
    const nested = view.locator("details details").first();
    assert.equal(await nested.evaluate((d) => d.open), true);
    await nested.locator("summary").first().click();
    assert.equal(await nested.evaluate((d) => d.open), false);
    assert.match(await nested.locator("summary").first().textContent(), /"nested": \{ 1 key \}/);
    const overflow = await view.evaluate((el) => el.scrollWidth - el.clientWidth);
    assert.ok(overflow <= 1, `the metadata runs ${overflow}px off the panel`);
    await shot(page, "audit-light");
    // Escape closes it, from inside the detail.
    await view.locator("summary").first().focus();
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="event-detail"][hidden]').waitFor({ state: "attached" });
  });

  test("access history lists the recorded support access", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-access"]');
    await page.locator('[data-testid="access-row"]').first().waitFor();
    assert.match(await page.locator('[data-testid="access-row"]').first().textContent(), /support-ticket.*ZD-1001/);
    // An access without a reason reads in words, not as the stored "none" and an empty cell.
    const unreasoned = await page.locator('[data-testid="access-row"][data-access-id="a0"]').textContent();
    assert.match(unreasoned, /no reason given/);
    assert.doesNotMatch(unreasoned, /\bnone\b/);
    await openTenantViaSwitcher(page, "glob");
    await page.locator('[data-testid="access-empty"]').waitFor();
  });
});

/** Ctrl+K, type, Enter; waits for the tenant's view. */
async function openTenantViaSwitcher(page, typed, expectTitle) {
  await page.keyboard.press("Control+k");
  const input = page.locator('[data-testid="switcher-input"]');
  await input.waitFor();
  await input.fill(typed);
  await page.waitForFunction((q) => window.__MOCK__.callsOf("tenants_search").at(-1)?.args.search === q, typed);
  await page.locator('[data-testid="switcher-status"]', { hasText: /tenant/ }).waitFor();
  await page.keyboard.press("Enter");
  await page.locator('[data-testid="switcher"]').waitFor({ state: "detached" });
  if (expectTitle) await page.locator('[data-testid="tenant-title"]', { hasText: expectTitle }).waitFor();
}

describe("quick switcher", () => {
  test("Ctrl+K finds a tenant, Enter switches, and no row of the first tenant remains", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-members"]');
    await page.locator('[data-testid="member-row"]').first().waitFor();

    await page.keyboard.press("Control+k");
    await page.locator('[data-testid="switcher-input"]').waitFor();
    // Recently used first: acme was just opened.
    await page.locator('[data-testid="switcher-option"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="switcher-option"]').first().getAttribute("data-tenant-id"), "t-acme");
    await page.locator('[data-testid="switcher-input"]').fill("glob");
    await page.locator('[data-testid="switcher-option"][data-tenant-id="t-globex"]').waitFor();
    await shot(page, "switcher-light");
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="tenant-title"]', { hasText: "Globex, Inc." }).waitFor();
    await page.locator('[data-testid="member-row"]').first().waitFor();

    assert.equal(await page.locator('[data-testid="tab-members"]').getAttribute("aria-selected"), "true");
    assert.equal(await page.locator('[data-testid="member-row"]').count(), 8);
    assert.equal(await page.locator('[data-testid="member-row"][data-tenant-id="t-acme"]').count(), 0);
    assert.equal(await page.locator("text=acme.example").count(), 0, "no acme email anywhere on the page");
    // Recent tenants persist: after a reload, both are offered first.
    const recent = await page.evaluate(() => JSON.parse(localStorage.getItem("tenant-console.recent.p-demo")).map((t) => t.slug));
    assert.deepEqual(recent, ["globex", "acme"]);
  });

  test("a slow response for a tenant the user has left is dropped, never rendered", async () => {
    const page = await start({ holds: [["members_page", "t-acme"]] });
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-members"]');
    await page.waitForFunction(() => window.__MOCK__.heldCount("members_page", "t-acme") === 1);
    assert.equal(await page.locator('[data-testid="member-row"]').count(), 0);

    await openTenantViaSwitcher(page, "globex", "Globex, Inc.");
    await page.locator('[data-testid="member-row"]').first().waitFor();
    // Now acme's members arrive, late.
    assert.equal(await page.evaluate(() => window.__MOCK__.release("members_page", "t-acme")), 1);
    await settle(page);
    assert.ok(app.dropped.some((d) => d.includes("tenant t-acme")), `the late acme response was dropped (${JSON.stringify(app.dropped)})`);
    assert.equal(await page.locator('[data-testid="member-row"][data-tenant-id="t-acme"]').count(), 0);
    assert.equal(await page.locator("text=acme.example").count(), 0);
    assert.equal(await page.locator('[data-testid="member-row"]').count(), 8);
  });

  test("Escape closes the switcher without switching", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    await page.keyboard.press("Control+k");
    await page.locator('[data-testid="switcher-input"]').waitFor();
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="switcher"]').waitFor({ state: "detached" });
    assert.equal(await page.locator('[data-testid="tenant-title"]').textContent(), "Acme Corporation");
    assert.equal((await calls(page, "tenant_open")).length, 1);
  });
});

describe("access reason", () => {
  test("a profile that requires a reason asks before opening; cancel opens nothing", async () => {
    const page = await start({ reasonPolicy: "required" });
    await connect(page);
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]').click();
    await page.locator('[data-testid="reason-dialog"]').waitFor();
    assert.equal(await page.locator('[data-testid="reason-skip"]').count(), 0, "no way around a required reason");
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="reason-dialog"]').waitFor({ state: "detached" });
    assert.equal((await calls(page, "tenant_open")).length, 0);

    await page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]').click();
    await page.locator('[data-testid="reason-dialog"]').waitFor();
    await page.click('[data-testid="reason-ok"]');
    await page.locator('[data-testid="reason-dialog"] [role="alert"]:not([hidden])').waitFor();
    await page.selectOption('[data-testid="reason-category"]', "incident");
    await page.fill('[data-testid="reason-detail"]', "INC-42 data check");
    await shot(page, "reason-prompt-light");
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    const [open] = await calls(page, "tenant_open");
    assert.deepEqual(open.args.reason, { category: "incident", detail: "INC-42 data check" });
  });

  test("an optional reason may be skipped", async () => {
    const page = await start({ reasonPolicy: "optional" });
    await connect(page);
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="globex"]').click();
    await page.click('[data-testid="reason-skip"]');
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    const [open] = await calls(page, "tenant_open");
    assert.equal("reason" in open.args, false);
  });

  test("a reason_required rejection from the command shows the prompt and retries with the reason", async () => {
    const page = await start({ tenantOpenRejects: true });
    await connect(page);
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]').click();
    await page.locator('[data-testid="reason-dialog"]').waitFor();
    await page.fill('[data-testid="reason-detail"]', "ZD-7");
    await page.click('[data-testid="reason-ok"]');
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    const opens = await calls(page, "tenant_open");
    assert.deepEqual(opens.map((o) => o.args.reason ?? null), [null, { category: "support-ticket", detail: "ZD-7" }]);
  });
});

describe("export", () => {
  async function openExportDialog(page) {
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-audit"]');
    await page.locator('[data-testid="audit-row"]').first().waitFor();
    await page.fill('[data-testid="audit-action"]', "member.");
    await page.fill('[data-testid="audit-actor"]', "user2@acme.example");
    await page.click('[data-testid="audit-apply"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.action === "member.");
    await page.click('[data-testid="export-open"]');
    await page.locator('[data-testid="export-dialog"]').waitFor();
  }

  test("the dialog pre-fills the filters, shows progress with rows/s and time left, and cancels", async () => {
    const page = await start();
    await openExportDialog(page);
    assert.equal(await page.locator('[data-testid="export-action"]').inputValue(), "member.");
    assert.equal(await page.locator('[data-testid="export-actor"]').inputValue(), "user2@acme.example");
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: "audit-acme.csv in /home/me" }).waitFor();
    const [save] = await calls(page, "export_destination");
    assert.match(save.args.suggestedName, /^audit-acme-\d{4}-\d{2}-\d{2}\.csv$/);
    await page.check('[data-testid="export-bom"]');
    await shot(page, "export-dialog-light");

    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    assert.equal(
      await page.locator('[data-testid="export-progress-text"]').textContent(),
      "3,000 of ≈ 10,000 rows · 352 KiB · 2,000 rows/s · 2 s elapsed · about 4 s left",
    );
    assert.equal(await page.locator('[data-testid="export-progress"]').evaluate((p) => p.value), 0.3);
    assert.equal(await page.locator('[data-testid="export-running-file"]').textContent(), "Writing audit-acme.csv in /home/me");
    await shot(page, "export-progress-light");
    // Escape does not walk away from a running export.
    await page.keyboard.press("Escape");
    assert.equal(await page.locator('[data-testid="export-dialog"]').count(), 1);

    const [exp] = await calls(page, "audit_export");
    assert.equal(exp.args.onProgress, "[Channel]");
    assert.deepEqual(exp.args.filter, { action: "member.", actor: "user2@acme.example" });
    assert.deepEqual(exp.args.options, { tz: "UTC", bom: true, unsigned: false });
    // The page sends the dialog's token, never a path.
    assert.equal(exp.args.destination, "dest-1");
    assert.equal("path" in exp.args, false);
    assert.equal(exp.args.tenant, "t-acme");

    await page.click('[data-testid="export-cancel"]');
    await page.locator('[data-testid="export-cancelled"]').waitFor();
    const [cancel] = await calls(page, "audit_export_cancel");
    assert.equal(cancel.args.exportId, exp.args.exportId);
  });

  test("with the keyring that keeps the signing key locked, an unsigned manifest is asked for, never silent", async () => {
    const page = await start({ signingKeyLocked: true });
    await openExportDialog(page);
    assert.equal(await page.locator('[data-testid="export-unsigned"]').isVisible(), false);
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: "audit-acme.csv" }).waitFor();
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-error"]').waitFor();
    assert.match(await page.locator('[data-testid="export-error"]').textContent(), /signed with a key kept in the system keyring/);
    // The same file is kept for the second try, and the choice is the user's.
    assert.match(await page.locator('[data-testid="export-path"]').textContent(), /audit-acme\.csv/);
    await page.check('[data-testid="export-unsigned"]');
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    const [first, second] = await calls(page, "audit_export");
    assert.equal(first.args.options.unsigned, false);
    assert.equal(second.args.options.unsigned, true);
    assert.equal(second.args.destination, first.args.destination);
    await page.evaluate(() => window.__MOCK__.export.finish());
    await page.locator('[data-testid="export-done"]').waitFor();
  });

  test("a finished export offers to show the file in its folder", async () => {
    const page = await start();
    await openExportDialog(page);
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: "audit-acme.csv" }).waitFor();
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    await page.evaluate(() => window.__MOCK__.export.finish());
    await page.locator('[data-testid="export-done"]').waitFor();
    assert.match(await page.locator('[data-testid="export-done"]').textContent(), /Exported 10,000 events/);
    // The evidence: signed, the manifest beside the file, and the command an auditor runs, ready to copy.
    assert.match(await page.locator('[data-testid="export-evidence"]').textContent(), /Signed · SHA-256 9f86d081884c7d65… · key SHA256:/);
    assert.match(await page.locator('[data-testid="export-manifest-path"]').textContent(), /audit-acme\.csv\.manifest\.json$/);
    assert.match(
      await page.locator('[data-testid="export-verify-command"]').textContent(),
      /^tenantctl verify '.*audit-acme\.csv' --public-key 'ed25519:AAAA/,
    );
    await shot(page, "export-done-light");
    await page.click('[data-testid="export-show"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("show_in_folder").length === 1);
    const [exp] = await calls(page, "audit_export");
    assert.deepEqual((await calls(page, "show_in_folder"))[0].args, { exportId: exp.args.exportId });
  });

  test("the overview shows the tenant at a glance: latest events, most active actors, failed sign-ins, support access", async () => {
    const page = await start();
    await connect(page);
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]').click();
    await page.locator('[data-testid="glance-latest"]').waitFor();
    assert.equal(await page.locator('[data-testid="glance-event"]').count(), 20);
    // Relative times, the absolute time with its zone and UTC on hover.
    const first = page.locator('[data-testid="glance-event"] time').first();
    assert.equal(await first.textContent(), "17 min ago");
    assert.match(await first.getAttribute("title"), /^2026-11-20 \d\d:43:00 .+ · 2026-11-20 11:43:00 UTC$|^2026-11-20 11:43:00 UTC$/);
    const actors = page.locator('[data-testid="glance-actor"]');
    assert.equal(await actors.count(), 5);
    assert.match(await actors.first().textContent(), /^user\d@acme\.example\d+ events · last \d+ min ago$/);
    assert.equal(await page.locator('[data-testid="glance-failed-count"]').textContent(), "3 failed sign-ins (auth.login_failed)");
    assert.equal(await page.locator('[data-testid="glance-failed"]').count(), 3);
    const acc = page.locator('[data-testid="glance-access"]');
    assert.match(await acc.first().textContent(), /^2 days ago · demo \(view\) · support-ticket: ZD-1001$/);
    assert.match(await acc.nth(1).textContent(), /no reason given$/);
    const [g] = await calls(page, "tenant_glance");
    assert.deepEqual(g.args, { profileId: "p-demo", tenant: "t-acme" });
    await shot(page, "tenant-glance-light");
  });

  test("an event's ids and the row copy as text, JSON and CSV; the evidence for a ticket names tenant, filters, record and isolation", async () => {
    const page = await start();
    await connect(page);
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]').click();
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    await page.click('[data-testid="tab-audit"]');
    await page.fill('[data-testid="audit-action"]', "member.*");
    await page.click('[data-testid="audit-apply"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.action === "member.*");
    await page.locator('[data-testid="audit-row"]').first().click();
    await page.locator('[data-testid="event-detail"]:not([hidden])').waitFor();
    const id = await page.locator('[data-testid="audit-row"]').first().getAttribute("data-event-id");
    assert.equal(await page.locator('[data-testid="copy-event-id"]').getAttribute("value"), id);
    assert.match(await page.locator('[data-testid="copy-actor-id"]').getAttribute("value"), /^t-acme-m\d$/);
    const asJson = JSON.parse(await page.locator('[data-testid="copy-event-json"]').getAttribute("value"));
    assert.equal(asJson.id, id);
    assert.match(await page.locator('[data-testid="copy-event-csv"]').getAttribute("value"), /^id,occurred_at,actor_id,actor_email,action,/);
    // Each field of the event copies on its own.
    assert.equal(await page.locator('[data-testid="copy-field-event-id"]').getAttribute("value"), id);
    assert.equal(await page.locator('[data-testid="copy-field-ip"]').getAttribute("value"), await page.locator('[data-testid="audit-row"]').first().locator("td").nth(5).textContent());

    await page.click('[data-testid="copy-evidence"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="copy-evidence"]').dataset.copied);
    const text = await page.locator('[data-testid="copy-evidence"]').getAttribute("data-copied");
    assert.match(text, /^Tenant: Acme Corporation \(acme\) · id t-acme · status active$/m);
    assert.match(text, /^Audit log filters: action member\.\*$/m);
    assert.match(text, /^Isolation: RLS enforced for login console_reader on tenant_demo \(checked \d{4}-\d\d-\d\dT[\d:]+(\.\d+)?Z\)$/m);
    assert.match(text, /^Access record 3 in the tenant's support-access history: this look at the tenant was recorded$/m);
    await shot(page, "copy-evidence-light");
  });

  test("members sort by each column both ways, and the audit log by time, from the headers", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-members"]');
    await page.locator('[data-testid="member-row"]').first().waitFor();
    const th = (key) => page.locator(`[data-testid="member-sort-${key}"]`).locator("xpath=..");
    assert.equal(await th("email").getAttribute("aria-sort"), "ascending");
    await page.click('[data-testid="member-sort-role"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("members_page").at(-1).args.sort === "role");
    assert.equal(await th("role").getAttribute("aria-sort"), "ascending");
    assert.equal(await th("email").getAttribute("aria-sort"), "none");
    await page.click('[data-testid="member-sort-role"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("members_page").at(-1).args.descending === true);
    assert.equal(await th("role").getAttribute("aria-sort"), "descending");
    await settle(page);
    const roles = await rowTexts(page, '[data-testid="member-row"] td:nth-child(3)');
    assert.deepEqual(roles, [...roles].sort().reverse());
    // Joined starts with the newest.
    await page.click('[data-testid="member-sort-joined"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("members_page").at(-1).args.sort === "joined");
    assert.equal((await calls(page, "members_page")).at(-1).args.descending, true);
    await shot(page, "members-sorted-light");

    await page.click('[data-testid="tab-audit"]');
    await page.locator('[data-testid="audit-row"]').first().waitFor();
    const time = page.locator('[data-testid="audit-sort-time"]').locator("xpath=..");
    assert.equal(await time.getAttribute("aria-sort"), "descending");
    const newest = await page.locator('[data-testid="audit-row"]').first().getAttribute("data-event-id");
    await page.click('[data-testid="audit-sort-time"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.oldestFirst === true);
    assert.equal(await time.getAttribute("aria-sort"), "ascending");
    await settle(page);
    assert.notEqual(await page.locator('[data-testid="audit-row"]').first().getAttribute("data-event-id"), newest);
  });

  test("a new profile is tested from its form before it is saved: a web server's port is named, then the right one works", async () => {
    const page = await start();
    await page.locator('[data-testid="profile-item"]').first().waitFor();
    await page.click('[data-testid="profile-new"]');
    await page.fill('[data-testid="pf-name"]', "staging");
    await page.fill('[data-testid="pf-host"]', "db.staging.internal");
    await page.fill('[data-testid="pf-port"]', "8080");
    await page.fill('[data-testid="pf-database"]', "app");
    await page.fill('[data-testid="pf-user"]', "console_reader");
    await page.click('[data-testid="profile-test-draft"]');
    await page.locator('[data-testid="draft-test-error"]').waitFor();
    assert.match(await page.locator('[data-testid="draft-test-error"]').textContent(), /enter the password to test/);
    await page.fill('[data-testid="pf-password"]', "s3cret");
    await page.click('[data-testid="profile-test-draft"]');
    await page.locator('[data-testid="draft-test-result"] [data-testid="test-fail"]').waitFor();
    assert.match(await page.locator('[data-testid="diagnosis-cause"]').textContent(), /answered, but it is not PostgreSQL/);
    await shot(page, "profile-draft-test-light");
    await page.fill('[data-testid="pf-port"]', "5432");
    await page.click('[data-testid="profile-test-draft"]');
    await page.locator('[data-testid="draft-test-result"] [data-testid="test-ok"]').waitFor();
    // Nothing was saved by testing, and the password typed is still there for the save.
    assert.equal((await calls(page, "profiles_save")).length, 0);
    assert.equal(await page.inputValue('[data-testid="pf-password"]'), "s3cret");
    const tests = await calls(page, "profiles_test_draft");
    assert.equal(tests.at(-1).args.profile.port, 5432);
    assert.equal(tests.at(-1).args.password, "s3cret");
  });

  test("a refused password asks for it again in the app's words, and the new one connects", async () => {
    const page = await start({ wrongPassword: true });
    await page.locator('[data-testid="profile-item"]').first().waitFor();
    await page.click('[data-testid="connect-button"]');
    const dialog = page.locator('[data-testid="password-dialog"]');
    await dialog.waitFor();
    const text = await dialog.textContent();
    assert.match(text, /The server refused the password of database user console_reader\. Enter it again\./);
    assert.doesNotMatch(text, /tenantctl|set-password|p-demo/);
    await shot(page, "password-refused-light");
    await page.fill('[data-testid="password-input"]', "the-right-one");
    await page.check('[data-testid="password-session"]');
    await page.click('[data-testid="password-ok"]');
    await page.locator('[data-testid="session-profile"]').waitFor();
    const connects = await calls(page, "session_connect");
    assert.equal(connects.length, 2);
    assert.equal(connects[1].args.password, "the-right-one");
  });

  test("an error that points to the log says where the log is, with Copy and Open", async () => {
    const page = await start({ connectLogError: true });
    await page.locator('[data-testid="profile-item"]').first().waitFor();
    await page.click('[data-testid="connect-button"]');
    const box = page.locator('[data-testid="connect-error"]');
    await box.waitFor();
    // One box: the message with the doctor's words, no second generic one.
    assert.equal(await page.locator('[data-testid="connect-error"] .error-advice').count(), 0);
    const log = page.locator('[data-testid="error-log"]');
    assert.match(await log.textContent(), /The app's log: \/home\/me\/\.local\/share\/tenant-console\/logs\/app\.log\.2026-11-20/);
    assert.equal(await log.locator("copy-button").count(), 1);
    await page.click('[data-testid="error-open-log"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("open_log").length === 1);
    await shot(page, "error-log-light");
  });

  test("a desktop that cannot show the folder says so in words and keeps the success line, the path and its copy", async () => {
    const page = await start({ desktopMissing: true });
    await openExportDialog(page);
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: "audit-acme.csv" }).waitFor();
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    await page.evaluate(() => window.__MOCK__.export.finish());
    await page.locator('[data-testid="export-done"]').waitFor();
    await page.click('[data-testid="export-show"]');
    const problem = page.locator('[data-testid="export-open-error"]');
    await problem.waitFor();
    assert.match(await problem.textContent(), /This desktop could not show the folder: no file manager or desktop portal answered.*The file is saved; copy its path above\./);
    assert.doesNotMatch(await problem.textContent(), /D-Bus|org\.freedesktop/);
    // Still there: the success line and the path, with its copy button.
    assert.match(await page.locator('[data-testid="export-done"]').textContent(), /Exported 10,000 events/);
    assert.equal(await page.locator('[data-testid="export-done-path"]').textContent(), "/home/me/audit-acme.csv");
    assert.equal(await page.locator('[data-testid="export-done"] copy-button').count(), 2);
    await page.click('[data-testid="export-open-file"]');
    await page.locator('[data-testid="export-open-error"]', { hasText: "could not open the file" }).waitFor();
    await shot(page, "export-open-failed-light");
  });

  test("a finished export verifies from its dialog; Verify a file checks a chosen file and says what is wrong", async () => {
    const page = await start({ verifyChoice: "/home/me/old-audit.csv", verifyTampered: false });
    await openExportDialog(page);
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: "audit-acme.csv" }).waitFor();
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    await page.evaluate(() => window.__MOCK__.export.finish());
    await page.locator('[data-testid="export-done"]').waitFor();
    await page.click('[data-testid="export-verify"]');
    const dialog = page.locator('[data-testid="verify-dialog"]');
    await dialog.waitFor();
    // This machine's key, to give to auditors, with its copy button.
    await page.locator('[data-testid="verify-own-key-text"]', { hasText: "ed25519:AAAAC3" }).waitFor();
    await page.click('[data-testid="verify-run"]');
    await page.locator('[data-testid="verify-ok"]').waitFor();
    assert.equal(await page.locator('[data-testid="verify-ok"]').textContent(), "Verified: complete, unaltered, signed by the expected key");
    const lines = await page.locator('[data-testid="verify-lines"]').textContent();
    assert.match(lines, /Tenant: Acme Corporation \(acme\)/);
    assert.match(lines, /Events in the file: 10,000/);
    const [exp] = await calls(page, "audit_export");
    assert.deepEqual((await calls(page, "verify_file"))[0].args, { exportId: exp.args.exportId });
    await shot(page, "verify-ok-light");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Escape");

    // From the navigation: another key pasted; the file comes from the open dialog (the page names no path).
    await page.click('[data-testid="nav-verify"]');
    await page.fill('[data-testid="verify-public-key"]', "ed25519:SOMEONEELSE");
    await page.check('[data-testid="verify-recount"]');
    await page.click('[data-testid="verify-run"]');
    await page.locator('[data-testid="verify-failed"]').waitFor();
    assert.equal(await page.locator('[data-testid="verify-file"]').textContent(), "/home/me/old-audit.csv");
    const failed = await page.locator('[data-testid="verify-lines"]').textContent();
    assert.match(failed, /✗ the manifest was signed with key SHA256:q1w2e3r4t5y6u7i8o9p0, not with the key given/);
    assert.match(failed, /Counted again in the tenant's scope: 10,003 events now, 10,000 in the file \(\+3\)/);
    const v = await calls(page, "verify_file");
    assert.deepEqual(v[1].args, { publicKey: "ed25519:SOMEONEELSE" });
    // The recount is a second call naming the verified file by its token, through the connected profile.
    assert.deepEqual(v[2].args, { fileToken: "verified-2", publicKey: "ed25519:SOMEONEELSE", recountOn: "p-demo" });
    await shot(page, "verify-failed-light");
  });

  test("no export starts before a file was chosen in the save dialog, and a cancelled dialog chooses nothing", async () => {
    const page = await start({ savePath: null });
    await openExportDialog(page);
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-no-destination"]').waitFor();
    await page.click('[data-testid="export-choose"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("export_destination").length === 1);
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-no-destination"]').waitFor();
    assert.equal((await calls(page, "audit_export")).length, 0);
    assert.equal(await page.locator('[data-testid="export-path"]').textContent(), "No file chosen yet");
  });

  test("with a required reason, the export carries the reason given when the tenant was opened", async () => {
    const page = await start({ reasonPolicy: "required" });
    await connect(page);
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="globex"]').click();
    await page.selectOption('[data-testid="reason-category"]', "audit-request");
    await page.fill('[data-testid="reason-detail"]', "AR-9");
    await page.click('[data-testid="reason-ok"]');
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    await page.click('[data-testid="tab-audit"]');
    await page.click('[data-testid="export-open"]');
    assert.equal(await page.locator('[data-testid="export-reason-detail"]').inputValue(), "AR-9");
    await page.fill('[data-testid="export-reason-detail"]', "");
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: " in " }).waitFor();
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-dialog"] [role="alert"]', { hasText: "A reason is required" }).waitFor();
    assert.equal((await calls(page, "audit_export")).length, 0);
    await page.fill('[data-testid="export-reason-detail"]', "AR-9 second look");
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    const [exp] = await calls(page, "audit_export");
    assert.deepEqual(exp.args.reason, { category: "audit-request", detail: "AR-9 second look" });
    assert.equal(exp.args.tenant, "t-globex");
  });

  test("each export asks the dialog again: a destination token is good for one export", async () => {
    const page = await start();
    await openExportDialog(page);
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: " in " }).waitFor();
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    await page.click('[data-testid="export-cancel"]');
    await page.locator('[data-testid="export-cancelled"]').waitFor();
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-no-destination"]').waitFor();
    assert.equal((await calls(page, "audit_export")).length, 1);
  });
});

describe("isolation check", () => {
  test("findings are grouped by severity with their fix SQL", async () => {
    const page = await start();
    await connect(page);
    await page.click('[data-testid="open-check"]');
    await page.click('[data-testid="check-probe"]');
    await page.locator('[data-testid="finding"]').first().waitFor();
    assert.deepEqual(
      await page.locator('[data-testid^="findings-"]').evaluateAll((s) => s.map((x) => x.dataset.testid)),
      ["findings-critical", "findings-warning", "findings-info"],
    );
    assert.equal(
      await page.locator('[data-testid="finding"][data-code="rls_not_forced"] pre').textContent(),
      "ALTER TABLE public.audit_logs FORCE ROW LEVEL SECURITY;",
    );
    assert.match(await page.locator('[data-testid="check-summary"]').textContent(), /2 open findings for login console_reader/);
    // A finding that says what was found right needs no "Why it matters"; a problem keeps it.
    assert.doesNotMatch(await page.locator('[data-testid="finding"][data-code="probe_ok"]').textContent(), /Why it matters/);
    assert.match(await page.locator('[data-testid="finding"][data-code="rls_not_forced"]').textContent(), /Why it matters/);
    const [c] = await calls(page, "isolation_check");
    assert.deepEqual(c.args, { profileId: "p-demo", probe: true });
    await shot(page, "check-light");
  });

  test("the probe's evidence is shown row by row, open when a row leaked", async () => {
    const page = await start();
    await connect(page);
    await page.click('[data-testid="open-check"]');
    await page.click('[data-testid="check-probe"]');
    await page.locator('[data-testid="check-evidence"]').waitFor();
    assert.equal(await page.locator('[data-testid="check-evidence"]').getAttribute("open"), "");
    assert.equal(await page.locator('[data-testid="check-evidence-summary"]').textContent(), "Probe: 1 of 3 questions returned rows they must not.");
    const rows = await page.locator('[data-testid="evidence-row"]').evaluateAll((rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(rows[0], ["console_reader", "setting never set", "–", "public.audit_logs", "–", "0"]);
    assert.deepEqual(rows[1].slice(4), ["1,000+", "0"], "a capped count says so");
    assert.deepEqual(rows[2], ["support_ops", "as tenant", "acme", "public.memberships", "12", "3"]);
    assert.match(await page.locator('[data-testid="check-reach"]').textContent(), /support_ops \(set role\)/);
  });

  test("the plain check shows no evidence: only the probe proves with rows", async () => {
    const page = await start();
    await connect(page);
    await page.click('[data-testid="open-check"]');
    await page.click('[data-testid="check-run"]');
    await page.locator('[data-testid="finding"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="check-evidence"]').count(), 0);
  });
});

describe("consent the database enforces", () => {
  /** Opens globex from the list (it requires its approval) and waits for the consent panel's first state. */
  async function openGlobex(page) {
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="globex"]').click();
    await page.locator('[data-testid="consent-panel"]:not([data-state="checking"])').waitFor();
  }

  test("a tenant that requires its approval is marked in the list and in the switcher", async () => {
    const page = await start({ consentTenants: ["globex"] });
    await connect(page);
    const globex = page.locator('[data-testid="tenant-row"][data-tenant-slug="globex"]');
    await globex.waitFor();
    assert.equal(await globex.locator('[data-testid="consent-badge"]').textContent(), "approval required");
    assert.equal(await page.locator('[data-testid="tenant-row"] [data-testid="consent-badge"]').count(), 1, "only globex requires it");
    // Its numbers are its data: they wait for the approval, and the cell says why.
    await page.waitForFunction(() => !document.querySelector('[data-tenant-slug="globex"] .list-stat.pending'));
    assert.match(await globex.locator('[data-stat="members"]').getAttribute("title"), /requires its own approval/);
    await shot(page, "tenants-consent-badge-light");
    await page.keyboard.press("Control+k");
    await page.fill('[data-testid="switcher-input"]', "globex");
    await page.locator('[data-testid="switcher-option"][data-tenant-id="t-globex"] [data-testid="consent-badge"]').waitFor();
  });

  test("opening it shows the panel; Request access sends reason, minutes and scope; the approval opens it live; revoking closes it", async () => {
    const page = await start({ consentTenants: ["globex"] });
    await connect(page);
    await openGlobex(page);
    const panel = page.locator('[data-testid="consent-panel"]');
    assert.equal(await panel.getAttribute("data-state"), "none");
    assert.equal(await page.locator('[data-testid="consent-title"]').textContent(), "Globex, Inc. requires its own approval");
    assert.equal(await page.locator('[data-testid="consent-state"]').textContent(), "No access has been requested yet.");
    // In the tenant view, not a toast: no tab, no data, nothing read.
    assert.equal(await page.locator('[data-testid="tenant-view"] [data-testid="consent-panel"]').count(), 1);
    assert.equal(await page.locator('[data-testid="tab-members"]').count(), 0);
    assert.deepEqual((await calls(page, "members_page")).length + (await calls(page, "tenant_glance")).length, 0);
    await shot(page, "consent-panel-light");

    await page.click('[data-testid="consent-request"]');
    await page.locator('[data-testid="consent-form"]').waitFor();
    assert.equal(await page.locator('[data-testid="consent-minutes"]').inputValue(), "60");
    assert.equal(await page.locator('[data-testid="consent-scope-read"]').isChecked(), true);
    // A reason is required, and the minutes stay within a week.
    await page.click('[data-testid="consent-send"]');
    await page.locator('[data-testid="consent-problem"]:not([hidden])').waitFor();
    assert.equal(await page.locator('[data-testid="consent-detail"]').getAttribute("aria-invalid"), "true");
    await page.selectOption('[data-testid="consent-category"]', "incident");
    await page.fill('[data-testid="consent-detail"]', "INC-7 login loop");
    await page.fill('[data-testid="consent-minutes"]', "20000");
    await page.click('[data-testid="consent-send"]');
    await page.locator('[data-testid="consent-problem"]', { hasText: "10080" }).waitFor();
    assert.equal((await calls(page, "access_request")).length, 0);
    await page.fill('[data-testid="consent-minutes"]', "90");
    await page.check('[data-testid="consent-scope-export"]');
    await shot(page, "consent-request-form-light");
    await page.click('[data-testid="consent-send"]');

    await page.locator('[data-testid="consent-pending"]').waitFor();
    const [req] = await calls(page, "access_request");
    assert.deepEqual(req.args, { profileId: "p-demo", tenant: "t-globex", reason: { category: "incident", detail: "INC-7 login loop" }, minutes: 90, scope: "export" });
    assert.equal(await panel.getAttribute("data-state"), "pending");
    assert.match(await page.locator('[data-testid="consent-state"]').textContent(), /^Waiting for Globex, Inc\.'s approval — requested \d\d:\d\d$/);
    assert.equal(await page.locator('[data-testid="consent-request-summary"]').textContent(), "90 min, read and export · incident: INC-7 login loop");
    await page.locator('[data-testid="consent-how"]', { hasText: "as soon as it is approved" }).waitFor();
    // One watch for the session, with a channel.
    assert.deepEqual((await calls(page, "access_watch")).map((c) => c.args), [{ profileId: "p-demo", onChange: "[Channel]" }]);
    await shot(page, "consent-pending-light");

    // The tenant's admin approves: the change arrives on the channel and the tenant opens by itself.
    const opensBefore = (await calls(page, "tenant_open")).length;
    await page.evaluate(() => window.__MOCK__.consent.approve("globex", { minutes: 90, by: "dana@globex.example" }));
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    assert.equal((await calls(page, "tenant_open")).length, opensBefore + 1);
    assert.equal(await page.locator('[data-testid="consent-panel"]').count(), 0);
    const left = page.locator('[data-testid="approval-left"]');
    assert.equal(await left.isVisible(), true);
    assert.match(await page.locator('[data-testid="approval-left-text"]').textContent(), /^Approved by dana@globex\.example · (90|89) min left$/);
    assert.equal(await page.locator('[data-testid="approval-scope"]').textContent(), "read + export");
    await page.locator('[data-testid="glance-latest"]').waitFor();
    await shot(page, "consent-approved-light");
    await page.click('[data-testid="tab-members"]');
    await page.locator('[data-testid="member-row"]').first().waitFor();

    // The tenant revokes it: the tabs close, no row stays, and the panel says why.
    await page.evaluate(() => window.__MOCK__.consent.revoke("globex"));
    await page.locator('[data-testid="consent-panel"][data-state="revoked"]').waitFor();
    assert.match(await page.locator('[data-testid="consent-state"]').textContent(), /^Globex, Inc\. revoked its approval at \d\d:\d\d \(approved by dana@globex\.example\)\. The tenant was closed\./);
    assert.equal(await page.locator('[data-testid="member-row"]').count(), 0);
    assert.equal(await page.locator('[data-testid="tab-members"]').count(), 0);
    assert.equal(await left.isVisible(), false);
    assert.equal(await page.locator('[data-testid="copy-evidence"]').isVisible(), false);
    await page.locator('[data-testid="consent-request"]').waitFor();
    assert.equal((await calls(page, "access_watch")).length, 1, "the session's one watch served every view");
    await shot(page, "consent-revoked-light");
  });

  test("without a live channel (a transaction pooler) the page asks every 5 seconds while waiting and while approved", async () => {
    const page = await start({ consentTenants: ["globex"], consentWatch: false });
    await connect(page);
    await openGlobex(page);
    await page.click('[data-testid="consent-request"]');
    await page.fill('[data-testid="consent-detail"]', "ZD-88");
    await page.click('[data-testid="consent-send"]');
    await page.locator('[data-testid="consent-pending"]').waitFor();
    await page.locator('[data-testid="consent-how"]', { hasText: "every 5 seconds" }).waitFor();
    const [req] = await calls(page, "access_request");
    assert.deepEqual(req.args, { profileId: "p-demo", tenant: "t-globex", reason: { category: "support-ticket", detail: "ZD-88" }, minutes: 60, scope: "read" });
    // Approved with no word on any channel: the next poll finds it and opens the tenant.
    const checks = (await calls(page, "access_status")).length;
    await page.evaluate(() => window.__MOCK__.consent.approve("globex", { minutes: 30, by: "ops@globex.example", silent: true }));
    await page.locator('[data-testid="tenant-stats"]').waitFor({ timeout: 12000 });
    assert.ok((await calls(page, "access_status")).length > checks, "access_status was polled");
    assert.match(await page.locator('[data-testid="approval-left-text"]').textContent(), /^Approved by ops@globex\.example · (30|29) min left$/);
    assert.equal(await page.locator('[data-testid="approval-scope"]').textContent(), "read only");
    // Revoked with no word either: the poll while approved closes it.
    await page.evaluate(() => window.__MOCK__.consent.revoke("globex", { silent: true }));
    await page.locator('[data-testid="consent-panel"][data-state="revoked"]').waitFor({ timeout: 12000 });
    assert.equal(await page.locator('[data-testid="tenant-stats"]').count(), 0);
    assert.equal(await page.evaluate(() => window.__MOCK__.consent.watchers()), 0);
  });

  test("an approval that runs out closes the tenant on time and says it expired", async () => {
    const page = await start({ consentTenants: ["globex"] });
    await connect(page);
    await page.evaluate(() => window.__MOCK__.consent.approve("globex", { seconds: 4, by: "dana@globex.example" }));
    await openTenant(page, "globex");
    // Near the end the time left counts seconds.
    assert.match(await page.locator('[data-testid="approval-left-text"]').textContent(), /^Approved by dana@globex\.example · 0:0[1-4] left$/);
    assert.match(await page.locator('[data-testid="approval-left"]').getAttribute("class"), /\bending\b/);
    await shot(page, "consent-ending-light");
    await page.locator('[data-testid="consent-panel"][data-state="expired"]').waitFor({ timeout: 10000 });
    assert.match(await page.locator('[data-testid="consent-state"]').textContent(), /^The approval ran out at \d\d:\d\d \(approved by dana@globex\.example\)\. The tenant was closed\./);
    assert.equal(await page.locator('[data-testid="tenant-stats"]').count(), 0);
  });

  test("a page refused for want of approval closes the tenant too, with nothing of it left on screen", async () => {
    const page = await start({ consentTenants: ["globex"] });
    await connect(page);
    await page.evaluate(() => window.__MOCK__.consent.approve("globex", { minutes: 60 }));
    await openTenant(page, "globex");
    // Revoked without a word on the channel (it was down): the next read is refused, and that is enough.
    await page.evaluate(() => window.__MOCK__.consent.revoke("globex", { silent: true }));
    await page.click('[data-testid="tab-audit"]');
    await page.locator('[data-testid="consent-panel"][data-state="revoked"]').waitFor();
    assert.equal(await page.locator('[data-testid="error"]').count(), 0, "the refusal shows as the panel, not an error box");
    assert.equal(await page.locator('[data-testid="audit-row"]').count(), 0);
    // Asking again from there works as the first time.
    await page.click('[data-testid="consent-request"]');
    await page.fill('[data-testid="consent-detail"]', "ZD-9");
    await page.click('[data-testid="consent-send"]');
    await page.locator('[data-testid="consent-pending"]').waitFor();
    await page.evaluate(() => window.__MOCK__.consent.approve("globex", { minutes: 15 }));
    // It opens again on the tab the user was on.
    await page.locator('[data-testid="audit-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="tab-audit"]').getAttribute("aria-selected"), "true");
    assert.match(await page.locator('[data-testid="approval-left-text"]').textContent(), /· 1[45] min left$/);
  });
});

describe("masked columns", () => {
  test("members and audit events show masked values as 'masked', and name the masked columns above the grid", async () => {
    const page = await start({ masked: ["users.email", "audit_logs.ip", "audit_logs.action"] });
    await connect(page);
    await openTenant(page, "acme");
    // The glance: the failed sign-ins need the action column, so they say it is masked (not "none").
    await page.locator('[data-testid="glance-latest"]').waitFor();
    assert.equal(await page.locator('[data-testid="glance-masked-note"]').textContent(), "Masked for this login: audit_logs.action, audit_logs.ip, users.email");
    assert.match(await page.locator('[data-testid="glance-failed-masked"]').textContent(), /^masked for this login/);
    assert.equal(await page.locator('[data-testid="glance-failed-count"]').count(), 0);
    assert.equal(await page.locator('[data-testid="glance-event"]').first().locator('[data-testid="masked"]').count(), 1, "the action cell");
    await shot(page, "glance-masked-light");

    await page.click('[data-testid="tab-members"]');
    await page.locator('[data-testid="member-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="members-masked-note"]').textContent(), "Masked for this login: users.email");
    const first = page.locator('[data-testid="member-row"]').first();
    const email = first.locator("td").nth(0).locator('[data-testid="masked"]');
    assert.equal(await email.textContent(), "masked");
    assert.equal(await email.getAttribute("title"), "This login may not read users.email");
    assert.equal(await first.locator("td").nth(1).locator('[data-testid="masked"]').count(), 0, "the name is readable");
    assert.match(await first.locator("td").nth(1).textContent(), /person/);
    // Searching by a masked email would be refused: the search says so instead.
    assert.equal(await page.locator('[data-testid="member-email"]').isDisabled(), true);
    await shot(page, "members-masked-light");

    await page.click('[data-testid="tab-audit"]');
    await page.locator('[data-testid="audit-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="audit-masked-note"]').textContent(), "Masked for this login: audit_logs.action, audit_logs.ip, users.email");
    const ev = page.locator('[data-testid="audit-row"]').first();
    // Actor: the email is masked, so the user id shows; action and IP are masked.
    assert.match(await ev.locator("td").nth(1).textContent(), /^t-acme-m\d$/);
    assert.equal(await ev.locator("td").nth(2).locator('[data-testid="masked"]').getAttribute("title"), "This login may not read audit_logs.action");
    assert.equal(await ev.locator("td").nth(5).locator('[data-testid="masked"]').getAttribute("title"), "This login may not read audit_logs.ip");
    assert.match(await ev.locator("td").nth(3).textContent(), /^(member|session|project)$/, "readable columns are as they were");
    await ev.click();
    await page.locator('[data-testid="event-detail"]:not([hidden])').waitFor();
    assert.equal(await page.locator('[data-testid="event-detail"] h3 [data-testid="masked"]').count(), 1);
    assert.equal(await page.locator('[data-testid="copy-field-ip"]').count(), 0, "nothing to copy for a masked value");
    await shot(page, "audit-masked-light");
  });

  test("a login that reads every column sees no note and no masked label", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-members"]');
    await page.locator('[data-testid="member-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="members-masked-note"]').isVisible(), false);
    assert.equal(await page.locator('[data-testid="masked"]').count(), 0);
  });
});

describe("keyboard and accessibility", () => {
  test("every input, select and textarea has a label", async () => {
    const page = await start({ reasonPolicy: "required" });
    const unlabeled = () =>
      page.evaluate(() =>
        [...document.querySelectorAll("input, select, textarea")]
          .filter((el) => el.type !== "hidden" && !el.labels?.length && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
          .map((el) => el.outerHTML.slice(0, 80)),
      );
    await page.click('[data-testid="profile-new"]');
    assert.deepEqual(await unlabeled(), []);
    await page.click('[data-testid="profile-item"][data-profile-name="demo"]');
    await connect(page);
    await page.locator('[data-testid="tenant-row"]').first().waitFor();
    assert.deepEqual(await unlabeled(), []);
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]').click();
    await page.fill('[data-testid="reason-detail"]', "ZD-1");
    assert.deepEqual(await unlabeled(), []);
    await page.click('[data-testid="reason-ok"]');
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    for (const tab of ["members", "audit"]) {
      await page.click(`[data-testid="tab-${tab}"]`);
      await page.locator(`[data-testid="panel-${tab}"] table`).waitFor();
      assert.deepEqual(await unlabeled(), []);
    }
    await page.click('[data-testid="export-open"]');
    await page.locator('[data-testid="export-dialog"]').waitFor();
    assert.deepEqual(await unlabeled(), []);
  });

  test("Tab stays inside an open dialog", async () => {
    const page = await start();
    await connect(page);
    await page.keyboard.press("Control+k");
    await page.locator('[data-testid="switcher-input"]').waitFor();
    for (let i = 0; i < 6; i += 1) {
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => Boolean(document.activeElement?.closest('[data-testid="switcher"]'))), true, `focus left the dialog after ${i + 1} Tab`);
    }
    await page.keyboard.press("Shift+Tab");
    assert.equal(await page.evaluate(() => Boolean(document.activeElement?.closest('[data-testid="switcher"]'))), true);
  });

  test("the first Tab of the session reaches 'Skip to content'", async () => {
    const page = await start();
    await page.locator('[data-testid="profile-item"]').first().waitFor();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  });

  test("typing a new profile right after Disconnect is not wiped when the list finishes loading", async () => {
    app = await openApp(browser, server.url, { holds: [["profiles_list", "undefined"]] }, {});
    const page = app.page;
    await page.waitForFunction(() => window.__MOCK__.heldCount("profiles_list", "undefined") === 1);
    await page.click('[data-testid="profile-new"]');
    await page.fill('[data-testid="pf-name"]', "typed before the list came");
    await page.evaluate(() => window.__MOCK__.release("profiles_list", "undefined"));
    await page.locator('[data-testid="profile-item"]').first().waitFor();
    assert.equal(await page.inputValue('[data-testid="pf-name"]'), "typed before the list came");
  });

  test("tabs move with the arrow keys", async () => {
    const page = await start();
    await connect(page);
    await openTenant(page, "globex");
    await page.focus('[data-testid="tab-overview"]');
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "tab-members");
    assert.equal(await page.locator('[data-testid="panel-members"]').isVisible(), true);
    await page.keyboard.press("End");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "tab-access");
  });
});

describe("window size", () => {
  test("at the app's minimum size (960×600) the header's navigation is not cut off", async () => {
    const page = await start();
    await page.setViewportSize({ width: 960, height: 600 });
    await connect(page);
    await openTenant(page, "globex");
    await page.click('[data-testid="tab-audit"]');
    await page.locator('[data-testid="audit-row"]').nth(1).click();
    const cut = await page.evaluate(() =>
      [...document.querySelectorAll("#nav button, .session-info > *")].filter((b) => b.scrollWidth > b.clientWidth + 1).map((b) => b.textContent),
    );
    assert.deepEqual(cut, []);
    await shot(page, "audit-narrow-light");
  });

  test("a very long tenant name gives way in the header (only it is shortened, with its status first) and wraps in the tenant head", async () => {
    const page = await start({ longName: true });
    await page.setViewportSize({ width: 960, height: 600 });
    await connect(page);
    await openTenant(page, "globex");
    await page.locator('[data-testid="glance-latest"]').waitFor();
    const cut = await page.evaluate(() =>
      [...document.querySelectorAll("#nav button, .session-info > *")]
        .filter((b) => b.scrollWidth > b.clientWidth + 1)
        .map((b) => b.getAttribute("data-testid")),
    );
    assert.deepEqual(cut.filter((t) => t !== "nav-tenant"), [], `cut: ${cut}`);
    const nav = await page.evaluate(() => [...document.querySelectorAll("#nav button")].map((b) => b.textContent));
    assert.ok(nav.includes("Isolation check") && nav.includes("Verify a file"), String(nav));
    // The tenant head: the whole name, wrapped, nothing running off the window.
    const head = await page.evaluate(() => {
      const h1 = document.querySelector('[data-testid="tenant-title"]');
      return { text: h1?.textContent, overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth };
    });
    assert.match(head.text ?? "", /Incorporated$/);
    assert.ok(head.overflow <= 0, `the page is ${head.overflow}px wider than the window`);
    await shot(page, "long-name-narrow-light");
  });
});

describe("screenshots in the dark theme", () => {
  test("every main screen renders in the dark theme", async () => {
    const page = await start({}, { colorScheme: "dark" });
    await shot(page, "profiles-dark");
    await connect(page);
    await page.locator('[data-testid="tenant-row"]').first().waitFor();
    await shot(page, "tenants-dark");
    await openTenant(page, "acme");
    await page.locator('[data-testid="glance-latest"]').waitFor();
    await shot(page, "tenant-overview-dark");
    for (const tab of ["members", "roles", "audit", "access"]) {
      await page.click(`[data-testid="tab-${tab}"]`);
      await page.locator(`[data-testid="panel-${tab}"] table`).first().waitFor();
      if (tab === "audit") {
        await page.locator('[data-testid="audit-row"]').nth(2).click();
        await page.locator('[data-testid="event-detail"]:not([hidden])').waitFor();
      }
      await shot(page, `${tab}-dark`);
    }
    await page.click('[data-testid="tab-audit"]');
    await page.click('[data-testid="export-open"]');
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: " in " }).waitFor();
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    await shot(page, "export-progress-dark");
    await page.click('[data-testid="export-cancel"]');
    await page.locator('[data-testid="export-cancelled"]').waitFor();
    await page.click('[data-testid="export-close"]');
    await page.keyboard.press("Control+k");
    await page.locator('[data-testid="switcher-option"]').first().waitFor();
    await shot(page, "switcher-dark");
    await page.keyboard.press("Escape");
    await page.click('[data-testid="nav-check"]');
    await page.click('[data-testid="check-run"]');
    await page.locator('[data-testid="finding"]').first().waitFor();
    await shot(page, "check-dark");
    await page.click('[data-testid="nav-verify"]');
    await page.locator('[data-testid="verify-own-key-text"]').waitFor();
    await shot(page, "verify-dark");
    await page.click('[data-testid="verify-close"]');
    await page.click('[data-testid="disconnect"]');
    await connect(page, "superuser (bypass)");
    await shot(page, "bypass-banner-dark");
    assert.equal(await page.locator('[data-testid="isolation-status"]').getAttribute("data-state"), "bypass");
  });
});

describe("a support person's day, second pass: the ticket answered in one paste", () => {
  /** Opens the Audit log of a tenant (already connected) and waits for its rows. */
  async function auditOf(page, slug) {
    await openTenant(page, slug);
    await page.click('[data-testid="tab-audit"]');
    await page.locator('[data-testid="audit-row"]').first().waitFor();
  }
  /** Whether an element's box is within the window. */
  const inView = (loc) => loc.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;
  });

  test("the evidence carries the open event (UTC and the zone shown), the reason given and the access record in words, as text and as Markdown", async () => {
    const page = await start({ reasonPolicy: "required" }, { timezoneId: "Europe/Berlin" });
    await connect(page);
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="globex"]').click();
    await page.fill('[data-testid="reason-detail"]', "ZD-4711");
    await page.click('[data-testid="reason-ok"]');
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    // The reason stays in sight in the tenant's head; the record is named.
    assert.equal(await page.locator('[data-testid="tenant-reason"]').textContent(), "Reason: support-ticket: ZD-4711");
    assert.match(await page.locator('[data-testid="access-recorded"]').textContent(), /\(record 3\)\.$/);
    await page.click('[data-testid="tab-audit"]');
    await page.locator('[data-testid="audit-row"]').first().click();
    await page.locator('[data-testid="event-detail"]:not([hidden])').waitFor();

    await page.click('[data-testid="copy-evidence"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="copy-evidence"]').dataset.copied);
    const text = await page.locator('[data-testid="copy-evidence"]').getAttribute("data-copied");
    assert.match(text, /^Tenant: Globex, Inc\. \(globex\) · id t-globex · status active$/m);
    assert.match(text, /^Reason given when the tenant was opened: support-ticket: ZD-4711$/m);
    assert.match(text, /^Access record 3 in the tenant's support-access history: this look at the tenant was recorded$/m);
    assert.match(text, /^Event \(its detail was open\):$/m);
    assert.match(text, /^ {2}Event id: t-globex-e1$/m);
    assert.match(text, /^ {2}Time: 2026-11-20T11:43:00Z UTC · 2026-11-20 12:43:00 Europe\/Berlin$/m);
    assert.match(text, /^ {2}Actor: user2@globex\.example \(user id t-globex-m2\)$/m);
    assert.match(text, /^ {2}Action: member\.removed$/m);
    assert.match(text, /^ {2}Resource: session res-1$/m);
    assert.match(text, /^Isolation: RLS enforced for login console_reader/m);

    await page.click('[data-testid="copy-evidence-markdown"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="copy-evidence-markdown"]').dataset.copied);
    const md = await page.locator('[data-testid="copy-evidence-markdown"]').getAttribute("data-copied");
    assert.match(md, /^- \*\*Tenant:\*\* Globex, Inc\. \(`globex`\) · id `t-globex` · status active$/m);
    assert.match(md, /^- \*\*Access record:\*\* Access record 3 in the tenant's support-access history: this look at the tenant was recorded$/m);
    assert.match(md, /^\| Event id \| `t-globex-e1` \|$/m);
    assert.match(md, /^\| Time \(UTC\) \| 2026-11-20T11:43:00Z \|$/m);
    assert.match(md, /^\| Time \(Europe\/Berlin\) \| 2026-11-20 12:43:00 \|$/m);
    assert.match(md, /^\| Actor \| user2@globex\.example \(user id t-globex-m2\) \|$/m);
    await shot(page, "evidence-event-light");

    // With the detail closed: the rows on screen, the first ten.
    await page.click('[data-testid="event-close"]');
    await page.click('[data-testid="copy-evidence"]');
    await page.waitForFunction(() => /Events on screen/.test(document.querySelector('[data-testid="copy-evidence"]').dataset.copied));
    const rows = await page.locator('[data-testid="copy-evidence"]').getAttribute("data-copied");
    assert.match(rows, /^Events on screen: the first 10 of 40 loaded, in the order listed:$/m);
    assert.equal((rows.match(/^ {2}- 2026-11-/gm) ?? []).length, 10);
  });

  test("calendar presets pick today, yesterday, this month and last month in the zone shown; the custom range has calendars and today's examples", async () => {
    const page = await start({}, { timezoneId: "Europe/Berlin", now: "2026-12-03T10:00:00Z" });
    await connect(page);
    await auditOf(page, "acme");
    const labels = await page.locator('[data-testid="audit-range"] option').allTextContents();
    assert.deepEqual(labels, ["Any time", "Last hour", "Last 24 hours", "Last 7 days", "Last 30 days", "Today", "Yesterday", "This month", "Last month", "Custom range…"]);
    await page.selectOption('[data-testid="audit-range"]', "last-month");
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.until);
    // November in Berlin: from its first midnight (23:00 UTC the day before) to December's.
    assert.deepEqual((await calls(page, "audit_page")).at(-1).args.filter, { since: "2026-10-31T23:00:00Z", until: "2026-11-30T23:00:00Z" });
    assert.equal(
      await page.locator('[data-testid="audit-range-hint"]').textContent(),
      "Last month: 2026-11-01 00:00 to 2026-12-01 00:00 Europe/Berlin (the end not included)",
    );
    await page.selectOption('[data-testid="audit-range"]', "yesterday");
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.since === "2026-12-01T23:00:00Z");
    await page.selectOption('[data-testid="audit-range"]', "today");
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.since === "2026-12-02T23:00:00Z");
    await page.selectOption('[data-testid="audit-range"]', "this-month");
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.since === "2026-11-30T23:00:00Z");

    // Custom: it starts from the range shown, the examples are today's, and a calendar sits beside each field.
    await page.selectOption('[data-testid="audit-range"]', "custom");
    assert.equal(await page.inputValue('[data-testid="audit-since"]'), "2026-12-01 00:00");
    assert.equal(await page.getAttribute('[data-testid="audit-since"]', "placeholder"), "2026-12-03 00:00");
    assert.equal(await page.getAttribute('[data-testid="audit-until"]', "placeholder"), "2026-12-03 11:00");
    assert.equal(await page.getAttribute('[data-testid="audit-since-picker"]', "type"), "datetime-local");
    assert.equal(await page.inputValue('[data-testid="audit-since-picker"]'), "2026-12-01T00:00");
    // Picking on the calendar fills the field; typed ISO text still works (and moves the calendar).
    await page.fill('[data-testid="audit-since-picker"]', "2026-11-19T00:00");
    assert.equal(await page.inputValue('[data-testid="audit-since"]'), "2026-11-19 00:00");
    await page.fill('[data-testid="audit-until"]', "2026-11-20 00:00");
    assert.equal(await page.inputValue('[data-testid="audit-until-picker"]'), "2026-11-20T00:00");
    await shot(page, "audit-custom-range-light");
    await page.click('[data-testid="audit-apply"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.since === "2026-11-18T23:00:00Z");
    assert.deepEqual((await calls(page, "audit_page")).at(-1).args.filter, { since: "2026-11-18T23:00:00Z", until: "2026-11-19T23:00:00Z" });
  });

  test("the export is named after the range and says which zone the range and the file's times are in; a chosen file clears the old prompt", async () => {
    const page = await start({}, { timezoneId: "Europe/Berlin", now: "2026-12-03T10:00:00Z" });
    await connect(page);
    await auditOf(page, "globex");
    await page.selectOption('[data-testid="audit-range"]', "last-month");
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.until);
    await page.click('[data-testid="export-open"]');
    await page.locator('[data-testid="export-dialog"]').waitFor();
    assert.equal(await page.inputValue('[data-testid="export-range"]'), "last-month");
    const note = page.locator('[data-testid="export-zone-note"]');
    assert.equal(await note.isVisible(), true);
    assert.equal(
      await note.textContent(),
      "The range is in Europe/Berlin, as entered: 2026-11-01 00:00 to 2026-12-01 00:00 (2026-10-31T23:00:00Z to 2026-11-30T23:00:00Z in UTC). " +
        "The file's times are written in UTC, not Europe/Berlin: choose Europe/Berlin under “Times in” to write them as entered.",
    );
    // Export without a file: asked for one; once chosen, that prompt is gone.
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-no-destination"]').waitFor();
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: " in " }).waitFor();
    assert.equal(await page.locator('[data-testid="export-no-destination"]').count(), 0);
    const [dest] = await calls(page, "export_destination");
    assert.equal(dest.args.suggestedName, "globex-audit-2026-11-01_2026-11-30.csv");
    await page.selectOption('[data-testid="export-tz"]', "Europe/Berlin");
    assert.match(await note.textContent(), /The file's times are written in Europe\/Berlin, as the range\.$/);
    await shot(page, "export-zone-light");
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    const [exp] = await calls(page, "audit_export");
    assert.deepEqual(exp.args.filter, { since: "2026-10-31T23:00:00Z", until: "2026-11-30T23:00:00Z" });
    assert.equal(exp.args.options.tz, "Europe/Berlin");
  });

  test("a new profile's TLS follows a local host until chosen; a field's error clears when it changes; the test's result shows beside its button", async () => {
    const page = await start();
    await page.click('[data-testid="profile-new"]');
    const tls = () => page.inputValue('[data-testid="pf-tls"]');
    // The form starts on localhost: no certificate to verify there.
    assert.equal(await page.inputValue('[data-testid="pf-host"]'), "localhost");
    assert.equal(await tls(), "disable");
    assert.match(await page.locator('[data-testid="pf-tls-auto"]').textContent(), /localhost is this computer/);
    await page.fill('[data-testid="pf-host"]', "db.internal");
    assert.equal(await tls(), "verify-full");
    for (const host of ["127.0.0.1", "::1"]) {
      await page.fill('[data-testid="pf-host"]', host);
      assert.equal(await tls(), "disable", host);
    }
    await page.selectOption('[data-testid="pf-tls"]', "require");
    await page.fill('[data-testid="pf-host"]', "db.internal");
    assert.equal(await tls(), "require", "the user's choice stays");
    await page.fill('[data-testid="pf-host"]', "localhost");
    assert.equal(await tls(), "require");

    // Required fields: each mark goes when its field changes, the message when none is left.
    await page.fill('[data-testid="pf-host"]', "");
    await page.click('[data-testid="profile-save"]');
    const alert = page.locator('[data-testid="profile-form"] [role="alert"]');
    await alert.waitFor();
    assert.equal(await page.getAttribute('[data-testid="pf-name"]', "aria-invalid"), "true");
    assert.equal(await page.getAttribute('[data-testid="pf-host"]', "aria-invalid"), "true");
    await page.fill('[data-testid="pf-name"]', "local");
    assert.equal(await page.getAttribute('[data-testid="pf-name"]', "aria-invalid"), null);
    assert.equal(await alert.count(), 1, "the host is still missing");
    await page.fill('[data-testid="pf-host"]', "127.0.0.1");
    await page.fill('[data-testid="pf-database"]', "app");
    await page.fill('[data-testid="pf-user"]', "console_reader");
    assert.equal(await page.locator('[data-testid="profile-form"] [aria-invalid="true"]').count(), 0);
    assert.equal(await alert.count(), 0);

    // A test refused for what was typed (no password): the error goes when the password is typed.
    await page.click('[data-testid="profile-test-draft"]');
    const testError = page.locator('[data-testid="draft-test-error"]');
    await testError.waitFor();
    assert.equal(await inView(testError), true, "the result is in sight");
    await page.fill('[data-testid="pf-password"]', "s3cret");
    assert.equal(await testError.count(), 0);
    await page.click('[data-testid="profile-test-draft"]');
    const ok = page.locator('[data-testid="draft-test-result"] [data-testid="test-ok"]');
    await ok.waitFor();
    // Beside the button (just under it), in sight, and focused so a screen reader reads it.
    const button = await page.locator('[data-testid="profile-test-draft"]').boundingBox();
    const box = await page.locator('[data-testid="draft-test-result"]').boundingBox();
    assert.ok(box.y >= button.y + button.height && box.y - (button.y + button.height) < 40, `result at ${box.y}, button ends at ${button.y + button.height}`);
    assert.equal(await inView(ok), true);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "draft-test-result");
    await shot(page, "profile-draft-test-beside-light");
    const [t] = await calls(page, "profiles_test_draft");
    assert.equal(t.args.profile.tls, "require");
  });

  test("a stored password the server refused no longer shows as stored", async () => {
    const page = await start({ wrongPassword: true });
    const badge = page.locator('[data-testid="profile-item"][data-profile-name="demo"] [data-testid="password-indicator"]');
    assert.equal(await badge.textContent(), "password stored");
    await page.click('[data-testid="connect-button"]');
    await page.locator('[data-testid="password-dialog"]').waitFor();
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="password-dialog"]').waitFor({ state: "detached" });
    assert.equal(await badge.textContent(), "stored password refused");
    assert.equal(await badge.getAttribute("data-state"), "refused");
    assert.doesNotMatch(await badge.getAttribute("class"), /\bok\b/);
    assert.match(await page.locator(".profile-detail").textContent(), /the server refused it on the last try/);
    await shot(page, "password-refused-badge-light");
    // Typed for this session only, it connects; the stored one is still the refused one.
    await page.click('[data-testid="connect-button"]');
    await page.fill('[data-testid="password-input"]', "the-right-one");
    await page.check('[data-testid="password-session"]');
    await page.click('[data-testid="password-ok"]');
    await page.locator('[data-testid="session-profile"]').waitFor();
    await page.click('[data-testid="disconnect"]');
    await badge.waitFor();
    assert.equal(await badge.textContent(), "stored password refused");
    // Remembered in the keyring: the new one replaces it.
    await page.click('[data-testid="connect-button"]');
    await page.fill('[data-testid="password-input"]', "the-right-one");
    await page.click('[data-testid="password-ok"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("profiles_save").length === 1);
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="password-dialog"]').waitFor({ state: "detached" }).catch(() => {});
    const [save] = await calls(page, "profiles_save");
    assert.deepEqual(save.args, { profile: { id: "p-demo" }, password: "the-right-one" });
  });

  test("the reason prompt offers the last reasons, Enter on an empty detail reuses the last one, and one reason can cover the ticket's other tenants", async () => {
    const page = await start({ reasonPolicy: "required" });
    await connect(page);
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="acme"]').click();
    await page.locator('[data-testid="reason-dialog"]').waitFor();
    assert.equal(await page.locator('[data-testid="reason-recent"]').count(), 0, "nothing given yet");
    assert.match(await page.locator('[data-testid="reason-dialog"] label[for]', { hasText: "other tenants" }).textContent(), /for 30 minutes/);
    await page.fill('[data-testid="reason-detail"]', "ZD-4711");
    await page.click('[data-testid="reason-ok"]');
    await page.locator('[data-testid="tenant-stats"]').waitFor();

    // Switching: the last reason is offered, and Enter on the empty detail takes it.
    await page.keyboard.press("Control+k");
    await page.locator('[data-testid="switcher-input"]').fill("glob");
    await page.locator('[data-testid="switcher-option"][data-tenant-id="t-globex"]').waitFor();
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="reason-dialog"]').waitFor();
    assert.deepEqual(await page.locator('[data-testid="reason-recent-option"]').evaluateAll((b) => b.map((x) => x.dataset.detail)), ["ZD-4711"]);
    assert.match(await page.getAttribute('[data-testid="reason-detail"]', "placeholder"), /ZD-4711/);
    await shot(page, "reason-recent-light");
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="tenant-title"]', { hasText: "Globex, Inc." }).waitFor();
    assert.deepEqual((await calls(page, "tenant_open")).map((c) => c.args.reason), [
      { category: "support-ticket", detail: "ZD-4711" },
      { category: "support-ticket", detail: "ZD-4711" },
    ]);

    // A recent reason picked, and kept for the next tenants of the ticket.
    await page.click('[data-testid="nav-tenants"]');
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="hooli"]').click();
    await page.locator('[data-testid="reason-dialog"]').waitFor();
    await page.selectOption('[data-testid="reason-category"]', "incident");
    await page.fill('[data-testid="reason-detail"]', "INC-9");
    await page.check('[data-testid="reason-reuse"]');
    await page.click('[data-testid="reason-ok"]');
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    assert.match(await page.locator('[data-testid="tenant-reason"]').textContent(), /^Reason: incident: INC-9 · used for other tenants until \d\d:\d\dStop$/);
    await page.click('[data-testid="nav-tenants"]');
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="filler-01"]').click();
    await page.locator('[data-testid="tenant-title"]', { hasText: "Tenant 01" }).waitFor();
    assert.equal(await page.locator('[data-testid="reason-dialog"]').count(), 0, "not asked again");
    assert.deepEqual((await calls(page, "tenant_open")).at(-1).args.reason, { category: "incident", detail: "INC-9" });
    // The export offers the reason too.
    await page.click('[data-testid="tab-audit"]');
    await page.click('[data-testid="export-open"]');
    assert.equal(await page.inputValue('[data-testid="export-reason-detail"]'), "INC-9");
    await page.click('[data-testid="export-close"]');
    // Stopping the reuse: the next tenant asks again, offering both reasons, the newest first.
    await page.click('[data-testid="tab-overview"]');
    await page.click('[data-testid="reason-reuse-stop"]');
    await page.click('[data-testid="nav-tenants"]');
    await page.locator('[data-testid="tenant-row"][data-tenant-slug="filler-02"]').click();
    await page.locator('[data-testid="reason-dialog"]').waitFor();
    assert.deepEqual(await page.locator('[data-testid="reason-recent-option"]').evaluateAll((b) => b.map((x) => x.dataset.detail)), ["INC-9", "ZD-4711"]);
    await page.locator('[data-testid="reason-recent-option"][data-detail="ZD-4711"]').click();
    assert.equal(await page.inputValue('[data-testid="reason-detail"]'), "ZD-4711");
    assert.equal(await page.inputValue('[data-testid="reason-category"]'), "support-ticket");
  });

  test("Actor, Action and Resource sort the loaded rows and say so; a value filters by itself; a member leads to the Members tab; the detail leaves the grid in its width at 1280 px", async () => {
    const page = await start();
    await connect(page);
    await auditOf(page, "acme");
    const pages = (await calls(page, "audit_page")).length;
    const actorTh = page.locator('[data-testid="audit-sort-actor"]').locator("xpath=..");
    assert.match(await page.getAttribute('[data-testid="audit-sort-actor"]', "title"), /rows loaded so far.*the server orders events by time only/);
    const firstIds = await page.locator('[data-testid="audit-row"]').evaluateAll((r) => r.slice(0, 5).map((x) => x.dataset.eventId));
    await page.click('[data-testid="audit-sort-actor"]');
    assert.equal(await actorTh.getAttribute("aria-sort"), "ascending");
    const actors = await rowTexts(page, '[data-testid="audit-row"] td:nth-child(2)');
    assert.equal(actors.length, 100);
    assert.deepEqual(actors, [...actors].sort());
    assert.match(await page.locator('[data-testid="audit-status"]').textContent(), /sorted by actor among the rows loaded \(the server orders by time\)/);
    await shot(page, "audit-sorted-actor-light");
    await page.click('[data-testid="audit-sort-action"]');
    await page.click('[data-testid="audit-sort-action"]');
    const actions = await rowTexts(page, '[data-testid="audit-row"] td:nth-child(3)');
    assert.deepEqual(actions, [...actions].sort().reverse());
    await page.click('[data-testid="audit-sort-resource_type"]');
    const types = await rowTexts(page, '[data-testid="audit-row"] td:nth-child(4)');
    assert.deepEqual(types, [...types].sort());
    assert.equal((await calls(page, "audit_page")).length, pages, "the server was not asked: it orders by time only");
    // Back to time: the server's order, as it was.
    await page.click('[data-testid="audit-sort-time"]');
    assert.deepEqual(await page.locator('[data-testid="audit-row"]').evaluateAll((r) => r.slice(0, 5).map((x) => x.dataset.eventId)), firstIds);

    // A value filters by itself (the other filters stay).
    const row = page.locator('[data-testid="audit-row"]').first();
    const action = await row.locator("td").nth(2).textContent();
    await row.locator('[data-testid="filter-by-action"]').click();
    await page.waitForFunction((a) => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.action === a, action);
    assert.equal(await page.inputValue('[data-testid="audit-action"]'), action);
    assert.equal(await page.locator('[data-testid="event-detail"]').isHidden(), true, "filtering is not opening the row");
    await settle(page);
    const actor = await page.locator('[data-testid="audit-row"]').first().locator("td").nth(1).textContent();
    await page.locator('[data-testid="audit-row"]').first().locator('[data-testid="filter-by-actor"]').click();
    await page.waitForFunction((a) => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.actor === a, actor);
    assert.deepEqual(Object.keys((await calls(page, "audit_page")).at(-1).args.filter).sort(), ["action", "actor"]);
    await settle(page);
    await page.locator('[data-testid="audit-row"]').first().locator('[data-testid="filter-by-resource"]').click();
    await page.waitForFunction(() => window.__MOCK__.callsOf("audit_page").at(-1).args.filter.resource_id);
    const rf = (await calls(page, "audit_page")).at(-1).args.filter;
    assert.ok(rf.resource_type && rf.resource_id, JSON.stringify(rf));
    await page.click('[data-testid="audit-clear"]');
    await page.waitForFunction(() => Object.keys(window.__MOCK__.callsOf("audit_page").at(-1).args.filter).length === 0);

    // At 1280 px, the detail does not push the grid into a sideways scroll. (user3's email in the mock is a
    // formula, so take user2's event.)
    await page.locator('[data-testid="audit-row"]', { has: page.locator("td", { hasText: "user2@acme.example" }) }).first().click();
    await page.locator('[data-testid="event-detail"]:not([hidden])').waitFor();
    const scroll = await page.locator('[data-testid="audit-table"]').evaluate((t) => {
      const s = t.closest(".table-scroll");
      return { scrollWidth: s.scrollWidth, clientWidth: s.clientWidth };
    });
    assert.ok(scroll.scrollWidth <= scroll.clientWidth + 1, `the grid scrolls sideways: ${JSON.stringify(scroll)}`);
    await shot(page, "audit-detail-1280-light");

    // The actor is a member: the Members tab, filtered to them.
    const link = page.locator('[data-testid="member-link"][data-member-of="actor"]');
    const email = await link.getAttribute("data-email");
    await link.click();
    assert.equal(await page.locator('[data-testid="tab-members"]').getAttribute("aria-selected"), "true");
    await page.waitForFunction((e) => window.__MOCK__.callsOf("members_page").at(-1)?.args.email === e, email);
    await page.locator('[data-testid="members-status"]', { hasText: "1 member" }).waitFor();
    assert.deepEqual(await rowTexts(page, '[data-testid="member-row"] td.email'), [email]);
    assert.equal(await page.inputValue('[data-testid="member-email"]'), email);
  });

  test("a suspended tenant reads by its name in the top bar, with its status as a small badge, and the overview says so", async () => {
    const page = await start({ statuses: { acme: "suspended" } });
    await connect(page);
    await openTenant(page, "acme");
    const nav = page.locator('[data-testid="nav-tenant"]');
    assert.deepEqual(await nav.evaluate((b) => [...b.children].map((c) => c.dataset.testid)), ["nav-tenant-name", "nav-tenant-status"]);
    assert.equal(await page.locator('[data-testid="nav-tenant-name"]').textContent(), "Acme Corporation");
    const cut = await page.locator('[data-testid="nav-tenant-name"]').evaluate((s) => s.scrollWidth > s.clientWidth + 1);
    assert.equal(cut, false, "the name is whole at 1280 px");
    assert.equal(await page.locator('[data-testid="nav-tenant-status"]').textContent(), "suspended");
    assert.equal(await nav.getAttribute("title"), "Acme Corporation (suspended)");
    assert.match(await page.locator('[data-testid="tenant-status-notice"]').textContent(), /Acme Corporation is suspended/);
    await shot(page, "nav-suspended-light");
  });

  test("Ctrl+Q quits, asking first while an export runs", async () => {
    const page = await start();
    await connect(page);
    await auditOf(page, "acme");
    await page.click('[data-testid="export-open"]');
    await page.click('[data-testid="export-choose"]');
    await page.locator('[data-testid="export-path"]', { hasText: " in " }).waitFor();
    await page.click('[data-testid="export-start"]');
    await page.locator('[data-testid="export-progress-text"]', { hasText: "rows/s" }).waitFor();
    await page.keyboard.press("Control+q");
    const ask = page.locator('[data-testid="quit-dialog"]');
    await ask.waitFor();
    assert.match(await ask.textContent(), /An export is still running/);
    await shot(page, "quit-while-export-light");
    await page.keyboard.press("Escape");
    await ask.waitFor({ state: "detached" });
    assert.equal((await calls(page, "app_quit")).length, 0);
    await page.keyboard.press("Control+q");
    await page.click('[data-testid="quit-dialog"] [data-testid="confirm-ok"]');
    await page.waitForFunction(() => window.__MOCK__.callsOf("app_quit").length === 1);
    assert.deepEqual((await calls(page, "app_quit"))[0].args, {});
    // With nothing running: at once.
    await page.evaluate(() => window.__MOCK__.export.finish());
    await page.locator('[data-testid="export-done"]').waitFor();
    await page.keyboard.press("Control+q");
    await page.waitForFunction(() => window.__MOCK__.callsOf("app_quit").length === 2);
    assert.equal(await ask.count(), 0);
  });

  test("the access history's time column names its zone", async () => {
    const page = await start({}, { timezoneId: "Europe/Berlin" });
    await connect(page);
    await openTenant(page, "acme");
    await page.click('[data-testid="tab-access"]');
    await page.locator('[data-testid="access-row"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="access-time-header"]').textContent(), "Time (Europe/Berlin)");
    assert.equal(await page.locator('[data-testid="audit-sort-time"]').count(), 0);
  });

  test("the isolation check opens with a one-line verdict to copy, explains its words and its two buttons", async () => {
    const page = await start({ isolationClean: true });
    await connect(page);
    await page.click('[data-testid="nav-check"]');
    const verdict = page.locator('[data-testid="check-verdict-text"]');
    assert.match(await verdict.textContent(), /^Tenants are kept apart for this login \(console_reader\), as the database said when connecting at \d\d:\d\d UTC: not yet checked\./);
    assert.match(await page.locator('[data-testid="check-run-help"]').textContent(), /^Run check: reads the database's rules .* reads no customer rows\.$/);
    assert.match(await page.locator('[data-testid="check-probe-help"]').textContent(), /^Check with probe: the same, then proves it with rows/);
    const glossary = page.locator('[data-testid="check-glossary"]');
    assert.equal(await glossary.evaluate((d) => d.open), false, "the words are explained behind a toggle");
    assert.match(await glossary.textContent(), /RLS \(row-level security\).*Forced.*The tenant setting \(app\.tenant_id\)/);
    await page.click('[data-testid="check-probe"]');
    await page.locator('[data-testid="check-verdict"][data-state="proven"]').waitFor();
    assert.match(await verdict.textContent(), /^Tenants are kept apart for this login \(console_reader\): proven with rows at \d\d:\d\d UTC\.$/);
    assert.equal(await page.locator('[data-testid="check-verdict"] copy-button').count(), 1);
    await glossary.locator("summary").click();
    await shot(page, "check-verdict-light");
  });

  test("a check that finds a leak says NOT kept apart in its first line", async () => {
    const page = await start();
    await connect(page);
    await page.click('[data-testid="nav-check"]');
    await page.click('[data-testid="check-probe"]');
    await page.locator('[data-testid="check-verdict"][data-state="not-kept-apart"]').waitFor();
    assert.match(
      await page.locator('[data-testid="check-verdict-text"]').textContent(),
      /^Tenants are NOT kept apart for this login \(console_reader\): the probe read 3 rows of other tenants from public\.memberships as support_ops, at \d\d:\d\d UTC\.$/,
    );
  });
});

describe("fleet", () => {
  /** Opens fleet "eu" from the profiles screen and waits for its tenants. */
  async function openFleet(page) {
    await page.click('[data-testid="fleet-item"][data-fleet="eu"]');
    await page.click('[data-testid="fleet-open"]');
    await page.locator('[data-testid="fleet-row"]').first().waitFor();
  }

  test("a fleet is listed beside the profiles and opens like one: every shard's tenants, each naming its shard", async () => {
    const page = await start({ fleet: true });
    await page.locator('[data-testid="fleet-item"]').waitFor();
    await page.click('[data-testid="fleet-item"][data-fleet="eu"]');
    assert.match(await page.locator('[data-testid="fleet-title"]').textContent(), /Fleet eu/);
    await page.click('[data-testid="fleet-open"]');
    await page.locator('[data-testid="fleet-row"]').first().waitFor();
    // No shard is connected until a tenant is opened; the fleet is named in the top bar.
    assert.equal(await calls(page, "session_connect").then((c) => c.length), 0);
    assert.equal(await page.locator('[data-testid="session-fleet"]').textContent(), "Fleet eu");
    assert.match(await page.locator('[data-testid="fleet-shards"]').textContent(), /2 of 3 shards answered/);
    // The down shard is a badge with its reason, not a failure.
    const badge = page.locator('[data-testid="fleet-unavailable"] [data-testid="shard-unavailable"][data-shard="down"]');
    assert.match(await badge.textContent(), /down: unavailable/);
    assert.match(await page.locator('[data-testid="fleet-unavailable"]').textContent(), /connection refused/);
    await page.fill('[data-testid="fleet-search"]', "initech");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="fleet-row"]').length === 1);
    assert.equal(await page.locator('[data-testid="fleet-row"]').getAttribute("data-shard"), "east");
    await shot(page, "fleet-tenants");
  });

  test("opening a tenant connects its shard as its profile, and Ctrl+K switches to a tenant on another shard", async () => {
    const page = await start({ fleet: true });
    await openFleet(page);
    await page.fill('[data-testid="fleet-search"]', "initech");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="fleet-row"]').length === 1);
    await page.locator('[data-testid="fleet-row"][data-shard="east"]').dblclick();
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    assert.equal(await page.locator('[data-testid="session-profile"]').textContent(), "shard east");
    const first = await calls(page, "session_connect");
    assert.equal(first.length, 1);
    assert.equal(first[0].args.profileId, "p-east");
    assert.equal(first[0].args.fleet, "eu", "connected as the fleet's shard, within its budget");
    // The search's row named the shard: no lookup was needed.
    assert.equal((await calls(page, "fleet_locate")).length, 0);

    // Ctrl+K searches every shard; the option names its shard.
    await page.keyboard.press("Control+k");
    await page.fill('[data-testid="switcher-input"]', "globex");
    await page.waitForFunction(() => window.__MOCK__.callsOf("fleet_search").some((c) => c.args.search === "globex"));
    await page.waitForFunction(() => /^1 tenant/.test(document.querySelector('[data-testid="switcher-status"]')?.textContent ?? ""));
    const option = page.locator('[data-testid="switcher-option"][data-tenant-id="t-globex"][data-shard="demo"]');
    await option.waitFor();
    assert.equal(await option.locator('[data-testid="switcher-option-shard"]').textContent(), "demo");
    assert.match(await page.locator('[data-testid="switcher-status"]').textContent(), /not answering: down/);
    await shot(page, "fleet-switcher");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector('[data-testid="session-profile"]')?.textContent === "shard demo");
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    assert.match(await page.locator('[data-testid="nav-tenant-name"]').textContent(), /Globex/);
    const searches = await calls(page, "fleet_search");
    assert.ok(searches.some((c) => c.args.search === "globex"), "the switcher searched the fleet");
    assert.equal((await calls(page, "tenants_search")).length, 0, "never one profile's search in a fleet");

    // Back to Initech from the recent list, before the fleet's search answers: looked up first (it may have
    // moved), asked first on the shard it was seen on, then that shard connected again.
    await page.evaluate(() => window.__MOCK__.hold("fleet_search", undefined));
    await page.keyboard.press("Control+k");
    await page.fill('[data-testid="switcher-input"]', "initech");
    await page.locator('[data-testid="switcher-option"][data-tenant-id="t-initech"]').first().waitFor();
    await page.locator('[data-testid="switcher-option"][data-tenant-id="t-initech"]').first().click();
    await page.waitForFunction(() => document.querySelector('[data-testid="session-profile"]')?.textContent === "shard east");
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    const connects = await calls(page, "session_connect");
    assert.deepEqual(connects.map((c) => c.args.profileId), ["p-east", "p-demo", "p-east"]);
    // The recent tenant was asked first on the shard it was seen on (an integer id may be another tenant elsewhere).
    const located = await calls(page, "fleet_locate");
    assert.equal(located.length, 1);
    assert.deepEqual(located[0].args, { fleet: "eu", key: "t-initech", near: "east" });
  });

  test("the fleet's check is a table of shards, and a shard that did not answer earns no enforced", async () => {
    const page = await start({ fleet: true });
    await openFleet(page);
    await page.click('[data-testid="nav-check"]');
    await page.click('[data-testid="fleet-check-run"]');
    const verdict = page.locator('[data-testid="fleet-verdict"]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute("data-state"), "unknown");
    assert.match(await verdict.textContent(), /down did not answer/);
    const states = await page.locator('[data-testid="fleet-check-row"]').evaluateAll((rows) => rows.map((r) => [r.getAttribute("data-shard"), r.getAttribute("data-state")]));
    assert.deepEqual(states, [["demo", "enforced"], ["down", "unavailable"], ["east", "enforced"]]);
    await shot(page, "fleet-check");
  });

  test("a shard that cannot be connected leaves the fleet open with no shard, and says why", async () => {
    const page = await start({ fleet: true, failShard: "p-east" });
    await openFleet(page);
    await page.locator('[data-testid="fleet-row"][data-tenant-id="t-globex"]').dblclick();
    await page.locator('[data-testid="tenant-stats"]').waitFor();
    assert.equal(await page.locator('[data-testid="session-profile"]').textContent(), "shard demo");
    // Initech's shard refuses: the shard open before was closed by the switch, so none is open now.
    await page.click('[data-testid="nav-tenants"]');
    await page.fill('[data-testid="fleet-search"]', "initech");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="fleet-row"]').length === 1);
    await page.locator('[data-testid="fleet-row"][data-shard="east"]').dblclick();
    await page.locator('[data-testid="fleet-open-error"]').waitFor();
    assert.match(await page.locator('[data-testid="fleet-open-error"]').textContent(), /connection refused/);
    assert.equal(await page.locator('[data-testid="session-profile"]').count(), 0, "no shard shown as open");
    assert.equal(await page.locator('[data-testid="session-fleet"]').textContent(), "Fleet eu");
    assert.equal(await page.locator('[data-testid="nav-tenant"]').count(), 0, "no tenant left open on a closed shard");
    // Closing the fleet closes its shard and returns to the profiles.
    await page.click('[data-testid="disconnect"]');
    await page.locator('[data-testid="profile-item"]').first().waitFor();
    assert.equal((await calls(page, "fleet_close")).length, 1);
    assert.equal(await page.locator('[data-testid="session-fleet"]').count(), 0);
  });

  test("a fleets file that cannot be read says so where the fleets would be", async () => {
    const page = await start({ fleetsBroken: true });
    const e = page.locator('[data-testid="fleet-list-error"]');
    await e.waitFor();
    assert.match(await e.textContent(), /fleets\.toml is not a valid fleet file \(line 3/);
  });
});
