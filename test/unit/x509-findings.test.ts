// Regression tests for the disagreements between the display decoder and the path validator that the one
// decoder of server/src/x509 removed: each builds the certificate that showed the problem and checks every face.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { analyzeDocument } from '../../server/src/analysis';
import { runCliInProcess } from '../fixtures/cli';
import { codeLenses } from '../../server/src/services/codelens';
import { computeDiagnostics } from '../../server/src/services/diagnostics';
import { describeBlock } from '../../server/src/services/hover';
import { DEFAULT_SETTINGS } from '../../server/src/services/settings';
import { validatePath } from '../../server/src/validation';
import { decodeCertificate } from '../../server/src/x509/certificate';
import {
  CN, Keys, bitString, header, bool, buildCertificate, caExtensions, explicit, extension, generalizedTime, int, leafExtensions, name, newKeys, oid,
  pem, printable, seq, tlv, utcTime, utf8,
} from '../fixtures/der';

const dir = mkdtempSync(join(tmpdir(), 'certops-x509-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const write = (file: string, content: string | Buffer) => {
  const path = join(dir, file);
  writeFileSync(path, content);
  return path;
};

// The root alone as the system store, so that nothing outside the test is trusted.
const cli = (argv: string[]) => runCliInProcess(argv, { SSL_CERT_FILE: rootPem });

const rootKeys = newKeys();
const rootName = name([CN, utf8('Findings Root')]);
const root = buildCertificate({ issuer: rootName, subject: rootName, keys: rootKeys, extensions: caExtensions(rootKeys) });
const rootPem = write('root.pem', pem(root));

/** A leaf under the root with `change` applied to its parts. */
function leaf(change: Partial<Parameters<typeof buildCertificate>[0]> = {}, keys: Keys = newKeys()): Buffer {
  return buildCertificate({
    issuer: rootName,
    subject: name([CN, utf8('leaf.example.com')]),
    keys,
    signer: rootKeys,
    extensions: leafExtensions(keys, rootKeys),
    ...change,
  });
}

function analyse(der: Buffer) {
  const a = analyzeDocument(pem(der));
  const b = a.blocks[0];
  const now = new Date();
  // Messages as plain strings, codes as strings, for the assertions below.
  const diags = computeDiagnostics(a, DEFAULT_SETTINGS, { now }).map((d) => ({ code: String(d.code), message: typeof d.message === 'string' ? d.message : d.message.value }));
  return { a, b, c: b.certificate, diags, hover: describeBlock(a, b, { now }) };
}

const NO_JS_INTERNALS = /Cannot read properties|Maximum call stack|undefined|is not a function|RangeError/;

describe('names: PrintableString and UTF8String of the same text are the same name', () => {
  test('verify and lint agree: both OK', async () => {
    const keys = newKeys();
    const file = write('printable-leaf.pem', pem(leaf({ issuer: name([CN, printable('Findings Root')]) }, keys)));
    const v = await cli(['verify', '--roots', rootPem, file]);
    assert.equal(v.code, 0, v.out + v.err);
    const l = await cli(['lint', '--ca', rootPem, file]);
    assert.doesNotMatch(l.out, /chain-incomplete/);
    assert.equal(l.code, 0, l.out + l.err);
  });
});

describe('trailing bytes after the certificate', () => {
  const der = leaf({ trailing: Buffer.from('junk after the certificate') });
  test('the model flags them, lint says pem-malformed, validation refuses', () => {
    const { c, diags } = analyse(der);
    assert.ok(c);
    assert.match(c.problems.map((p) => p.message).join(), /26 octets of trailing data after the certificate/);
    assert.ok(diags.some((d) => d.code === 'pem-malformed' && /trailing data/.test(d.message)));
    const r = validatePath({ leaf: der, roots: [root], intermediates: [] });
    assert.equal(r.valid, false);
    assert.equal(r.errors[0].code, 'malformed');
  });
  test('the bytes the model hands on carry the trailing data, so a strict reader refuses them too', () => {
    const { c } = analyse(der);
    assert.ok(c);
    const r = validatePath({ leaf: c[Object.getOwnPropertySymbols(c)[0] as never]['der'] as Buffer, roots: [root], intermediates: [] });
    assert.equal(r.errors[0]?.code, 'malformed');
  });
  test('path validation takes the decoded model as it is: no second parse, the same verdict', () => {
    const flagged = decodeCertificate(der);
    assert.equal(validatePath({ leaf: flagged, roots: [root], intermediates: [] }).errors[0]?.code, 'malformed');
    const good = decodeCertificate(leaf());
    assert.deepEqual(validatePath({ leaf: good, roots: [decodeCertificate(root)], intermediates: [] }), validatePath({ leaf: Buffer.from(good.der), roots: [root], intermediates: [] }));
    assert.equal(validatePath({ leaf: good, roots: [root], intermediates: [] }).valid, true);
  });
  test("OpenSSL's trust settings after a TRUSTED CERTIFICATE are not trailing data; a second certificate is", () => {
    const aux = seq(seq(oid('1.3.6.1.5.5.7.3.1')), utf8('alias'));
    assert.deepEqual(decodeCertificate(leaf({ trailing: aux })).problems, []);
    const two = decodeCertificate(Buffer.concat([leaf(), root]));
    assert.match(two.problems.map((p) => p.message).join(), /octets of trailing data after the certificate/);
  });
  test('a DER file with trailing bytes: lint exits 1 and verify refuses', async () => {
    const file = write('trailing.der', der);
    const l = await cli(['lint', '--ca', rootPem, file]);
    assert.equal(l.code, 1, l.out);
    assert.match(l.out, /pem-malformed.*trailing data/);
    const v = await cli(['verify', '--roots', rootPem, file]);
    assert.notEqual(v.code, 0, v.out);
  });
});

describe('impossible times are never rolled over', () => {
  for (const [label, time] of [
    ['month 13', utcTime('281301000000Z')],
    ['30 February', utcTime('280230000000Z')],
    ['hour 24', generalizedTime('20280101240000Z')],
  ] as const) {
    test(`${label}: no date, no days left, pem-malformed with the reason, lint exits 1`, async () => {
      const der = leaf({ notAfter: time });
      const { a, c, diags, hover } = analyse(der);
      assert.ok(c);
      assert.equal(c.notAfter, undefined);
      assert.ok(c.notBefore instanceof Date);
      const p = c.problems.find((x) => x.field === 'validity.notAfter');
      assert.ok(p, JSON.stringify(c.problems));
      assert.match(p.message, new RegExp(`${label.split(' ')[0] === '30' ? 'day 30' : label} is out of range`));
      assert.ok(diags.some((d) => d.code === 'pem-malformed' && d.message.includes('validity.notAfter')));
      assert.ok(!diags.some((d) => d.code.startsWith('cert-expir')));
      assert.doesNotMatch(hover, /2028-01-01|2028-03-0|days? left|expires in/);
      const lens = codeLenses(a, { now: new Date() })[0].command?.title ?? '';
      assert.match(lens, /invalid expiry date · malformed$/);
      assert.match(hover, /\*\*invalid\*\*/);
      const file = write(`time-${label.replace(' ', '-')}.pem`, pem(der));
      assert.equal((await cli(['lint', '--ca', rootPem, file])).code, 1);
      assert.equal((await cli(['verify', '--roots', rootPem, file])).code, 1);
    });
  }
});

describe('booleans, integers and OIDs are exact or flagged', () => {
  const keys = newKeys();
  const withBc = (bc: Buffer) => leaf({ extensions: [extension('2.5.29.19', true, bc), ...leafExtensions(keys, rootKeys).slice(1)] }, keys);
  test('an empty BOOLEAN in basicConstraints is not CA:TRUE', () => {
    const { c, hover, diags } = analyse(withBc(seq(tlv(0x01))));
    assert.ok(c);
    assert.equal(c.basicConstraints, undefined);
    assert.equal(c.isCA, false);
    assert.match(c.problems.find((p) => p.field === 'basicConstraints')?.message ?? '', /BOOLEAN with 0 content octets/);
    assert.doesNotMatch(hover, /CA:TRUE/);
    assert.match(hover, /Basic constraints \| \*\*invalid\*\*/);
    assert.ok(diags.some((d) => d.code === 'pem-malformed' && /basicConstraints/.test(d.message)));
  });
  test('a huge pathLen is flagged with its exact value, a negative one as negative', () => {
    const huge = analyse(withBc(seq(bool(true), int(2n ** 88n))));
    assert.match(huge.c?.problems.map((p) => p.message).join() ?? '', /pathLenConstraint 309485009821345068724781056 is too large/);
    assert.doesNotMatch(huge.hover, /e\+26/);
    const negative = analyse(withBc(seq(bool(true), int(-1))));
    assert.match(negative.c?.problems.map((p) => p.message).join() ?? '', /negative pathLenConstraint -1/);
    assert.doesNotMatch(negative.hover, /pathlen:255/);
  });
  test('a huge OID arc is shown exactly', () => {
    const big = '1.3.6.1.4.1.18446744073709551617.340282366920938463463374607431768211457';
    const { c, hover } = analyse(leaf({ extensions: [...leafExtensions(keys, rootKeys), extension(big, false, seq())] }, keys));
    assert.equal(c?.otherExtensions?.[0].oid, big);
    assert.ok(hover.includes(big));
  });
});

describe('precise messages, bounded depth', () => {
  test('an empty [0] version', () => {
    const { c, diags } = analyse(leaf({ version: explicit(0) }));
    assert.ok(c);
    const p = c.problems.find((x) => x.field === 'version');
    assert.equal(p?.message, 'the explicit [0] version is empty');
    for (const d of diags) assert.doesNotMatch(d.message, NO_JS_INTERNALS);
  });
  test('deeply nested cRLDistributionPoints', () => {
    // Built inside out in one pass: 50,000 [0] wrappers around an empty SEQUENCE.
    const headers: Buffer[] = [];
    let size = 2;
    for (let i = 0; i < 50_000; i++) {
      const h = header(0xa0, size);
      headers.push(h);
      size += h.length;
    }
    const nested = Buffer.concat([...headers.reverse(), seq()]);
    const keys = newKeys();
    const der = leaf({ extensions: [...leafExtensions(keys, rootKeys), extension('2.5.29.31', false, seq(seq(nested)))] }, keys);
    const { c, diags } = analyse(der);
    assert.ok(c);
    for (const d of diags) assert.doesNotMatch(d.message, NO_JS_INTERNALS);
    for (const p of c.problems) assert.doesNotMatch(p.message, NO_JS_INTERNALS);
  });
});

describe('unknown extensions are opaque', () => {
  const keys = newKeys();
  const ATTESTATION = '1.3.6.1.4.1.11129.2.1.17';
  test('a value that is not DER, or empty, is shown, not parsed', () => {
    for (const value of [Buffer.from([0xff, 0x00, 0x01, 0x02]), Buffer.alloc(0)]) {
      const exts = [...leafExtensions(keys, rootKeys), tlv(0x30, oid(ATTESTATION), tlv(0x04, value))];
      const der = leaf({ extensions: exts }, keys);
      const { b, c, diags, hover } = analyse(der);
      assert.ok(c, b.problems.join());
      assert.deepEqual(c.problems, []);
      assert.ok(!diags.some((d) => d.code === 'pem-malformed'));
      assert.deepEqual(c.otherExtensions, [{ oid: ATTESTATION, critical: false, length: value.length, preview: value.toString('hex') }]);
      assert.match(hover, new RegExp(`${ATTESTATION.replace(/\./g, '\\.')}, ${value.length} bytes`));
      assert.match(hover, /SHA-256/);
      assert.ok(c.notAfter instanceof Date);
      assert.equal(validatePath({ leaf: der, roots: [root], intermediates: [] }).valid, true);
    }
  });
  test('a criticality flag that is not a BOOLEAN is not guessed', () => {
    const der = leaf({ extensions: [...leafExtensions(keys, rootKeys), tlv(0x30, oid(ATTESTATION), tlv(0x01), tlv(0x04, Buffer.from([1])))] }, keys);
    const { c, hover } = analyse(der);
    assert.equal(c?.otherExtensions?.[0].critical, undefined);
    assert.match(hover, /criticality \*\*invalid\*\*/);
    assert.ok(c?.problems.some((p) => p.severity === 'error' && /BOOLEAN with 0 content octets/.test(p.message)));
  });
  test('a critical unknown extension is still a validation error', () => {
    const der = leaf({ extensions: [...leafExtensions(keys, rootKeys), extension(ATTESTATION, true, Buffer.from([0xff]))] }, keys);
    const r = validatePath({ leaf: der, roots: [root], intermediates: [] });
    assert.deepEqual(r.errors.map((e) => e.code), ['unknown-critical-extension']);
  });
});

describe('serial numbers, SAN strings, attribute names, signature algorithms', () => {
  test('a negative serial number is shown signed and flagged', () => {
    const { c, diags } = analyse(leaf({ serial: int(-1) }));
    assert.equal(c?.serialNumber, '-01');
    assert.ok(diags.some((d) => d.code === 'cert-nonconforming' && /negative serial number -1/.test(d.message)));
  });
  test('a UTF-8 dNSName is shown escaped and flagged, never as mojibake', () => {
    const keys = newKeys();
    const exts = leafExtensions(keys, rootKeys).slice(0, 5);
    exts.push(extension('2.5.29.17', false, seq(tlv(0x82, Buffer.from('bücher.example', 'utf8')))));
    const { c, hover } = analyse(leaf({ extensions: exts }, keys));
    assert.equal(c?.sans[0].value, 'b\\xc3\\xbccher.example');
    assert.doesNotMatch(hover, /bÃ¼cher/);
    assert.match(c?.problems.map((p) => `${p.field}: ${p.message}`).join() ?? '', /subjectAltName: dNSName .* contains octets above 0x7F/);
  });
  test('standard attribute types are printed by name', () => {
    const subject = name(
      ['2.5.4.46', printable('dnq')], ['2.5.4.44', utf8('III')], ['2.5.4.65', utf8('nym')], ['2.5.4.43', utf8('JQ')],
      ['2.5.4.17', utf8('75001')], ['2.5.4.13', utf8('desc')], ['2.5.4.45', bitString(Buffer.from([0xab]))], [CN, utf8('named')],
    );
    const { c } = analyse(leaf({ subject }));
    assert.equal(c?.subject, 'CN=named+x500UniqueIdentifier=#030200ab'.replace('+', ',') + ',description=desc,postalCode=75001,initials=JQ,pseudonym=nym,generationQualifier=III,dnQualifier=dnq');
  });
  test('MD2, MD5 and old SHA-1 signature OIDs are named and weak', () => {
    for (const [id, label] of [
      ['1.2.840.113549.1.1.2', 'md2WithRSAEncryption'],
      ['1.2.840.113549.1.1.4', 'md5WithRSAEncryption'],
      ['1.3.14.3.2.3', 'md5WithRSA'],
      ['1.3.14.3.2.29', 'sha1WithRSA'],
    ]) {
      const { c, diags } = analyse(leaf({ signatureAlg: seq(oid(id), tlv(0x05)) }));
      assert.equal(c?.signatureAlgorithm, label);
      assert.ok(diags.some((d) => d.code === 'signature-weak' && d.message.includes(label)), label);
    }
  });
  test('inner and outer signature algorithms that differ are flagged on the block', () => {
    const { diags } = analyse(leaf({ tbsSignatureAlg: seq(oid('1.2.840.10045.4.3.3')) }));
    const d = diags.find((x) => x.code === 'cert-nonconforming');
    assert.match(d?.message ?? '', /TBS signature algorithm \(ecdsa-with-SHA384\) differs from the outer signatureAlgorithm \(ecdsa-with-SHA256\)/);
  });
  test('a subject that is not a Name: the rest is shown, the certificate named (invalid subject)', () => {
    const { c, hover } = analyse(leaf({ subject: tlv(0x31, seq()) }));
    assert.ok(c);
    assert.equal(c.subject, '');
    assert.match(c.problems.map((p) => `${p.field}: ${p.message}`).join(), /subject: expected tag 0x30, found 0x31/);
    assert.match(hover, /\(invalid subject\)/);
    assert.ok(c.notAfter instanceof Date && c.sans.length === 1);
  });
  test('decodeCertificate keeps going after a broken field', () => {
    const c = decodeCertificate(leaf({ notBefore: utcTime('991332000000Z') }));
    assert.equal(c.notBefore, undefined);
    assert.ok(c.subject && c.notAfter !== undefined && c.subjectAltName);
  });
});

describe('one signature verifier', () => {
  test('a CSR self-signature (ECDSA, and RSA-PSS) verifies through it; a damaged one does not', () => {
    for (const [name, args] of [
      ['ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
      ['pss', ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']],
    ] as const) {
      const out = join(dir, `${name}.csr`);
      execFileSync('openssl', ['req', '-new', ...args, '-nodes', '-keyout', join(dir, `${name}.csr.key`), '-subj', '/CN=csr', '-config', '/dev/null', '-out', out], { stdio: 'pipe' });
      const text = readFileSync(out, 'utf8');
      assert.equal(analyzeDocument(text).blocks[0].csr?.signatureValid, true, name);
      const der = Buffer.from(text.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      der[der.length - 5] ^= 0x01;
      const damaged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      assert.equal(analyzeDocument(damaged).blocks[0].csr?.signatureValid, false, name);
    }
  });
});
