// `certops csr` (a new 0600 key and a CSR with the certificate's subject and SANs) and `certops ca-bundle`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { analyzeDocument } from '../../server/src/analysis';
import { main } from '../../server/src/cli/main';
import { leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

const pki = new Pki();
after(() => pki.dispose());
const cert = pki.issue('renew', { subject: '/CN=api.example.test/O=Example', ext: leafExt('DNS:api.example.test,DNS:www.example.test,IP:10.1.2.3') });
const oldCa = pki.issue('old-ca', { subject: '/CN=Example CA', ext: ROOT_EXT });
const newCa = pki.issue('new-ca', { subject: '/CN=Example CA', ext: ROOT_EXT, notAfter: 400 * 86400 });

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => void (out += s), (s) => void (err += s), { env: {}, color: false });
  return { code, out, err };
}

describe('csr', () => {
  for (const type of ['ec', 'rsa2048', 'rsa3072', 'ed25519']) {
    test(`--key-type ${type}: key created 0600, CSR with the same subject and SANs whose signature verifies`, async () => {
      const key = join(pki.dir, `new-${type}.key`);
      const csr = join(pki.dir, `new-${type}.csr`);
      const r = await run(['csr', '--from', cert.certPath, '--key-type', type, '--out-key', key, '--out-csr', csr, '--json']);
      assert.equal(r.code, 0, r.err);
      assert.equal(statSync(key).mode & 0o777, 0o600);
      const decoded = analyzeDocument(readFileSync(csr, 'utf8')).blocks[0].csr;
      assert.ok(decoded?.signatureValid);
      assert.equal(decoded.subject, 'O=Example,CN=api.example.test');
      assert.deepEqual(decoded.sans.map((s) => `${s.type}:${s.value}`), ['dns:api.example.test', 'dns:www.example.test', 'ip:10.1.2.3']);
      const keyInfo = analyzeDocument(readFileSync(key, 'utf8')).blocks[0].privateKey;
      assert.equal(keyInfo?.spkiSha256, decoded.publicKey.spkiSha256, 'the CSR is for the new key');
      assert.equal(JSON.parse(r.out).spkiSha256, decoded.publicKey.spkiSha256);
      assert.ok(!r.out.includes('PRIVATE KEY') && !r.out.includes(readFileSync(key, 'utf8').split('\n')[1]), 'the key is never printed');
    });
  }

  test('an existing output file is refused and nothing is written', async () => {
    const key = join(pki.dir, 'exists.key');
    const csr = join(pki.dir, 'exists.csr');
    pki.write('exists.key', 'keep me');
    const r = await run(['csr', '--from', cert.certPath, '--out-key', key, '--out-csr', csr]);
    assert.equal(r.code, 2);
    assert.match(r.err, /exists\.key: already exists; refusing to overwrite it/);
    assert.equal(readFileSync(key, 'utf8'), 'keep me');
    assert.equal(existsSync(csr), false);
  });

  test('bad usage: unknown key type, missing options', async () => {
    assert.equal((await run(['csr', '--from', cert.certPath, '--key-type', 'dsa', '--out-key', 'a', '--out-csr', 'b'])).code, 2);
    assert.equal((await run(['csr', '--from', cert.certPath])).code, 2);
  });
});

describe('ca-bundle', () => {
  test('new CA first, then the old one; a leaf is refused', async () => {
    const out = join(pki.dir, 'overlap.pem');
    const r = await run(['ca-bundle', newCa.certPath, oldCa.certPath, '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(out, 'utf8'), newCa.pem + oldCa.pem);
    const bad = await run(['ca-bundle', cert.certPath, oldCa.certPath, '--out', join(pki.dir, 'bad.pem')]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /is not a CA certificate/);
  });
});
