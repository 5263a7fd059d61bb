// End-to-end: the real app (debug build) under Xvfb through tauri-driver, on the demo data, real keyring.
// One scenario, in the order a support engineer works: add a profile, connect, find a tenant, read its members,
// switch tenants with the quick switcher, export the audit log, run the isolation check.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApp, screenshot, byTestId, By, until, waitFor, type, click } from './driver.mjs';

const PASSWORD = 'e2e-keyring-secret';
let app;
before(async () => { app = await startApp(); });
after(async () => { await app?.stop(); });

async function select(driver, testid, value) {
  const el = await byTestId(driver, testid);
  await el.findElement(By.css(`option[value="${value}"]`)).click();
}

/**
 * Answers the app's native save dialog (GTK, a window of its own) as a person would: focus its file name, type
 * the full path, press Enter. xdotool types through XTEST into the X server the app runs on (Xvfb).
 */
function answerSaveDialog(file) {
  const found = execFileSync('xdotool', ['search', '--sync', '--onlyvisible', '--name', '^Save the audit export$'], { encoding: 'utf8', timeout: 30000 });
  const win = found.trim().split('\n')[0];
  execFileSync('xdotool', ['windowfocus', '--sync', win]);
  execFileSync('xdotool', ['key', '--clearmodifiers', 'ctrl+a']);
  execFileSync('xdotool', ['type', '--delay', '20', file]);
  execFileSync('xdotool', ['key', 'Return']);
}

/** Runs `window.__TAURI__.core.invoke(cmd, args)` in the page; resolves to { ok } or { err }. */
async function invokeFromPage(driver, cmd, args) {
  return driver.executeAsyncScript(
    `const done = arguments[arguments.length - 1];
     window.__TAURI__.core.invoke(arguments[0], arguments[1])
       .then((ok) => done({ ok: ok ?? null }), (err) => done({ err: typeof err === 'string' ? { message: err } : err }));`,
    cmd,
    args,
  );
}

async function all(driver, css) {
  return driver.findElements(By.css(css));
}

test('a support engineer adds a profile, browses as the tenant, switches, exports and checks isolation', async () => {
  const { driver } = app;

  // Profiles: add one; the password goes to the real keyring.
  await (await byTestId(driver, 'profile-new', 30000)).click();
  await type(driver, 'pf-name', 'demo-e2e');
  await type(driver, 'pf-host', process.env.E2E_DB_HOST);
  await type(driver, 'pf-port', process.env.E2E_DB_PORT);
  await type(driver, 'pf-database', process.env.E2E_DB_NAME);
  await type(driver, 'pf-user', 'console_reader');
  await type(driver, 'pf-password', PASSWORD);
  await select(driver, 'pf-tls', 'disable');
  await (await byTestId(driver, 'profile-save')).click();
  const item = await waitFor(async () => {
    for (const el of await all(driver, '[data-testid="profile-item"]')) {
      if ((await el.getAttribute('data-profile-name')) === 'demo-e2e') return el;
    }
    return null;
  }, 'the saved profile in the list');
  const profileId = await item.getAttribute('data-profile-id');
  await screenshot(driver, '01-profiles');
  const stored = execFileSync('secret-tool', ['search', '--all', 'service', 'tenant-console'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.ok(stored.includes(PASSWORD) && stored.includes(profileId), 'the password is in the keyring under the profile id');
  const profileFile = fs.readFileSync(path.join(process.env.TENANT_CONSOLE_CONFIG_DIR, 'profiles.toml'), 'utf8');
  assert.ok(!profileFile.includes(PASSWORD), 'the password is not in the profile file');

  // Connect: the green status names the login.
  await click(driver, item);
  await (await byTestId(driver, 'connect-button')).click();
  const status = await byTestId(driver, 'isolation-status', 30000);
  await waitFor(async () => (await status.getAttribute('data-state')) === 'enforced', 'RLS enforced status');
  assert.match(await status.getText(), /console_reader/);
  // The tenant list's stats columns fill in, each read as its tenant: every demo tenant has 12 members.
  await waitFor(async () => {
    const rows = await all(driver, '[data-testid="tenant-row"]');
    const pending = await all(driver, '[data-testid="tenant-row"] [data-stat].pending');
    return rows.length > 0 && pending.length === 0;
  }, 'tenant stats filled in');
  for (const cell of await all(driver, '[data-testid="tenant-row"] [data-stat="members"]')) {
    assert.equal(await cell.getText(), '12');
  }
  await screenshot(driver, '02-connected');

  // Tenants: search as you type.
  await type(driver, 'tenant-search', 'glob');
  await waitFor(async () => {
    const settled = !(await (await byTestId(driver, 'tenants-status')).getText()).includes('Searching');
    const rows = await all(driver, '[data-testid="tenant-row"]');
    return settled && rows.length === 1 && (await rows[0].getAttribute('data-tenant-slug')) === 'globex';
  }, 'only globex in the search result');
  await screenshot(driver, '03-tenants-search');
  await type(driver, 'tenant-search', 'acme');
  const acmeRow = await waitFor(async () => {
    for (const r of await all(driver, '[data-testid="tenant-row"]')) {
      if ((await r.getAttribute('data-tenant-slug')) === 'acme') return r;
    }
    return null;
  }, 'acme in the search result');
  const acmeId = await acmeRow.getAttribute('data-tenant-id');
  await click(driver, acmeRow);

  // Tenant view: overview, members, roles, audit.
  const view = await byTestId(driver, 'tenant-view');
  await waitFor(async () => (await view.getAttribute('data-tenant-id')) === acmeId, 'acme opened');
  await byTestId(driver, 'stat-members');
  // The tenant at a glance, read as acme on the real server: its newest 20 events, who was active, failed
  // sign-ins (the demo data has some), the support accesses.
  await waitFor(async () => (await all(driver, '[data-testid="glance-event"]')).length === 20, '20 latest events');
  assert.ok((await all(driver, '[data-testid="glance-actor"]')).length > 0, 'active actors');
  assert.match(await (await byTestId(driver, 'glance-failed-count')).getText(), /^\d+ failed sign-ins? \(auth\.login_failed\)$/);
  assert.ok((await all(driver, '[data-testid="glance-access"]')).length > 0, 'support accesses');
  await screenshot(driver, '04-tenant-overview');
  await (await byTestId(driver, 'tab-members')).click();
  await waitFor(async () => (await all(driver, '[data-testid="member-row"]')).length === 12, '12 acme members');
  for (const r of await all(driver, '[data-testid="member-row"]')) {
    assert.equal(await r.getAttribute('data-tenant-id'), acmeId);
  }
  // Sorted by joined date, newest first, from its header: the real server's order.
  await (await byTestId(driver, 'member-sort-joined')).click();
  await waitFor(async () => {
    const cells = await all(driver, '[data-testid="member-row"] td:nth-child(4)');
    if (cells.length !== 12) return false;
    const dates = await Promise.all(cells.map((c) => c.getText()));
    return dates.every((d, i) => i === 0 || dates[i - 1] >= d) && dates[0] > dates[11];
  }, 'members newest first');
  await screenshot(driver, '05-members');
  await (await byTestId(driver, 'tab-roles')).click();
  await waitFor(async () => (await all(driver, '[data-testid="role-row"][data-role="BILLING"]')).length === 1, 'acme custom role');
  await screenshot(driver, '06-roles');
  await (await byTestId(driver, 'tab-audit')).click();
  await waitFor(async () => (await all(driver, '[data-testid="audit-row"]')).length > 0, 'audit rows');
  // An event's detail: the metadata in the viewer (the demo's hostile text stays text), copy actions.
  await click(driver, (await all(driver, '[data-testid="audit-row"]'))[0]);
  const viewer = await byTestId(driver, 'json-view');
  assert.match(await viewer.getText(), /"tenant": "acme"/);
  assert.ok((await all(driver, '[data-testid="copy-event-json"]')).length === 1);
  await screenshot(driver, '07-audit');

  // Quick switcher: Ctrl+K, type, Enter. Nothing of acme may remain.
  await driver.actions().keyDown('\uE009').sendKeys('k').keyUp('\uE009').perform();
  const input = await byTestId(driver, 'switcher-input');
  await input.sendKeys('globex');
  await waitFor(async () => {
    const opts = await all(driver, '[data-testid="switcher-option"]');
    return opts.length >= 1;
  }, 'switcher options');
  await screenshot(driver, '08-switcher');
  await input.sendKeys('\uE007');
  const globexId = await waitFor(async () => {
    const id = await (await byTestId(driver, 'tenant-view')).getAttribute('data-tenant-id');
    return id && id !== acmeId ? id : null;
  }, 'globex opened');
  await (await byTestId(driver, 'tab-members')).click();
  await waitFor(async () => {
    const rows = await all(driver, '[data-testid="member-row"]');
    if (rows.length === 0) return false;
    for (const r of rows) if ((await r.getAttribute('data-tenant-id')) !== globexId) return false;
    return true;
  }, 'globex members only');
  assert.equal((await all(driver, `[data-tenant-id="${acmeId}"]`)).length, 0, 'a row of acme remained after switching');
  await screenshot(driver, '09-switched-members');

  // Export the audit log and read the file.
  await (await byTestId(driver, 'tab-audit')).click();
  await (await byTestId(driver, 'export-open')).click();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tc-e2e-')), 'globex-audit.csv');
  // The destination comes from the native save dialog, opened by the app (never a path typed into the page).
  await (await byTestId(driver, 'export-choose')).click();
  answerSaveDialog(out);
  const chosen = await byTestId(driver, 'export-path');
  await waitFor(async () => (await chosen.getText()).includes('globex-audit.csv'), 'the chosen file shown in the dialog');
  await screenshot(driver, '10-export-dialog');
  await (await byTestId(driver, 'export-start')).click();
  await byTestId(driver, 'export-done', 60000);
  await screenshot(driver, '11-export-done');
  const csv = fs.readFileSync(out, 'utf8');
  const lines = csv.split('\n');
  assert.match(lines[0], /^id,occurred_at,actor_id,actor_email,action/);
  assert.ok(csv.includes('""tenant"": ""globex""'), 'globex rows in the export');
  assert.ok(!csv.includes('""tenant"": ""acme""'), 'no acme row in the export');
  // "Show in folder" on a desktop with no file manager (Xvfb here) says so in words and keeps the success line.
  await (await byTestId(driver, 'export-show')).click();
  await driver.sleep(1500);
  const openErrors = await all(driver, '[data-testid="export-open-error"]');
  if (openErrors.length > 0) {
    const said = await openErrors[0].getText();
    assert.match(said, /could not show the folder/);
    assert.doesNotMatch(said, /D-?Bus|org\.freedesktop|ServiceUnknown/i, said);
    await screenshot(driver, '11b-show-in-folder-failed');
  }
  assert.match(await (await byTestId(driver, 'export-done')).getText(), /Exported \d+ events?/);
  // Verify it in the app: the real command, the real keyring's key; then one changed byte is caught.
  await (await byTestId(driver, 'export-verify')).click();
  // The dialog grows when this machine's key arrives from the keyring: click once it has (a click aimed before
  // may land where the button was; seen once in CI).
  await byTestId(driver, 'verify-own-key-text', 30000);
  await (await byTestId(driver, 'verify-run')).click();
  const verified = await byTestId(driver, 'verify-ok', 30000);
  assert.match(await verified.getText(), /Verified: complete, unaltered, signed by the expected key/);
  await screenshot(driver, '11c-verify-ok');
  const bytes = fs.readFileSync(out);
  bytes[bytes.length - 3] ^= 0x01;
  fs.writeFileSync(out, bytes);
  await (await byTestId(driver, 'verify-run')).click();
  const failed = await byTestId(driver, 'verify-failed', 30000);
  assert.equal(await failed.getText(), 'Does not match its manifest');
  assert.match(await (await byTestId(driver, 'verify-lines')).getText(), /SHA-256 is [0-9a-f]{64}, not the manifest's/);
  await screenshot(driver, '11d-verify-failed');
  await (await byTestId(driver, 'verify-close')).click();
  await waitFor(async () => (await all(driver, '[data-testid="verify-dialog"]')).length === 0, 'the verify dialog closed');
  await (await byTestId(driver, 'export-close')).click();

  // The isolation check with the live probe.
  await (await byTestId(driver, 'nav-check')).click();
  await (await byTestId(driver, 'check-probe')).click();
  const summary = await byTestId(driver, 'check-summary', 60000);
  await waitFor(async () => (await summary.getText()).length > 0, 'check summary');
  assert.equal((await all(driver, '[data-testid="findings-critical"] [data-testid="finding"]')).length, 0, 'critical findings on the demo database');
  await screenshot(driver, '12-isolation-check');
  // The probe's evidence: every question it asked, each with 0 foreign rows.
  await click(driver, await byTestId(driver, 'check-evidence-summary'));
  const evidence = await all(driver, '[data-testid="evidence-row"]');
  assert.ok(evidence.length >= 16, `${evidence.length} evidence rows`);
  for (const row of evidence) {
    const cells = await row.findElements(By.css('td'));
    assert.equal(await cells[5].getText(), '0', await row.getText());
  }
  await screenshot(driver, '13-probe-evidence');

  // A hostile script in the window can do only what a click could. The page names no file: an export with a
  // path of its choosing writes nothing, and no plugin command (the dialog's, the opener's) is allowed at all.
  const victim = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tc-e2e-victim-')), '.bashrc');
  fs.writeFileSync(victim, '# the user\'s shell start-up\n');
  const forged = await invokeFromPage(driver, 'audit_export', {
    profileId, tenant: 'globex', exportId: 'forged', destination: victim, path: victim,
    filter: {}, options: { bom: false, overwrite: true, columns: ['action'] }, onProgress: null,
  });
  assert.ok(forged.err, `a forged export was accepted: ${JSON.stringify(forged)}`);
  assert.equal(fs.readFileSync(victim, 'utf8'), '# the user\'s shell start-up\n');
  for (const cmd of ['plugin:dialog|save', 'plugin:opener|open_path']) {
    const r = await invokeFromPage(driver, cmd, { path: victim, options: {} });
    assert.ok(r.err && /not allowed|denied/i.test(JSON.stringify(r.err)), `${cmd} was not refused: ${JSON.stringify(r)}`);
  }

  // On a profile that requires reasons, a script asking for pages directly (no reason, no opening) is refused
  // by the core: nothing is read, whatever the UI would have done.
  const strict = await invokeFromPage(driver, 'profiles_save', {
    profile: { name: 'strict-e2e', host: process.env.E2E_DB_HOST, port: Number(process.env.E2E_DB_PORT),
               database: process.env.E2E_DB_NAME, user: 'console_reader', tls: 'disable', access_reason: 'required' },
    password: PASSWORD,
  });
  assert.ok(strict.ok, JSON.stringify(strict));
  const strictId = strict.ok.id;
  assert.ok((await invokeFromPage(driver, 'session_connect', { profileId: strictId, allowBypass: false })).ok);
  for (const [cmd, args] of [
    ['audit_page', { profileId: strictId, tenant: 'globex', filter: {} }],
    ['members_page', { profileId: strictId, tenant: 'globex' }],
    ['roles_list', { profileId: strictId, tenant: 'globex' }],
    ['audit_count', { profileId: strictId, tenant: 'globex', filter: {} }],
  ]) {
    const r = await invokeFromPage(driver, cmd, args);
    assert.equal(r.err?.kind, 'reason_required', `${cmd}: ${JSON.stringify(r)}`);
  }
  const opened = await invokeFromPage(driver, 'tenant_open', {
    profileId: strictId, tenant: 'globex', reason: { category: 'support-ticket', detail: 'E2E-1' },
  });
  assert.equal(opened.ok?.recorded, 'yes', JSON.stringify(opened));
  const page = await invokeFromPage(driver, 'members_page', { profileId: strictId, tenant: 'globex' });
  assert.equal(page.ok?.items?.length, 12, JSON.stringify(page).slice(0, 300));
});

// The same window in the dark theme (GTK's dark Adwaita, which WebKitGTK reports as prefers-color-scheme: dark):
// the overview with the tenant at a glance, an event's metadata, and Verify a file.
test('the new screens in the dark theme', async () => {
  await app.stop();
  app = await startApp({ env: { GTK_THEME: 'Adwaita:dark' } });
  const { driver } = app;
  const item = await waitFor(async () => {
    for (const el of await all(driver, '[data-testid="profile-item"]')) {
      if ((await el.getAttribute('data-profile-name')) === 'demo-e2e') return el;
    }
    return null;
  }, 'the saved profile', 30000);
  assert.equal(await driver.executeScript('return matchMedia("(prefers-color-scheme: dark)").matches'), true, 'the window is not dark');
  await click(driver, item);
  await (await byTestId(driver, 'connect-button')).click();
  const status = await byTestId(driver, 'isolation-status', 30000);
  await waitFor(async () => (await status.getAttribute('data-state')) === 'enforced', 'RLS enforced status');
  const acme = await waitFor(async () => {
    for (const r of await all(driver, '[data-testid="tenant-row"]')) {
      if ((await r.getAttribute('data-tenant-slug')) === 'acme') return r;
    }
    return null;
  }, 'acme in the list');
  await click(driver, acme);
  await waitFor(async () => (await all(driver, '[data-testid="glance-event"]')).length === 20, '20 latest events');
  await screenshot(driver, '20-overview-dark');
  await (await byTestId(driver, 'tab-audit')).click();
  await waitFor(async () => (await all(driver, '[data-testid="audit-row"]')).length > 0, 'audit rows');
  await click(driver, (await all(driver, '[data-testid="audit-row"]'))[0]);
  await byTestId(driver, 'json-view');
  await screenshot(driver, '21-audit-detail-dark');
  await (await byTestId(driver, 'nav-verify')).click();
  await byTestId(driver, 'verify-own-key-text', 30000);
  await screenshot(driver, '22-verify-dark');
  await (await byTestId(driver, 'verify-close')).click();
});
