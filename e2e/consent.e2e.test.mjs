// End-to-end: consent the database enforces, in the real app (debug build, Xvfb, tauri-driver, real keyring) on
// the demo data. initech requires its approval: the app shows the "Request access" panel instead of its data,
// sends the request, waits, and opens the tenant the moment the tenant's answer is written in the database
// (LISTEN); the header shows who approved and the time left; a revocation closes the view again.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startApp, screenshot, byTestId, By, waitFor, type, click } from './driver.mjs';

const ADMIN_URL = process.env.E2E_ADMIN_URL;
let app;

function psql(sql) {
  return execFileSync('psql', [ADMIN_URL, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-Atc', sql], { encoding: 'utf8' }).trim();
}

before(async () => {
  assert.ok(ADMIN_URL, 'E2E_ADMIN_URL is set by scripts/e2e.sh');
  psql("UPDATE tenants SET support_consent = 'required' WHERE slug = 'initech'");
  psql('DELETE FROM support_access_approvals');
  app = await startApp();
});
after(async () => {
  await app?.stop();
  if (ADMIN_URL) psql("UPDATE tenants SET support_consent = 'not_required' WHERE slug = 'initech'");
});

async function visible(driver, testid) {
  const found = await driver.findElements(By.css(`[data-testid="${testid}"]`));
  for (const el of found) if (await el.isDisplayed()) return el;
  return null;
}

test('a tenant that requires its approval is asked, opens live when approved, and closes when revoked', async () => {
  const { driver } = app;
  // A profile of its own (the password goes to the real keyring; the test server trusts loopback).
  await (await byTestId(driver, 'profile-new', 30000)).click();
  await type(driver, 'pf-name', 'consent-e2e');
  await type(driver, 'pf-host', process.env.E2E_DB_HOST);
  await type(driver, 'pf-port', process.env.E2E_DB_PORT);
  await type(driver, 'pf-database', process.env.E2E_DB_NAME);
  await type(driver, 'pf-user', 'console_reader');
  await type(driver, 'pf-password', 'e2e-consent-secret');
  await (await byTestId(driver, 'pf-tls')).findElement(By.css('option[value="disable"]')).click();
  await (await byTestId(driver, 'profile-save')).click();
  const item = await waitFor(async () => {
    for (const el of await driver.findElements(By.css('[data-testid="profile-item"]'))) {
      if ((await el.getAttribute('data-profile-name')) === 'consent-e2e') return el;
    }
    return null;
  }, 'the saved profile');
  await click(driver, item);
  await (await byTestId(driver, 'connect-button')).click();
  const status = await byTestId(driver, 'isolation-status', 30000);
  await waitFor(async () => (await status.getAttribute('data-state')) === 'enforced', 'connected');

  // The list marks the tenant; opening it shows the panel, not its data.
  await type(driver, 'tenant-search', 'initech');
  // The list re-renders as its stats arrive: each step looks the row up afresh.
  const initech = '[data-testid="tenant-row"][data-tenant-slug="initech"]';
  await waitFor(async () => (await driver.findElements(By.css(`${initech} [data-testid="consent-badge"]`))).length === 1, 'initech with the approval badge');
  await waitFor(async () => {
    const rows = await driver.findElements(By.css(initech));
    if (rows.length !== 1) return false;
    await click(driver, rows[0]);
    return true;
  }, 'initech clicked');
  const panel = await byTestId(driver, 'consent-panel', 20000);
  await waitFor(async () => ['none', 'ask'].includes(await panel.getAttribute('data-state')) || (await panel.getText()).includes('Request access'), 'the panel offers a request');
  assert.equal((await driver.findElements(By.css('[data-testid="member-row"], [data-testid="glance-event"]'))).length, 0, 'nothing of initech is shown');
  await screenshot(driver, 'consent-01-panel');

  // Ask: reason, minutes; the request lands in the database with the login the server saw.
  await click(driver, await byTestId(driver, 'consent-request'));
  await type(driver, 'consent-detail', 'ZD-9001');
  await type(driver, 'consent-minutes', '30');
  await click(driver, await byTestId(driver, 'consent-send'));
  await byTestId(driver, 'consent-pending', 20000);
  assert.equal(psql("SELECT db_user || ' ' || detail || ' ' || minutes FROM support_access_requests ORDER BY id DESC LIMIT 1"), 'console_reader ZD-9001 30');
  await screenshot(driver, 'consent-02-pending');

  // The tenant's admin approves in the product (the application's role writes the approval): the app opens
  // the tenant by itself and shows who approved and the time left.
  psql(`SET ROLE tenant_app;
        INSERT INTO support_access_approvals (tenant_id, request_id, grantee, approved_by, expires_at, scope)
        SELECT tenant_id, id, 'console_reader', 'it-admin@initech.example', now() + interval '20 minutes', 'read'
          FROM support_access_requests ORDER BY id DESC LIMIT 1`);
  const line = await waitFor(() => visible(driver, 'approval-left'), 'the approval in the header', 15000);
  await waitFor(async () => /it-admin@initech\.example/.test(await line.getText()) && /left/.test(await line.getText()), 'who approved and the time left');
  await waitFor(async () => (await driver.findElements(By.css('[data-testid="glance-event"]'))).length > 0, 'initech read as the tenant');
  await screenshot(driver, 'consent-03-approved');

  // Revoked: the view closes and says so.
  psql('UPDATE support_access_approvals SET revoked_at = now()');
  const again = await byTestId(driver, 'consent-panel', 20000);
  await waitFor(async () => (await again.getAttribute('data-state')) === 'revoked', 'the panel says revoked', 20000);
  assert.equal((await driver.findElements(By.css('[data-testid="glance-event"]'))).length, 0, 'nothing of initech stays on screen');
  await screenshot(driver, 'consent-04-revoked');
});
