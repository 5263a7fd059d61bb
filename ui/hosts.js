// @ts-check
/**
 * What a host name says about the connection a new profile should default to. Mirrors the core's
 * `TlsMode::default_for_host` (crates/core/src/db/mod.rs): a loopback host (localhost, 127.0.0.0/8, ::1, a Unix
 * socket directory) defaults to no TLS, since a local server rarely has a certificate; any other host to
 * verify-full. Pure.
 */

/**
 * @param {string} host
 * @returns {boolean}  the host is this computer, as the core decides it
 */
export function isLoopbackHost(host) {
  const h = host.trim();
  if (!h) return false;
  if (h.toLowerCase() === "localhost" || h.startsWith("/")) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255) && Number(v4[1]) === 127;
  return isIpv6Loopback(h);
}

/**
 * Whether text is the IPv6 loopback address (::1, in any of its spellings: 0:0:0:0:0:0:0:1, 0::1).
 * @param {string} s
 */
function isIpv6Loopback(s) {
  if (!/^[0-9a-fA-F:]+$/.test(s) || !s.includes(":")) return false;
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const parts = (/** @type {string} */ x) => (x === "" ? [] : x.split(":"));
  const head = parts(halves[0]);
  const tail = halves.length === 2 ? parts(halves[1]) : [];
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail] : head;
  if (groups.length !== 8 || groups.some((g) => g === "" || g.length > 4)) return false;
  return groups.slice(0, 7).every((g) => Number.parseInt(g, 16) === 0) && Number.parseInt(groups[7], 16) === 1;
}

/**
 * The TLS mode a new profile starts with for a host, as the core would choose it: "disable" for loopback (no
 * certificate to verify on a local server), "verify-full" otherwise.
 * @param {string} host
 * @returns {import("./api.js").TlsMode}
 */
export function defaultTlsForHost(host) {
  return isLoopbackHost(host) ? "disable" : "verify-full";
}
