// Starts tauri-driver (which drives WebKitWebDriver) and opens a WebDriver session on the real app.
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Builder, By, until } from 'selenium-webdriver';

export { By, until };

const PORT = 4444;

function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(undefined); });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`tauri-driver did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/**
 * Starts tauri-driver and a session on the app; returns { driver, stop }. `env` is added to the app's
 * environment (tauri-driver passes its own on): GTK_THEME=Adwaita:dark runs the app in the dark theme.
 * @param {{ env?: Record<string, string> }} [opts]
 */
export async function startApp(opts = {}) {
  const app = process.env.E2E_APP;
  if (!app) throw new Error('E2E_APP is not set: run the end-to-end test through scripts/e2e.sh');
  const tauriDriver = spawn('tauri-driver', ['--port', String(PORT)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  await waitForPort(PORT, 20000);
  const driver = await new Builder()
    .usingServer(`http://127.0.0.1:${PORT}/`)
    .withCapabilities({ browserName: 'wry', 'tauri:options': { application: app } })
    .build();
  await driver.manage().setTimeouts({ implicit: 0 });
  return {
    driver,
    async stop() {
      try { await driver.quit(); } catch { /* the app may be gone already */ }
      tauriDriver.kill();
      // WebKitWebDriver does not always take the app down with the session: a leftover app keeps the test
      // runner (and CI) waiting forever. Give it a moment, then end it.
      await new Promise((r) => setTimeout(r, 1000));
      try { execFileSync('pkill', ['-f', app]); } catch { /* already gone: pkill exits 1 */ }
    },
  };
}

/**
 * Saves a screenshot of the screen under $E2E_ARTIFACTS, taken from the X server the app draws on (ImageMagick's
 * `import`), as a person would see it: native dialogs included. Not WebDriver's screenshot: WebKitWebDriver takes
 * that after the page's next presentation update, which never comes when the window is drawn without
 * accelerated compositing (the app's default on Linux) and nothing on the page changes; the test would wait forever.
 * Waits for the page to have drawn what the test just did (two animation frames) first.
 */
export async function screenshot(driver, name) {
  const dir = process.env.E2E_ARTIFACTS || 'artifacts/e2e';
  await fs.mkdir(dir, { recursive: true });
  await driver.executeAsyncScript(
    `const done = arguments[arguments.length - 1];
     requestAnimationFrame(() => requestAnimationFrame(() => done(null)));`,
  );
  execFileSync('import', ['-window', 'root', path.join(dir, `${name}.png`)], { timeout: 30000 });
}

/** Waits for an element by data-testid and returns it. */
export async function byTestId(driver, id, timeoutMs = 15000) {
  return driver.wait(until.elementLocated(By.css(`[data-testid="${id}"]`)), timeoutMs, `no [data-testid="${id}"]`);
}

/** Polls `fn` until it returns a truthy value (an error counts as not yet), and returns that value. */
export async function waitFor(fn, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

/** Replaces the text of the field with that data-testid. */
export async function type(driver, testid, text) {
  const el = await byTestId(driver, testid);
  await el.clear();
  await el.sendKeys(text);
  return el;
}

/** Clicks; table rows are not "interactable" for WebKitWebDriver, so those get a DOM click. */
export async function click(driver, el) {
  try {
    await el.click();
  } catch (e) {
    if (e.name !== 'ElementNotInteractableError') throw e;
    await driver.executeScript('arguments[0].click()', el);
  }
}
