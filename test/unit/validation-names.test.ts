// Host name matching (RFC 6125/9525, CA/B Forum) and name constraints
// (RFC 5280 §4.2.1.10), each hierarchy also checked with `openssl verify`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PeerName, loadCertificate, matchesHostname, validatePath } from '../../server/src/validation';
import { CA_EXT, Issued, Pki, ROOT_EXT, leafExt } from '../fixtures/pki';

const codes = (r: { errors: { code: string }[] }) => [...new Set(r.errors.map((e) => e.code))].sort();

describe('validation: host names', () => {
  let pki: Pki;
  let root: Issued;
  const leafWith = (name: string, san: string, cn = 'Server') => pki.issue(name, { subject: `/CN=${cn}`, issuer: root, ext: leafExt(san) });
  const check = (leaf: Issued, peer: PeerName) => validatePath({ leaf: leaf.pem, roots: [root.pem], intermediates: [], peerName: peer });

  before(() => {
    pki = new Pki();
    root = pki.issue('root', { subject: '/CN=Names Root', ext: ROOT_EXT });
  });
  after(() => pki.dispose());

  it('matches dNSName entries case-insensitively', () => {
    const l = leafWith('exact', 'DNS:Www.Example.TEST');
    assert.equal(check(l, { kind: 'DNS', value: 'www.example.test' }).valid, true);
    assert.equal(check(l, { kind: 'DNS', value: 'WWW.EXAMPLE.TEST.' }).valid, true);
    assert.deepEqual(codes(check(l, { kind: 'DNS', value: 'example.test' })), ['hostname-mismatch']);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], host: 'www.example.test' }).ok, true);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], host: 'example.test' }).ok, false);
  });

  it('accepts a wildcard only as the whole left-most label, covering exactly one label', () => {
    const w = leafWith('wild', 'DNS:*.example.test');
    assert.equal(check(w, { kind: 'DNS', value: 'a.example.test' }).valid, true);
    assert.equal(check(w, { kind: 'DNS', value: 'example.test' }).valid, false);
    assert.equal(check(w, { kind: 'DNS', value: 'a.b.example.test' }).valid, false);
    assert.equal(pki.opensslVerify({ leaf: w, roots: [root], host: 'a.example.test' }).ok, true);
    assert.equal(pki.opensslVerify({ leaf: w, roots: [root], host: 'a.b.example.test' }).ok, false);
    const partial = leafWith('partial-wild', 'DNS:f*.example.test');
    assert.deepEqual(codes(check(partial, { kind: 'DNS', value: 'foo.example.test' })), ['hostname-mismatch']);
    // OpenSSL still honours a partial left-most wildcard such as f*; certops follows CA/B Forum and refuses it.
    assert.equal(pki.opensslVerify({ leaf: partial, roots: [root], host: 'foo.example.test' }).ok, true);
    const tld = leafWith('tld-wild', 'DNS:*.test');
    assert.equal(check(tld, { kind: 'DNS', value: 'example.test' }).valid, false);
    assert.equal(pki.opensslVerify({ leaf: tld, roots: [root], host: 'example.test' }).ok, false);
  });

  it('never falls back to the subject common name', () => {
    const l = leafWith('cn-only', 'DNS:other.example.test', 'www.example.test');
    assert.deepEqual(codes(check(l, { kind: 'DNS', value: 'www.example.test' })), ['hostname-mismatch']);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], host: 'www.example.test' }).ok, false);
  });

  it('matches IP addresses only against iPAddress entries', () => {
    const l = leafWith('ip', 'IP:192.0.2.7, IP:2001:db8::1, DNS:198.51.100.1.example.test');
    assert.equal(check(l, { kind: 'IP', value: '192.0.2.7' }).valid, true);
    assert.equal(check(l, { kind: 'IP', value: '2001:DB8:0:0:0:0:0:1' }).valid, true);
    assert.equal(check(l, { kind: 'IP', value: '192.0.2.8' }).valid, false);
    assert.equal(check(l, { kind: 'DNS', value: '192.0.2.7' }).valid, false);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], ip: '192.0.2.7' }).ok, true);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], ip: '192.0.2.8' }).ok, false);
  });

  it('compares internationalized names as A-labels', () => {
    const l = leafWith('idn', 'DNS:xn--bcher-kva.example.test');
    assert.equal(check(l, { kind: 'DNS', value: 'bücher.example.test' }).valid, true);
    assert.equal(check(l, { kind: 'DNS', value: 'xn--bcher-kva.example.test' }).valid, true);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], host: 'xn--bcher-kva.example.test' }).ok, true);
  });

  it('refuses a subject CN that spells a SAN entry differently (CA/B Forum 7.1.4.3)', () => {
    const l = leafWith('cn-case', 'DNS:www.example.test', 'WWW.Example.test');
    assert.deepEqual(codes(check(l, { kind: 'DNS', value: 'www.example.test' })), ['profile-violation']);
    // OpenSSL does not compare the CN with the SAN: certops is stricter here.
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], host: 'www.example.test' }).ok, true);
    const ip = leafWith('cn-ip', 'IP:10.0.0.1', '010.000.000.001');
    assert.deepEqual(codes(check(ip, { kind: 'IP', value: '10.0.0.1' })), ['profile-violation']);
    const descriptive = leafWith('cn-label', 'DNS:www.example.test', 'Front door server');
    assert.equal(check(descriptive, { kind: 'DNS', value: 'www.example.test' }).valid, true);
  });

  it('exports matchesHostname for diagnostics', () => {
    const c = loadCertificate(leafWith('helper', 'DNS:*.example.test, IP:127.0.0.1').pem);
    assert.equal(matchesHostname(c, 'x.example.test'), true);
    assert.equal(matchesHostname(c, '127.0.0.1'), true);
    assert.equal(matchesHostname(c, 'example.test'), false);
  });
});

describe('validation: name constraints', () => {
  let pki: Pki;
  let root: Issued;
  const constrained = (name: string, nc: string) =>
    pki.issue(name, { subject: `/CN=${name}`, issuer: root, ext: [...CA_EXT, `nameConstraints = critical,${nc}`] });
  const leafUnder = (ca: Issued, name: string, san: string, subject = '/CN=Server') =>
    pki.issue(name, { subject, issuer: ca, ext: leafExt(san) });
  const check = (leaf: Issued, ca: Issued, peer: PeerName | null = null) =>
    validatePath({ leaf: leaf.pem, roots: [root.pem], intermediates: [ca.pem], peerName: peer });
  const ossl = (leaf: Issued, ca: Issued) => pki.opensslVerify({ leaf, roots: [root], intermediates: [ca] }).ok;

  before(() => {
    pki = new Pki();
    root = pki.issue('root', { subject: '/CN=NC Root', ext: ROOT_EXT });
  });
  after(() => pki.dispose());

  it('confines dNSNames to permitted subtrees', () => {
    const ca = constrained('dns-permit', 'permitted;DNS:example.test');
    const inside = leafUnder(ca, 'dns-in', 'DNS:a.b.example.test, DNS:example.test');
    const outside = leafUnder(ca, 'dns-out', 'DNS:a.example.test, DNS:example.org');
    const lookalike = leafUnder(ca, 'dns-lookalike', 'DNS:badexample.test');
    assert.equal(check(inside, ca).valid, true);
    assert.deepEqual(codes(check(outside, ca)), ['name-constraint-violation']);
    assert.deepEqual(codes(check(lookalike, ca)), ['name-constraint-violation']);
    assert.equal(ossl(inside, ca), true);
    assert.equal(ossl(outside, ca), false);
    assert.equal(ossl(lookalike, ca), false);
  });

  it('rejects dNSNames in excluded subtrees, including wildcards that could cover one', () => {
    const ca = constrained('dns-exclude', 'excluded;DNS:secret.example.test');
    const hit = leafUnder(ca, 'dns-hit', 'DNS:x.secret.example.test');
    const wild = leafUnder(ca, 'dns-wild', 'DNS:*.example.test');
    const fine = leafUnder(ca, 'dns-fine', 'DNS:public.example.test');
    assert.deepEqual(codes(check(hit, ca)), ['name-constraint-violation']);
    assert.deepEqual(codes(check(wild, ca)), ['name-constraint-violation']);
    assert.equal(check(fine, ca).valid, true);
    assert.equal(ossl(hit, ca), false);
    // OpenSSL compares the pattern literally and lets *.example.test through (CVE-2025-61727); certops is stricter.
    assert.equal(ossl(wild, ca), true);
    assert.equal(ossl(fine, ca), true);
  });

  it('applies iPAddress subtrees to IP SANs of the same family', () => {
    const ca = constrained('ip-permit', 'permitted;IP:10.0.0.0/255.0.0.0, excluded;IP:10.9.0.0/255.255.0.0');
    const ok = leafUnder(ca, 'ip-in', 'IP:10.1.2.3');
    const bad = leafUnder(ca, 'ip-out', 'IP:192.0.2.1');
    const excl = leafUnder(ca, 'ip-excluded', 'IP:10.9.1.1');
    // With only IPv4 subtrees permitted, an IPv6 address is outside all of them.
    const v6 = leafUnder(ca, 'ip-v6', 'IP:2001:db8::5');
    assert.equal(check(ok, ca).valid, true);
    assert.deepEqual(codes(check(bad, ca)), ['name-constraint-violation']);
    assert.deepEqual(codes(check(excl, ca)), ['name-constraint-violation']);
    assert.deepEqual(codes(check(v6, ca)), ['name-constraint-violation']);
    assert.equal(ossl(ok, ca), true);
    assert.equal(ossl(bad, ca), false);
    assert.equal(ossl(excl, ca), false);
    assert.equal(ossl(v6, ca), false);
  });

  it('applies rfc822Name subtrees to SAN emails and the subject emailAddress', () => {
    const ca = constrained('email', 'permitted;email:example.test, permitted;DNS:example.test');
    const ok = leafUnder(ca, 'mail-ok', 'email:ops@example.test, DNS:www.example.test');
    const badSan = leafUnder(ca, 'mail-bad', 'email:ops@example.org, DNS:www.example.test');
    const badSubject = leafUnder(ca, 'mail-subject', 'DNS:www.example.test', '/CN=Server/emailAddress=ops@example.org');
    assert.equal(check(ok, ca).valid, true);
    assert.deepEqual(codes(check(badSan, ca)), ['name-constraint-violation']);
    assert.deepEqual(codes(check(badSubject, ca)), ['name-constraint-violation']);
    assert.equal(ossl(ok, ca), true);
    assert.equal(ossl(badSan, ca), false);
    assert.equal(ossl(badSubject, ca), false);
  });

  it('applies directoryName subtrees to subject names', () => {
    const ca = pki.issue('dn-ca', { subject: '/CN=dn-ca', issuer: root, ext: [...CA_EXT, 'nameConstraints = critical,permitted;dirName:dn_sect', '[dn_sect]', 'O = Acme'] });
    const ok = leafUnder(ca, 'dn-ok', 'DNS:www.example.test', '/O=Acme/CN=Server');
    const bad = leafUnder(ca, 'dn-bad', 'DNS:www.example.test', '/O=Other/CN=Server');
    assert.equal(check(ok, ca).valid, true);
    assert.deepEqual(codes(check(bad, ca)), ['name-constraint-violation']);
    assert.equal(ossl(ok, ca), true);
    assert.equal(ossl(bad, ca), false);
  });

  it('exempts self-issued intermediates below the constrained CA, but never the leaf', () => {
    const ca = constrained('si-ca', 'permitted;DNS:example.test');
    const rolled = pki.issue('si-rolled', { subject: '/CN=si-ca', issuer: ca, ext: [...CA_EXT, 'subjectAltName = DNS:elsewhere.org'] });
    const l = leafUnder(rolled, 'si-leaf', 'DNS:www.example.test');
    const r = validatePath({ leaf: l.pem, roots: [root.pem], intermediates: [ca.pem, rolled.pem] });
    assert.deepEqual(r.errors, []);
    assert.equal(r.chain.length, 4);
    assert.equal(pki.opensslVerify({ leaf: l, roots: [root], intermediates: [ca, rolled] }).ok, true);
  });

  it('refuses malformed constraints such as a DNS constraint with a leading period', () => {
    const ca = constrained('dot-ca', 'permitted;DNS:.example.test');
    const l = leafUnder(ca, 'dot-leaf', 'DNS:www.example.test');
    assert.deepEqual(codes(check(l, ca)), ['invalid-extension']);
    // OpenSSL reads ".example.test" as "subdomains of"; RFC 5280 only gives that meaning to URI constraints.
    assert.equal(ossl(l, ca), true);
  });
});
