// The ca-overlap diagnostic: two CAs under one subject name (a CA rotation's overlap bundle), from the service and from `certops lint`.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { analyzeDocument } from '../../server/src/analysis';
import { main } from '../../server/src/cli/main';
import { computeDiagnostics, MAX_OVERLAP_DIAGNOSTICS } from '../../server/src/services/diagnostics';
import { DEFAULT_SETTINGS } from '../../server/src/services/settings';
import { CA_EXT, DAY, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

const pki = new Pki();
after(() => pki.dispose());
// Old root: issued a year ago, expires in a year. New root: from an hour ago, ten years, a new key.
const oldRoot = pki.issue('old-root', { subject: '/O=Example/CN=Example Root CA', ext: ROOT_EXT, notBefore: -365 * DAY, notAfter: 365 * DAY });
const newRoot = pki.issue('new-root', { subject: '/O=Example/CN=Example Root CA', ext: ROOT_EXT, notAfter: 3650 * DAY });
// The old root re-issued with its own key and a longer validity.
const extended = pki.issue('extended-root', { subject: '/O=Example/CN=Example Root CA', ext: ROOT_EXT, keyOf: oldRoot, notAfter: 1825 * DAY });
const other = pki.issue('other-root', { subject: '/CN=Other Root CA', ext: ROOT_EXT, notAfter: 3650 * DAY });

const overlaps = (text: string) => computeDiagnostics(analyzeDocument(text), DEFAULT_SETTINGS, { now: new Date(pki.now) }).filter((d) => d.code === 'ca-overlap');
const day = (offsetDays: number) => new Date(pki.now + offsetDays * DAY * 1000).toISOString().slice(0, 10);

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => void (out += s), (s) => void (err += s), { env: {}, color: false });
  return { code, out, err };
}

describe('ca-overlap (service)', () => {
  test('old and new root with different keys, in either order: one information diagnostic on the older, naming the newer', () => {
    for (const [text, oldBlock, newBlock] of [[newRoot.pem + oldRoot.pem, 1, 1], [oldRoot.pem + newRoot.pem, 0, 2]] as const) {
      const d = overlaps(text);
      assert.equal(d.length, 1, JSON.stringify(d));
      assert.equal(d[0].severity, 3);
      assert.equal(d[0].source, 'certops');
      assert.deepEqual(d[0].data, { block: oldBlock });
      const m = d[0].message as string;
      assert.match(m, /^2 CAs named CN=Example Root CA,O=Example: this one /);
      assert.ok(m.includes(`expires ${day(365)}`), m);
      assert.ok(m.includes(`is older than block ${newBlock} (from ${day(0)}, expires ${day(3650)}, a new key)`), m);
      assert.match(m, /SHA-256 [0-9a-f]{16}…/);
      assert.match(m, /remove it once every endpoint trusts the newer one/);
    }
  });

  test('a re-issue with the same key is an overlap too, and the message says so', () => {
    const d = overlaps(oldRoot.pem + extended.pem);
    assert.equal(d.length, 1);
    assert.deepEqual(d[0].data, { block: 0 });
    assert.match(d[0].message as string, /is older than block 2 \(from [0-9-]+, expires [0-9-]+\), a re-issue of the same CA with the same key/);
  });

  test('newer is decided by notBefore first, then notAfter', () => {
    // extended starts later than oldRoot but newRoot starts at the same time as extended and ends later.
    const d = overlaps(extended.pem + newRoot.pem + oldRoot.pem);
    assert.deepEqual(d.map((x) => (x.data as { block: number }).block).sort(), [0, 2]);
    for (const x of d) assert.match(x.message as string, /^3 CAs named .* block 2 \(/);
    // The same notBefore (an hour ago): the later notAfter wins.
    const tie = pki.issue('tie-root', { subject: '/O=Example/CN=Example Root CA', ext: ROOT_EXT, notAfter: 3000 * DAY });
    const t = overlaps(newRoot.pem + tie.pem);
    assert.equal(t.length, 1);
    assert.deepEqual(t[0].data, { block: 1 });
    assert.match(t[0].message as string, /is older than block 1/);
  });

  test('the same certificate twice is duplicate-certificate, not an overlap', () => {
    const a = analyzeDocument(newRoot.pem + newRoot.pem);
    const codes = computeDiagnostics(a, DEFAULT_SETTINGS, { now: new Date(pki.now) }).map((d) => d.code);
    assert.ok(codes.includes('duplicate-certificate'));
    assert.ok(!codes.includes('ca-overlap'));
  });

  test('different names, and leaves sharing a name, are no overlap', () => {
    assert.deepEqual(overlaps(newRoot.pem + other.pem), []);
    const l1 = pki.issue('leaf-1', { subject: '/CN=api.example.test', issuer: newRoot, ext: leafExt('DNS:api.example.test') });
    const l2 = pki.issue('leaf-2', { subject: '/CN=api.example.test', issuer: newRoot, ext: leafExt('DNS:api.example.test') });
    assert.deepEqual(overlaps(l1.pem + l2.pem + newRoot.pem), []);
  });

  test('a cross-sign of a root (its key, signed by another CA) is no overlap with that root', () => {
    const cross = pki.issue('cross-new-root', { subject: '/O=Example/CN=Example Root CA', issuer: other, keyOf: newRoot, ext: CA_EXT, notAfter: 700 * DAY });
    assert.deepEqual(overlaps(newRoot.pem + cross.pem), []);
    // With the old root too, only the old root is named, and the cross-sign is not counted.
    const d = overlaps(oldRoot.pem + cross.pem + newRoot.pem);
    assert.equal(d.length, 1);
    assert.deepEqual(d[0].data, { block: 0 });
    assert.match(d[0].message as string, /^2 CAs named .* is older than block 3 /);
  });

  test('names are compared as they chain (case and spaces folded), from the chain analysis', () => {
    const shouting = pki.issue('shouting-root', { subject: '/O=example/CN=EXAMPLE  ROOT CA', ext: ROOT_EXT, notAfter: 4000 * DAY });
    const a = analyzeDocument(newRoot.pem + shouting.pem + other.pem);
    assert.deepEqual(a.chain.sameSubject, [[0, 1]]);
    const d = overlaps(newRoot.pem + shouting.pem);
    assert.equal(d.length, 1);
    assert.deepEqual(d[0].data, { block: 0 });
  });

  test(`at most ${MAX_OVERLAP_DIAGNOSTICS} per document`, async () => {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair;
    const parts: string[] = [];
    const n = MAX_OVERLAP_DIAGNOSTICS + 20;
    for (let i = 0; i < n; i++) {
      const ca = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: (i + 1).toString(16).padStart(4, '0'), name: 'CN=Crowded CA', keys, signingAlgorithm: alg,
        notBefore: new Date(pki.now - (n - i) * 86_400_000), notAfter: new Date(pki.now + 3650 * 86_400_000),
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
      });
      parts.push(ca.toString('pem'));
    }
    const d = overlaps(parts.join('\n') + '\n');
    assert.equal(d.length, MAX_OVERLAP_DIAGNOSTICS);
    // The last one issued (latest notBefore) is the newest, named by all.
    for (const x of d) assert.match(x.message as string, new RegExp(`^${n} CAs named CN=Crowded CA: .* than block ${n} \\(`));
  });
});

describe('ca-overlap (certops lint)', () => {
  test('lint prints the same code on the same block, exit 0 (information)', async () => {
    const file = pki.write('overlap-lint.pem', newRoot.pem + oldRoot.pem);
    const r = await run(['lint', file]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n').filter((l) => l.includes(' ca-overlap '));
    assert.equal(lines.length, 1, r.out);
    const line = newRoot.pem.split('\n').length;
    assert.ok(lines[0].startsWith(`${file}:${line}:1 info ca-overlap 2 CAs named CN=Example Root CA,O=Example: `), lines[0]);
  });

  test('a bundle written by certops ca-bundle NEW OLD gets exactly this diagnostic from lint', async () => {
    const out = join(pki.dir, 'rotation-bundle.pem');
    const made = await run(['ca-bundle', newRoot.certPath, oldRoot.certPath, '--out', out]);
    assert.equal(made.code, 0, made.err);
    const r = await run(['lint', out, '--json']);
    assert.equal(r.code, 0, r.err);
    const json = JSON.parse(r.out) as { files: { diagnostics: { code: string; severity: string; message: string; range: { start: { line: number } } }[] }[] };
    const d = json.files[0].diagnostics;
    assert.deepEqual(d.map((x) => [x.code, x.severity]), [['ca-overlap', 'info']]);
    // On the old CA, the second block, naming the new one as block 1.
    assert.equal(d[0].range.start.line, newRoot.pem.split('\n').length - 1);
    assert.match(d[0].message, /is older than block 1 \(.*a new key\)/);
  });
});
