// Reload styles other than a signal, over a real sshd: a server that polls its files (no reload at
// all; the rotation waits and reports the cutover delay), and a server with its own reload-certs
// command that keeps its old certificate when the new pair is bad (the probe catches it).
import assert from 'node:assert/strict';
import { ChildProcess, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { probeTls } from '../../server/src/probe';
import { leafExt, Pki } from '../fixtures/pki';
import { SshHostLab, startSshHost, writeInventory } from './harness';
import { labCa, reloadCertsCommand, runCli, sha256Hex, startPollingServer, writeSshClientFiles } from './common';

const pki = new Pki();
const { root, inter } = labCa(pki, 'Styles');
const san = 'DNS:svc.certops.test';
const oldLeaf = pki.issue('old', { subject: '/CN=svc.certops.test', issuer: inter, ext: leafExt(san), notAfter: 60 * 86400 });
const newLeaf = pki.issue('new', { subject: '/CN=svc.certops.test', issuer: inter, ext: leafExt(san), notAfter: 200 * 86400 });

let host: SshHostLab;
let dir: string;
let inventory: string;
let knownHosts: string;
let sshConfig: string;
const servers: ChildProcess[] = [];

interface Served { port: number; dir: string; cert: string; key: string; control: string; log: () => string }

/** Starts the fixture server on its own files (old certificate) and waits until it listens. */
async function startFixture(name: string, args: string[]): Promise<Served> {
  const d = join(dir, name);
  spawnSync('mkdir', ['-p', d]);
  const cert = join(d, 'tls.crt');
  const key = join(d, 'tls.key');
  writeFileSync(cert, oldLeaf.pem + inter.pem, { mode: 0o644 });
  writeFileSync(key, oldLeaf.keyPem, { mode: 0o600 });
  copyFileSync(key, join(d, 'decoy.key'));
  const control = join(d, 'control.sock');
  const logFile = join(d, 'server.log');
  const port = await startPollingServer(servers, logFile, ['--cert', cert, '--key', key, '--control', control, ...args]);
  const log = () => readFileSync(logFile, 'utf8');
  return { port, dir: d, cert, key, control, log };
}

const served = async (port: number) => sha256Hex((await probeTls({ host: '127.0.0.1', port, servername: 'svc.certops.test' })).chain[0].der);
const cli = (...args: string[]) => runCli(args);
const remote = (...extra: string[]) => ['--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts, ...extra];

let polling: Served;
let commanded: Served;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certops-styles-lab-'));
  chmodSync(dir, 0o755);
  host = await startSshHost({ address: '127.0.0.15', users: ['root'] });
  [polling, commanded] = await Promise.all([startFixture('polling', ['--interval-ms', '2000']), startFixture('commanded', ['--interval-ms', '0'])]);
  ({ sshConfig, knownHosts } = writeSshClientFiles(dir, [host.knownHostsLine]));
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, root.pem);
  const endpoint = (name: string, s: Served, reload: unknown, key = s.key) => ({
    name,
    probe: { host: '127.0.0.1', port: s.port, servername: 'svc.certops.test', via: 'ssh' },
    files: { cert: s.cert, key, ca: caFile },
    reload,
  });
  inventory = writeInventory(dir, {
    hosts: [
      {
        name: 'svc',
        ssh: { host: host.host, port: host.port, user: 'root', identityFile: host.userKeyPath },
        endpoints: [
          endpoint('polled', polling, { kind: 'watch', intervalSeconds: 2 }),
          endpoint('reload-certs', commanded, { kind: 'command', command: reloadCertsCommand(commanded.control) }),
          endpoint('reload-certs-bad', commanded, { kind: 'command', command: reloadCertsCommand(commanded.control) }, join(commanded.dir, 'decoy.key')),
        ],
      },
    ],
  });
});

after(async () => {
  for (const s of servers) s.kill();
  await host?.stop();
  pki.dispose();
});

type Doc = { endpoints: { state: string; message: string; records: { cutoverMs?: number; reload?: { output: string }[]; probes: { purpose: string; sha256?: string }[] }[] }[] };

test('a server that polls its files: no reload, the rotation waits for the new certificate and reports the cutover delay', async () => {
  const r = cli('rotate', 'svc/polled', '--cert', pki.write('polled.pem', newLeaf.pem + inter.pem, 0o644), '--key', newLeaf.keyPath, ...remote('--json'));
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${polling.log()}`);
  const doc = JSON.parse(r.stdout) as Doc;
  const rec = doc.endpoints[0].records[0];
  assert.equal(doc.endpoints[0].state, 'rotated');
  assert.equal(typeof rec.cutoverMs, 'number');
  assert.ok((rec.cutoverMs ?? -1) >= 0);
  assert.match(polling.log(), /reloaded/);
  assert.equal(await served(polling.port), sha256Hex(newLeaf.der));
  assert.equal(readFileSync(polling.key, 'utf8'), newLeaf.keyPem);
});

test("a server's own reload-certs command: success, with the command's output recorded", async () => {
  const r = cli('rotate', 'svc/reload-certs', '--cert', pki.write('cmd.pem', newLeaf.pem + inter.pem, 0o644), '--key', newLeaf.keyPath, ...remote('--json'));
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${commanded.log()}`);
  const doc = JSON.parse(r.stdout) as Doc;
  assert.equal(doc.endpoints[0].state, 'rotated');
  assert.match(doc.endpoints[0].records[0].reload?.[0].output ?? '', /^reloaded /);
  assert.equal(await served(commanded.port), sha256Hex(newLeaf.der));
});

test('reload-certs keeps the old context when the pair is bad: the command "succeeds", verify fails, the rotation rolls back', async () => {
  const rb = cli('rollback', 'svc/reload-certs', ...remote());
  assert.equal(rb.status, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.equal(await served(commanded.port), sha256Hex(oldLeaf.der));
  const certBefore = readFileSync(commanded.cert);
  const r = cli('rotate', 'svc/reload-certs-bad', '--cert', pki.write('bad.pem', newLeaf.pem + inter.pem, 0o644), '--key', newLeaf.keyPath, '--verify-timeout', '3', ...remote('--json'));
  assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
  const doc = JSON.parse(r.stdout) as Doc;
  assert.equal(doc.endpoints[0].state, 'rolled-back');
  assert.match(doc.endpoints[0].records[0].reload?.[0].output ?? '', /kept the old certificate/);
  assert.equal(await served(commanded.port), sha256Hex(oldLeaf.der));
  assert.deepEqual(readFileSync(commanded.cert), certBefore);
});
