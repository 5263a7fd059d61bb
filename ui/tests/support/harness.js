// Page-test harness: serves ui/ on 127.0.0.1 (random port) with the app's own Content-Security-Policy from
// tauri.conf.json, launches Debian's Chromium through playwright-core, and opens each test in a fresh browser
// context (so nothing — localStorage, dialogs, state — carries from one test to the next) with the Tauri mock
// installed. Console errors, page errors and CSP violations fail the test.

import { constants } from "node:fs";
import { access, mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { installMock } from "./mock-tauri.js";

const here = fileURLToPath(new URL(".", import.meta.url));
export const UI_DIR = resolve(here, "../..");
export const REPO = resolve(UI_DIR, "..");
export const SHOTS = join(REPO, "artifacts", "ui");
const CHROMIUM = process.env.TC_CHROMIUM || "/usr/bin/chromium";

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml" };

/** The CSP string the app ships (tauri.conf.json app.security.csp). */
export async function appCsp() {
  const conf = JSON.parse(await readFile(join(REPO, "tauri.conf.json"), "utf8"));
  const csp = conf.app.security.csp;
  if (typeof csp === "string") return csp;
  return Object.entries(csp).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(" ") : v}`).join("; ");
}

/** Serves ui/ (and nothing outside it) with the app's CSP. */
export async function startServer() {
  const csp = await appCsp();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url || "/", "http://x");
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, "");
    const file = resolve(UI_DIR, rel || "index.html");
    if (!file.startsWith(UI_DIR + sep) || file.includes(`${sep}tests${sep}`)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream", "content-security-policy": csp, "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", () => r(undefined)));
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("the test server has no port");
  return { url: `http://127.0.0.1:${addr.port}/`, close: () => new Promise((r) => server.close(() => r(undefined))) };
}

export async function launch() {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set TC_CHROMIUM to a Chromium binary`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/**
 * A fresh context and page with the mock installed, at the app's start.
 * @param {import("playwright-core").Browser} browser
 * @param {string} url
 * @param {Record<string, any>} [mock]  mock config (see mock-tauri.js)
 * @param {{ colorScheme?: "light" | "dark", timezoneId?: string, now?: string }} [opts]  timezoneId: the computer's
 *   zone (default UTC); now: a fixed "now" for Date (timers still run), for tests of calendar ranges
 */
export async function openApp(browser, url, mock = {}, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: opts.colorScheme || "light", locale: "en-US", timezoneId: opts.timezoneId || "UTC" });
  const page = await context.newPage();
  if (opts.now) await page.clock.setFixedTime(new Date(opts.now));
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const dropped = [];
  page.on("console", (m) => {
    if (m.type() === "debug" && m.text().includes("dropped a stale response")) dropped.push(m.text());
  });
  await page.addInitScript(installMock, mock);
  // CSP violations show as console errors too; this also catches ones reported without a console line.
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(url);
  return {
    page,
    context,
    problems,
    dropped,
    async close() {
      await context.close();
    },
  };
}

/**
 * Saves a screenshot to artifacts/ui/NAME.png, after checking the layout holds: the window does not scroll
 * sideways (the header spans exactly the viewport) and nothing in the shell overflows it.
 */
export async function shot(page, name) {
  await mkdir(SHOTS, { recursive: true });
  const layout = await page.evaluate(() => {
    const header = document.querySelector(".app-header").getBoundingClientRect();
    return { left: header.left, right: header.right, width: window.innerWidth, scrollX: window.scrollX, docWidth: document.documentElement.scrollWidth };
  });
  if (layout.left !== 0 || Math.abs(layout.right - layout.width) > 1 || layout.scrollX !== 0 || layout.docWidth > layout.width) {
    throw new Error(`the page overflows the window sideways on ${name}: ${JSON.stringify(layout)}`);
  }
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Lets pending promise callbacks and a macrotask run in the page (the app's handlers are promise chains). */
export async function settle(page) {
  await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
}
