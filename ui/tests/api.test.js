import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import * as api from "../api.js";

// api.js reads window.__TAURI__ at call time: give node a window with a recording invoke.
const calls = [];
let answer = () => null;
class Channel {
  onmessage = () => {};
}
globalThis.window = {
  __TAURI__: {
    core: {
      invoke: async (cmd, args) => {
        calls.push({ cmd, args });
        return answer(cmd, args);
      },
      Channel,
    },
  },
};

beforeEach(() => {
  calls.length = 0;
  answer = () => null;
});

describe("the command wrappers send the contract's argument names (docs/ipc.md)", () => {
  test("profiles", async () => {
    await api.profilesSave({ name: "x" }, "s3cret");
    await api.profilesSave({ id: "p1" });
    await api.profilesRemove("p1");
    await api.profilesTest("p1");
    await api.profilesTest("p1", "pw");
    assert.deepEqual(calls, [
      { cmd: "profiles_save", args: { profile: { name: "x" }, password: "s3cret" } },
      { cmd: "profiles_save", args: { profile: { id: "p1" } } },
      { cmd: "profiles_remove", args: { id: "p1" } },
      { cmd: "profiles_test", args: { id: "p1" } },
      { cmd: "profiles_test", args: { id: "p1", password: "pw" } },
    ]);
  });

  test("quitting is app_quit with no arguments", async () => {
    await api.appQuit();
    assert.deepEqual(calls, [{ cmd: "app_quit", args: undefined }]);
  });

  test("an empty password is not sent at all", async () => {
    await api.profilesSave({ id: "p1" }, "");
    await api.sessionConnect("p1", { password: "" });
    assert.deepEqual(calls.map((c) => Object.keys(c.args).sort()), [["profile"], ["allowBypass", "profileId"]]);
  });

  test("sessions: allowBypass is always an explicit boolean", async () => {
    await api.sessionConnect("p1");
    await api.sessionConnect("p1", { allowBypass: true, password: "pw" });
    await api.sessionDisconnect("p1");
    assert.deepEqual(calls, [
      { cmd: "session_connect", args: { profileId: "p1", allowBypass: false } },
      { cmd: "session_connect", args: { profileId: "p1", password: "pw", allowBypass: true } },
      { cmd: "session_disconnect", args: { profileId: "p1" } },
    ]);
  });

  test("tenant reads name the profile and the tenant every time", async () => {
    await api.tenantsSearch("p1", { search: "ac", sort: "slug", after: null, limit: 20 });
    await api.tenantOpen("p1", "t-acme", null);
    await api.tenantOpen("p1", "t-acme", { category: "incident", detail: "INC-1" });
    await api.membersPage("p1", "t-acme", { role: "ADMIN", email: undefined, after: "c1", limit: 100 });
    await api.rolesList("p1", "t-acme");
    await api.auditPage("p1", "t-acme", {}, { after: null, limit: 100 });
    await api.auditCount("p1", "t-acme", { action: "member.*" });
    await api.accessHistory("p1", "t-acme", null);
    await api.isolationCheck("p1", { probe: true, tenant: "acme" });
    await api.isolationCheck("p1");
    assert.deepEqual(calls, [
      { cmd: "tenants_search", args: { profileId: "p1", search: "ac", sort: "slug", limit: 20 } },
      { cmd: "tenant_open", args: { profileId: "p1", tenant: "t-acme" } },
      { cmd: "tenant_open", args: { profileId: "p1", tenant: "t-acme", reason: { category: "incident", detail: "INC-1" } } },
      { cmd: "members_page", args: { profileId: "p1", tenant: "t-acme", role: "ADMIN", after: "c1", limit: 100 } },
      { cmd: "roles_list", args: { profileId: "p1", tenant: "t-acme" } },
      { cmd: "audit_page", args: { profileId: "p1", tenant: "t-acme", limit: 100, filter: {} } },
      { cmd: "audit_count", args: { profileId: "p1", tenant: "t-acme", filter: { action: "member.*" } } },
      { cmd: "access_history", args: { profileId: "p1", tenant: "t-acme" } },
      { cmd: "isolation_check", args: { profileId: "p1", tenant: "acme", probe: true } },
      { cmd: "isolation_check", args: { profileId: "p1", probe: false } },
    ]);
  });

  test("an export passes a Channel and its progress reaches the callback", async () => {
    answer = (cmd, args) => {
      if (cmd !== "audit_export") return null;
      args.onProgress.onmessage({ rows: 5, bytes: 50, total_estimate: 10, elapsed_ms: 100 });
      return { rows: 10, bytes: 100, seconds: 1, path: args.path, recorded: "yes" };
    };
    const seen = [];
    const summary = await api.auditExport(
      { profileId: "p1", tenant: "t-acme", exportId: "e1", destination: "tok-1", filter: {}, options: { bom: false }, reason: null },
      (p) => seen.push(p.rows),
    );
    assert.deepEqual(seen, [5]);
    assert.equal(summary.rows, 10);
    const { args } = calls[0];
    assert.ok(args.onProgress instanceof Channel);
    assert.deepEqual(Object.keys(args).sort(), ["destination", "exportId", "filter", "onProgress", "options", "profileId", "tenant"]);
    await api.auditExportCancel("e1");
    await api.showInFolder("e1");
    assert.deepEqual(calls.slice(1), [
      { cmd: "audit_export_cancel", args: { exportId: "e1" } },
      { cmd: "show_in_folder", args: { exportId: "e1" } },
    ]);
  });

  test("consent: access_request, access_status and access_watch with a Channel whose changes reach the callback", async () => {
    answer = (cmd, args) => {
      if (cmd === "access_watch") {
        args.onChange.onmessage({ tenant_id: "t-globex" });
        return true;
      }
      return null;
    };
    await api.accessRequest("p1", "t-globex", { category: "incident", detail: "INC-7" }, 90, "export");
    await api.accessStatus("p1", "globex");
    const seen = [];
    assert.equal(await api.accessWatch("p1", (c) => seen.push(c.tenant_id)), true);
    assert.deepEqual(seen, ["t-globex"]);
    assert.deepEqual(calls.slice(0, 2), [
      { cmd: "access_request", args: { profileId: "p1", tenant: "t-globex", reason: { category: "incident", detail: "INC-7" }, minutes: 90, scope: "export" } },
      { cmd: "access_status", args: { profileId: "p1", tenant: "globex" } },
    ]);
    assert.equal(calls[2].cmd, "access_watch");
    assert.deepEqual(Object.keys(calls[2].args).sort(), ["onChange", "profileId"]);
    assert.ok(calls[2].args.onChange instanceof Channel);
  });

  test("the save dialog is the app's: the page sends a file name and gets a token back", async () => {
    answer = () => ({ token: "tok-9", file_name: "audit-acme.csv", folder: "/home/me" });
    const d = await api.exportDestination("audit-acme.csv");
    assert.deepEqual(d, { token: "tok-9", file_name: "audit-acme.csv", folder: "/home/me" });
    assert.deepEqual(calls[0], { cmd: "export_destination", args: { suggestedName: "audit-acme.csv" } });
  });
});

describe("errors", () => {
  test("a command's {kind, message} becomes an ApiError with the same kind and message", async () => {
    answer = () => {
      throw { kind: "reason_required", message: "give a reason" };
    };
    await assert.rejects(api.tenantOpen("p1", "acme"), (e) => e instanceof api.ApiError && e.kind === "reason_required" && e.message === "give a reason");
  });

  test("a bare string or Error from the IPC layer is kind ipc", () => {
    assert.equal(api.toApiError("command foo not found").kind, "ipc");
    assert.equal(api.toApiError(new Error("boom")).kind, "ipc");
    assert.equal(api.toApiError(undefined).kind, "ipc");
  });

  test("connection failures are recognised by their connect_ prefix", () => {
    assert.equal(api.isConnectError(new api.ApiError("connect_refused", "x")), true);
    assert.equal(api.isConnectError(new api.ApiError("query_timeout", "x")), false);
  });
});
