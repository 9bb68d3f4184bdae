// `certops rotate` and `certops rollback` against a real sshd and nginx: a rotation proven by the
// served certificate, then rolled back; and nginx left with a key that does not fit (it logs
// "key values mismatch" and keeps serving the old certificate), caught by verify and rolled back.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { probeTls } from '../../server/src/probe';
import { leafExt, Pki } from '../fixtures/pki';
import { createLabUser, LabUser, NginxLab, SshHostLab, startNginx, startSshHost, writeInventory } from './harness';
import { labCa, nginxEndpoint, runCli, sha256Hex, writeSshClientFiles } from './common';

const pki = new Pki();
const { root, inter } = labCa(pki, 'Rotation');
const san = 'DNS:lab.certops.test,IP:127.0.0.1';
const oldLeaf = pki.issue('old', { subject: '/CN=lab.certops.test', issuer: inter, ext: leafExt(san), notAfter: 60 * 86400 });
const newLeaf = pki.issue('new', { subject: '/CN=lab.certops.test', issuer: inter, ext: leafExt(san), notAfter: 200 * 86400 });

let host: SshHostLab;
let nginx: NginxLab;
let user: LabUser;
const LAB_USER = 'certopsrot';
let dir: string;
let inventory: string;
let knownHosts: string;
let sshConfig: string;
let original: { cert: Buffer; key: Buffer };

const cli = (...args: string[]) => runCli(args);
const remote = (...extra: string[]) => ['--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts, ...extra];
const served = async () => sha256Hex((await probeTls({ host: '127.0.0.1', port: nginx.port, servername: 'lab.certops.test' })).chain[0].der);

before(async () => {
  user = createLabUser(LAB_USER, { sudo: 'nopasswd' });
  [host, nginx] = await Promise.all([startSshHost({ address: '127.0.0.9', users: ['root', LAB_USER] }), startNginx({ cert: oldLeaf.pem + inter.pem, key: oldLeaf.keyPem })]);
  chmodSync(nginx.certFile, 0o644);
  original = { cert: readFileSync(nginx.certFile), key: readFileSync(nginx.keyFile) };
  dir = mkdtempSync(join(tmpdir(), 'certops-rotation-lab-'));
  const caFile = join(nginx.dir, 'ca.crt');
  writeFileSync(caFile, root.pem);
  // A key file nginx does not read: an inventory that names it leaves nginx with the new certificate and its old key.
  copyFileSync(nginx.keyFile, join(nginx.dir, 'decoy.key'));
  ({ sshConfig, knownHosts } = writeSshClientFiles(dir, [host.knownHostsLine]));
  const https = nginxEndpoint(nginx, caFile);
  inventory = writeInventory(dir, {
    hosts: [
      {
        name: 'web',
        ssh: { host: host.host, port: host.port, user: 'root', identityFile: host.userKeyPath },
        endpoints: [https, { ...https, name: 'wrong-key', probe: { ...https.probe, via: 'direct' }, files: { ...https.files, key: join(nginx.dir, 'decoy.key') } }],
      },
      // An unprivileged login that becomes root through password-less sudo, as on most fleets.
      { name: 'web-sudo', ssh: { host: host.host, port: host.port, user: LAB_USER, identityFile: host.userKeyPath, sudo: true }, endpoints: [https] },
    ],
  });
});

after(async () => {
  await Promise.all([host?.stop(), nginx?.stop()]);
  user?.remove();
  pki.dispose();
});

/** Every evidence file must be free of key material. */
function assertNoKeyMaterial() {
  const evidence = join(dir, '.certops', 'rotations');
  const keyLines = [oldLeaf.keyPem, newLeaf.keyPem].flatMap((k) => k.split('\n').filter((l) => /^[A-Za-z0-9+/=]{20,}$/.test(l)));
  const names = readdirSync(evidence);
  assert.ok(names.length > 0);
  for (const n of names) {
    const text = readFileSync(join(evidence, n), 'utf8');
    for (const l of keyLines) assert.ok(!text.includes(l), `${n} holds no key material`);
    assert.ok(!text.includes('PRIVATE KEY'), `${n} holds no key block`);
  }
}

test('rotate over SSH with nginx reloaded by SIGHUP from its pid file: verified by the served certificate, then certops rollback', async () => {
  assert.equal(await served(), sha256Hex(oldLeaf.der));
  const r = cli('rotate', 'web/https', '--cert', pki.write('new-full.pem', newLeaf.pem + inter.pem, 0o644), '--key', newLeaf.keyPath, ...remote('--json'));
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { endpoints: { state: string; evidence: string[]; records: { id: string; cutoverMs: number; files: { backup: string; role: string }[]; old: { served: string }; new: { sha256: string } }[] }[] };
  const [ep] = doc.endpoints;
  assert.equal(ep.state, 'rotated');
  const rec = ep.records[0];
  assert.equal(rec.old.served, sha256Hex(oldLeaf.der));
  assert.equal(rec.new.sha256, sha256Hex(newLeaf.der));
  assert.equal(typeof rec.cutoverMs, 'number');
  assert.equal(await served(), sha256Hex(newLeaf.der), 'nginx serves the new certificate');
  assert.equal(readFileSync(nginx.certFile, 'utf8'), newLeaf.pem + inter.pem);
  assert.equal(readFileSync(nginx.keyFile, 'utf8'), newLeaf.keyPem);
  assert.equal(statSync(nginx.keyFile).mode & 0o777, 0o600);
  assert.equal(statSync(nginx.certFile).mode & 0o777, 0o644);
  for (const f of rec.files) assert.deepEqual(readFileSync(f.backup), f.role === 'cert' ? original.cert : original.key, `${f.backup} is the old file`);
  assert.ok(existsSync(ep.evidence[0]) && existsSync(ep.evidence[0].replace(/\.json$/, '.md')));
  // One progress line per step on stderr, as JSON lines with --json.
  const steps = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { step: string; status: string }).filter((e) => e.status === 'ok').map((e) => e.step);
  assert.deepEqual(steps.slice(-5), ['lock and backup', 'place', 'reload', 'verify', 'release']);

  const rb = cli('rollback', 'web/https', ...remote());
  assert.equal(rb.status, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.match(rb.stdout, new RegExp(`web/https\\s+rotated\\s+.*the files from before ${rec.id} are back and the certificate from before is served again`));
  assert.equal(await served(), sha256Hex(oldLeaf.der), 'nginx serves the old certificate again');
  assert.deepEqual(readFileSync(nginx.certFile), original.cert, 'the old certificate file is back byte for byte');
  assert.deepEqual(readFileSync(nginx.keyFile), original.key, 'the old key is back byte for byte');
  assert.equal(readdirSync(nginx.dir).filter((n) => n.startsWith('.')).length, 0, 'no lock or temporary file left');
  assertNoKeyMaterial();
});

test('nginx left with a key that does not fit keeps the old certificate: verify fails, the rotation rolls back, the old certificate is served', async () => {
  const before = await served();
  const certBefore = readFileSync(nginx.certFile);
  const r = cli('rotate', 'web/wrong-key', '--cert', pki.write('new-full2.pem', newLeaf.pem + inter.pem, 0o644), '--key', newLeaf.keyPath, '--verify-timeout', '3', ...remote('--json'));
  assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { endpoints: { state: string; message: string; evidence: string[] }[] };
  assert.equal(doc.endpoints[0].state, 'rolled-back');
  assert.match(doc.endpoints[0].message, /the new certificate is not served within 3 s .*the old certificate is served/);
  assert.match(nginx.errorLog(), /key values mismatch/, 'nginx refused the pair, silently for its clients');
  assert.equal(await served(), before);
  assert.deepEqual(readFileSync(nginx.certFile), certBefore, 'the certificate file is back byte for byte');
  const record = JSON.parse(readFileSync(doc.endpoints[0].evidence[0], 'utf8')) as { state: string; steps: { name: string; ok: boolean }[] };
  assert.equal(record.state, 'rolled-back');
  assert.deepEqual(record.steps.filter((s) => !s.ok).map((s) => s.name), ['verify']);
  assert.ok(record.steps.some((s) => s.name === 'rollback: verify' && s.ok));
  assertNoKeyMaterial();
});

test('a dry run prints the plan from the host and changes nothing', async () => {
  // Everything but nginx's own log (it logs the probes' handshakes).
  const before = readdirSync(nginx.dir).filter((n) => n !== 'error.log').map((n) => `${n}:${statSync(join(nginx.dir, n)).mtimeMs}`);
  const r = cli('rotate', 'web/https', '--cert', pki.write('dry.pem', newLeaf.pem + inter.pem, 0o644), '--key', newLeaf.keyPath, '--dry-run', ...remote());
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /web\/https\s+planned/);
  assert.match(r.stdout, /back up .*server\.key \(0600, uid 0:0\)/);
  assert.match(r.stdout, /send SIGHUP to the pid in .*nginx\.pid/);
  assert.match(r.stdout, /probe 127\.0\.0\.1:\d+ through SSH \(SNI lab\.certops\.test\) until it serves [0-9a-f]{64}/);
  assert.deepEqual(readdirSync(nginx.dir).filter((n) => n !== 'error.log').map((n) => `${n}:${statSync(join(nginx.dir, n)).mtimeMs}`), before);
});

test('through sudo as an unprivileged login: rotated with root-owned files kept root-owned, then rolled back', async () => {
  const r = cli('rotate', 'web-sudo/https', '--cert', pki.write('sudo.pem', newLeaf.pem + inter.pem, 0o644), '--key', newLeaf.keyPath, ...remote());
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(await served(), sha256Hex(newLeaf.der));
  assert.equal(statSync(nginx.keyFile).uid, 0);
  assert.equal(statSync(nginx.keyFile).mode & 0o777, 0o600);
  assert.match(readFileSync(join(dir, '.certops', 'rotations', readdirSync(join(dir, '.certops', 'rotations')).filter((n) => n.endsWith('web-sudo-https.json')).sort().pop() ?? ''), 'utf8'), /"state": "rotated"/);
  const rb = cli('rollback', 'web-sudo/https', ...remote());
  assert.equal(rb.status, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.equal(await served(), sha256Hex(oldLeaf.der));
});
