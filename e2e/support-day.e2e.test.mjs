// End-to-end: a support person's day in the real app (debug build, Xvfb, tauri-driver, real keyring), on the demo
// data. The ticket: "Globex says a member was removed yesterday: who did it? They also want last month's audit log
// for their auditor." Found by the name as the customer writes it, answered in one paste, exported in a few
// clicks with the range in the file's name, and the app quit with Ctrl+Q.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startApp, screenshot, byTestId, By, waitFor, type, click } from './driver.mjs';

let app;
// A zone that is not UTC, as a support person in Berlin has: the range entered and the file's UTC times differ.
before(async () => { app = await startApp({ env: { TZ: 'Europe/Berlin' } }); });
after(async () => { await app?.stop(); });

/** Clicks an evidence button and returns the text it put on the clipboard (kept in its `data-copied`). */
async function copied(driver, testid) {
  const b = await byTestId(driver, testid);
  await driver.executeScript('delete arguments[0].dataset.copied', b);
  await click(driver, b);
  return waitFor(() => b.getAttribute('data-copied'), `the text of ${testid}`);
}

test('the Globex ticket: found by its written name, answered in one paste, last month exported, Ctrl+Q quits', async () => {
  const { driver } = app;
  await (await byTestId(driver, 'profile-new', 30000)).click();
  await type(driver, 'pf-name', 'support-day');
  // The TLS choice follows a loopback host by itself: nothing to pick here.
  await type(driver, 'pf-host', process.env.E2E_DB_HOST);
  await type(driver, 'pf-port', process.env.E2E_DB_PORT);
  await type(driver, 'pf-database', process.env.E2E_DB_NAME);
  await type(driver, 'pf-user', 'console_reader');
  await type(driver, 'pf-password', 'e2e-support-day');
  assert.equal(await (await byTestId(driver, 'pf-tls')).getAttribute('value'), 'disable', 'loopback: no certificate to verify');
  await (await byTestId(driver, 'profile-save')).click();
  const item = await waitFor(async () => {
    for (const el of await driver.findElements(By.css('[data-testid="profile-item"]'))) {
      if ((await el.getAttribute('data-profile-name')) === 'support-day') return el;
    }
    return null;
  }, 'the saved profile');
  await click(driver, item);
  await (await byTestId(driver, 'connect-button')).click();
  const status = await byTestId(driver, 'isolation-status', 30000);
  await waitFor(async () => (await status.getAttribute('data-state')) === 'enforced', 'connected');

  // "Globex Inc", as the customer writes it, finds "Globex, Inc.".
  await type(driver, 'tenant-search', 'Globex Inc');
  const globex = '[data-testid="tenant-row"][data-tenant-slug="globex"]';
  await waitFor(async () => {
    const rows = await driver.findElements(By.css('[data-testid="tenant-row"]'));
    return rows.length === 1 && (await driver.findElements(By.css(globex))).length === 1;
  }, 'only globex found by "Globex Inc"');
  await waitFor(async () => {
    const rows = await driver.findElements(By.css(globex));
    if (rows.length !== 1) return false;
    await click(driver, rows[0]);
    return true;
  }, 'globex opened');
  await byTestId(driver, 'tenant-view');
  // The name stays readable in the top bar, with its status as a badge.
  let shown = '';
  await waitFor(async () => {
    shown = await (await byTestId(driver, 'nav-tenant-name')).getAttribute('textContent');
    return shown.trim() === 'Globex, Inc.';
  }, 'the name in the top bar').catch((e) => { throw new Error(`${e.message}: the top bar shows ${JSON.stringify(shown)}`); });

  // Who removed a member yesterday: the preset, the action, the event; the evidence in one paste.
  await click(driver, await byTestId(driver, 'tab-audit'));
  await (await byTestId(driver, 'audit-range')).findElement(By.css('option[value="yesterday"]')).click();
  await type(driver, 'audit-action', 'member.removed');
  await click(driver, await byTestId(driver, 'audit-apply'));
  const hint = await byTestId(driver, 'audit-range-hint');
  await waitFor(async () => (await hint.isDisplayed()) && /\d{4}-\d{2}-\d{2}/.test(await hint.getText()), 'the exact range of "Yesterday"');
  const row = await waitFor(async () => (await driver.findElements(By.css('[data-testid="audit-row"]')))[0], 'a removal yesterday');
  const eventId = await row.getAttribute('data-event-id');
  await click(driver, row);
  await byTestId(driver, 'json-view');
  const text = await copied(driver, 'copy-evidence');
  assert.match(text, /Globex, Inc\./);
  assert.ok(text.includes(eventId), `the event id ${eventId} is in the evidence:\n${text}`);
  assert.match(text, /member\.removed/);
  assert.match(text, /UTC/);
  assert.match(text, /@example\.com/, 'who did it');
  const md = await copied(driver, 'copy-evidence-markdown');
  assert.ok(md.includes(eventId) && /\|/.test(md + '|') && /[#*`-]/.test(md), `Markdown evidence:\n${md}`);
  await screenshot(driver, 'day-01-evidence');

  // Last month's audit log for the auditor: the preset, Export…, Choose… (the suggested name carries the range).
  await (await byTestId(driver, 'audit-range')).findElement(By.css('option[value="last-month"]')).click();
  await (await byTestId(driver, 'audit-action')).clear();
  await click(driver, await byTestId(driver, 'audit-apply'));
  await click(driver, await byTestId(driver, 'export-open'));
  await byTestId(driver, 'export-dialog');
  const note = await byTestId(driver, 'export-zone-note');
  await click(driver, await byTestId(driver, 'export-choose'));
  const found = execFileSync('xdotool', ['search', '--sync', '--onlyvisible', '--name', '^Save the audit export$'], { encoding: 'utf8', timeout: 30000 });
  const win = found.trim().split('\n')[0];
  execFileSync('xdotool', ['windowfocus', '--sync', win]);
  // Keep the suggested name; save it into the artifacts folder.
  const folder = path.join(process.env.E2E_ARTIFACTS, 'exports');
  fs.mkdirSync(folder, { recursive: true });
  execFileSync('xdotool', ['key', '--clearmodifiers', 'Home']);
  execFileSync('xdotool', ['type', '--delay', '20', `${folder}/`]);
  execFileSync('xdotool', ['key', 'Return']);
  const chosen = await byTestId(driver, 'export-path');
  const name = await waitFor(async () => {
    const m = /^(globex-audit-\d{4}-\d{2}-01_\d{4}-\d{2}-\d{2}\.csv) in /.exec(await chosen.getText());
    return m && m[1];
  }, 'a file name with last month in it');
  assert.ok(await note.isDisplayed(), 'the dialog says which zone the range and the times are in');
  await screenshot(driver, 'day-02-export-dialog');
  await click(driver, await byTestId(driver, 'export-start'));
  await byTestId(driver, 'export-done', 60000);
  assert.ok(fs.existsSync(path.join(folder, name)), `${name} written`);
  await screenshot(driver, 'day-03-exported');
  await click(driver, await byTestId(driver, 'export-close'));

  // Ctrl+Q quits.
  // The app may be gone before WebKitWebDriver answers the key action: that answer is then an error.
  await driver.actions().keyDown('\uE009').sendKeys('q').keyUp('\uE009').perform().catch(() => {});
  await waitFor(() => {
    try {
      execFileSync('pgrep', ['-f', process.env.E2E_APP]);
      return false;
    } catch {
      return true;
    }
  }, 'the app gone after Ctrl+Q', 15000);
});
