import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { analyzeDocument } from '../../server/src/analysis';
import { siblingNames } from '../../server/src/analysis/siblings';
import { ipString } from '../../server/src/analysis/certificate';
import { decodeStats } from '../../server/src/analysis/decode';

const SYSTEM = '/etc/ssl/certs/ca-certificates.crt';

describe('analyzeDocument on the system bundle', () => {
  const text = readFileSync(SYSTEM, 'utf8');
  it('decodes every certificate like OpenSSL does, as a bundle', () => {
    const a = analyzeDocument(text);
    assert.ok(a.blocks.length > 100);
    assert.equal(a.chain.mode, 'bundle');
    for (const b of a.blocks) {
      const c = b.certificate;
      assert.ok(c, `block ${b.index} decoded: ${b.problems.join()}`);
      const x = new X509Certificate(text.slice(b.offsets.start, b.offsets.end));
      assert.equal(c.sha256, x.fingerprint256.replace(/:/g, '').toLowerCase());
      assert.equal(c.notAfter?.getTime(), new Date(x.validTo).getTime());
      assert.equal(c.serialNumber.replace(/^0+/, ''), x.serialNumber.toLowerCase().replace(/^0+/, ''));
      assert.equal(c.isCA, x.ca || c.version < 3);
    }
  });
  it('is JSON-ready: hex fingerprints, ISO dates, no raw DER', () => {
    const json = JSON.parse(JSON.stringify(analyzeDocument(text).blocks[0]));
    assert.match(json.certificate.sha256, /^[0-9a-f]{64}$/);
    assert.match(json.certificate.spkiSha256, /^[0-9a-f]{64}$/);
    assert.match(json.certificate.notAfter, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    assert.equal(JSON.stringify(json).includes('"der"'), false);
    assert.ok(json.range.start);
  });
  it('does not decode unchanged blocks again', () => {
    analyzeDocument(text);
    const before = { ...decodeStats };
    analyzeDocument('# edited\n' + text);
    assert.equal(decodeStats.misses, before.misses);
    assert.ok(decodeStats.hits > before.hits);
  });
  it('analyses beyond a size limit only partially', () => {
    const a = analyzeDocument(text, { maxBytes: 10_000 });
    assert.ok(a.truncated);
    assert.ok(a.blocks.length > 0 && a.blocks.length < 10);
    assert.ok(a.blocks.every((b) => b.problems.length === 0));
  });
  it('scans extra regions at their document positions', () => {
    const first = text.slice(0, text.indexOf('-----END CERTIFICATE-----') + 26);
    const a = analyzeDocument('key: |\n', { regions: [{ text: first, line: 1, character: 2, offset: 9 }] });
    assert.equal(a.blocks.length, 1);
    assert.deepEqual(a.blocks[0].range.start, { line: 1, character: 2 });
  });
});

describe('sibling names', () => {
  const cases: [string, string, string][] = [
    ['site.crt', 'certificate', 'site.key'],
    ['site.key', 'key', 'site.crt'],
    ['site.pem', 'certificate', 'site-key.pem'],
    ['site-key.pem', 'key', 'site.pem'],
    ['site.key.pem', 'key', 'site.pem'],
    ['cert.pem', 'certificate', 'privkey.pem'],
    ['privkey.pem', 'key', 'fullchain.pem'],
    ['key.pem', 'key', 'cert.pem'],
    ['client.root.crt', 'certificate', 'client.root.key'],
  ];
  for (const [name, role, first] of cases) {
    it(`${name} → ${first}`, () => {
      const s = siblingNames(name);
      assert.equal(s?.role, role);
      assert.ok(s?.candidates.includes(first), JSON.stringify(s));
    });
  }
  it('no pattern, no siblings', () => assert.equal(siblingNames('notes.txt'), undefined));
});

describe('ipString', () => {
  it('formats IPv4 and compresses IPv6', () => {
    assert.equal(ipString(Buffer.from([10, 0, 0, 1])), '10.0.0.1');
    assert.equal(ipString(Buffer.from('20010db8000000000000000000000001', 'hex')), '2001:db8::1');
  });
});
