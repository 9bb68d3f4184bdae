// The lab's own smoke test: a real sshd accepts an ssh2 login with host-key
// verification, and a real nginx serves the certificate it was given.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import * as tls from 'node:tls';
import { Client } from 'ssh2';
import { leafExt, Pki } from '../fixtures/pki';
import { NginxLab, SshdLab, startNginx, startSshd } from './harness';

let sshd: SshdLab;
let nginx: NginxLab;
const pki = new Pki();
// Self-signed, valid for thirty days.
const served = pki.issue('served', { subject: '/CN=lab.certops.test', ext: leafExt('DNS:lab.certops.test') });

before(async () => {
  [sshd, nginx] = await Promise.all([startSshd(), startNginx({ cert: served.pem, key: served.keyPem })]);
});
after(async () => {
  await Promise.all([sshd?.stop(), nginx?.stop()]);
  pki.dispose();
});

test('ssh2 logs in to the real sshd, checking its host key, and runs a command', async () => {
  const expectedKey = Buffer.from(sshd.knownHostsLine.split(' ')[2], 'base64');
  let checked = false;
  const output = await new Promise<string>((resolve, reject) => {
    const conn = new Client();
    conn
      .on('ready', () => {
        conn.exec('echo certops-$((40+2))', (err, stream) => {
          if (err) return reject(err);
          let out = '';
          stream.on('data', (d: Buffer) => (out += d)).on('close', () => {
            conn.end();
            resolve(out.trim());
          });
        });
      })
      .on('error', reject)
      .connect({
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        privateKey: readFileSync(sshd.userKeyPath),
        hostVerifier: (key: Buffer) => (checked = key.equals(expectedKey)),
      });
  });
  assert.equal(checked, true, 'the host key offered by sshd is the one the lab generated');
  assert.equal(output, 'certops-42');
});

test('ssh2 refuses a host whose key is not the expected one', async () => {
  const err = await new Promise<Error>((resolve) => {
    const conn = new Client();
    conn.on('ready', () => {
      conn.end();
      resolve(new Error('connected'));
    });
    conn.on('error', resolve);
    conn.connect({ host: sshd.host, port: sshd.port, username: sshd.username, privateKey: readFileSync(sshd.userKeyPath), hostVerifier: () => false });
  });
  assert.match(err.message, /verification failed/i);
});

test('nginx serves the certificate it was started with', async () => {
  const leaf = await new Promise<Buffer>((resolve, reject) => {
    const socket = tls.connect({ host: nginx.host, port: nginx.port, servername: 'lab.certops.test', rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(raw);
    });
    socket.on('error', reject);
  });
  const expected = new X509Certificate(served.pem);
  assert.equal(createHash('sha256').update(leaf).digest('hex'), createHash('sha256').update(expected.raw).digest('hex'));
  assert.equal(new X509Certificate(leaf).subject, 'CN=lab.certops.test');
});
