// Every certops diagnostic code, through the real server over stdio, on files generated for this run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { Diagnostic } from 'vscode-languageserver-protocol/node';
import { LspClient, codes, msg, startChainServer } from './client';
import { CA_EXT, CertSpec, DAY, Issued, leafExt, Pki } from '../fixtures/pki';

let pki: Pki;
let lsp: LspClient;
let root: Issued, intermediate: Issued, leaf: Issued;
let stop: () => Promise<void>;
let n = 0;

/** Opens `text` under a name that follows no sibling pattern, so only the text itself is analysed. */
function open(text: string, name = `case-${++n}.txt`): Promise<Diagnostic[]> {
  return lsp.open(pki.uri(pki.write(name, text)), text);
}

/** A server leaf for `cn` (DNS SAN), valid for a year unless `o` says otherwise. */
function leafOf(name: string, cn: string, issuer: Issued, o: Partial<CertSpec> = {}): Issued {
  return pki.issue(name, { subject: `/CN=${cn}`, issuer, ext: leafExt(`DNS:${cn}`), notAfter: 365 * DAY, ...o });
}

function only(diags: Diagnostic[], code: string): Diagnostic[] {
  return diags.filter((d) => d.code === code);
}

/** Flips one bit of the last byte of a PEM certificate's DER (inside its signature). */
function tamperSignature(pem: string): string {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(body, 'base64');
  der[der.length - 1] ^= 0x01;
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

before(async () => {
  ({ pki, lsp, root, intermediate, leaf, stop } = await startChainServer('main'));
});
after(() => stop?.());

describe('diagnostics', () => {
  it('a good leaf-first chain without the root has no diagnostics', async () => {
    assert.deepEqual(codes(await open(leaf.pem + intermediate.pem)), []);
  });

  it('every diagnostic has source certops and lies on its block', async () => {
    const text = 'subject=CN = x\n' + leaf.pem + '\n' + root.pem + intermediate.pem;
    const diags = await open(text);
    assert.ok(diags.length > 0);
    for (const d of diags) {
      assert.equal(d.source, 'certops');
      assert.match(text.split('\n')[d.range.start.line], /-----BEGIN CERTIFICATE-----/);
      assert.match(text.split('\n')[d.range.end.line], /-----END CERTIFICATE-----/);
    }
  });

  describe('pem-malformed', () => {
    it('bad base64', async () => {
      const bad = leaf.pem.replace(/\n(.{10})/, '\n$1!!');
      const d = only(await open(bad), 'pem-malformed');
      assert.equal(d.length, 1);
      assert.equal(d[0].severity, 1);
      assert.match(msg(d[0]), /not base64/);
    });
    it('missing END', async () => {
      const text = leaf.pem.replace(/-----END CERTIFICATE-----\n$/, '') + intermediate.pem;
      const d = await open(text);
      assert.equal(only(d, 'pem-malformed').length, 1);
      assert.match(msg(only(d, 'pem-malformed')[0]), /missing "-----END CERTIFICATE-----"/);
      assert.equal(only(d, 'pem-malformed')[0].range.start.line, 0);
    });
    it('mismatched END label', async () => {
      const d = only(await open(leaf.pem.replace('END CERTIFICATE', 'END X509 CRL')), 'pem-malformed');
      assert.equal(d.length, 1);
      assert.match(msg(d[0]), /does not match BEGIN label/);
    });
    it('DER that does not parse as its label says', async () => {
      const text = leaf.keyPem.replace(/PRIVATE KEY/g, 'CERTIFICATE');
      const d = only(await open(text), 'pem-malformed');
      assert.equal(d.length, 1);
      assert.match(msg(d[0]), /does not parse as CERTIFICATE/);
    });
  });

  describe('validity', () => {
    it('cert-expired is an error', async () => {
      const c = leafOf('expired', 'old.example.com', intermediate, { notBefore: -60 * DAY, notAfter: -2 * DAY });
      const d = only(await open(c.pem + intermediate.pem), 'cert-expired');
      assert.equal(d.length, 1);
      assert.equal(d[0].severity, 1);
      assert.match(msg(d[0]), /CN=old\.example\.com expired .*2 days ago/);
    });
    it('cert-not-yet-valid is an error', async () => {
      const c = leafOf('future', 'future.example.com', intermediate, { notBefore: 3 * DAY, notAfter: 300 * DAY });
      const d = only(await open(c.pem + intermediate.pem), 'cert-not-yet-valid');
      assert.equal(d.length, 1);
      assert.equal(d[0].severity, 1);
    });
    it('cert-expiring is a warning within warningDays', async () => {
      const c = leafOf('soon', 'soon.example.com', intermediate, { notAfter: 20 * DAY });
      const d = await open(c.pem + intermediate.pem);
      assert.deepEqual(codes(d), ['cert-expiring']);
      assert.equal(d[0].severity, 2);
    });
    it('cert-expiring-critical is an error within criticalDays', async () => {
      const c = leafOf('critical', 'critical.example.com', intermediate, { notAfter: 3 * DAY });
      const d = await open(c.pem + intermediate.pem);
      assert.deepEqual(codes(d), ['cert-expiring-critical']);
      assert.equal(d[0].severity, 1);
    });
  });

  describe('chains', () => {
    it('chain-order when the certificates chain but the leaf is not first', async () => {
      const d = await open(intermediate.pem + leaf.pem);
      assert.deepEqual(codes(d), ['chain-order']);
      assert.equal(d[0].severity, 2);
      assert.match(msg(d[0]), /blocks 2, 1/);
    });
    it('chain-broken when a certificate is followed by one that did not issue it', async () => {
      const other = pki.chain('other');
      const d = await open(leaf.pem + other.intermediate.pem);
      const broken = only(d, 'chain-broken');
      assert.equal(broken.length, 1);
      assert.equal(broken[0].severity, 1);
      assert.ok(broken[0].range.start.line > 0, 'on the second block');
    });
    it('chain-signature when names link but the signature does not verify', async () => {
      const d = await open(tamperSignature(leaf.pem) + intermediate.pem);
      const sig = only(d, 'chain-signature');
      assert.equal(sig.length, 1);
      assert.equal(sig[0].range.start.line, 0);
      assert.equal(only(d, 'chain-broken').length, 0);
    });
    it('chain-issuer-not-ca when the issuer lacks CA:TRUE', async () => {
      const notCa = leafOf('notca', 'Not A CA', intermediate, {
        ext: ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyCertSign', 'subjectAltName = DNS:notca.example.com', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'],
      });
      const c = leafOf('under-notca', 'victim.example.com', notCa);
      const d = only(await open(c.pem + notCa.pem + intermediate.pem), 'chain-issuer-not-ca');
      assert.equal(d.length, 1);
      assert.match(msg(d[0]), /CA:TRUE/);
    });
    it('chain-issuer-not-ca when the issuer lacks keyCertSign', async () => {
      const noSign = pki.issue('nosign', {
        subject: '/CN=NoSign CA', issuer: root, notAfter: 365 * DAY,
        ext: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,digitalSignature,cRLSign', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'],
      });
      const c = leafOf('under-nosign', 'x.example.com', noSign);
      const d = only(await open(c.pem + noSign.pem), 'chain-issuer-not-ca');
      assert.equal(d.length, 1);
      assert.match(msg(d[0]), /keyCertSign/);
    });
    it('chain-pathlen when more intermediates follow than pathLenConstraint allows', async () => {
      const sub = pki.issue('sub', { subject: '/CN=Sub CA', issuer: intermediate, ext: CA_EXT, notAfter: 365 * DAY });
      const c = leafOf('under-sub', 'deep.example.com', sub);
      const d = await open(c.pem + sub.pem + intermediate.pem);
      const p = only(d, 'chain-pathlen');
      assert.equal(p.length, 1);
      assert.match(msg(p[0]), /pathLenConstraint 0/);
    });
    it('chain-incomplete when the top issuer is neither in the file nor trusted', async () => {
      const d = await open(leaf.pem);
      assert.deepEqual(codes(d), ['chain-incomplete']);
      assert.equal(d[0].severity, 2);
    });
    it('chain-root-included for a self-signed root in a server chain', async () => {
      const d = await open(leaf.pem + intermediate.pem + root.pem);
      assert.deepEqual(codes(d), ['chain-root-included']);
      assert.equal(d[0].severity, 3);
    });
    it('chain-expires-before-leaf when an issuer expires first', async () => {
      const shortCa = pki.issue('shortca', { subject: '/CN=Short CA', issuer: root, ext: CA_EXT, notAfter: 100 * DAY });
      const c = leafOf('longleaf', 'long.example.com', shortCa, { notAfter: 300 * DAY });
      const d = only(await open(c.pem + shortCa.pem), 'chain-expires-before-leaf');
      assert.equal(d.length, 1);
      assert.ok(d[0].range.start.line > 0);
    });
    it('duplicate-certificate', async () => {
      const d = await open(leaf.pem + intermediate.pem + intermediate.pem);
      assert.deepEqual(codes(d), ['duplicate-certificate']);
      assert.match(msg(d[0]), /block 2/);
    });
    it('a CA bundle of roots gets no chain diagnostics', async () => {
      const other = pki.chain('bundle');
      assert.deepEqual(codes(await open(root.pem + other.root.pem)), []);
    });
  });

  describe('keys', () => {
    it('key-mismatch when the private key in the file is not the certificate\'s', async () => {
      const d = only(await open(leaf.pem + intermediate.keyPem), 'key-mismatch');
      assert.equal(d.length, 1);
      assert.equal(d[0].severity, 1);
    });
    it('no key-mismatch when the key belongs to the certificate', async () => {
      assert.deepEqual(codes(await open(leaf.pem + intermediate.pem + leaf.keyPem)), []);
    });
    it('key-encrypted for PKCS#8 and legacy encrypted keys', async () => {
      const pkcs8 = pki.openssl(['pkey', '-in', leaf.keyPath, '-aes256', '-passout', 'pass:secret']);
      const rsa = pki.key('legacy', 'rsa2048');
      const legacy = pki.openssl(['rsa', '-in', rsa, '-aes128', '-traditional', '-passout', 'pass:secret']);
      assert.match(legacy, /Proc-Type: 4,ENCRYPTED/);
      const d = only(await open(pkcs8 + legacy), 'key-encrypted');
      assert.equal(d.length, 2);
      assert.equal(d[0].severity, 3);
      assert.match(msg(d[1]), /AES-128-CBC/);
    });
    it('key-weak for RSA 1024 certificates and keys', async () => {
      const weak = leafOf('weak', 'weak.example.com', intermediate, { key: 'rsa1024' });
      const d = only(await open(weak.pem + intermediate.pem + weak.keyPem), 'key-weak');
      assert.equal(d.length, 2);
      assert.match(msg(d[0]), /RSA 1024/);
    });
    it('signature-weak for a SHA-1 signature below the root', async () => {
      const c = leafOf('sha1', 'sha1.example.com', intermediate, { md: 'sha1' });
      const d = await open(c.pem + intermediate.pem);
      assert.deepEqual(codes(d), ['signature-weak']);
      assert.match(msg(d[0]), /ecdsa-with-SHA1/);
    });
    it('san-missing for a leaf without subjectAltName', async () => {
      const c = leafOf('nosan', 'nosan.example.com', intermediate, { ext: ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'] });
      assert.deepEqual(codes(await open(c.pem + intermediate.pem)), ['san-missing']);
    });
    it('key-permissions when a key file is readable by others, not when it is 600', async () => {
      const path = pki.write('loose.key', leaf.keyPem, 0o644);
      chmodSync(path, 0o644);
      const d = await lsp.open(pki.uri(path), leaf.keyPem);
      assert.deepEqual(codes(d), ['key-permissions']);
      assert.match(msg(d[0]), /644/);
      const tight = pki.write('tight.key', leaf.keyPem, 0o600);
      chmodSync(tight, 0o600);
      assert.deepEqual(codes(await lsp.open(pki.uri(tight), leaf.keyPem)), []);
    });
  });

  it('file-too-large gives one information diagnostic and analyses the beginning', async () => {
    const client = await LspClient.start({ limits: { maxFileSizeMB: 0.001 } });
    try {
      const text = leaf.pem + intermediate.pem + root.pem;
      const path = pki.write('big.txt', text);
      const d = await client.open(pki.uri(path), text);
      assert.equal(only(d, 'file-too-large').length, 1);
      assert.equal(only(d, 'file-too-large')[0].severity, 3);
      assert.equal(only(d, 'pem-malformed').length, 0, 'the cut falls between blocks');
    } finally {
      await client.stop();
    }
  });
});
