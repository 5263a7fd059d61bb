// The fleet in the real app (release build, tauri-driver, Xvfb, the keyring), measured inside the page with the
// app's own IPC: the fleet opened (every shard asked), one search over every shard, then warm lookups (a tenant
// the search saw, asked of its shard alone), each followed by the switch a support person makes (that shard
// connected as its profile, the tenant opened), and beside them lookups by slug (every shard asked, the fan-out).
// Run by benches/fleet.sh (TC_FLEET_APP=1); prints one JSON object.
import { startApp } from '../e2e/driver.mjs';

const fleet = process.argv[2] ?? 'bench';
const rounds = Number(process.argv[3] ?? 60);
const app = await startApp();
try {
  const { driver } = app;
  await driver.manage().setTimeouts({ script: 600000 });
  // The page is up when the profiles screen has asked for the profiles.
  for (let i = 0; i < 200; i += 1) {
    if (await driver.executeScript('return Boolean(window.__TAURI__ && document.querySelector("[data-testid=profile-list]"))')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const result = await driver.executeAsyncScript(
    `const done = arguments[arguments.length - 1];
     const [fleet, rounds] = arguments;
     const invoke = window.__TAURI__.core.invoke;
     const timed = async (cmd, args) => { const s = performance.now(); const r = await invoke(cmd, args); return [performance.now() - s, r]; };
     (async () => {
       const [openMs, opened] = await timed('fleet_open', { fleet });
       const [searchMs, page] = await timed('fleet_search', { fleet, search: 'shop', limit: 1000 });
       const seen = new Map();
       for (const r of page.items) if (!seen.has(r.shard)) seen.set(r.shard, r);
       const rows = [...seen.values()];
       const profileOf = (shard) => opened.fleet.shards.find((s) => s.name === shard).profile_id;
       const lookup = [], connect = [], open = [], whole = [];
       for (let i = 0; i < rounds; i += 1) {
         const r = rows[(i * 37) % rows.length];
         const s = performance.now();
         const [l, loc] = await timed('fleet_locate', { fleet, key: r.id });
         if (loc.shard !== r.shard) throw new Error('found on ' + loc.shard + ', searched on ' + r.shard);
         const profileId = profileOf(loc.shard);
         const [c] = await timed('session_connect', { profileId, allowBypass: false, fleet });
         const [o] = await timed('tenant_open', { profileId, tenant: loc.tenant.id });
         whole.push(performance.now() - s);
         lookup.push(l); connect.push(c); open.push(o);
       }
       const fanOut = [];
       for (let i = 0; i < 5; i += 1) {
         const r = rows[rows.length - 1 - i];
         const [ms, loc] = await timed('fleet_locate', { fleet, key: r.slug });
         if (loc.shard !== r.shard) throw new Error('slug found on ' + loc.shard);
         fanOut.push(ms);
       }
       await invoke('fleet_close');
       done({
         shards: opened.status.length, answered: opened.status.filter((s) => s.answered).length, openMs, searchMs,
         rows: page.items.length, unavailable: page.unavailable.length, lookup, connect, open, whole, fanOut,
       });
     })().catch((e) => done({ error: String(e && (e.message || JSON.stringify(e))) }));`,
    fleet,
    rounds,
  );
  if (result.error) throw new Error(result.error);
  const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  };
  const sum = (xs) => ({ n: xs.length, p50: +pct(xs, 50).toFixed(1), p95: +pct(xs, 95).toFixed(1), max: +Math.max(...xs).toFixed(1) });
  console.log(JSON.stringify({
    shards: result.shards, answered: result.answered, open_ms: +result.openMs.toFixed(0), search_ms: +result.searchMs.toFixed(0),
    search_rows: result.rows, search_unavailable: result.unavailable,
    warm_lookup_ms: sum(result.lookup), shard_connect_ms: sum(result.connect), tenant_open_ms: sum(result.open),
    whole_switch_ms: sum(result.whole), fan_out_lookup_by_slug_ms: sum(result.fanOut),
  }, null, 2));
} finally {
  await app.stop();
}
