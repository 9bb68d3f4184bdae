// Mutual TLS on a real nginx (ssl_verify_client on) over a real sshd: after the rotation a valid
// client certificate must get through and ones from an unknown CA or expired must be refused; a
// checklist that does not come out as expected rolls the rotation back.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { probeTls } from '../../server/src/probe';
import { DAY, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';
import { NginxLab, SshHostLab, startNginx, startSshHost, writeInventory } from './harness';
import { labCa, runCli, sha256Hex, writeSshClientFiles } from './common';

const pki = new Pki();
const { root, inter } = labCa(pki, 'mTLS');
const server = (name: string, days: number) => pki.issue(name, { subject: '/CN=mtls.certops.test', issuer: inter, ext: leafExt('DNS:mtls.certops.test'), notAfter: days * DAY });
const oldLeaf = server('old', 60);
const newLeaf = server('new', 200);
const newer = server('newer', 300);
const clientCa = pki.issue('client-ca', { subject: '/CN=mTLS Client CA', ext: ROOT_EXT, notAfter: 365 * DAY });
const strangerCa = pki.issue('stranger-ca', { subject: '/CN=Stranger CA', ext: ROOT_EXT, notAfter: 365 * DAY });
const clientExt = ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = clientAuth', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid:always'];
const valid = pki.issue('client-valid', { subject: '/CN=app client', issuer: clientCa, ext: clientExt });
const unknown = pki.issue('client-unknown', { subject: '/CN=app client', issuer: strangerCa, ext: clientExt });
const expired = pki.issue('client-expired', { subject: '/CN=app client', issuer: clientCa, ext: clientExt, notBefore: -10 * DAY, notAfter: -DAY });

let host: SshHostLab;
let nginx: NginxLab;
let dir: string;
let inventory: string;
let knownHosts: string;
let sshConfig: string;

const served = async () => sha256Hex((await probeTls({ host: '127.0.0.1', port: nginx.port, servername: 'mtls.certops.test' })).chain[0].der);
const cli = (...args: string[]) => runCli([...args, '--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts]);
const pair = (i: { certPath: string; keyPath: string }) => `${i.certPath},${i.keyPath}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certops-mtls-lab-'));
  [host, nginx] = await Promise.all([startSshHost({ address: '127.0.0.14', users: ['root'] }), startNginx({ cert: oldLeaf.pem + inter.pem, key: oldLeaf.keyPem, clientCa: clientCa.pem })]);
  ({ sshConfig, knownHosts } = writeSshClientFiles(dir, [host.knownHostsLine]));
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, root.pem);
  inventory = writeInventory(dir, {
    hosts: [
      {
        name: 'proxy',
        ssh: { host: host.host, port: host.port, user: 'root', identityFile: host.userKeyPath },
        endpoints: [
          {
            name: 'mtls',
            probe: { host: '127.0.0.1', port: nginx.port, servername: 'mtls.certops.test' },
            files: { cert: nginx.certFile, key: nginx.keyFile, ca: caFile },
            reload: { kind: 'signal', pidFile: join(nginx.dir, 'nginx.pid') },
            check: { send: 'GET / HTTP/1.0\r\n', expect: 'HTTP/1.1 200' },
          },
        ],
      },
    ],
  });
});

after(async () => {
  await Promise.all([host?.stop(), nginx?.stop()]);
  pki.dispose();
});

test('the client checklist after the rotation: a valid client connects; unknown-CA and expired clients are refused', async () => {
  const r = cli('rotate', 'proxy/mtls', '--cert', pki.write('new.pem', newLeaf.pem + inter.pem, 0o644), '--key', newLeaf.keyPath,
    '--client-accepted', pair(valid), '--client-refused', pair(unknown), '--client-refused', pair(expired), '--json');
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { endpoints: { records: { clientChecklist: { ok: boolean; output: string } }[]; evidence: string[] }[] };
  const list = doc.endpoints[0].records[0].clientChecklist;
  assert.equal(list.ok, true);
  assert.match(list.output, /ok: .*client-valid\.pem was accepted/);
  assert.match(list.output, /ok: .*client-unknown\.pem was refused/);
  assert.match(list.output, /ok: .*client-expired\.pem was refused/);
  assert.equal(await served(), sha256Hex(newLeaf.der));
  assert.match(readFileSync(doc.endpoints[0].evidence[0].replace(/\.json$/, '.md'), 'utf8'), /## Client checklist: passed/);
});

test('a checklist that does not come out as expected rolls the rotation back', async () => {
  const r = cli('rotate', 'proxy/mtls', '--cert', pki.write('newer.pem', newer.pem + inter.pem, 0o644), '--key', newer.keyPath, '--client-accepted', pair(unknown), '--json');
  assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { endpoints: { state: string; message: string }[] };
  assert.equal(doc.endpoints[0].state, 'rolled-back');
  assert.match(doc.endpoints[0].message, /client checklist failed: FAILED: .*client-unknown\.pem was refused \(expected accepted\)/);
  assert.equal(await served(), sha256Hex(newLeaf.der), 'the certificate from before is served again');
});
