// `certops probe` and probeTls against a real nginx: what it serves, and that a reload is seen ("renewed but not reloaded").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { probeTls } from '../../server/src/probe';
import { CA_EXT, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';
import { NginxLab, startNginx } from './harness';

const pki = new Pki();
const root = pki.issue('root', { subject: '/CN=Lab Root', ext: ROOT_EXT, notAfter: 365 * 86400 });
const inter = pki.issue('inter', { subject: '/CN=Lab Intermediate', issuer: root, ext: CA_EXT, notAfter: 300 * 86400 });
const oldLeaf = pki.issue('old', { subject: '/CN=lab.certops.test', issuer: inter, ext: leafExt('DNS:lab.certops.test,IP:127.0.0.1'), notAfter: 5 * 86400 });
const newLeaf = pki.issue('new', { subject: '/CN=lab.certops.test', issuer: inter, ext: leafExt('DNS:lab.certops.test,IP:127.0.0.1'), notAfter: 90 * 86400 });
const sha = (i: { der: Uint8Array }) => createHash('sha256').update(i.der).digest('hex');
const cli = (...args: string[]) => spawnSync(process.execPath, [resolve('dist/cli.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

let nginx: NginxLab;
before(async () => {
  nginx = await startNginx({ cert: oldLeaf.pem + inter.pem, key: readFileSync(oldLeaf.keyPath, 'utf8') });
});
after(async () => {
  await nginx?.stop();
  pki.dispose();
});

test('certops probe shows what nginx serves: chain, trust against --ca, host name, expected leaf', () => {
  const r = cli('probe', `${nginx.host}:${nginx.port}`, '--servername', 'lab.certops.test', '--ca', root.certPath, '--expect-cert', oldLeaf.certPath, '--json');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.chain.map((c: { sha256: string }) => c.sha256), [sha(oldLeaf), sha(inter)]);
  assert.equal(doc.verification.valid, true);
  assert.deepEqual(doc.verification.chain, [sha(oldLeaf), sha(inter), sha(root)]);
  assert.deepEqual(doc.hostname, { name: 'lab.certops.test', matches: true });
  assert.equal(doc.expectation.matches, true);
  assert.match(doc.protocol, /^TLSv1\.[23]$/);
});

test('text output against nginx, and an untrusted chain (system store) still shows the chain and exits 1', () => {
  const r = cli('probe', `${nginx.host}:${nginx.port}`);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /0 CN=lab\.certops\.test/);
  assert.match(r.stdout, /1 CN=Lab Intermediate/);
  assert.match(r.stdout, /NOT TRUSTED/);
  assert.match(r.stdout, /hostname {2}127\.0\.0\.1 matches the leaf/);
});

test('renewed files are not served until nginx reloads; after SIGHUP the probe sees the new leaf', async () => {
  // nginx wants the intermediate after the leaf in the certificate file.
  writeFileSync(nginx.certFile, newLeaf.pem + inter.pem);
  copyFileSync(newLeaf.keyPath, nginx.keyFile);

  const before = cli('probe', `${nginx.host}:${nginx.port}`, '--ca', root.certPath, '--expect-cert', newLeaf.certPath);
  assert.equal(before.status, 1, 'the old certificate is still served before the reload');
  assert.match(before.stdout, /served leaf is NOT the expected one/);

  nginx.reload();
  const deadline = Date.now() + 10_000;
  let served = '';
  while (Date.now() < deadline) {
    served = (await probeTls({ host: nginx.host, port: nginx.port, servername: 'lab.certops.test' })).chain[0].sha256;
    if (served === sha(newLeaf)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(served, sha(newLeaf), `nginx did not serve the new certificate after SIGHUP: ${nginx.errorLog()}`);
  const afterReload = cli('probe', `${nginx.host}:${nginx.port}`, '--ca', root.certPath, '--expect-sha256', sha(newLeaf));
  assert.equal(afterReload.status, 0, afterReload.stdout);
});
