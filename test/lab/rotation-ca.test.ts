// A CA rotation with overlap across two cluster nodes (ca.crt, node.crt, node.key, reloaded by the
// server's own command) over a real sshd: the combined bundle first, then the leaf certificates,
// then the new CA alone; each out-of-order phase is refused before any change.
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { probeTls } from '../../server/src/probe';
import { leafExt, Pki, ROOT_EXT } from '../fixtures/pki';
import { SshHostLab, startSshHost, writeInventory } from './harness';
import { reloadCertsCommand, runCli, sha256Hex, startPollingServer, writeSshClientFiles } from './common';

const pki = new Pki();
// Two CAs with the same subject, as a CA rotation makes them.
const oldCa = pki.issue('ca-old', { subject: '/CN=Cluster CA', ext: ROOT_EXT, notAfter: 300 * 86400 });
const newCa = pki.issue('ca-new', { subject: '/CN=Cluster CA', ext: ROOT_EXT, notAfter: 3000 * 86400 });
const nodeCert = (ca: typeof oldCa, n: number, tag: string) => pki.issue(`n${n}-${tag}`, { subject: `/CN=node${n}.certops.test`, issuer: ca, ext: leafExt(`DNS:node${n}.certops.test`), notAfter: 200 * 86400 });
const before1 = [nodeCert(oldCa, 1, 'old'), nodeCert(oldCa, 2, 'old')];
const after1 = [nodeCert(newCa, 1, 'new'), nodeCert(newCa, 2, 'new')];

let host: SshHostLab;
let dir: string;
let inventory: string;
let knownHosts: string;
let sshConfig: string;
const children: ChildProcess[] = [];
const nodes: { port: number; dir: string; ca: string }[] = [];

const served = async (i: number) => sha256Hex((await probeTls({ host: '127.0.0.1', port: nodes[i].port, servername: `node${i + 1}.certops.test` })).chain[0].der);
const cli = (...args: string[]) => runCli(args);
const remote = () => ['--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts];
const caFiles = () => nodes.map((n) => readFileSync(n.ca, 'utf8'));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certops-ca-lab-'));
  chmodSync(dir, 0o755);
  host = await startSshHost({ address: '127.0.0.13', users: ['root'] });
  for (let i = 0; i < 2; i++) {
    const d = join(dir, `node${i + 1}`, 'certs');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'ca.crt'), oldCa.pem, { mode: 0o644 });
    writeFileSync(join(d, 'node.crt'), before1[i].pem, { mode: 0o644 });
    writeFileSync(join(d, 'node.key'), before1[i].keyPem, { mode: 0o600 });
    const port = await startPollingServer(children, join(d, '..', 'server.log'),
      ['--cert', join(d, 'node.crt'), '--key', join(d, 'node.key'), '--ca', join(d, 'ca.crt'), '--control', join(d, '..', 'control.sock'), '--interval-ms', '0']);
    nodes.push({ port, dir: d, ca: join(d, 'ca.crt') });
  }
  ({ sshConfig, knownHosts } = writeSshClientFiles(dir, [host.knownHostsLine]));
  inventory = writeInventory(dir, {
    hosts: [
      {
        name: 'cluster',
        ssh: { host: host.host, port: host.port, user: 'root', identityFile: host.userKeyPath },
        endpoints: nodes.map((n, i) => ({
          name: `n${i + 1}`,
          probe: { host: '127.0.0.1', port: n.port, servername: `node${i + 1}.certops.test`, via: 'ssh' },
          files: { cert: join(n.dir, 'node.crt'), key: join(n.dir, 'node.key'), ca: n.ca },
          reload: { kind: 'command', command: reloadCertsCommand(join(n.dir, '..', 'control.sock')) },
        })),
      },
    ],
  });
});

after(async () => {
  for (const c of children) c.kill();
  await host?.stop();
  pki.dispose();
});

test('three phases: combined trust bundle, then leaf certificates from the new CA, then the new CA alone; out-of-order phases refused', async () => {
  const newOnly = pki.write('new-only.pem', newCa.pem, 0o644);
  const combined = join(pki.dir, 'combined.pem');
  const b = cli('ca-bundle', newCa.certPath, oldCa.certPath, '--out', combined);
  assert.equal(b.status, 0, b.stderr);

  // Too early: a leaf from the new CA while the nodes trust only the old one.
  const early = cli('rotate', 'cluster/n1', '--cert', after1[0].certPath, '--key', after1[0].keyPath, ...remote());
  assert.equal(early.status, 2, `${early.stdout}\n${early.stderr}`);
  assert.match(early.stdout, /does not verify against cluster:.*ca\.crt/);
  // Too early: dropping the old CA while the nodes' certificates are from it.
  const drop = cli('rotate', 'cluster/n1', 'cluster/n2', '--ca', newOnly, ...remote());
  assert.equal(drop.status, 2, `${drop.stdout}\n${drop.stderr}`);
  assert.match(drop.stdout, /current certificate does not verify against .*new-only\.pem/);
  assert.deepEqual(caFiles(), [oldCa.pem, oldCa.pem], 'nothing changed');

  // Phase 1: the combined bundle on every node (canary first).
  const p1 = cli('rotate', 'cluster/n1', 'cluster/n2', '--ca', combined, ...remote());
  assert.equal(p1.status, 0, `${p1.stdout}\n${p1.stderr}`);
  assert.match(p1.stdout, /cluster\/n1\s+rotated\s+.*the new CA file is in place/);
  assert.deepEqual(caFiles(), [newCa.pem + oldCa.pem, newCa.pem + oldCa.pem]);
  assert.deepEqual([await served(0), await served(1)], before1.map((c) => sha256Hex(c.der)), 'the nodes still serve their certificates');

  // Phase 2: leaf certificates from the new CA, verified against the combined bundle on the host.
  for (let i = 0; i < 2; i++) {
    const r = cli('rotate', `cluster/n${i + 1}`, '--cert', after1[i].certPath, '--key', after1[i].keyPath, ...remote());
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(await served(i), sha256Hex(after1[i].der));
  }

  // Phase 3: the new CA alone.
  const p3 = cli('rotate', 'cluster/n1', 'cluster/n2', '--ca', newOnly, ...remote());
  assert.equal(p3.status, 0, `${p3.stdout}\n${p3.stderr}`);
  assert.deepEqual(caFiles(), [newCa.pem, newCa.pem]);
  assert.deepEqual([await served(0), await served(1)], after1.map((c) => sha256Hex(c.der)));

  // The last phase can be undone like any rotation: the combined bundle comes back.
  const back = cli('rollback', 'cluster/n1', ...remote());
  assert.equal(back.status, 0, `${back.stdout}\n${back.stderr}`);
  assert.equal(caFiles()[0], newCa.pem + oldCa.pem);
});
