// Path building and RFC 5280 §6 checks on hierarchies generated with openssl,
// each also run through `openssl verify` so differences are deliberate.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ValidationOptions, validatePath } from '../../server/src/validation';
import { CA_EXT, Issued, Pki, ROOT_EXT, leafExt } from '../fixtures/pki';

const HOST = 'www.example.test';
const sha = (c: Issued) => createHash('sha256').update(c.der).digest('hex');

function run(o: { leaf: Issued; roots: Issued[]; ints?: Issued[] } & Partial<Omit<ValidationOptions, 'leaf' | 'roots' | 'intermediates'>>) {
  return validatePath({
    ...o,
    leaf: o.leaf.pem,
    roots: o.roots.map((r) => r.pem),
    intermediates: (o.ints ?? []).map((r) => r.der),
    peerName: o.peerName === undefined ? { kind: 'DNS', value: HOST } : o.peerName,
  });
}

const codes = (r: { errors: { code: string }[] }) => [...new Set(r.errors.map((e) => e.code))].sort();

describe('validation: path building and RFC 5280 checks', () => {
  let pki: Pki;
  let root: Issued;
  let int: Issued;
  let leaf: Issued;

  before(() => {
    pki = new Pki();
    root = pki.issue('root', { subject: '/CN=Test Root', ext: ROOT_EXT });
    int = pki.issue('int', { subject: '/CN=Test Int', issuer: root, ext: CA_EXT });
    leaf = pki.issue('leaf', { subject: `/CN=${HOST}`, issuer: int, ext: leafExt(`DNS:${HOST}`) });
  });
  after(() => pki.dispose());

  it('accepts a valid chain and lists its fingerprints leaf first', () => {
    const r = run({ leaf, roots: [root], ints: [int] });
    assert.deepEqual(r.errors, []);
    assert.equal(r.valid, true);
    assert.deepEqual(r.chain, [sha(leaf), sha(int), sha(root)]);
    assert.equal(pki.opensslVerify({ leaf, roots: [root], intermediates: [int], host: HOST }).ok, true);
  });

  it('ignores unrelated intermediates and roots', () => {
    const other = pki.issue('other-root', { subject: '/CN=Other Root', ext: ROOT_EXT });
    const otherInt = pki.issue('other-int', { subject: '/CN=Other Int', issuer: other, ext: CA_EXT });
    const r = run({ leaf, roots: [other, root], ints: [otherInt, int] });
    assert.equal(r.valid, true);
    assert.equal(r.chain.length, 3);
  });

  it('reports no-path when the intermediate is missing', () => {
    const r = run({ leaf, roots: [root] });
    assert.deepEqual(codes(r), ['no-path']);
    assert.equal(pki.opensslVerify({ leaf, roots: [root], host: HOST }).ok, false);
  });

  it('reports untrusted when the path ends at a self-signed certificate that is not an anchor', () => {
    const other = pki.issue('lonely-root', { subject: '/CN=Lonely Root', ext: ROOT_EXT });
    const r = run({ leaf, roots: [other], ints: [int, root] });
    assert.deepEqual(codes(r), ['untrusted']);
    assert.equal(pki.opensslVerify({ leaf, roots: [other], intermediates: [int, root], host: HOST }).ok, false);
  });

  it('rejects expired and not-yet-valid certificates anywhere on the path', () => {
    const old = pki.issue('expired-leaf', { subject: `/CN=${HOST}`, issuer: int, ext: leafExt(`DNS:${HOST}`), notBefore: -86400 * 10, notAfter: -60 });
    assert.deepEqual(codes(run({ leaf: old, roots: [root], ints: [int] })), ['expired']);
    assert.equal(pki.opensslVerify({ leaf: old, roots: [root], intermediates: [int], host: HOST }).ok, false);
    const young = pki.issue('future-leaf', { subject: `/CN=${HOST}`, issuer: int, ext: leafExt(`DNS:${HOST}`), notBefore: 3600 });
    assert.deepEqual(codes(run({ leaf: young, roots: [root], ints: [int] })), ['not-yet-valid']);
    assert.equal(pki.opensslVerify({ leaf: young, roots: [root], intermediates: [int], host: HOST }).ok, false);
    const oldInt = pki.issue('expired-int', { subject: '/CN=Old Int', issuer: root, ext: CA_EXT, notBefore: -86400 * 10, notAfter: -60 });
    const leaf2 = pki.issue('leaf-under-old', { subject: `/CN=${HOST}`, issuer: oldInt, ext: leafExt(`DNS:${HOST}`) });
    assert.deepEqual(codes(run({ leaf: leaf2, roots: [root], ints: [oldInt] })), ['expired']);
    assert.equal(pki.opensslVerify({ leaf: leaf2, roots: [root], intermediates: [oldInt], host: HOST }).ok, false);
  });

  it('compares validity to the second, flooring fractional validation times', () => {
    const l = pki.issue('edge-leaf', { subject: `/CN=${HOST}`, issuer: int, ext: leafExt(`DNS:${HOST}`), notBefore: 100, notAfter: 200 });
    const at = (s: number) => run({ leaf: l, roots: [root], ints: [int], at: new Date(pki.now + s * 1000) });
    assert.deepEqual(codes(at(99.999)), ['not-yet-valid']);
    assert.equal(at(100).valid, true);
    assert.equal(at(200).valid, true);
    assert.equal(at(200.999).valid, true, 'notAfter is inclusive for the whole second');
    assert.deepEqual(codes(at(201)), ['expired']);
    // RFC 5280 §4.1.2.5 makes both ends inclusive; OpenSSL treats the notAfter second itself as expired.
    const ossl = (s: number) => pki.opensslVerify({ leaf: l, roots: [root], intermediates: [int], host: HOST, at: pki.now + s * 1000 }).ok;
    assert.equal(ossl(99), false);
    assert.equal(ossl(100), true);
    assert.equal(ossl(199), true);
    assert.equal(ossl(200), false, 'OpenSSL is one second stricter at notAfter');
  });

  it('rejects a certificate whose signature does not verify under the named issuer', () => {
    const impostor = pki.issue('impostor', { subject: '/CN=Test Int', issuer: root, ext: CA_EXT });
    const r = run({ leaf, roots: [root], ints: [impostor] });
    assert.deepEqual(codes(r), ['signature-invalid']);
    assert.equal(pki.opensslVerify({ leaf, roots: [root], intermediates: [impostor], host: HOST }).ok, false);
  });

  it('requires basicConstraints cA=TRUE on issuers', () => {
    const notCa = pki.issue('not-ca', { subject: '/CN=Not CA', issuer: root, ext: ['basicConstraints = critical,CA:FALSE', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'] });
    const l = pki.issue('leaf-of-not-ca', { subject: `/CN=${HOST}`, issuer: notCa, ext: leafExt(`DNS:${HOST}`) });
    assert.deepEqual(codes(run({ leaf: l, roots: [root], ints: [notCa] })), ['issuer-not-ca']);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], intermediates: [notCa], host: HOST }).ok, false);
    const noBc = pki.issue('no-bc', { subject: '/CN=No BC', issuer: root, ext: ['keyUsage = critical,keyCertSign', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'] });
    const l2 = pki.issue('leaf-of-no-bc', { subject: `/CN=${HOST}`, issuer: noBc, ext: leafExt(`DNS:${HOST}`) });
    assert.deepEqual(codes(run({ leaf: l2, roots: [root], ints: [noBc] })), ['issuer-not-ca']);
    assert.equal(pki.opensslVerify({ leaf: l2, roots: [root], intermediates: [noBc], host: HOST }).ok, false);
  });

  it('requires keyCertSign on issuers that carry keyUsage', () => {
    const ku = pki.issue('no-certsign', { subject: '/CN=No CertSign', issuer: root, ext: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,digitalSignature,cRLSign', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'] });
    const l = pki.issue('leaf-of-no-certsign', { subject: `/CN=${HOST}`, issuer: ku, ext: leafExt(`DNS:${HOST}`) });
    assert.deepEqual(codes(run({ leaf: l, roots: [root], ints: [ku] })), ['key-usage']);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], intermediates: [ku], host: HOST }).ok, false);
  });

  it('enforces pathLenConstraint, not counting the leaf or self-issued intermediates', () => {
    const r0 = pki.issue('root-pl0', { subject: '/CN=Root PL0', ext: [...ROOT_EXT.slice(1), 'basicConstraints = critical,CA:TRUE,pathlen:0'] });
    const i0 = pki.issue('int-under-pl0', { subject: '/CN=Int PL', issuer: r0, ext: CA_EXT });
    const l0 = pki.issue('leaf-under-pl0', { subject: `/CN=${HOST}`, issuer: i0, ext: leafExt(`DNS:${HOST}`) });
    assert.deepEqual(codes(run({ leaf: l0, roots: [r0], ints: [i0] })), ['path-length-exceeded']);
    assert.equal(pki.opensslVerify({ leaf: l0, roots: [r0], intermediates: [i0], host: HOST }).ok, false);
    const direct = pki.issue('leaf-direct-pl0', { subject: `/CN=${HOST}`, issuer: r0, ext: leafExt(`DNS:${HOST}`) });
    assert.equal(run({ leaf: direct, roots: [r0] }).valid, true);

    // root -> A (pathlen 0) -> A' (self-issued key rollover) -> leaf
    const a = pki.issue('a-pl0', { subject: '/CN=Rollover CA', issuer: root, ext: [...CA_EXT.slice(1), 'basicConstraints = critical,CA:TRUE,pathlen:0'] });
    const a2 = pki.issue('a-prime', { subject: '/CN=Rollover CA', issuer: a, ext: CA_EXT });
    const l = pki.issue('leaf-under-rollover', { subject: `/CN=${HOST}`, issuer: a2, ext: leafExt(`DNS:${HOST}`) });
    const r = run({ leaf: l, roots: [root], ints: [a, a2] });
    assert.deepEqual(r.errors, []);
    assert.equal(r.chain.length, 4);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], intermediates: [a, a2], host: HOST }).ok, true);
  });

  it('backtracks past a cross-sign that does not lead to a trusted root and past an expired alternative', () => {
    const other = pki.issue('untrusted-root', { subject: '/CN=Untrusted Root', ext: ROOT_EXT });
    const cross = pki.issue('cross', { subject: '/CN=Test Int', issuer: other, ext: CA_EXT, keyOf: int });
    const expiredTwin = pki.issue('expired-twin', { subject: '/CN=Test Int', issuer: root, ext: CA_EXT, keyOf: int, notBefore: -86400 * 9, notAfter: -120 });
    const r = run({ leaf, roots: [root], ints: [cross, expiredTwin, int] });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.chain, [sha(leaf), sha(int), sha(root)]);
    const o = pki.opensslVerify({ leaf, roots: [root], intermediates: [cross, expiredTwin, int], host: HOST });
    // OpenSSL commits to the first untrusted issuer it finds and does not backtrack: certops is deliberately better here.
    assert.equal(o.ok, false, o.output);
    assert.equal(pki.opensslVerify({ leaf, roots: [root], intermediates: [int], host: HOST }).ok, true);
  });

  it('stops on issuer loops without a trusted root', () => {
    const x = pki.issue('loop-x', { subject: '/CN=Loop X', issuer: root, ext: CA_EXT });
    const y = pki.issue('loop-y', { subject: '/CN=Loop Y', issuer: x, ext: CA_EXT });
    const xByY = pki.issue('loop-x-by-y', { subject: '/CN=Loop X', issuer: y, ext: CA_EXT, keyOf: x });
    const l = pki.issue('leaf-in-loop', { subject: `/CN=${HOST}`, issuer: x, ext: leafExt(`DNS:${HOST}`) });
    const r = run({ leaf: l, roots: [pki.issue('unrelated', { subject: '/CN=Unrelated', ext: ROOT_EXT })], ints: [xByY, y] });
    assert.equal(r.valid, false);
    assert.deepEqual(codes(r), ['no-path']);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [], intermediates: [xByY, y], host: HOST }).ok, false);
  });

  it('enforces maxDepth on non-self-issued intermediates', () => {
    assert.deepEqual(codes(run({ leaf, roots: [root], ints: [int], maxDepth: 0 })), ['depth-exceeded']);
    assert.equal(run({ leaf, roots: [root], ints: [int], maxDepth: 1 }).valid, true);
    // openssl -verify_depth counts differently (it includes the leaf); only the unconstrained run is compared.
    assert.equal(pki.opensslVerify({ leaf, roots: [root], intermediates: [int], host: HOST }).ok, true);
  });
});

describe('validation: work bounds on hostile inputs', () => {
  it('gives up, by its work limit, on a mesh of mutually cross-signed CAs that never reaches a root', () => {
    const pki = new Pki();
    try {
      const root = pki.issue('mesh-root', { subject: '/CN=Mesh Root', ext: ROOT_EXT });
      // Six keys under one subject, every key certified by every other: all are self-issued, so only loop and work limits stop the search.
      const seeds = Array.from({ length: 6 }, (_, i) => pki.issue(`mesh-seed-${i}`, { subject: '/CN=Mesh CA', ext: ROOT_EXT }));
      const mesh: Issued[] = [];
      for (const subjectKey of seeds) {
        for (const signer of seeds) {
          if (signer !== subjectKey) mesh.push(pki.issue(`mesh-${mesh.length}`, { subject: '/CN=Mesh CA', issuer: signer, ext: CA_EXT, keyOf: subjectKey }));
        }
      }
      const leaf = pki.issue('mesh-leaf', { subject: `/CN=${HOST}`, issuer: seeds[0], ext: leafExt(`DNS:${HOST}`) });
      const r = run({ leaf, roots: [root], ints: mesh });
      assert.equal(r.valid, false);
      assert.deepEqual(codes(r), ['work-limit-exceeded']);
      assert.equal(pki.opensslVerify({ leaf, roots: [root], intermediates: mesh, host: HOST }).ok, false);
    } finally {
      pki.dispose();
    }
  });
});
