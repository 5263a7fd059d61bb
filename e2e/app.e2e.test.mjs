// End-to-end: the real app (debug build) under Xvfb through tauri-driver, on the demo data, real keyring.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, screenshot, By, until } from './driver.mjs';

let app;
before(async () => { app = await startApp(); });
after(async () => { await app?.stop(); });

test('the app window opens on its own UI', async () => {
  const { driver } = app;
  await driver.wait(until.elementLocated(By.css('h1')), 20000);
  const title = await driver.getTitle();
  assert.equal(title, 'Tenant Console');
  await screenshot(driver, '00-start');
});
