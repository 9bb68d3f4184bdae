// `certops status`, `hosts` and `probe --via/--starttls` against a real sshd, nginx and PostgreSQL:
// what is on disk vs what is served, key exposure, host keys as the CLI treats them, invalid inventories.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { probeTls } from '../../server/src/probe';
import { leafExt, Pki } from '../fixtures/pki';
import {
  createLabUser, freePort, generateUserKey, LabUser, NginxLab, PostgresLab, SshHostLab, startNginx, startPostgres, startSshHost, writeInventory, writeKnownHosts,
} from './harness';
import { labCa, nginxEndpoint, runCli, writeSshClientFiles } from './common';

const pki = new Pki();
const { root, inter } = labCa(pki, 'Status');
const san = 'DNS:lab.certops.test,IP:127.0.0.1';
const webLeaf = pki.issue('web', { subject: '/CN=lab.certops.test', issuer: inter, ext: leafExt(san), notAfter: 90 * 86400 });
const renewed = pki.issue('renewed', { subject: '/CN=lab.certops.test', issuer: inter, ext: leafExt(san), notAfter: 120 * 86400 });
const pgLeaf = pki.issue('pg', { subject: '/CN=db.certops.test', issuer: inter, ext: leafExt('DNS:db.certops.test,IP:127.0.0.1'), notAfter: 60 * 86400 });
const LAB_USER = 'certopslab';

let host: SshHostLab;
let nginx: NginxLab;
let pg: PostgresLab;
let user: LabUser;
let dir: string;
let inventory: string;
let knownHosts: string;
let sshConfig: string;

const cli = (...args: string[]) => runCli(args);
const remote = (...extra: string[]) => ['--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts, ...extra];
type StatusDoc = { ok: boolean; endpoints: { host: string; endpoint: string; states: string[]; messages: string[]; served?: { sha256: string; serialNumber: string }; files: { cert: { certificate?: { sha256: string; serialNumber: string; subject: string } }; key?: { stat?: { mode: number; owner?: string } } } }[] };
const statusJson = (...args: string[]) => {
  const r = cli('status', ...args, ...remote('--json'));
  return { r, doc: JSON.parse(r.stdout) as StatusDoc };
};

before(async () => {
  user = createLabUser(LAB_USER, { sudo: 'nopasswd' });
  [host, nginx, pg] = await Promise.all([
    startSshHost({ address: '127.0.0.6', users: ['root', LAB_USER] }),
    startNginx({ cert: webLeaf.pem + inter.pem, key: webLeaf.keyPem }),
    startPostgres({ cert: pgLeaf.pem + inter.pem, key: pgLeaf.keyPem }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'certops-status-'));
  chmodSync(dir, 0o755);
  // The CA file the endpoints name, readable by the lab user too.
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, root.pem);
  ({ sshConfig, knownHosts } = writeSshClientFiles(dir, []));
  const ssh = { host: host.host, port: host.port, user: 'root', identityFile: host.userKeyPath };
  const https = nginxEndpoint(nginx, caFile);
  inventory = writeInventory(dir, {
    hosts: [
      {
        name: 'web',
        ssh,
        endpoints: [
          https,
          { ...https, name: 'direct', probe: { host: '127.0.0.1', port: nginx.port, servername: 'lab.certops.test', via: 'direct' } },
          {
            name: 'pg',
            probe: { host: '127.0.0.1', port: pg.port, servername: 'db.certops.test', via: 'ssh', starttls: 'postgres' },
            files: { cert: pg.certFile, key: pg.keyFile, ca: caFile },
            reload: { kind: 'command', command: 'pg_ctlcluster 15 main reload' },
          },
        ],
      },
      { name: 'web-sudo', ssh: { ...ssh, user: LAB_USER, sudo: true }, endpoints: [https] },
    ],
  });
});

after(async () => {
  await Promise.all([host?.stop(), nginx?.stop(), pg?.stop()]);
  user?.remove();
  pki.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sha = (i: { der: Uint8Array }) => createHash('sha256').update(i.der).digest('hex');

test('an unknown host is refused by the CLI (naming the fingerprint), then accepted and saved with --accept-new', () => {
  const refused = cli('status', 'web/https', ...remote());
  assert.equal(refused.status, 1, refused.stdout + refused.stderr);
  assert.match(refused.stdout, /web\/https\s+UNREACHABLE/);
  assert.ok(refused.stdout.includes(`unknown host key ssh-ed25519 ${host.hostKeyFingerprint}`), refused.stdout);
  assert.match(refused.stdout, /--accept-new/);
  assert.equal(readFileSync(knownHosts, 'utf8'), '', 'nothing saved without --accept-new');

  const accepted = cli('status', 'web/https', ...remote('--accept-new'));
  assert.equal(accepted.status, 0, accepted.stdout + accepted.stderr);
  assert.equal(readFileSync(knownHosts, 'utf8'), `${host.knownHostsLine}\n`);
});

test('every endpoint OK: on-disk and served certificates agree (nginx via SSH and direct, PostgreSQL via STARTTLS), and sudo reads the root-only key', () => {
  const { r, doc } = statusJson();
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(doc.ok, true);
  const by = (h: string, e: string) => doc.endpoints.find((x) => x.host === h && x.endpoint === e);
  for (const [h, e, leaf] of [['web', 'https', webLeaf], ['web', 'direct', webLeaf], ['web', 'pg', pgLeaf], ['web-sudo', 'https', webLeaf]] as const) {
    const s = by(h, e);
    assert.ok(s, `${h}/${e} reported`);
    assert.deepEqual(s.states, ['ok'], `${h}/${e}: ${s.messages.join('; ')}`);
    assert.equal(s.files.cert.certificate?.sha256, sha(leaf));
    assert.equal(s.served?.sha256, sha(leaf));
    assert.match(s.served?.serialNumber ?? '', /^[0-9a-f]+$/);
  }
  assert.equal(by('web-sudo', 'https')?.files.key?.stat?.owner, 'root', 'stat through sudo names the owner');
  assert.equal(by('web-sudo', 'https')?.files.key?.stat?.mode, 0o600);
});

test('certops hosts lists hosts and endpoints without connecting', () => {
  const r = cli('hosts', '--inventory', inventory, '--ssh-config', sshConfig);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`web  root@127\\.0\\.0\\.6:${host.port}`));
  assert.match(r.stdout, new RegExp(`web-sudo  ${LAB_USER}@127\\.0\\.0\\.6:${host.port} \\(sudo\\)`));
  assert.match(r.stdout, /pg {2}127\.0\.0\.1:\d+ SNI db\.certops\.test via ssh starttls postgres/);
  assert.match(r.stdout, /reload signal HUP to the pid in .*nginx\.pid/);
});

test('served ≠ on disk after the files are replaced without a reload; OK again after SIGHUP', async () => {
  writeFileSync(nginx.certFile, renewed.pem + inter.pem);
  copyFileSync(renewed.keyPath, nginx.keyFile);
  const text = cli('status', 'web/https', ...remote());
  assert.equal(text.status, 1);
  assert.match(text.stdout, /web\/https\s+SERVED ≠ DISK/);
  assert.match(text.stdout, /renewed but not reloaded/);
  const { doc } = statusJson('web/https');
  assert.deepEqual(doc.endpoints[0].states, ['served-differs']);
  assert.equal(doc.endpoints[0].files.cert.certificate?.sha256, sha(renewed));
  assert.equal(doc.endpoints[0].served?.sha256, sha(webLeaf));

  nginx.reload();
  for (let i = 0; i < 100; i++) {
    if ((await probeTls({ host: nginx.host, port: nginx.port, servername: 'lab.certops.test' })).chain[0].sha256 === sha(renewed)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const afterReload = cli('status', 'web/https', ...remote());
  assert.equal(afterReload.status, 0, afterReload.stdout);
  assert.match(afterReload.stdout, /web\/https\s+OK\s+CN=lab\.certops\.test, 1(19|20) days left/);
});

test('a key readable by others is flagged; a key that does not match the certificate too', () => {
  chmodSync(nginx.keyFile, 0o644);
  try {
    const r = cli('status', 'web/https', ...remote());
    assert.equal(r.status, 1);
    assert.match(r.stdout, /KEY EXPOSED/);
    assert.match(r.stdout, /readable by everyone \(mode 0644\)/);
  } finally {
    chmodSync(nginx.keyFile, 0o600);
  }
  const saved = readFileSync(nginx.keyFile);
  copyFileSync(pgLeaf.keyPath, nginx.keyFile);
  try {
    const { doc } = statusJson('web/https');
    assert.deepEqual(doc.endpoints[0].states, ['key-mismatch']);
  } finally {
    writeFileSync(nginx.keyFile, saved, { mode: 0o600 });
  }
});

test('an unreachable host is reported with the reason, and the others still are checked', async () => {
  const port = await freePort('127.0.0.7');
  const doc = JSON.parse(readFileSync(inventory, 'utf8'));
  doc.hosts.push({ name: 'gone', ssh: { host: '127.0.0.7', port, user: 'root', identityFile: host.userKeyPath }, endpoints: [{ ...doc.hosts[0].endpoints[0] }] });
  const inv2 = writeInventory(dir, doc, 'with-gone.json');
  const r = cli('status', '--inventory', inv2, '--ssh-config', sshConfig, '--known-hosts', knownHosts);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /gone\/https\s+UNREACHABLE/);
  assert.match(r.stdout, new RegExp(`gone is unreachable: root@127\\.0\\.0\\.7:${port}: connection refused`));
  assert.match(r.stdout, /web\/https\s+OK/);
});

test('a changed host key is refused by the CLI, naming the known_hosts line, even with --accept-new', async () => {
  const moved = await startSshHost({ address: '127.0.0.10' });
  try {
    const original = moved.knownHostsLine;
    const kh = writeKnownHosts(dir, [original], 'kh-moved');
    await moved.rotateHostKey();
    const doc = JSON.parse(readFileSync(inventory, 'utf8'));
    const inv = writeInventory(dir, { hosts: [{ name: 'moved', ssh: { host: moved.host, port: moved.port, user: 'root', identityFile: moved.userKeyPath }, endpoints: [doc.hosts[0].endpoints[1]] }] }, 'moved.json');
    const r = cli('status', '--inventory', inv, '--ssh-config', sshConfig, '--known-hosts', kh, '--accept-new');
    assert.equal(r.status, 1);
    assert.match(r.stdout, /moved\/direct\s+UNREACHABLE/);
    assert.ok(r.stdout.includes(`HOST KEY CHANGED: the server offers ssh-ed25519 ${moved.hostKeyFingerprint}, which does not match ${kh}:1`), r.stdout);
    assert.equal(readFileSync(kh, 'utf8'), `${original}\n`, 'known_hosts unchanged');
  } finally {
    await moved.stop();
  }
});

test('an invalid inventory exits 2 with one line: file, JSON path, problem', () => {
  const doc = JSON.parse(readFileSync(inventory, 'utf8'));
  doc.hosts[0].endpoints[2].probe.port = 70000;
  const bad = writeInventory(dir, doc, 'bad.json');
  const r = cli('status', '--inventory', bad);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `certops status: ${bad}: $.hosts[0].endpoints[2].probe.port: must be an integer 1-65535\n`);
  const notJson = writeInventory(dir, '{"hosts": [\n', 'broken.json');
  const r2 = cli('hosts', '--inventory', notJson);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /^certops hosts: .*broken\.json: \$: not valid JSON/);
  assert.equal(r2.stderr.split('\n').length, 2, 'one line');
  const unknown = cli('status', 'nosuchhost', ...remote());
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no host "nosuchhost"/);
});

test('an encrypted identity file: the CLI asks for the passphrase on a terminal without echo, and skips the key without one', async () => {
  const enc = generateUserKey(dir, 'cli-encrypted', 'tty secret 42');
  host.authorize(enc.publicKey);
  const doc = JSON.parse(readFileSync(inventory, 'utf8'));
  const inv = writeInventory(dir, { hosts: [{ ...doc.hosts[0], name: 'enc', ssh: { ...doc.hosts[0].ssh, identityFile: enc.path }, endpoints: [doc.hosts[0].endpoints[1]] }] }, 'enc.json');
  const args = ['status', '--inventory', inv, '--ssh-config', sshConfig, '--known-hosts', knownHosts];

  // No terminal: nothing is asked, the key is skipped, authentication fails with the reason.
  const noTty = cli(...args);
  assert.equal(noTty.status, 1);
  assert.match(noTty.stdout, /enc\/direct\s+UNREACHABLE/);
  assert.match(noTty.stdout, /authentication failed/);

  // A real pseudo-terminal (script(1)); the passphrase is typed once the prompt shows.
  const command = [process.execPath, resolve('dist/cli.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', SSH_AUTH_SOCK: '' } });
  let output = '';
  let typed = false;
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    if (!typed && output.includes(`Enter passphrase for ${enc.path}: `)) {
      typed = true;
      child.stdin.write('tty secret 42\r');
    }
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(typed, true, `the prompt was shown: ${output}`);
  assert.equal(code, 0, output);
  assert.match(output, /enc\/direct\s+OK/);
  assert.equal(output.includes('tty secret 42'), false, 'the passphrase is not echoed');
});

test('certops probe --via HOST reaches a service bound to the host\'s loopback; --starttls postgres reads PostgreSQL\'s certificate', () => {
  const via = cli('probe', `127.0.0.1:${nginx.port}`, '--servername', 'lab.certops.test', '--ca', root.certPath, '--via', 'web', ...remote('--json'));
  assert.equal(via.status, 0, via.stdout + via.stderr);
  assert.equal(JSON.parse(via.stdout).chain[0].sha256, sha(renewed));

  const direct = cli('probe', `127.0.0.1:${pg.port}`, '--starttls', 'postgres', '--servername', 'db.certops.test', '--ca', root.certPath, '--json');
  assert.equal(direct.status, 0, direct.stdout + direct.stderr);
  const doc = JSON.parse(direct.stdout);
  assert.deepEqual(doc.chain.map((c: { sha256: string }) => c.sha256), [sha(pgLeaf), sha(inter)]);
  assert.equal(doc.verification.valid, true);

  // Without STARTTLS, PostgreSQL does not speak TLS on its port: no handshake, exit 2.
  const plain = cli('probe', `127.0.0.1:${pg.port}`, '--timeout', '2');
  assert.equal(plain.status, 2);
  const wrong = cli('probe', `127.0.0.1:${nginx.port}`, '--starttls', 'smtp', '--timeout', '2');
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /STARTTLS \(smtp\)/);
});
