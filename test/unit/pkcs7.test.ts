// PKCS#7 as found in the wild: DER from openssl crl2pkcs7, BER with indefinite lengths as Windows exports
// .p7b files, streamed CMS with constructed OCTET STRINGs; the BER reader's bounds and messages.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { analyzeDocument } from '../../server/src/analysis';
import { labelOfDer } from '../../server/src/analysis/decode';
import { parsePkcs7, PKCS7_MAX_CERTIFICATES } from '../../server/src/analysis/objects';
import { BER_LIMITS, berToDer } from '../../server/src/der/ber';
import { contentOf, elements, indefinite } from '../fixtures/ber';
import { tlv } from '../fixtures/der';
import { Pki } from '../fixtures/pki';

const pki = new Pki();
after(() => pki.dispose());
const { root, intermediate, leaf } = pki.chain('p7');
const at = (name: string) => `${pki.dir}/${name}`;
const chainPem = pki.write('chain.pem', leaf.pem + intermediate.pem + root.pem);
pki.openssl(['crl2pkcs7', '-nocrl', '-certfile', chainPem, '-outform', 'DER', '-out', at('chain.p7b')]);
const p7b = readFileSync(at('chain.p7b'));
const sha256s = [leaf, intermediate, root].map((c) => analyzeDocument(c.pem).blocks[0].certificate?.sha256);

function pem(label: string, bytes: Buffer): string {
  return `-----BEGIN ${label}-----\n${bytes.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;
}

describe('PKCS#7 certificates', () => {
  test('DER from openssl crl2pkcs7: every certificate, in order, with its fingerprint', () => {
    assert.equal(labelOfDer(p7b), 'PKCS7');
    const info = parsePkcs7(p7b);
    assert.deepEqual(info.certificates.map((c) => c.sha256), sha256s);
    assert.equal(info.crlCount, 0);
  });

  test('BER with indefinite lengths (a Windows .p7b export) reads the same, and re-encodes to the DER byte for byte', () => {
    for (const depth of [1, 2, 3, 4]) {
      const ber = indefinite(p7b, depth);
      assert.equal(ber[1], 0x80, 'the outer ContentInfo has an indefinite length');
      assert.notDeepEqual(ber, p7b);
      assert.equal(labelOfDer(ber), 'PKCS7', `depth ${depth}`);
      assert.deepEqual(berToDer(ber, 'test'), p7b, `depth ${depth}`);
      assert.deepEqual(parsePkcs7(ber).certificates.map((c) => c.sha256), sha256s, `depth ${depth}`);
      const block = analyzeDocument(pem('PKCS7', ber)).blocks[0];
      assert.deepEqual(block.problems, []);
      assert.equal(block.pkcs7?.certificates.length, 3);
    }
  });

  test('definite lengths outside and indefinite ones inside are read too', () => {
    const [contentType, explicit] = elements(contentOf(p7b));
    const signedData = elements(contentOf(explicit))[0];
    const mixed = tlv(0x30, Buffer.concat([contentType, tlv(0xa0, indefinite(signedData, 2))]));
    assert.equal(mixed[1] & 0x80, 0x80, 'a definite long-form length outside');
    assert.ok(mixed.includes(Buffer.from([0x30, 0x80, 0x02, 0x01, 0x01])), 'an indefinite SignedData inside');
    assert.deepEqual(berToDer(mixed, 'test'), p7b);
    assert.deepEqual(parsePkcs7(mixed).certificates.map((c) => c.sha256), sha256s);
  });

  test('DER input is returned as is, without a copy', () => {
    assert.equal(berToDer(p7b, 'test'), p7b);
  });

  test('streamed CMS (openssl cms -sign -stream): indefinite lengths and a constructed OCTET STRING', () => {
    const msg = pki.write('msg.txt', 'hello\n'.repeat(2000));
    const intermediateFile = pki.write('int-and-root.pem', intermediate.pem + root.pem);
    pki.openssl(['cms', '-sign', '-in', msg, '-signer', leaf.certPath, '-inkey', leaf.keyPath, '-certfile', intermediateFile, '-stream', '-nodetach', '-binary', '-outform', 'DER', '-out', at('signed.p7')]);
    const cms = readFileSync(at('signed.p7'));
    assert.equal(cms.subarray(0, 2).toString('hex'), '3080');
    assert.ok(cms.includes(Buffer.from([0x24, 0x80])), 'the streamed content is a constructed OCTET STRING');
    assert.equal(labelOfDer(cms), 'PKCS7');
    assert.deepEqual(new Set(parsePkcs7(cms).certificates.map((c) => c.sha256)), new Set(sha256s));
    const flattened = berToDer(cms, 'test');
    assert.ok(flattened.includes(Buffer.from('hello\n'.repeat(2000))), 'the content pieces are joined in order');
  });

  test('constructed OCTET STRINGs are joined, nested or definite', () => {
    const piece = (s: string) => tlv(0x04, Buffer.from(s));
    const nested = Buffer.concat([Buffer.from([0x24, 0x80]), piece('ab'), tlv(0x24, Buffer.concat([piece('cd'), piece('e')])), Buffer.from([0, 0])]);
    const seq = Buffer.concat([Buffer.from([0x30, 0x80]), nested, Buffer.from([0, 0])]);
    assert.deepEqual(berToDer(seq, 'test'), tlv(0x30, tlv(0x04, Buffer.from('abcde'))));
  });

  test('other content types and broken wrappers say what is wrong', () => {
    const enveloped = tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from('2a864886f70d010703', 'hex')), tlv(0xa0, tlv(0x30, Buffer.alloc(0)))]));
    assert.deepEqual(analyzeDocument(pem('PKCS7', enveloped)).blocks[0].problems, [
      'the content does not parse as PKCS7 (PKCS#7 ContentInfo: the content is envelopedData, not SignedData, so it carries no certificates)',
    ]);
    const noVersion = tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from('2a864886f70d010702', 'hex')), tlv(0xa0, tlv(0x30, tlv(0x31, Buffer.alloc(0))))]));
    assert.deepEqual(analyzeDocument(pem('PKCS7', noVersion)).blocks[0].problems, ['the content does not parse as PKCS7 (SignedData: version is a SET, not an INTEGER)']);
    const truncated = indefinite(p7b, 3).subarray(0, 200);
    assert.match(analyzeDocument(pem('PKCS7', truncated)).blocks[0].problems[0], /^the content does not parse as PKCS7 \(PKCS#7 ContentInfo: .+\)$/);
    // A certificate inside that does not decode is named by its position.
    const signedData = elements(contentOf(elements(contentOf(p7b))[1]))[0];
    const setOfCerts = elements(contentOf(signedData)).find((e) => e[0] === 0xa0)!;
    const broken = Buffer.from(p7b);
    const offset = p7b.indexOf(setOfCerts) + (setOfCerts.length - contentOf(setOfCerts).length);
    broken[offset + 4] = 0x31; // the first certificate's tbsCertificate is now a SET
    assert.match(analyzeDocument(pem('PKCS7', broken)).blocks[0].problems[0], /^the content does not parse as PKCS7 \(SignedData certificate 1 of 3: .+\)$/);
  });
});

describe('the BER reader is bounded', () => {
  const eoc = Buffer.from([0, 0]);
  const open = (tag = 0x30) => Buffer.from([tag, 0x80]);

  test(`nesting deeper than ${BER_LIMITS.maxDepth} indefinite levels`, () => {
    const n = BER_LIMITS.maxDepth + 1;
    const deep = Buffer.concat([...Array(n).fill(open()), ...Array(n).fill(eoc)]);
    assert.throws(() => berToDer(deep, 'PKCS#7 ContentInfo'), { message: `PKCS#7 ContentInfo: BER nested deeper than ${BER_LIMITS.maxDepth} levels` });
    const ok = Buffer.concat([...Array(n - 1).fill(open()), ...Array(n - 1).fill(eoc)]);
    assert.equal(berToDer(ok, 'test').length, 2 * (n - 1));
    // 100,000 levels are refused just as fast, without exhausting the stack.
    const hostile = Buffer.alloc(200_000, Buffer.from([0x30, 0x80]));
    assert.throws(() => berToDer(hostile, 'x'), /nested deeper/);
  });

  test(`more than ${BER_LIMITS.maxElements} elements`, () => {
    const many = Buffer.concat([open(), Buffer.alloc(2 * BER_LIMITS.maxElements, Buffer.from([0x05, 0x00])), eoc]);
    assert.throws(() => berToDer(many, 'PKCS#7 ContentInfo'), { message: `PKCS#7 ContentInfo: more than ${BER_LIMITS.maxElements} BER elements` });
  });

  test('missing end-of-contents, primitive indefinite, bad OCTET STRING pieces, long lengths', () => {
    assert.throws(() => berToDer(Buffer.concat([open(), tlv(0x02, Buffer.from([1]))]), 'W'), { message: 'W: BER element at offset 0 has no end-of-contents marker' });
    assert.throws(() => berToDer(Buffer.concat([open(), Buffer.from([0x04, 0x80]), eoc, eoc]), 'W'), { message: 'W: primitive BER element with indefinite length at offset 2' });
    assert.throws(() => berToDer(Buffer.concat([open(0x24), tlv(0x02, Buffer.from([1])), eoc]), 'W'), { message: 'W: a constructed OCTET STRING holds something other than OCTET STRINGs' });
    assert.throws(() => berToDer(Buffer.concat([open(), Buffer.from([0x04, 0x85, 1, 0, 0, 0, 0]), eoc]), 'W'), { message: 'W: BER length of 5 octets at offset 2' });
    assert.throws(() => berToDer(Buffer.concat([open(), Buffer.from([0x04, 0x82, 0xff, 0xff]), eoc]), 'W'), { message: 'W: BER element at offset 2 runs past the end of its container' });
  });

  test(`at most ${PKCS7_MAX_CERTIFICATES} certificates are decoded from one PKCS#7`, () => {
    const certs = tlv(0xa0, Buffer.alloc(2 * (PKCS7_MAX_CERTIFICATES + 1), Buffer.from([0x30, 0x00])));
    const signedData = tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([1])), tlv(0x31, Buffer.alloc(0)), tlv(0x30, tlv(0x06, Buffer.from('2a864886f70d010701', 'hex'))), certs, tlv(0x31, Buffer.alloc(0))]));
    const p7 = tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from('2a864886f70d010702', 'hex')), tlv(0xa0, signedData)]));
    assert.throws(() => parsePkcs7(p7), { message: `SignedData: ${PKCS7_MAX_CERTIFICATES + 1} certificates, more than the ${PKCS7_MAX_CERTIFICATES} certops reads` });
  });
});
