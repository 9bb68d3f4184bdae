// Key and parameter material as real tools write it, decoded by the engine: traditional DSA, OpenSSH, Ed/X
// curves, explicit EC parameters, encrypted PKCS#8, DH parameters; DER files recognised by their structure;
// every decoding failure a sentence, never JavaScript internals.
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { analyzeDocument, AnalyzedBlock } from '../../server/src/analysis';
import { labelOfDer } from '../../server/src/analysis/decode';
import { elementAt } from '../fixtures/ber';
import { tlv } from '../fixtures/der';
import { Pki, ROOT_EXT } from '../fixtures/pki';
import { ensureDebianPackages } from '../tools/debian.mjs';

ensureDebianPackages([['/usr/bin/ssh-keygen', 'openssh-client'], ['/usr/bin/openssl', 'openssl']]);

const pki = new Pki();
after(() => pki.dispose());
const openssl = (...args: string[]) => pki.openssl(args);
const at = (name: string) => `${pki.dir}/${name}`;
const sshKeygen = (args: string[]) => execFileSync('/usr/bin/ssh-keygen', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** The one block of a PEM file, decoded. */
function decodeFile(name: string): AnalyzedBlock {
  const a = analyzeDocument(readFileSync(at(name), 'utf8'));
  assert.equal(a.blocks.length, 1, `${name}: one block`);
  return a.blocks[0];
}

function spkiOfCert(name: string): string {
  openssl('x509', '-in', at(name), '-pubkey', '-noout', '-out', at('spki.tmp.pem'));
  return createHash('sha256').update(createPublicKey(readFileSync(at('spki.tmp.pem'))).export({ type: 'spki', format: 'der' })).digest('hex');
}

function spkiOfKey(name: string, passphrase?: string): string {
  openssl('pkey', '-in', at(name), '-pubout', '-out', at('spki.tmp.pem'), ...(passphrase ? ['-passin', `pass:${passphrase}`] : []));
  return createHash('sha256').update(createPublicKey(readFileSync(at('spki.tmp.pem'))).export({ type: 'spki', format: 'der' })).digest('hex');
}

// DSA: parameters, a key in PKCS#8 and in OpenSSL's traditional format, a certificate for it.
openssl('dsaparam', '-out', at('dsa-params.pem'), '2048');
openssl('gendsa', '-out', at('dsa.key'), at('dsa-params.pem'));
openssl('pkey', '-in', at('dsa.key'), '-traditional', '-out', at('dsa-trad.key'));
openssl('pkey', '-in', at('dsa.key'), '-traditional', '-outform', 'DER', '-out', at('dsa-trad.der'));
openssl('pkcs8', '-topk8', '-nocrypt', '-in', at('dsa.key'), '-outform', 'DER', '-out', at('dsa-pkcs8.der'));
openssl('req', '-new', '-x509', '-key', at('dsa.key'), '-subj', '/CN=dsa.example.test', '-days', '2', '-sha256', '-out', at('dsa.crt'), '-config', '/dev/null');
openssl('dsaparam', '-in', at('dsa-params.pem'), '-outform', 'DER', '-out', at('dsa-params.der'));

// Every other kind, in DER as tools write it.
openssl('pkcs8', '-topk8', '-in', at('dsa.key'), '-passout', 'pass:pw', '-outform', 'DER', '-out', at('dsa-enc.der'));
const rsaKey = pki.key('rsa', 'rsa2048');
openssl('rsa', '-in', rsaKey, '-RSAPublicKey_out', '-outform', 'DER', '-out', at('rsa-pub-pkcs1.der'));
openssl('pkey', '-in', rsaKey, '-pubout', '-outform', 'DER', '-out', at('rsa-pub-spki.der'));
openssl('rsa', '-in', rsaKey, '-traditional', '-outform', 'DER', '-out', at('rsa-pkcs1.der'));
openssl('genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048', '-out', at('dh.pem'));
writeFileSync(at('dh.der'), derOfPem('dh.pem'));
openssl('genpkey', '-genparam', '-algorithm', 'DHX', '-pkeyopt', 'dh_rfc5114:2', '-out', at('dhx.pem'));
writeFileSync(at('dhx.der'), derOfPem('dhx.pem'));
openssl('ecparam', '-name', 'prime256v1', '-outform', 'DER', '-out', at('ecparam.der'));
openssl('ecparam', '-name', 'secp384r1', '-param_enc', 'explicit', '-outform', 'DER', '-out', at('ecparam-explicit.der'));
const ec = pki.key('ec', 'ec');
openssl('ec', '-in', ec, '-outform', 'DER', '-out', at('ec-sec1.der'));
openssl('req', '-new', '-key', ec, '-subj', '/CN=csr.example.test', '-outform', 'DER', '-out', at('csr.der'), '-config', '/dev/null');
openssl('x509', '-in', at('dsa.crt'), '-outform', 'DER', '-out', at('dsa-crt.der'));
writeFileSync(at('crl.der'), Buffer.from(pki.crl(pki.issue('crl-ca', { subject: '/CN=CRL CA', ext: ROOT_EXT }), []).replace(/-----[^-]+-----|\s/g, ''), 'base64'));
// A version 1 certificate has no [0] version field to tell it by.
openssl('x509', '-req', '-in', at('csr.der'), '-inform', 'DER', '-signkey', ec, '-days', '1', '-outform', 'DER', '-out', at('v1.der'));

describe('traditional DSA private keys', () => {
  test('-----BEGIN DSA PRIVATE KEY----- decodes to DSA 2048 with the SPKI of its certificate', () => {
    const b = decodeFile('dsa-trad.key');
    assert.equal(b.label, 'DSA PRIVATE KEY');
    assert.deepEqual(b.problems, []);
    assert.equal(b.privateKey?.type, 'DSA');
    assert.equal(b.privateKey?.format, 'dsa');
    assert.equal(b.privateKey?.bits, 2048);
    assert.equal(b.privateKey?.spkiSha256, spkiOfCert('dsa.crt'));
    assert.equal(b.privateKey?.spkiSha256, spkiOfKey('dsa-trad.key'));
  });

  test('the same key in PKCS#8 gives the same SPKI, and pairs with its certificate in one file', () => {
    const pkcs8 = decodeFile('dsa.key');
    assert.equal(pkcs8.privateKey?.spkiSha256, decodeFile('dsa-trad.key').privateKey?.spkiSha256);
    const a = analyzeDocument(readFileSync(at('dsa.crt'), 'utf8') + readFileSync(at('dsa-trad.key'), 'utf8'));
    assert.equal(a.blocks[0].certificate?.spkiSha256, a.blocks[1].privateKey?.spkiSha256);
  });

  test('a broken one says which field of DSAPrivateKey is wrong', () => {
    const der = readFileSync(at('dsa-trad.der'));
    // Without y and x: SEQUENCE { version, p, q, g }.
    const root = der[1] === 0x82 ? 4 : 3;
    let pos = root;
    for (let i = 0; i < 4; i++) pos = skip(der, pos);
    const cut = Buffer.concat([Buffer.from([0x30, 0x82, (pos - root) >> 8, (pos - root) & 0xff]), der.subarray(root, pos)]);
    const b = analyzeDocument(pem('DSA PRIVATE KEY', cut)).blocks[0];
    assert.deepEqual(b.problems, ['the content does not parse as DSA PRIVATE KEY (DSAPrivateKey: y is missing)']);
    const notInt = Buffer.from(cut);
    notInt[root] = 0x04; // version as an OCTET STRING
    assert.deepEqual(analyzeDocument(pem('DSA PRIVATE KEY', notInt)).blocks[0].problems, ['the content does not parse as DSA PRIVATE KEY (DSAPrivateKey: version is an OCTET STRING, not an INTEGER)']);
  });
});

describe('DER files are recognised by their structure', () => {
  const cases: [string, string][] = [
    ['dsa-trad.der', 'DSA PRIVATE KEY'],
    ['dsa-pkcs8.der', 'PRIVATE KEY'],
    ['dsa-enc.der', 'ENCRYPTED PRIVATE KEY'],
    ['rsa-pub-pkcs1.der', 'RSA PUBLIC KEY'],
    ['rsa-pub-spki.der', 'PUBLIC KEY'],
    ['rsa-pkcs1.der', 'RSA PRIVATE KEY'],
    ['dh.der', 'DH PARAMETERS'],
    ['dhx.der', 'X9.42 DH PARAMETERS'],
    ['ecparam.der', 'EC PARAMETERS'],
    ['ec-sec1.der', 'EC PRIVATE KEY'],
    ['csr.der', 'CERTIFICATE REQUEST'],
    ['dsa-crt.der', 'CERTIFICATE'],
    ['v1.der', 'CERTIFICATE'],
    ['dsa-params.der', 'DSA PARAMETERS'],
    ['crl.der', 'X509 CRL'],
  ];

  test('each kind gets its PEM label, and decodes without a problem under it', () => {
    for (const [name, label] of cases) {
      const der = readFileSync(at(name));
      assert.equal(labelOfDer(der), label, name);
      const b = analyzeDocument(pem(label, der)).blocks[0];
      assert.deepEqual(b.problems, [], name);
    }
  });

  test('what they decode to: sizes, types, SPKI', () => {
    const dec = (name: string) => analyzeDocument(pem(labelOfDer(readFileSync(at(name)))!, readFileSync(at(name)))).blocks[0];
    assert.equal(dec('dsa-trad.der').privateKey?.spkiSha256, spkiOfCert('dsa.crt'));
    assert.deepEqual({ ...dec('dsa-enc.der').privateKey }, { type: 'unknown', format: 'encrypted-pkcs8', encrypted: true, encryption: 'PBES2 AES-256-CBC' });
    const pub = dec('rsa-pub-pkcs1.der').publicKey;
    assert.equal(pub?.bits, 2048);
    assert.equal(pub?.format, 'pkcs1');
    assert.equal(pub?.spkiSha256, createHash('sha256').update(readFileSync(at('rsa-pub-spki.der'))).digest('hex'));
    assert.deepEqual({ ...dec('dh.der').parameters }, { kind: 'DH', bits: 2048 });
    assert.deepEqual({ ...dec('dhx.der').parameters }, { kind: 'DH', bits: 2048 });
    assert.deepEqual({ ...dec('ecparam.der').parameters }, { kind: 'EC', curve: 'P-256', bits: 256 });
    assert.deepEqual({ ...dec('dsa-params.der').parameters }, { kind: 'DSA', bits: 2048 });
    assert.equal(dec('v1.der').certificate?.version, 1);
  });

  test('explicit EC parameters are recognised in DER and sized by their field', () => {
    const der = readFileSync(at('ecparam-explicit.der'));
    assert.equal(labelOfDer(der), undefined, 'a lone SEQUENCE of explicit parameters is not guessed at');
    const b = analyzeDocument(pem('EC PARAMETERS', der)).blocks[0];
    assert.deepEqual({ ...b.parameters }, { kind: 'EC', curve: 'explicit parameters', bits: 384 });
  });

  test('RSAPublicKey and PKCS#3 DH parameters, both SEQUENCE { INTEGER, INTEGER }, are told apart', () => {
    const modulus = readFileSync(at('rsa-pub-pkcs1.der'));
    const n = elementAt(modulus, modulus[1] === 0x82 ? 4 : 3);
    const dh = readFileSync(at('dh.der'));
    const p = elementAt(dh, dh[1] === 0x82 ? 4 : 3);
    const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
    const int = (v: number) => tlv(0x02, Buffer.from([v]));
    assert.equal(labelOfDer(seq(n, int(3))), 'RSA PUBLIC KEY', 'e = 3, n composite');
    assert.equal(labelOfDer(seq(p, int(5))), 'DH PARAMETERS', 'g = 5, p prime');
    assert.equal(labelOfDer(seq(p, int(2))), 'DH PARAMETERS', 'g = 2');
    assert.equal(labelOfDer(seq(n, tlv(0x02, Buffer.from([1, 0, 1])))), 'RSA PUBLIC KEY', 'e = 65537');
    // Beyond 8192 bits no primality test is run: a huge odd first INTEGER is taken as a modulus.
    const huge = tlv(0x02, Buffer.concat([Buffer.from([0x7f]), Buffer.alloc(2047, 0xff)]));
    assert.equal(labelOfDer(seq(huge, int(5))), 'RSA PUBLIC KEY');
  });

  test('anything else is not given a label', () => {
    for (const bytes of [[0x30, 0x03, 0x02, 0x01, 0x00], [0x30, 0x00], [0x30, 0x80], [0x06, 0x03, 0x2a, 0x03, 0x04], [0x30, 0x84, 0xff, 0xff, 0xff, 0xff]]) {
      assert.equal(labelOfDer(Buffer.from(bytes)), undefined, Buffer.from(bytes).toString('hex'));
    }
  });
});

describe('keys in every other form found in the wild', () => {
  test('encrypted PKCS#8 in PEM: encrypted, with its scheme, no SPKI', () => {
    openssl('pkcs8', '-topk8', '-in', at('dsa.key'), '-passout', 'pass:pw', '-out', at('enc.pem'));
    openssl('pkcs8', '-topk8', '-in', at('dsa.key'), '-passout', 'pass:pw', '-v1', 'PBE-SHA1-3DES', '-out', at('enc-v1.pem'));
    assert.deepEqual({ ...decodeFile('enc.pem').privateKey }, { type: 'unknown', format: 'encrypted-pkcs8', encrypted: true, encryption: 'PBES2 AES-256-CBC' });
    assert.equal(decodeFile('enc-v1.pem').privateKey?.encryption, 'pbeWithSHAAnd3-KeyTripleDES-CBC');
  });

  test('Ed25519, Ed448, X25519 and X448 private and public keys', () => {
    for (const [alg, type, bits] of [['ED25519', 'Ed25519', 256], ['ED448', 'Ed448', 448], ['X25519', 'X25519', 256], ['X448', 'X448', 448]] as const) {
      openssl('genpkey', '-algorithm', alg, '-out', at(`${alg}.key`));
      openssl('pkey', '-in', at(`${alg}.key`), '-pubout', '-out', at(`${alg}.pub`));
      const k = decodeFile(`${alg}.key`);
      const p = decodeFile(`${alg}.pub`);
      assert.deepEqual(k.problems, [], alg);
      assert.equal(k.privateKey?.type, type);
      assert.equal(k.privateKey?.bits, bits);
      assert.equal(p.publicKey?.algorithm, type);
      assert.equal(k.privateKey?.spkiSha256, spkiOfKey(`${alg}.key`));
      assert.equal(p.publicKey?.spkiSha256, k.privateKey?.spkiSha256);
    }
  });

  test('EC keys with explicit parameters: no garbage curve name, the field size, the SPKI of their certificate', () => {
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-param_enc', 'explicit', '-noout', '-out', at('ecx.key'));
    openssl('pkcs8', '-topk8', '-nocrypt', '-in', at('ecx.key'), '-out', at('ecx-pkcs8.key'));
    openssl('req', '-new', '-x509', '-key', at('ecx.key'), '-subj', '/CN=explicit', '-days', '1', '-out', at('ecx.crt'), '-config', '/dev/null');
    openssl('pkey', '-in', at('ecx.key'), '-pubout', '-out', at('ecx.pub'));
    for (const name of ['ecx.key', 'ecx-pkcs8.key']) {
      const k = decodeFile(name).privateKey;
      assert.equal(k?.type, 'EC');
      assert.equal(k?.curve, 'explicit parameters', name);
      assert.equal(k?.bits, 256);
      assert.equal(k?.spkiSha256, spkiOfCert('ecx.crt'));
    }
    assert.equal(decodeFile('ecx.pub').publicKey?.curve, 'explicit parameters');
  });

  test('OpenSSH keys: RSA, ECDSA, Ed25519 and DSA, encrypted or not, with the SPKI of their public key', () => {
    const kinds: [string, string[], string, number][] = [
      ['rsa', ['-t', 'rsa', '-b', '2048'], 'RSA', 2048],
      ['ecdsa', ['-t', 'ecdsa', '-b', '384'], 'EC', 384],
      ['ed25519', ['-t', 'ed25519'], 'Ed25519', 256],
      ['dsa', ['-t', 'dsa'], 'DSA', 1024],
    ];
    for (const [name, args, type, bits] of kinds) {
      for (const passphrase of ['', 'secret words']) {
        const file = at(`ssh-${name}${passphrase ? '-enc' : ''}`);
        sshKeygen(['-q', ...args, '-N', passphrase, '-C', '', '-f', file]);
        const k = decodeFile(file.slice(pki.dir.length + 1)).privateKey;
        assert.equal(k?.format, 'openssh');
        assert.equal(k?.type, type, name);
        assert.equal(k?.bits, bits, name);
        assert.equal(k?.encrypted, passphrase !== '');
        if (passphrase) assert.equal(k?.encryption, 'aes256-ctr');
        if (name !== 'ed25519') {
          // ssh-keygen exports RSA, ECDSA and DSA public keys as PKCS#8 SubjectPublicKeyInfo.
          const spki = sshKeygen(['-e', '-m', 'PKCS8', '-f', `${file}.pub`]);
          assert.equal(k?.spkiSha256, createHash('sha256').update(createPublicKey(spki).export({ type: 'spki', format: 'der' })).digest('hex'), name);
        } else {
          const raw = Buffer.from(readFileSync(`${file}.pub`, 'utf8').split(' ')[1], 'base64');
          const x = raw.subarray(raw.length - 32).toString('base64url');
          const spki = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
          assert.equal(k?.spkiSha256, createHash('sha256').update(spki).digest('hex'));
        }
      }
    }
  });

  test('TRUSTED CERTIFICATE blocks decode as the certificate they wrap', () => {
    openssl('x509', '-in', at('dsa.crt'), '-addtrust', 'serverAuth', '-trustout', '-out', at('trusted.pem'));
    const b = decodeFile('trusted.pem');
    assert.equal(b.label, 'TRUSTED CERTIFICATE');
    assert.deepEqual(b.problems, []);
    assert.equal(b.certificate?.subject, 'CN=dsa.example.test');
    assert.equal(b.certificate?.sha256, decodeFile('dsa.crt').certificate?.sha256);
  });

  test('DH, X9.42 DH and DSA parameters in PEM show their size', () => {
    assert.deepEqual({ ...decodeFile('dsa-params.pem').parameters }, { kind: 'DSA', bits: 2048 });
    assert.deepEqual({ ...decodeFile('dh.pem').parameters }, { kind: 'DH', bits: 2048 });
    assert.equal(decodeFile('dhx.pem').label, 'X9.42 DH PARAMETERS');
    assert.deepEqual({ ...decodeFile('dhx.pem').parameters }, { kind: 'DH', bits: 2048 });
  });
});

describe('decoding failures are sentences', () => {
  // JavaScript and crypto-library internals that must never reach a user.
  const INTERNALS = /undefined|null|TypeError|RangeError|Cannot read|is not a function|error:[0-9A-F]{8}|routines::|ERR_|\bat \S+ \(/;

  test('every truncation and many bit flips of each key and parameter kind', () => {
    const samples: [string, Buffer][] = [
      ['DSA PRIVATE KEY', readFileSync(at('dsa-trad.der'))],
      ['PRIVATE KEY', readFileSync(at('dsa-pkcs8.der'))],
      ['ENCRYPTED PRIVATE KEY', readFileSync(at('dsa-enc.der'))],
      ['RSA PUBLIC KEY', readFileSync(at('rsa-pub-pkcs1.der'))],
      ['PUBLIC KEY', readFileSync(at('rsa-pub-spki.der'))],
      ['RSA PRIVATE KEY', readFileSync(at('rsa-pkcs1.der'))],
      ['EC PRIVATE KEY', readFileSync(at('ec-sec1.der'))],
      ['DH PARAMETERS', readFileSync(at('dh.der'))],
      ['X9.42 DH PARAMETERS', readFileSync(at('dhx.der'))],
      ['DSA PARAMETERS', readFileSync(at('dsa-params.der'))],
      ['EC PARAMETERS', readFileSync(at('ecparam-explicit.der'))],
      ['CERTIFICATE REQUEST', readFileSync(at('csr.der'))],
      ['OPENSSH PRIVATE KEY', Buffer.from(readFileSync(at('ssh-ecdsa-enc'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64')],
    ];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    let failures = 0;
    for (const [label, good] of samples) {
      const variants: Buffer[] = [];
      for (let len = 0; len < good.length; len += Math.max(1, Math.floor(good.length / 97))) variants.push(good.subarray(0, len));
      for (let i = 0; i < 150; i++) {
        const b = Buffer.from(good);
        b[rnd(Math.min(b.length, 64))] ^= 1 << rnd(8); // the structure lives in the first octets
        variants.push(b);
      }
      for (const v of variants) {
        const block = analyzeDocument(pem(label, v)).blocks[0];
        for (const p of block.problems) {
          assert.doesNotMatch(p, INTERNALS, `${label}: ${p}`);
          assert.match(p, new RegExp(`^(the content does not parse as ${label.replace('.', '\\.')} \\(.+\\)|.+)$`));
        }
        if (block.problems.length) failures++;
      }
    }
    assert.ok(failures > 100, `broken inputs were reported (${failures})`);
  });

  test('named structures in the messages', () => {
    const problem = (label: string, bytes: number[]) => analyzeDocument(pem(label, Buffer.from(bytes))).blocks[0].problems[0];
    assert.equal(problem('RSA PRIVATE KEY', [0x30, 0x03, 0x02, 0x01, 0x00]), 'the content does not parse as RSA PRIVATE KEY (RSAPrivateKey: modulus is missing)');
    assert.equal(problem('PRIVATE KEY', [0x31, 0x00]), 'the content does not parse as PRIVATE KEY (PrivateKeyInfo: expected a SEQUENCE, found a SET)');
    assert.match(problem('PRIVATE KEY', [0x30, 0x05, 0x02, 0x01, 0x00, 0x30]), /^the content does not parse as PRIVATE KEY \(PrivateKeyInfo: [a-z].+\)$/);
    assert.equal(problem('DH PARAMETERS', [0x30, 0x03, 0x02, 0x01, 0x00]), 'the content does not parse as DH PARAMETERS (DHParameter: generator g is missing)');
    assert.match(problem('EC PRIVATE KEY', [0x30, 0x80, 0x00, 0x00]), /^the content does not parse as EC PRIVATE KEY \(ECPrivateKey: .*indefinite length.*\)$/);
    assert.match(problem('OPENSSH PRIVATE KEY', [...Buffer.from('openssh-key-v1\0'), 0, 0, 0, 200]), /OpenSSH private key: the cipher name runs past the end of the data/);
  });
});

/** The DER inside a one-block PEM file. */
function derOfPem(name: string): Buffer {
  return Buffer.from(readFileSync(at(name), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;
}

/** Offset just after the element at `pos`. */
function skip(buf: Buffer, pos: number): number {
  const t = elementAt(buf, pos);
  return pos + t.length;
}

