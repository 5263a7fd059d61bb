// End-to-end: a profile through SSH in the real window. An OpenSSH server of the test's own on a loopback port
// (keys made for the run, a known_hosts that knows nothing), the demo database reached through it. The first
// connect shows the host key's fingerprint and asks; trusting pins it in the profile; the tenants then load
// through the tunnel.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startApp, screenshot, byTestId, By, waitFor, type } from './driver.mjs';

let app;
let sshd;
let dir;
let sshPort;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-e2e-ssh-'));
  const keygen = (name) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, name)]);
  keygen('host_key');
  keygen('id_user');
  fs.copyFileSync(path.join(dir, 'id_user.pub'), path.join(dir, 'authorized_keys'));
  sshPort = await freePort();
  fs.writeFileSync(path.join(dir, 'sshd_config'), [
    `ListenAddress 127.0.0.1:${sshPort}`, `HostKey ${dir}/host_key`, `AuthorizedKeysFile ${dir}/authorized_keys`,
    'PidFile none', 'UsePAM no', 'StrictModes no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'AllowTcpForwarding yes', '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'known_hosts'), '');
  fs.writeFileSync(path.join(dir, 'ssh_config'), [
    'Host *', `  IdentityFile ${dir}/id_user`, '  IdentitiesOnly yes', '  IdentityAgent none',
    `  UserKnownHostsFile ${dir}/known_hosts`, '',
  ].join('\n'));
  fs.mkdirSync('/run/sshd', { recursive: true });
  // Its log goes to a file: a pipe would keep the test runner waiting on sshd's session processes.
  const log = path.join(dir, 'sshd.log');
  sshd = spawn('/usr/sbin/sshd', ['-D', '-E', log, '-f', path.join(dir, 'sshd_config')], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('Server listening'), 'sshd listening', 10000);
  app = await startApp();
});

after(async () => {
  await app?.stop();
  sshd?.kill();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('an SSH profile asks about its new host key in the real window, pins it, and reads tenants through the tunnel', async () => {
  const { driver } = app;
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', path.join(dir, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1];

  await (await byTestId(driver, 'profile-new', 30000)).click();
  await type(driver, 'pf-name', 'ssh-e2e');
  await type(driver, 'pf-host', process.env.E2E_DB_HOST);
  await type(driver, 'pf-port', process.env.E2E_DB_PORT);
  await type(driver, 'pf-database', process.env.E2E_DB_NAME);
  await type(driver, 'pf-user', 'console_reader');
  await type(driver, 'pf-password', 'e2e-ssh-secret');
  await (await byTestId(driver, 'pf-tls')).findElement(By.css('option[value="disable"]')).click();
  await type(driver, 'pf-ssh', `ssh://root@127.0.0.1:${sshPort}`);
  await type(driver, 'pf-ssh-config', path.join(dir, 'ssh_config'));
  await driver.executeScript('arguments[0].scrollIntoView({block: "center"})', await byTestId(driver, 'pf-ssh'));
  await screenshot(driver, '30-ssh-profile-form');
  await (await byTestId(driver, 'profile-save')).click();
  const item = await waitFor(async () => {
    for (const el of await driver.findElements(By.css('[data-testid="profile-item"]'))) {
      if ((await el.getAttribute('data-profile-name')) === 'ssh-e2e') return el;
    }
    return null;
  }, 'the SSH profile in the list');
  await item.click();
  await (await byTestId(driver, 'connect-button')).click();

  const dialog = await byTestId(driver, 'host-key-dialog', 30000);
  const shown = await dialog.findElements(By.css('[data-testid="host-key-fingerprint"]'));
  assert.equal(shown.length, 1);
  assert.equal(await shown[0].getText(), fingerprint, 'the dialog shows the server key\'s own fingerprint');
  await screenshot(driver, '31-ssh-host-key-prompt');
  await (await byTestId(driver, 'host-key-trust')).click();

  const status = await byTestId(driver, 'isolation-status', 30000);
  await waitFor(async () => (await status.getAttribute('data-state')) === 'enforced', 'RLS enforced through the tunnel', 30000);
  await waitFor(async () => (await driver.findElements(By.css('[data-testid="tenant-row"][data-tenant-slug="acme"]'))).length === 1, 'acme through the tunnel');
  await screenshot(driver, '32-ssh-connected');
  const file = fs.readFileSync(path.join(process.env.TENANT_CONSOLE_CONFIG_DIR, 'profiles.toml'), 'utf8');
  assert.ok(file.includes(`"127.0.0.1:${sshPort}" = "${fingerprint}"`), `the key is pinned by hop:\n${file}`);
  assert.ok(!file.includes('e2e-ssh-secret'), 'no password in the profile file');
});
