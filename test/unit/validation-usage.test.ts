// Key usage, extended key usage, critical extensions, algorithms, CRLs and
// the helpers shared with the language server's chain diagnostics.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ERROR_CODES, basicConstraints, certificateProblems, isSelfIssued, issued, loadCertificate, validatePath,
} from '../../server/src/validation';
import { CA_EXT, Issued, Pki, ROOT_EXT, leafExt } from '../fixtures/pki';

const HOST = 'svc.example.test';
const codes = (r: { errors: { code: string }[] }) => [...new Set(r.errors.map((e) => e.code))].sort();

describe('validation: usages, extensions, algorithms and revocation', () => {
  let pki: Pki;
  let root: Issued;
  let int: Issued;
  const leaf = (name: string, ext: string[], extra: Partial<Parameters<Pki['issue']>[1]> = {}) =>
    pki.issue(name, { subject: `/CN=${HOST}`, issuer: int, ext, ...extra });
  const check = (l: Issued, more: Partial<Parameters<typeof validatePath>[0]> = {}) =>
    validatePath({ leaf: l.pem, roots: [root.pem], intermediates: [int.pem], peerName: { kind: 'DNS', value: HOST }, ...more });
  const ossl = (l: Issued, more: Partial<Parameters<Pki['opensslVerify']>[0]> = {}) =>
    pki.opensslVerify({ leaf: l, roots: [root], intermediates: [int], host: HOST, ...more }).ok;

  before(() => {
    pki = new Pki();
    root = pki.issue('root', { subject: '/CN=Usage Root', ext: ROOT_EXT });
    int = pki.issue('int', { subject: '/CN=Usage Int', issuer: root, ext: CA_EXT });
  });
  after(() => pki.dispose());

  it('checks the requested extended key usage on the leaf and on CAs', () => {
    const client = leaf('client-only', leafExt(`DNS:${HOST}`).map((l) => l.replace('serverAuth', 'clientAuth')));
    assert.deepEqual(codes(check(client, { extendedKeyUsage: ['serverAuth'] })), ['eku-mismatch']);
    assert.equal(check(client, { extendedKeyUsage: ['clientAuth'] }).valid, true);
    assert.equal(check(client, { extendedKeyUsage: [] }).valid, true, 'an empty list means any purpose');
    assert.equal(ossl(client, { purpose: 'sslserver' }), false);
    assert.equal(ossl(client, { purpose: 'sslclient' }), true);
    const clientCa = pki.issue('client-ca', { subject: '/CN=Client CA', issuer: root, ext: [...CA_EXT, 'extendedKeyUsage = clientAuth'] });
    const l = pki.issue('under-client-ca', { subject: `/CN=${HOST}`, issuer: clientCa, ext: leafExt(`DNS:${HOST}`) });
    const r = validatePath({ leaf: l.pem, roots: [root.pem], intermediates: [clientCa.pem], extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] });
    assert.deepEqual(codes(r), ['eku-mismatch']);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], intermediates: [clientCa], purpose: 'sslserver' }).ok, false);
  });

  it('refuses keyCertSign on a leaf that is not a CA', () => {
    const l = leaf('leaf-certsign', leafExt(`DNS:${HOST}`).map((x) => x.replace('digitalSignature', 'digitalSignature,keyCertSign')));
    assert.deepEqual(codes(check(l)), ['key-usage']);
    assert.equal(ossl(l), false);
    const noKu = leaf('leaf-no-ku', leafExt(`DNS:${HOST}`).filter((x) => !x.startsWith('keyUsage')));
    assert.equal(check(noKu).valid, true, 'keyUsage is optional on end entities');
    assert.deepEqual(codes(check(noKu, { keyUsage: ['digitalSignature'] })), [], 'absent keyUsage allows every use');
    const kuLeaf = leaf('leaf-ku-ds', leafExt(`DNS:${HOST}`));
    assert.deepEqual(codes(check(kuLeaf, { keyUsage: ['keyEncipherment'] })), ['key-usage']);
  });

  it('rejects unknown critical extensions and accepts unknown non-critical ones', () => {
    const crit = leaf('crit-ext', leafExt(`DNS:${HOST}`, ['1.3.6.1.4.1.55555.7 = critical,ASN1:NULL']));
    assert.deepEqual(codes(check(crit)), ['unknown-critical-extension']);
    assert.equal(ossl(crit), false);
    const plain = leaf('noncrit-ext', leafExt(`DNS:${HOST}`, ['1.3.6.1.4.1.55555.7 = ASN1:NULL']));
    assert.equal(check(plain).valid, true);
    assert.equal(ossl(plain), true);
    const critCa = pki.issue('crit-ca', { subject: '/CN=Crit CA', issuer: root, ext: [...CA_EXT, '1.3.6.1.4.1.55555.8 = critical,ASN1:NULL'] });
    const l = pki.issue('under-crit-ca', { subject: `/CN=${HOST}`, issuer: critCa, ext: leafExt(`DNS:${HOST}`) });
    assert.deepEqual(codes(validatePath({ leaf: l.pem, roots: [root.pem], intermediates: [critCa.pem] })), ['unknown-critical-extension']);
  });

  it('verifies Ed25519 and RSASSA-PSS signatures', () => {
    const edRoot = pki.issue('ed-root', { subject: '/CN=Ed Root', ext: ROOT_EXT, key: 'ed25519' });
    const edLeaf = pki.issue('ed-leaf', { subject: `/CN=${HOST}`, issuer: edRoot, ext: leafExt(`DNS:${HOST}`), key: 'ed25519' });
    assert.equal(validatePath({ leaf: edLeaf.pem, roots: [edRoot.pem], intermediates: [], peerName: { kind: 'DNS', value: HOST } }).valid, true);
    assert.equal(pki.opensslVerify({ leaf: edLeaf, roots: [edRoot], host: HOST }).ok, true);
    const rsaRoot = pki.issue('pss-root', { subject: '/CN=PSS Root', ext: ROOT_EXT, key: 'rsa2048' });
    const pss = pki.issue('pss-leaf', { subject: `/CN=${HOST}`, issuer: rsaRoot, ext: leafExt(`DNS:${HOST}`), sigopts: ['rsa_padding_mode:pss', 'rsa_pss_saltlen:digest'] });
    assert.match(loadCertificate(pss.pem).signatureAlg.oid, /^1\.2\.840\.113549\.1\.1\.10$/);
    assert.equal(validatePath({ leaf: pss.pem, roots: [rsaRoot.pem], intermediates: [] }).valid, true);
    assert.equal(pki.opensslVerify({ leaf: pss, roots: [rsaRoot] }).ok, true);
  });

  it('refuses RSA keys under 2048 bits', () => {
    const weak = leaf('weak-rsa', leafExt(`DNS:${HOST}`), { key: 'rsa1024' });
    assert.deepEqual(codes(check(weak)), ['weak-key']);
    // OpenSSL's default security level 1 still admits 1024-bit RSA: certops is stricter.
    assert.equal(ossl(weak), true);
  });

  it('applies the CA profile to trust anchors too', () => {
    const oldRoot = pki.issue('old-root', { subject: '/CN=Old Root', ext: ROOT_EXT, notBefore: -86400 * 30, notAfter: -86400 });
    const l = pki.issue('under-old-root', { subject: `/CN=${HOST}`, issuer: oldRoot, ext: leafExt(`DNS:${HOST}`) });
    assert.deepEqual(codes(validatePath({ leaf: l.pem, roots: [oldRoot.pem], intermediates: [] })), ['expired']);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [oldRoot] }).ok, false);
  });

  it('checks revocation against supplied CRLs', () => {
    const good = leaf('crl-good', leafExt(`DNS:${HOST}`));
    const bad = leaf('crl-bad', leafExt(`DNS:${HOST}`));
    const crl = pki.crl(int, [bad]);
    const rootCrl = pki.crl(root, []);
    assert.equal(check(good, { crls: [crl, rootCrl] }).valid, true);
    assert.deepEqual(codes(check(bad, { crls: [crl, rootCrl] })), ['revoked']);
    assert.equal(ossl(good, { crls: [crl, rootCrl] }), true);
    assert.equal(ossl(bad, { crls: [crl, rootCrl] }), false);

    const noCrlSign = pki.issue('no-crlsign', { subject: '/CN=No CRLSign', issuer: root, ext: CA_EXT.map((x) => x.replace(',cRLSign', '')) });
    const l = pki.issue('under-no-crlsign', { subject: `/CN=${HOST}`, issuer: noCrlSign, ext: leafExt(`DNS:${HOST}`) });
    const unusable = pki.crl(noCrlSign, []);
    assert.deepEqual(codes(validatePath({ leaf: l.pem, roots: [root.pem], intermediates: [noCrlSign.pem], crls: [unusable] })), ['crl-invalid']);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], intermediates: [noCrlSign], crls: [unusable, rootCrl] }).ok, false);
  });

  it('reports malformed input instead of throwing', () => {
    const good = leaf('for-truncation', leafExt(`DNS:${HOST}`));
    const r = validatePath({ leaf: good.der.subarray(0, good.der.length - 5), roots: [root.pem], intermediates: [] });
    assert.deepEqual(codes(r), ['malformed']);
    assert.equal(r.chain.length, 1);
    assert.deepEqual(codes(validatePath({ leaf: 'not a certificate', roots: [], intermediates: [] })), ['malformed']);
  });

  it('exports the chain helpers and the list of codes', () => {
    const l = leaf('helpers', leafExt(`DNS:${HOST}`));
    const [lc, ic, rc] = [l, int, root].map((c) => loadCertificate(c.pem));
    assert.equal(issued(ic, lc), undefined);
    assert.equal(issued(rc, lc)?.code, 'no-path');
    const impostor = loadCertificate(pki.issue('helper-impostor', { subject: '/CN=Usage Int', issuer: root, ext: CA_EXT }).pem);
    assert.equal(issued(impostor, lc)?.code, 'signature-invalid');
    assert.equal(isSelfIssued(rc), true);
    assert.equal(isSelfIssued(ic), false);
    assert.deepEqual(basicConstraints(ic), { ca: true, pathLen: undefined });
    assert.deepEqual(basicConstraints(lc), { ca: false, pathLen: undefined });
    assert.deepEqual(certificateProblems(ic, 'intermediate'), []);
    assert.deepEqual(certificateProblems(lc, 'intermediate').map((e) => e.code), ['issuer-not-ca', 'key-usage']);
    assert.deepEqual(certificateProblems(lc, 'leaf', { at: new Date(pki.now + 90 * 86400_000) }).map((e) => e.code), ['expired']);
    const all = Object.values(ERROR_CODES);
    for (const c of ['signature-invalid', 'expired', 'not-yet-valid', 'issuer-not-ca', 'path-length-exceeded', 'key-usage', 'eku-mismatch',
      'name-constraint-violation', 'unknown-critical-extension', 'hostname-mismatch', 'no-path', 'untrusted', 'revoked', 'malformed', 'depth-exceeded']) {
      assert.ok(all.includes(c as (typeof all)[number]), c);
    }
    assert.ok(all.every((c) => /^[a-z]+(-[a-z]+)*$/.test(c)));
  });
});
