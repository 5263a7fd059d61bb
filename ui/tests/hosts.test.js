import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { defaultTlsForHost, isLoopbackHost } from "../hosts.js";

describe("the TLS a new profile starts with, from its host (as the core's TlsMode::default_for_host)", () => {
  test("this computer gets no TLS: a local server has no certificate to verify", () => {
    for (const h of ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "0::1", "/var/run/postgresql", " 127.0.0.1 "]) {
      assert.equal(defaultTlsForHost(h), "disable", h);
    }
  });

  test("any other host is verified", () => {
    for (const h of ["db.internal", "10.0.0.5", "128.0.0.1", "127.0.0.256", "::2", "::", "localhost.example.com", "", "[::1]", "1::1"]) {
      assert.equal(defaultTlsForHost(h), "verify-full", h);
      assert.equal(isLoopbackHost(h), false, h);
    }
  });
});
