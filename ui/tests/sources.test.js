// Rules the sources keep, checked on the files themselves: user data never goes through an HTML parser, only
// api.js reaches for the Tauri global, and the page has nothing the CSP would block.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const UI = fileURLToPath(new URL("..", import.meta.url));

async function sources() {
  const out = [];
  async function walk(dir) {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "tests" && e.name !== "node_modules") await walk(p);
      } else if (e.name.endsWith(".js")) out.push(p);
    }
  }
  await walk(UI);
  return Promise.all(out.map(async (p) => ({ path: relative(UI, p), text: await readFile(p, "utf8") })));
}

describe("the UI sources", () => {
  test("never parse strings as HTML (innerHTML, outerHTML, insertAdjacentHTML, document.write, eval)", async () => {
    const files = await sources();
    assert.ok(files.length > 10, "the UI sources were found");
    const bad = /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\s*\(|new Function\s*\(|createContextualFragment|DOMParser/;
    const hits = files.filter((f) => bad.test(f.text)).map((f) => f.path);
    assert.deepEqual(hits, []);
  });

  test("only api.js touches window.__TAURI__", async () => {
    const hits = (await sources()).filter((f) => f.text.includes("__TAURI__")).map((f) => f.path);
    assert.deepEqual(hits, ["api.js"]);
  });

  test("index.html has no inline script, inline style or event-handler attribute", async () => {
    const html = await readFile(join(UI, "index.html"), "utf8");
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, "every script has a src");
    assert.doesNotMatch(html, /<style/i);
    assert.doesNotMatch(html, /\sstyle=/i);
    assert.doesNotMatch(html, /\son[a-z]+=/i);
    assert.doesNotMatch(html, /https?:\/\//i, "nothing loaded from the network");
  });

  test("no source sets a style attribute or loads anything remote", async () => {
    const hits = (await sources()).filter((f) => /setAttribute\(\s*["']style["']|style:\s*["']|https?:\/\//.test(f.text)).map((f) => f.path);
    assert.deepEqual(hits, []);
  });
});
