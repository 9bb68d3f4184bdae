// `certops match CERT KEY` for RSA, EC, Ed25519 and DSA keys in every layout operators meet (PEM, DER, OpenSSH,
// encrypted), against single certificates, PEM bundles and PKCS#7 in DER or BER.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { main } from '../../server/src/cli/main';
import { analyzeText, siblingDocuments } from '../../server/src/services/analyze';
import { computeDiagnostics } from '../../server/src/services/diagnostics';
import { DEFAULT_SETTINGS } from '../../server/src/services/settings';
import { indefinite } from '../fixtures/ber';
import { Issued, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';
import { ensureDebianPackages } from '../tools/debian.mjs';

const pki = new Pki();
after(() => pki.dispose());
const ext = leafExt('DNS:match.example.test');
const rsa = pki.issue('rsa', { subject: '/CN=rsa.example.test', ext, key: 'rsa2048' });
const ec = pki.issue('ec', { subject: '/CN=ec.example.test', ext, key: 'ec' });
const ed = pki.issue('ed', { subject: '/CN=ed.example.test', ext, key: 'ed25519' });
const ca = pki.issue('ca', { subject: '/CN=Match CA', ext: ROOT_EXT });
const openssl = (...args: string[]) => pki.openssl(args);
const at = (name: string) => join(pki.dir, name);

// The layouts: PKCS#1 and SEC1 ("traditional"), PKCS#8 DER, encrypted PKCS#8 and legacy PEM encryption.
openssl('pkey', '-in', rsa.keyPath, '-traditional', '-out', at('rsa-pkcs1.key'));
openssl('pkey', '-in', ec.keyPath, '-traditional', '-out', at('ec-sec1.key'));
openssl('pkcs8', '-topk8', '-nocrypt', '-in', ec.keyPath, '-outform', 'DER', '-out', at('ec-pkcs8.der'));
// openssl writes EC keys as SEC1 when asked for DER without -topk8.
openssl('pkey', '-in', ec.keyPath, '-outform', 'DER', '-out', at('ec-sec1.der'));
openssl('pkey', '-in', rsa.keyPath, '-traditional', '-outform', 'DER', '-out', at('rsa-pkcs1.der'));
openssl('pkcs8', '-topk8', '-in', ed.keyPath, '-passout', 'pass:correct horse', '-out', at('ed-encrypted.key'));
openssl('rsa', '-in', rsa.keyPath, '-traditional', '-aes256', '-passout', 'pass:correct horse', '-out', at('rsa-legacy-encrypted.key'));

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => void (out += s), (s) => void (err += s), { env, color: false });
  return { code, out, err };
}

/** The base64 lines of a key file: none of them may ever appear in output. */
function keyMaterial(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => /^[A-Za-z0-9+/=]{20,}$/.test(l));
}

describe('match', () => {
  test('RSA, EC and Ed25519 keys in PKCS#8, PKCS#1, SEC1 and DER match their certificates (exit 0)', async () => {
    const cases: [string, string][] = [
      [rsa.certPath, rsa.keyPath],
      [rsa.certPath, at('rsa-pkcs1.key')],
      [ec.certPath, ec.keyPath],
      [ec.certPath, at('ec-sec1.key')],
      [ec.certPath, at('ec-pkcs8.der')],
      [ec.certPath, at('ec-sec1.der')],
      [rsa.certPath, at('rsa-pkcs1.der')],
      [ed.certPath, ed.keyPath],
    ];
    for (const [cert, key] of cases) {
      const r = await run(['match', cert, key]);
      assert.equal(r.code, 0, `${key}: ${r.out}${r.err}`);
      assert.match(r.out, /^match: /);
    }
  });

  test('a key of another certificate, or of another type, is a mismatch (exit 1)', async () => {
    for (const [cert, key] of [[rsa.certPath, ca.keyPath], [ec.certPath, ed.keyPath], [ed.certPath, at('rsa-pkcs1.key')]]) {
      const r = await run(['match', cert, key]);
      assert.equal(r.code, 1, r.out + r.err);
      assert.match(r.out, /^MISMATCH: .*\n {2}certificate spki sha256 [0-9a-f]{64} .*\n {2}key {9}spki sha256 [0-9a-f]{64}/);
    }
  });

  test('--json reports both public-key fingerprints and never key material', async () => {
    const r = await run(['match', '--json', ec.certPath, at('ec-sec1.key')]);
    assert.equal(r.code, 0);
    const doc = JSON.parse(r.out);
    assert.equal(doc.match, true);
    assert.equal(doc.key.spkiSha256, doc.certificate.spkiSha256);
    assert.deepEqual([doc.certificate.index, doc.certificates, doc.belongsTo.index], [0, 1, 0]);
    assert.equal(doc.key.type, 'EC P-256');
    assert.equal(doc.certificate.publicKey, 'EC P-256');
    for (const line of keyMaterial(at('ec-sec1.key'))) assert.ok(!r.out.includes(line));
  });

  test('an encrypted key without a passphrase is exit 2 with a clear message', async () => {
    for (const key of ['ed-encrypted.key', 'rsa-legacy-encrypted.key']) {
      const r = await run(['match', ed.certPath, at(key)]);
      assert.equal(r.code, 2);
      assert.equal(r.err, `certops match: ${at(key)}:1: the private key is encrypted; pass --passphrase-env VAR with the passphrase in $VAR\n`);
    }
  });

  test('--passphrase-env decrypts PKCS#8 and legacy PEM encryption; a wrong one is exit 2', async () => {
    const env = { KEY_PASS: 'correct horse', WRONG: 'battery staple' };
    assert.equal((await run(['match', ed.certPath, at('ed-encrypted.key'), '--passphrase-env', 'KEY_PASS'], env)).code, 0);
    assert.equal((await run(['match', rsa.certPath, at('rsa-legacy-encrypted.key'), '--passphrase-env', 'KEY_PASS'], env)).code, 0);
    const wrong = await run(['match', ed.certPath, at('ed-encrypted.key'), '--passphrase-env', 'WRONG'], env);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /wrong passphrase/);
    assert.ok(!wrong.err.includes('battery'), 'the passphrase is not echoed');
    const unset = await run(['match', ed.certPath, at('ed-encrypted.key'), '--passphrase-env', 'NOT_SET'], env);
    assert.equal(unset.code, 2);
    assert.match(unset.err, /environment variable NOT_SET is not set/);
  });

  test('swapped arguments, missing files and wrong counts are usage errors', async () => {
    const swapped = await run(['match', ec.keyPath, ec.certPath]);
    assert.equal(swapped.code, 2);
    assert.match(swapped.err, /ec\.key: no certificate in the file/);
    const noKey = await run(['match', ec.certPath, ca.certPath]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.err, /ca\.pem: no private key in the file \(found CERTIFICATE\)/);
    assert.equal((await run(['match', ec.certPath])).code, 2);
    const missing = await run(['match', ec.certPath, at('nope.key')]);
    assert.equal(missing.err, `certops match: ${at('nope.key')}: no such file\n`);
  });

  test('the real binary exits 0 on a match and 1 on a mismatch', () => {
    const cli = resolve('dist/cli.js');
    assert.equal(spawnSync(process.execPath, [cli, 'match', rsa.certPath, rsa.keyPath]).status, 0);
    assert.equal(spawnSync(process.execPath, [cli, 'match', rsa.certPath, ec.keyPath]).status, 1);
  });
});

describe('match: real-world keys and containers', () => {
  ensureDebianPackages([['/usr/bin/ssh-keygen', 'openssh-client']]);
  const { root, intermediate, leaf } = pki.chain('m');
  const chain = pki.write('m-chain.pem', leaf.pem + intermediate.pem + root.pem);
  openssl('crl2pkcs7', '-nocrl', '-certfile', chain, '-outform', 'DER', '-out', at('m-chain.p7b'));
  // The same PKCS#7 as a Windows export writes it: indefinite lengths down to the certificates.
  const ber = pki.write('m-chain-ber.p7b', indefinite(readFileSync(at('m-chain.p7b')), 4));
  openssl('crl2pkcs7', '-nocrl', '-certfile', chain, '-out', at('m-chain-p7.pem'));
  // DSA: a certificate, its key in OpenSSL's traditional format (PEM and DER) and encrypted PKCS#8 DER.
  openssl('dsaparam', '-out', at('dsa-params.pem'), '2048');
  openssl('gendsa', '-out', at('dsa.key'), at('dsa-params.pem'));
  openssl('req', '-new', '-x509', '-key', at('dsa.key'), '-subj', '/CN=dsa.example.test', '-days', '2', '-sha256', '-out', at('dsa.crt'), '-config', '/dev/null');
  openssl('pkey', '-in', at('dsa.key'), '-traditional', '-out', at('dsa-trad.key'));
  openssl('pkey', '-in', at('dsa.key'), '-traditional', '-outform', 'DER', '-out', at('dsa-trad.der'));
  openssl('pkcs8', '-topk8', '-in', at('dsa.key'), '-passout', 'pass:pw', '-outform', 'DER', '-out', at('dsa-enc.der'));

  test('a traditional DSA private key (PEM and DER) and encrypted PKCS#8 DER match their DSA certificate', async () => {
    for (const key of ['dsa-trad.key', 'dsa-trad.der', 'dsa.key']) {
      const r = await run(['match', at('dsa.crt'), at(key)]);
      assert.equal(r.code, 0, `${key}: ${r.out}${r.err}`);
      assert.equal(r.out.split('\n')[0], `match: ${at(key)} is the private key of ${at('dsa.crt')} (CN=dsa.example.test)`);
    }
    const json = JSON.parse((await run(['match', '--json', at('dsa.crt'), at('dsa-trad.key')])).out);
    assert.equal(json.key.type, 'DSA 2048');
    assert.equal(json.key.spkiSha256, json.certificate.spkiSha256);
    const noPass = await run(['match', at('dsa.crt'), at('dsa-enc.der')]);
    assert.equal(noPass.code, 2);
    assert.equal(noPass.err, `certops match: ${at('dsa-enc.der')}: the private key is encrypted; pass --passphrase-env VAR with the passphrase in $VAR\n`);
    assert.equal((await run(['match', at('dsa.crt'), at('dsa-enc.der'), '--passphrase-env', 'P'], { P: 'pw' })).code, 0);
    assert.equal((await run(['match', at('dsa.crt'), leaf.keyPath])).code, 1);
  });

  test('PKCS#7 in DER, BER and PEM: the leaf is the certificate the key must belong to', async () => {
    for (const cert of [at('m-chain.p7b'), ber, at('m-chain-p7.pem')]) {
      const r = await run(['match', cert, leaf.keyPath]);
      assert.equal(r.code, 0, `${cert}: ${r.out}${r.err}`);
      assert.equal(r.out.split('\n')[0], `match: ${leaf.keyPath} is the private key of certificate 1 of 3 in ${cert} (CN=api.example.com)`);
      const mid = await run(['match', cert, intermediate.keyPath]);
      assert.equal(mid.code, 1, mid.out);
      assert.equal(
        mid.out.split('\n')[0],
        `MISMATCH: ${intermediate.keyPath} belongs to certificate 2 of 3 in ${cert} (CN=m Intermediate CA), not to the leaf, certificate 1 (CN=api.example.com), which a server pairs it with`,
      );
    }
    const json = JSON.parse((await run(['match', '--json', ber, root.keyPath])).out);
    assert.equal(json.match, false);
    assert.equal(json.certificates, 3);
    assert.equal(json.certificate.index, 0);
    assert.equal(json.certificate.subject, 'CN=api.example.com');
    assert.equal(json.belongsTo.index, 2);
    assert.equal(json.belongsTo.subject, 'CN=m Root CA');
  });

  test('a PKCS#7 is unordered: its leaf is the certificate that issues none of the others, wherever it is', async () => {
    const reversed = pki.write('m-reversed.pem', root.pem + intermediate.pem + leaf.pem);
    openssl('crl2pkcs7', '-nocrl', '-certfile', reversed, '-outform', 'DER', '-out', at('m-reversed.p7b'));
    const r = await run(['match', at('m-reversed.p7b'), leaf.keyPath]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(r.out.split('\n')[0], `match: ${leaf.keyPath} is the private key of certificate 3 of 3 in ${at('m-reversed.p7b')} (CN=api.example.com)`);
    const json = JSON.parse((await run(['match', '--json', at('m-reversed.p7b'), root.keyPath])).out);
    assert.deepEqual([json.match, json.certificate.index, json.certificate.location, json.belongsTo.index], [false, 2, at('m-reversed.p7b'), 0]);
    // The same order in a PEM file is read as a server reads it: the first certificate is the one the key pairs with.
    const pem = await run(['match', '--json', reversed, leaf.keyPath]);
    assert.equal(pem.code, 1);
    assert.deepEqual([JSON.parse(pem.out).certificate.index, JSON.parse(pem.out).belongsTo.index], [0, 2]);
  });

  test('a PKCS#7 with two leaves is ambiguous: exit 1, and said so', async () => {
    const two = pki.write('two-leaves.pem', rsa.pem + ec.pem);
    openssl('crl2pkcs7', '-nocrl', '-certfile', two, '-outform', 'DER', '-out', at('two-leaves.p7b'));
    const r = await run(['match', at('two-leaves.p7b'), ec.keyPath]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.equal(
      r.out,
      `AMBIGUOUS: ${at('two-leaves.p7b')} is a PKCS#7 without one leaf (certificates 1, 2 issue none of the others), so the certificate a server pairs ${ec.keyPath} with cannot be told; the key belongs to certificate 2 (CN=ec.example.test)\n`,
    );
    const json = JSON.parse((await run(['match', '--json', at('two-leaves.p7b'), ec.keyPath])).out);
    assert.deepEqual([json.match, json.certificate, json.leaves, json.belongsTo.index], [false, null, [0, 1], 1]);
  });

  test('a PEM bundle: the key must be the first certificate\'s; another one\'s is named with its line (exit 1)', async () => {
    assert.equal((await run(['match', chain, leaf.keyPath])).code, 0);
    const text = await run(['match', chain, intermediate.keyPath]);
    assert.equal(text.code, 1);
    const lines = text.out.trimEnd().split('\n');
    assert.equal(lines[0], `MISMATCH: ${intermediate.keyPath} belongs to certificate 2 of 3 in ${chain} (CN=m Intermediate CA), not to the first certificate (CN=api.example.com), which a server pairs it with`);
    assert.match(lines[1], /^ {2}certificate spki sha256 [0-9a-f]{64} \(EC P-256\)$/);
    assert.match(lines[2], /^ {2}key {9}spki sha256 [0-9a-f]{64} \(EC P-256\)$/);
    const r = await run(['match', '--json', chain, intermediate.keyPath]);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.out);
    assert.equal(doc.match, false);
    assert.deepEqual([doc.certificate.index, doc.certificate.location, doc.certificate.subject], [0, `${chain}:1`, 'CN=api.example.com']);
    assert.deepEqual([doc.belongsTo.index, doc.belongsTo.location], [1, `${chain}:${leaf.pem.split('\n').length}`]);
    assert.equal(doc.belongsTo.spkiSha256, doc.key.spkiSha256);
    assert.notEqual(doc.certificate.spkiSha256, doc.key.spkiSha256);
  });

  test('a key of none of them: exit 1, every certificate listed with its key fingerprint', async () => {
    const r = await run(['match', ber, rsa.keyPath]);
    assert.equal(r.code, 1);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines[0], `MISMATCH: ${rsa.keyPath} is not the private key of any of the 3 certificates in ${ber}`);
    assert.match(lines[1], /^ {2}certificate 1 spki sha256 [0-9a-f]{64} \(EC P-256\) CN=api\.example\.com$/);
    assert.match(lines[3], /^ {2}certificate 3 spki sha256 [0-9a-f]{64} \(EC P-256\) CN=m Root CA$/);
    assert.match(lines[4], /^ {2}key {11}spki sha256 [0-9a-f]{64} \(RSA 2048\)$/);
    const doc = JSON.parse((await run(['match', '--json', ber, rsa.keyPath])).out);
    assert.deepEqual([doc.match, doc.certificate.index, doc.belongsTo], [false, 0, null]);
  });

  test('OpenSSH private keys match without their passphrase: the public half is in clear', async () => {
    for (const passphrase of ['', 'ssh words']) {
      const file = at(`ssh-ec${passphrase ? '-enc' : ''}`);
      // An OpenSSH key for the EC certificate: ssh-keygen rewrites a copy of its PKCS#8 key in its own format.
      pki.write(file.slice(pki.dir.length + 1), readFileSync(ec.keyPath));
      execFileSync('/usr/bin/ssh-keygen', ['-q', '-p', '-N', passphrase, '-f', file], { stdio: 'pipe' });
      assert.match(readFileSync(file, 'utf8'), /^-----BEGIN OPENSSH PRIVATE KEY-----/);
      const r = await run(['match', ec.certPath, file]);
      assert.equal(r.code, 0, r.out + r.err);
      assert.equal(JSON.parse((await run(['match', '--json', ec.certPath, file])).out).key.type, 'EC P-256');
      assert.equal((await run(['match', rsa.certPath, file])).code, 1);
    }
  });

  test('no key material and no passphrase in any output', async () => {
    const outputs = [
      await run(['match', at('dsa.crt'), at('dsa-trad.key')]),
      await run(['match', '--json', ber, leaf.keyPath]),
      await run(['match', at('dsa.crt'), at('dsa-enc.der'), '--passphrase-env', 'P'], { P: 'pw-secret' }),
    ];
    for (const r of outputs) {
      for (const line of [...keyMaterial(at('dsa-trad.key')), ...keyMaterial(leaf.keyPath)]) assert.ok(!(r.out + r.err).includes(line));
      assert.ok(!(r.out + r.err).includes('pw-secret'));
    }
  });
});

describe('match and the editor\'s key-mismatch agree', () => {
  const { root, intermediate, leaf } = pki.chain('agree');
  const other = pki.issue('agree-other', { subject: '/CN=other.example.test', ext: leafExt('DNS:other.example.test') });
  const reversed = pki.write('agree-reversed.pem', root.pem + intermediate.pem + leaf.pem);
  const p7pem = openssl('crl2pkcs7', '-nocrl', '-certfile', reversed);

  /** The editor's key-mismatch diagnostics on the key file and on the certificate file, paired as siblings the way the language server pairs them. */
  function editorMismatch(certPath: string, keyPath: string): { onKey: string[]; onCert: string[] } {
    const diagnose = (path: string) => {
      const analysis = analyzeText(readFileSync(path, 'utf8'), 'pem', DEFAULT_SETTINGS);
      return computeDiagnostics(analysis, DEFAULT_SETTINGS, { siblings: siblingDocuments(path) })
        .filter((d) => d.code === 'key-mismatch')
        .map((d) => (typeof d.message === 'string' ? d.message : d.message.value));
    };
    return { onKey: diagnose(keyPath), onCert: diagnose(certPath) };
  }

  const files: [string, string][] = [
    ['fullchain, leaf first', leaf.pem + intermediate.pem + root.pem],
    ['fullchain, root first', root.pem + intermediate.pem + leaf.pem],
    ['PKCS#7 in PEM, leaf last', p7pem],
  ];
  const keys: [string, Issued, boolean][] = [
    ['the leaf\'s key', leaf, true],
    ['the intermediate\'s key', intermediate, false],
    ['a key of no certificate in the file', other, false],
  ];
  files.forEach(([layout, certText], f) => {
    keys.forEach(([whose, owner], k) => {
      test(`${layout}, ${whose}`, async () => {
        const certPath = pki.write(`agree${f}-${k}/fullchain.pem`, certText);
        const keyPath = pki.write(`agree${f}-${k}/privkey.pem`, owner.keyPem);
        const cli = await run(['match', '--json', certPath, keyPath]);
        const editor = editorMismatch(certPath, keyPath);
        const verdict = JSON.parse(cli.out);
        // A server pairs the key with the leaf of a leaf-first file or PKCS#7, with the root of a root-first file.
        const paired = f === 1 ? root : leaf;
        assert.equal(verdict.match, owner === paired, cli.out);
        assert.equal(cli.code, verdict.match ? 0 : 1);
        assert.equal(editor.onKey.length, verdict.match ? 0 : 1, editor.onKey.join('\n'));
        assert.equal(editor.onCert.length, verdict.match ? 0 : 1, editor.onCert.join('\n'));
        assert.equal(verdict.certificate.subject, paired.subject.slice(1));
        if (!verdict.match) {
          assert.ok(editor.onKey[0].includes(`, ${verdict.certificate.subject})`), editor.onKey[0]);
          // Where the key belongs to another certificate of the file, both faces name it.
          if (verdict.belongsTo) {
            assert.ok(editor.onKey[0].includes(`It belongs to block`) && editor.onKey[0].includes(`(${verdict.belongsTo.subject})`), editor.onKey[0]);
            assert.ok(editor.onCert[0].includes(`(${verdict.belongsTo.subject})`), editor.onCert[0]);
          } else assert.ok(!editor.onKey[0].includes('It belongs to'), editor.onKey[0]);
        }
      });
    });
  });
});
