// End-to-end: a fleet in the real app. Two shards on the test server (the demo database and a second one with
// its own tenants) and one that refuses connections, made with tenantctl as an installer would. The fleet is
// opened from the profiles screen like a profile, searched as one (each row naming its shard, the down shard a
// badge), a tenant opened on one shard, Ctrl+K switches to a tenant on the other and back to the first through
// the recent list, and the check shows a table of shards.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { startApp, screenshot, byTestId, By, waitFor, type, click } from './driver.mjs';

let app;

/** A port on loopback nothing listens on (bound, then closed). */
async function closedPort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

function tenantctl(args, input) {
  return execFileSync(process.env.E2E_TENANTCTL, ['--format', 'json', ...args], { input, encoding: 'utf8' });
}

before(async () => {
  const host = process.env.E2E_DB_HOST;
  const port = process.env.E2E_DB_PORT;
  const url = (db, p = port) => `postgres://console_reader@${host}:${p}/${db}?sslmode=disable`;
  // The password goes to the keyring (the same Secret Service the app reads).
  tenantctl(['profile', 'add', 'fleet-a', '--url', url(process.env.E2E_DB_NAME), '--password-stdin'], 'e2e-fleet\n');
  tenantctl(['profile', 'add', 'fleet-b', '--url', url(process.env.E2E_SHARD_NAME), '--password-stdin'], 'e2e-fleet\n');
  tenantctl(['profile', 'add', 'fleet-down', '--url', url('app', await closedPort()), '--password-stdin'], 'e2e-fleet\n');
  tenantctl(['fleet', 'add', 'e2e', 'fleet-a', 'fleet-down', 'fleet-b']);
  app = await startApp();
});
after(async () => { await app?.stop(); });

/** The element matching `css` whose attribute `attr` is `value`. */
async function withAttr(driver, css, attr, value) {
  for (const el of await driver.findElements(By.css(css))) {
    if ((await el.getAttribute(attr)) === value) return el;
  }
  return null;
}

async function openTenantShown(driver, name, shard) {
  await waitFor(async () => {
    const n = await driver.findElements(By.css('[data-testid="nav-tenant-name"]'));
    const s = await driver.findElements(By.css('[data-testid="session-profile"]'));
    return n.length === 1 && s.length === 1
      && (await n[0].getAttribute('textContent')).trim() === name
      && (await s[0].getAttribute('textContent')).trim() === `shard ${shard}`;
  }, `${name} open on shard ${shard}`);
  await byTestId(driver, 'tenant-view');
}

test('a fleet opens like a profile, is searched as one, and Ctrl+K switches tenants across its shards', async () => {
  const { driver } = app;
  const item = await waitFor(() => withAttr(driver, '[data-testid="fleet-item"]', 'data-fleet', 'e2e'), 'the fleet beside the profiles', 30000);
  await click(driver, item);
  await waitFor(async () => {
    const open = await driver.findElements(By.css('[data-testid="fleet-open"]'));
    if (open.length !== 1) return false;
    await click(driver, open[0]);
    return true;
  }, 'the fleet shown, opened');
  await byTestId(driver, 'fleet-screen', 30000);

  // Every shard's tenants, each row naming its shard; the down shard is a badge, not a failure.
  await waitFor(async () => (await withAttr(driver, '[data-testid="fleet-row"]', 'data-shard', 'fleet-b')) !== null, 'rows of fleet-b');
  assert.ok(await withAttr(driver, '[data-testid="fleet-row"]', 'data-shard', 'fleet-a'), 'rows of fleet-a in the same list');
  const down = await waitFor(() => withAttr(driver, '[data-testid="shard-unavailable"]', 'data-shard', 'fleet-down'), 'the down shard named');
  assert.match(await down.getText(), /unavailable/);
  assert.equal((await (await byTestId(driver, 'fleet-shards')).getText()).startsWith('2 of 3 shards answered'), true);
  await screenshot(driver, 'fleet-tenants');

  // Search, then open Pied Piper: its shard is connected as its profile.
  await type(driver, 'fleet-search', 'pied');
  const pied = await waitFor(async () => {
    const rows = await driver.findElements(By.css('[data-testid="fleet-row"]'));
    return rows.length === 1 && (await rows[0].getAttribute('data-shard')) === 'fleet-b' ? rows[0] : null;
  }, 'only Pied Piper, on fleet-b');
  assert.ok(pied);
  // Enter on the search opens the chosen (first) row.
  await (await byTestId(driver, 'fleet-search')).sendKeys('\uE007');
  await openTenantShown(driver, 'Pied Piper', 'fleet-b');
  await byTestId(driver, 'session-fleet');
  await screenshot(driver, 'fleet-tenant-b');

  // Ctrl+K searches the whole fleet: Globex is on the other shard.
  await driver.actions().keyDown('\uE009').sendKeys('k').keyUp('\uE009').perform();
  await type(driver, 'switcher-input', 'globex');
  const option = await waitFor(async () => {
    for (const el of await driver.findElements(By.css('[data-testid="switcher-option"]'))) {
      if ((await el.getAttribute('data-shard')) === 'fleet-a' && /Globex/.test(await el.getAttribute('textContent'))) return el;
    }
    return null;
  }, 'Globex on fleet-a in the switcher').catch(async (e) => { await screenshot(driver, 'fleet-switcher-failed'); throw e; });
  await screenshot(driver, 'fleet-switcher');
  await click(driver, option).catch(() => driver.findElement(By.css('[data-testid="switcher-input"]')).sendKeys('\uE007'));
  await openTenantShown(driver, 'Globex, Inc.', 'fleet-a');

  // And back to Pied Piper from the recent list: looked up (it may have moved), then its shard connected again.
  await driver.actions().keyDown('\uE009').sendKeys('k').keyUp('\uE009').perform();
  await type(driver, 'switcher-input', 'pie');
  // The list is drawn again when the fleet's answer arrives: find and click in one go.
  await waitFor(async () => {
    for (const el of await driver.findElements(By.css('[data-testid="switcher-option"]'))) {
      try {
        const text = await el.getAttribute('textContent');
        if (/Pied Piper/.test(text) && /recent/.test(text) && (await el.getAttribute('data-shard')) === 'fleet-b') {
          await click(driver, el);
          return true;
        }
      } catch {
        return false;
      }
    }
    return false;
  }, 'Pied Piper, recent, chosen in the switcher');
  await openTenantShown(driver, 'Pied Piper', 'fleet-b');

  // The check of the fleet: a table of shards, and no "enforced" while a shard did not answer.
  await click(driver, await byTestId(driver, 'nav-check'));
  await click(driver, await byTestId(driver, 'fleet-check-run'));
  const verdict = await byTestId(driver, 'fleet-verdict', 60000);
  assert.equal(await verdict.getAttribute('data-state'), 'unknown');
  const rows = await driver.findElements(By.css('[data-testid="fleet-check-row"]'));
  const states = {};
  for (const r of rows) states[await r.getAttribute('data-shard')] = await r.getAttribute('data-state');
  assert.deepEqual(states, { 'fleet-a': 'enforced', 'fleet-down': 'unavailable', 'fleet-b': 'enforced' });
  await screenshot(driver, 'fleet-check');
});
