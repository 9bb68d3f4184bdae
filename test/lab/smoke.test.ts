// The lab's own smoke test: a real sshd accepts an ssh2 login with host-key
// verification, and a real nginx serves the certificate it was given.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tls from 'node:tls';
import { Client } from 'ssh2';
import { NginxLab, SshdLab, startNginx, startSshd } from './harness';

function selfSigned(cn: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'certops-smoke-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`,
      '-addext', `subjectAltName=DNS:${cn}`, '-days', '30', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'pipe' });
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let sshd: SshdLab;
let nginx: NginxLab;
const served = selfSigned('lab.certops.test');

before(async () => {
  [sshd, nginx] = await Promise.all([startSshd(), startNginx(served)]);
});
after(async () => {
  await Promise.all([sshd?.stop(), nginx?.stop()]);
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
  const expected = new X509Certificate(served.cert);
  assert.equal(createHash('sha256').update(leaf).digest('hex'), createHash('sha256').update(expected.raw).digest('hex'));
  assert.equal(new X509Certificate(leaf).subject, 'CN=lab.certops.test');
});
