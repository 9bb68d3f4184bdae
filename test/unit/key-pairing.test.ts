// Which certificate of a file a key pairs with (analysis/match): the first of a PEM file, the leaf of an unordered PKCS#7.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { analyzeDocument, CertificateInfo, RAW } from '../../server/src/analysis';
import { documentCertificates, DocumentCertificate, LEAF_SEARCH_LIMIT, pairKeyWithCertificates, servedCertificate } from '../../server/src/analysis/match';
import { CA_EXT, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

const pki = new Pki();
after(() => pki.dispose());
const { root, intermediate, leaf } = pki.chain('pair');
let files = 0;
const p7 = (...pems: string[]) => pki.openssl(['crl2pkcs7', '-nocrl', '-certfile', pki.write(`p7-${files++}.pem`, pems.join(''))]);
const certificatesOf = (text: string) => documentCertificates(analyzeDocument(text));
const spkiOf = (text: string) => certificatesOf(text)[0].certificate.spkiSha256;

describe('servedCertificate', () => {
  test('a PEM file: the first certificate, whatever the order', () => {
    assert.deepEqual(servedCertificate(certificatesOf(root.pem + intermediate.pem + leaf.pem)), { index: 0, from: 'first' });
    assert.equal(servedCertificate(certificatesOf(leaf.keyPem)), undefined);
  });

  test('a PKCS#7: the certificate that issues none of the others; copies count once', () => {
    assert.deepEqual(servedCertificate(certificatesOf(p7(root.pem, intermediate.pem, leaf.pem))), { index: 2, from: 'leaf' });
    assert.deepEqual(servedCertificate(certificatesOf(p7(root.pem, leaf.pem, intermediate.pem, leaf.pem, root.pem))), { index: 1, from: 'leaf' });
    // A self-signed certificate alone issues only itself: it is the leaf.
    assert.deepEqual(servedCertificate(certificatesOf(p7(root.pem))), { index: 0, from: 'leaf' });
  });

  test('a PKCS#7 with two leaves, or with CAs that issue each other, is ambiguous', () => {
    const other = pki.issue('pair-other', { subject: '/CN=other.pair.test', issuer: intermediate, ext: leafExt('DNS:other.pair.test') });
    assert.deepEqual(servedCertificate(certificatesOf(p7(leaf.pem, intermediate.pem, other.pem))), { from: 'leaf', leaves: [0, 2] });
    // A cross-sign in both directions: A issued B and B issued (a copy of) A, so neither is a leaf.
    const a = pki.issue('pair-a', { subject: '/CN=pair A', ext: ROOT_EXT });
    const b = pki.issue('pair-b', { subject: '/CN=pair B', issuer: a, ext: CA_EXT });
    const aByB = pki.issue('pair-a-by-b', { subject: '/CN=pair A', issuer: b, ext: CA_EXT, keyOf: a });
    assert.deepEqual(servedCertificate(certificatesOf(p7(aByB.pem, b.pem))), { from: 'leaf', leaves: [] });
  });

  test('the leaf search is bounded: a crowd of certificates of one name that do not link gives up, ambiguous', () => {
    const fake = (i: number): DocumentCertificate => {
      const name = { key: 'CN=crowd' };
      const certificate = { sha256: `c${i}`, subjectKeyId: `s${i}`, authorityKeyId: `a${i}`, [RAW]: { cert: { subject: name, issuer: name } } } as unknown as CertificateInfo;
      return { block: certificatesOf(p7(leaf.pem))[0].block, inner: i, certificate };
    };
    // n certificates of one name ask n * (n - 1) key identifier comparisons: one more than the limit allows.
    const n = Math.ceil(Math.sqrt(LEAF_SEARCH_LIMIT)) + 1;
    const crowd = Array.from({ length: n }, (_, i) => fake(i));
    crowd.forEach((c) => (c.block = crowd[0].block));
    assert.deepEqual(servedCertificate(crowd), { from: 'leaf', leaves: [] });
    // Under the limit, the same crowd is decided: none of them issues another, so every one is a leaf.
    assert.equal((servedCertificate(crowd.slice(0, 10)) as { leaves: number[] }).leaves.length, 10);
  });
});

describe('pairKeyWithCertificates', () => {
  test('the key must be the served certificate\'s; another certificate holding it is named as its owner', () => {
    const fullchain = certificatesOf(leaf.pem + intermediate.pem + root.pem);
    assert.deepEqual(pairKeyWithCertificates(fullchain, spkiOf(leaf.pem)), { served: { index: 0, from: 'first' }, owner: 0, match: true });
    assert.deepEqual(pairKeyWithCertificates(fullchain, spkiOf(intermediate.pem)), { served: { index: 0, from: 'first' }, owner: 1, match: false });
    const none = pki.issue('pair-none', { subject: '/CN=none.pair.test', ext: leafExt('DNS:none.pair.test') });
    assert.deepEqual(pairKeyWithCertificates(fullchain, spkiOf(none.pem)), { served: { index: 0, from: 'first' }, owner: -1, match: false });
    assert.deepEqual(pairKeyWithCertificates(fullchain, undefined), { served: { index: 0, from: 'first' }, owner: -1, match: false });
    const reversed = certificatesOf(p7(root.pem, intermediate.pem, leaf.pem));
    assert.deepEqual(pairKeyWithCertificates(reversed, spkiOf(leaf.pem)), { served: { index: 2, from: 'leaf' }, owner: 2, match: true });
  });
});
