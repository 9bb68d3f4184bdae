// `certops match CERT KEY` for RSA, EC and Ed25519 keys in every PEM layout operators meet, plus encrypted keys.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { main } from '../../server/src/cli/main';
import { leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

const pki = new Pki();
after(() => pki.dispose());
const ext = leafExt('DNS:match.example.test');
const rsa = pki.issue('rsa', { subject: '/CN=rsa.example.test', ext, key: 'rsa2048' });
const ec = pki.issue('ec', { subject: '/CN=ec.example.test', ext, key: 'ec' });
const ed = pki.issue('ed', { subject: '/CN=ed.example.test', ext, key: 'ed25519' });
const ca = pki.issue('ca', { subject: '/CN=Match CA', ext: ROOT_EXT });
const openssl = (...args: string[]) => pki.openssl(args);
const at = (name: string) => join(pki.dir, name);

// The layouts: PKCS#1 and SEC1 ("traditional"), PKCS#8 DER, encrypted PKCS#8 and legacy PEM encryption.
openssl('pkey', '-in', rsa.keyPath, '-traditional', '-out', at('rsa-pkcs1.key'));
openssl('pkey', '-in', ec.keyPath, '-traditional', '-out', at('ec-sec1.key'));
openssl('pkcs8', '-topk8', '-nocrypt', '-in', ec.keyPath, '-outform', 'DER', '-out', at('ec-pkcs8.der'));
// openssl writes EC keys as SEC1 when asked for DER without -topk8.
openssl('pkey', '-in', ec.keyPath, '-outform', 'DER', '-out', at('ec-sec1.der'));
openssl('pkey', '-in', rsa.keyPath, '-traditional', '-outform', 'DER', '-out', at('rsa-pkcs1.der'));
openssl('pkcs8', '-topk8', '-in', ed.keyPath, '-passout', 'pass:correct horse', '-out', at('ed-encrypted.key'));
openssl('rsa', '-in', rsa.keyPath, '-traditional', '-aes256', '-passout', 'pass:correct horse', '-out', at('rsa-legacy-encrypted.key'));

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => void (out += s), (s) => void (err += s), { env, color: false });
  return { code, out, err };
}

/** The base64 lines of a key file: none of them may ever appear in output. */
function keyMaterial(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => /^[A-Za-z0-9+/=]{20,}$/.test(l));
}

describe('match', () => {
  test('RSA, EC and Ed25519 keys in PKCS#8, PKCS#1, SEC1 and DER match their certificates (exit 0)', async () => {
    const cases: [string, string][] = [
      [rsa.certPath, rsa.keyPath],
      [rsa.certPath, at('rsa-pkcs1.key')],
      [ec.certPath, ec.keyPath],
      [ec.certPath, at('ec-sec1.key')],
      [ec.certPath, at('ec-pkcs8.der')],
      [ec.certPath, at('ec-sec1.der')],
      [rsa.certPath, at('rsa-pkcs1.der')],
      [ed.certPath, ed.keyPath],
    ];
    for (const [cert, key] of cases) {
      const r = await run(['match', cert, key]);
      assert.equal(r.code, 0, `${key}: ${r.out}${r.err}`);
      assert.match(r.out, /^match: /);
    }
  });

  test('a key of another certificate, or of another type, is a mismatch (exit 1)', async () => {
    for (const [cert, key] of [[rsa.certPath, ca.keyPath], [ec.certPath, ed.keyPath], [ed.certPath, at('rsa-pkcs1.key')]]) {
      const r = await run(['match', cert, key]);
      assert.equal(r.code, 1, r.out + r.err);
      assert.match(r.out, /^MISMATCH: .*\n {2}certificate spki sha256 [0-9a-f]{64} .*\n {2}key {9}spki sha256 [0-9a-f]{64}/);
    }
  });

  test('--json reports both public-key fingerprints and never key material', async () => {
    const r = await run(['match', '--json', ec.certPath, at('ec-sec1.key')]);
    assert.equal(r.code, 0);
    const doc = JSON.parse(r.out);
    assert.equal(doc.match, true);
    assert.equal(doc.key.spkiSha256, doc.certificate.spkiSha256);
    assert.equal(doc.key.type, 'EC P-256');
    assert.equal(doc.certificate.publicKey, 'EC P-256');
    for (const line of keyMaterial(at('ec-sec1.key'))) assert.ok(!r.out.includes(line));
  });

  test('an encrypted key without a passphrase is exit 2 with a clear message', async () => {
    for (const key of ['ed-encrypted.key', 'rsa-legacy-encrypted.key']) {
      const r = await run(['match', ed.certPath, at(key)]);
      assert.equal(r.code, 2);
      assert.equal(r.err, `certops match: ${at(key)}:1: the private key is encrypted; pass --passphrase-env VAR with the passphrase in $VAR\n`);
    }
  });

  test('--passphrase-env decrypts PKCS#8 and legacy PEM encryption; a wrong one is exit 2', async () => {
    const env = { KEY_PASS: 'correct horse', WRONG: 'battery staple' };
    assert.equal((await run(['match', ed.certPath, at('ed-encrypted.key'), '--passphrase-env', 'KEY_PASS'], env)).code, 0);
    assert.equal((await run(['match', rsa.certPath, at('rsa-legacy-encrypted.key'), '--passphrase-env', 'KEY_PASS'], env)).code, 0);
    const wrong = await run(['match', ed.certPath, at('ed-encrypted.key'), '--passphrase-env', 'WRONG'], env);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /wrong passphrase/);
    assert.ok(!wrong.err.includes('battery'), 'the passphrase is not echoed');
    const unset = await run(['match', ed.certPath, at('ed-encrypted.key'), '--passphrase-env', 'NOT_SET'], env);
    assert.equal(unset.code, 2);
    assert.match(unset.err, /environment variable NOT_SET is not set/);
  });

  test('swapped arguments, missing files and wrong counts are usage errors', async () => {
    const swapped = await run(['match', ec.keyPath, ec.certPath]);
    assert.equal(swapped.code, 2);
    assert.match(swapped.err, /ec\.key: no certificate in the file/);
    const noKey = await run(['match', ec.certPath, ca.certPath]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.err, /ca\.pem: no private key in the file \(found CERTIFICATE\)/);
    assert.equal((await run(['match', ec.certPath])).code, 2);
    const missing = await run(['match', ec.certPath, at('nope.key')]);
    assert.equal(missing.err, `certops match: ${at('nope.key')}: no such file\n`);
  });

  test('the real binary exits 0 on a match and 1 on a mismatch', () => {
    const cli = resolve('dist/cli.js');
    assert.equal(spawnSync(process.execPath, [cli, 'match', rsa.certPath, rsa.keyPath]).status, 0);
    assert.equal(spawnSync(process.execPath, [cli, 'match', rsa.certPath, ec.keyPath]).status, 1);
  });
});
