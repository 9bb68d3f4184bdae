// Hover, outline, folding, CodeLens, quick fixes, links, settings refresh and real-world PEM oddities over LSP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Hover } from 'vscode-languageserver-protocol/node';
import { LspClient, applyEdits, codes, msg, startChainServer } from './client';
import { DAY, Issued, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

let pki: Pki;
let lsp: LspClient;
let root: Issued, intermediate: Issued, leaf: Issued;
let stop: () => Promise<void>;
let n = 0;

function uriFor(text: string, name = `feat-${++n}.txt`): string {
  return pki.uri(pki.write(name, text));
}

function hoverText(h: Hover | null): string {
  assert.ok(h, 'a hover');
  const c = h.contents;
  return typeof c === 'object' && 'value' in c ? c.value : String(c);
}

before(async () => {
  ({ pki, lsp, root, intermediate, leaf, stop } = await startChainServer('feat'));
});
after(() => stop?.());

describe('hover', () => {
  it('a certificate shows its public facts and its place in the chain', async () => {
    const ipLeaf = pki.issue('hover-leaf', {
      subject: '/CN=api.example.com', issuer: intermediate, ext: leafExt('DNS:api.example.com,DNS:www.example.com,IP:10.0.0.1'), notAfter: 42 * DAY,
    });
    const text = ipLeaf.pem + intermediate.pem + root.pem;
    const uri = uriFor(text);
    await lsp.open(uri, text);
    const h = hoverText(await lsp.hover(uri, { line: 3, character: 2 }));
    const fp = pki.openssl(['x509', '-in', ipLeaf.certPath, '-noout', '-fingerprint', '-sha256']).split('=')[1].trim().replace(/:/g, '').toLowerCase();
    for (const expected of ['Leaf certificate', 'CN=api.example.com', 'CN=feat Intermediate CA', 'DNS:api.example.com', 'DNS:www.example.com', 'IP:10.0.0.1', 'EC P-256', 'ecdsa-with-SHA256', fp, 'SHA-1', 'SPKI SHA-256 pin', 'CA:FALSE', 'digitalSignature', 'Subject key ID', 'Authority key ID', '1 of 3, issued by block 2', 'in 41 days']) {
      assert.ok(h.includes(expected), `hover mentions ${expected}:\n${h}`);
    }
    const rootHover = hoverText(await lsp.hover(uri, { line: text.split('\n').length - 3, character: 0 }));
    assert.match(rootHover, /Root certificate/);
    assert.match(rootHover, /3 of 3, self-signed/);
  });

  it('a private key shows type, size, public key hash and its certificate, never private material', async () => {
    const rsa = pki.issue('hover-rsa', { subject: '/CN=rsa.example.com', issuer: intermediate, ext: leafExt('DNS:rsa.example.com'), key: 'rsa2048' });
    const text = rsa.pem + rsa.keyPem;
    const uri = uriFor(text);
    await lsp.open(uri, text);
    const keyLine = rsa.pem.split('\n').length + 1;
    const h = hoverText(await lsp.hover(uri, { line: keyLine, character: 0 }));
    assert.match(h, /RSA 2048/);
    assert.match(h, /Encrypted \| no/);
    assert.match(h, /matches block 1/);
    const spkiDer = execFileSync('openssl', ['pkey', '-in', rsa.keyPath, '-pubout', '-outform', 'DER']);
    assert.ok(h.includes(createHash('sha256').update(spkiDer).digest('hex')), 'the public key hash openssl computes');
    for (const line of rsa.keyPem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) {
      assert.ok(!h.includes(line.slice(0, 16)), 'no base64 of the private key in the hover');
    }
  });

  it('CSR, CRL, public keys, PKCS#7, parameters and OpenSSH keys are described', async () => {
    const csr = pki.openssl(['req', '-new', '-key', leaf.keyPath, '-subj', '/CN=csr.example.com', '-addext', 'subjectAltName=DNS:csr.example.com']);
    const pub = pki.openssl(['pkey', '-in', leaf.keyPath, '-pubout']);
    const rsaKey = pki.key('rsapub', 'rsa2048');
    const rsaPub = pki.openssl(['rsa', '-in', rsaKey, '-RSAPublicKey_out']);
    const p7 = pki.openssl(['crl2pkcs7', '-nocrl', '-certfile', leaf.certPath, '-certfile', intermediate.certPath]);
    const ecParams = pki.openssl(['ecparam', '-name', 'secp384r1']);
    const dhParams = pki.openssl(['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048']);
    const crl = pki.crl(root, []);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${pki.dir}/id_ed25519`]);
    const ssh = readFileSync(`${pki.dir}/id_ed25519`, 'utf8');
    const parts = [csr, pub, rsaPub, p7, ecParams, dhParams, crl, ssh];
    const text = parts.join('');
    const uri = uriFor(text);
    const diags = await lsp.open(uri, text);
    assert.deepEqual(codes(diags), []);
    const symbols = await lsp.symbols(uri);
    assert.deepEqual(
      symbols.map((s) => s.name),
      ['Certificate request CN=csr.example.com', 'Public key EC P-256', 'Public key RSA 2048', 'PKCS#7 (2 certificates)', 'EC parameters P-384', 'DH parameters 2048 bits', 'CRL CN=feat Root CA', 'Private key Ed25519'],
    );
    const at = (k: number) => ({ line: parts.slice(0, k).join('').split('\n').length - 1 + 1, character: 0 });
    assert.match(hoverText(await lsp.hover(uri, at(0))), /Requested SANs \| DNS:csr\.example\.com[\s\S]*valid/);
    assert.match(hoverText(await lsp.hover(uri, at(3))), /CN=api\.example\.com/);
    assert.match(hoverText(await lsp.hover(uri, at(6))), /Revoked \| 0/);
    assert.match(hoverText(await lsp.hover(uri, at(7))), /Format \| openssh/);
  });
});

describe('editor features', () => {
  it('outline, folding, CodeLens and issuer links per block', async () => {
    const text = 'Bag Attributes\n    friendlyName: api\n' + leaf.pem + intermediate.pem + leaf.keyPem;
    const uri = uriFor(text);
    await lsp.open(uri, text);
    const symbols = await lsp.symbols(uri);
    assert.deepEqual(symbols.map((s) => s.name), ['Certificate CN=api.example.com', 'Certificate CN=feat Intermediate CA', 'Private key EC P-256']);
    assert.equal(symbols[0].range.start.line, 2);
    const folds = await lsp.folding(uri);
    assert.equal(folds.length, 3);
    assert.equal(folds[0].startLine, 2);
    const lenses = await lsp.codeLenses(uri);
    assert.equal(lenses.length, 3);
    assert.match(lenses[0].command?.title ?? '', /^leaf · CN=api\.example\.com · expires \d{4}-\d\d-\d\d, in 19\d days$/);
    assert.match(lenses[1].command?.title ?? '', /^intermediate · CN=feat Intermediate CA/);
    assert.match(lenses[2].command?.title ?? '', /^private key · EC P-256 · matches block 1$/);
    const links = await lsp.links(uri);
    assert.equal(links.length, 1);
    assert.equal(links[0].range.start.line, 2);
    assert.equal(links[0].target, `${uri}#L${2 + leaf.pem.split('\n').length}`);
  });

  it('quick fix: reorder a chain leaf-first', async () => {
    const text = root.pem + intermediate.pem + leaf.pem;
    const uri = uriFor(text);
    const diags = await lsp.open(uri, text);
    const order = diags.filter((d) => d.code === 'chain-order');
    assert.equal(order.length, 1);
    const [action] = await lsp.codeActions(uri, order);
    assert.equal(action.title, 'Reorder the chain leaf-first');
    const fixed = applyEdits(text, action, uri);
    assert.equal(fixed, leaf.pem + intermediate.pem + root.pem);
    assert.deepEqual(codes(await lsp.change(uri, fixed)), ['chain-root-included']);
  });

  it('quick fixes: remove a duplicate, an expired certificate and a root', async () => {
    const expired = pki.issue('fix-expired', { subject: '/CN=Expired CA', ext: ROOT_EXT, notBefore: -100 * DAY, notAfter: -1 * DAY });
    const bundle = root.pem + expired.pem + root.pem;
    const uri = uriFor(bundle);
    const diags = await lsp.open(uri, bundle);
    assert.deepEqual(codes(diags), ['cert-expired', 'duplicate-certificate']);
    const actions = await lsp.codeActions(uri, diags);
    assert.deepEqual(actions.map((a) => a.title).sort(), ['Remove the duplicate certificate (block 3)', 'Remove the expired certificate from the bundle (block 2)']);
    let fixed = bundle;
    for (const a of actions) fixed = applyEdits(fixed, a, uri);
    // Edits of separate actions are computed on the same text; applying the later block first keeps offsets valid.
    assert.equal(applyEdits(applyEdits(bundle, actions.find((a) => /duplicate/.test(a.title))!, uri), actions.find((a) => /expired/.test(a.title))!, uri), root.pem);

    const chain = leaf.pem + intermediate.pem + 'subject=CN = feat Root CA\n' + root.pem;
    const chainUri = uriFor(chain);
    const rootDiag = (await lsp.open(chainUri, chain)).filter((d) => d.code === 'chain-root-included');
    const [drop] = await lsp.codeActions(chainUri, rootDiag);
    assert.equal(drop.title, 'Remove the root certificate from the server chain');
    assert.equal(applyEdits(chain, drop, chainUri), leaf.pem + intermediate.pem, 'the subject= line goes with the block');
  });

  it('settings changes refresh diagnostics without a restart', async () => {
    const c = pki.issue('settings', { subject: '/CN=settings.example.com', issuer: intermediate, ext: leafExt('DNS:settings.example.com'), notAfter: 20 * DAY });
    const text = c.pem + intermediate.pem;
    const uri = uriFor(text);
    assert.deepEqual(codes(await lsp.open(uri, text)), ['cert-expiring']);
    const next = lsp.waitFor(uri, (p) => p.diagnostics.length !== 1 || p.diagnostics[0].code !== 'cert-expiring');
    await lsp.setSettings({ trust: { extraCAFiles: [root.certPath] }, expiry: { warningDays: 60, criticalDays: 25 } });
    assert.deepEqual(codes((await next).diagnostics), ['cert-expiring-critical']);
    assert.ok(lsp.configurationRequests.some((r) => r.section === 'certops' && r.scopeUri === uri), 'settings pulled per resource');
    const back = lsp.waitFor(uri, (p) => codes(p.diagnostics).includes('cert-expiring'));
    await lsp.setSettings({ trust: { extraCAFiles: [root.certPath] } });
    await back;
  });

  it('codeLens can be switched off', async () => {
    const client = await LspClient.start({ codeLens: { enabled: false } });
    try {
      const uri = uriFor(leaf.pem);
      await client.open(uri, leaf.pem);
      assert.deepEqual(await client.codeLenses(uri), []);
    } finally {
      await client.stop();
    }
  });
});

describe('real-world PEM', () => {
  const cases: [string, () => string, number][] = [
    ['CRLF line ends', () => (leaf.pem + intermediate.pem).replace(/\n/g, '\r\n'), 0],
    ['a UTF-8 BOM', () => '\ufeff' + leaf.pem + intermediate.pem, 0],
    ['PKCS#12 Bag Attributes', () => `Bag Attributes\n    localKeyID: 01 02 03\n    friendlyName: api\nsubject=/CN=api.example.com\n\nissuer=/CN=feat Intermediate CA\n${leaf.pem}Bag Attributes: <No Attributes>\n${intermediate.pem}`, 6],
    ['indented blocks', () => (leaf.pem + intermediate.pem).split('\n').map((l) => (l ? '    ' + l : l)).join('\n'), 0],
    ['long base64 lines', () => leaf.pem.replace(/\n(?!-----)/g, (m, off: number) => (off > 30 && off < leaf.pem.length - 30 ? '' : m)) + intermediate.pem, 0],
    ['comments and trailing junk', () => `# production chain\n${leaf.pem}\n${intermediate.pem}trailing junk\n`, 1],
  ];
  for (const [name, make, firstLine] of cases) {
    it(`${name}: both certificates found at the right lines, no diagnostics`, async () => {
      const text = make();
      const uri = uriFor(text);
      assert.deepEqual(codes(await lsp.open(uri, text)), []);
      const symbols = await lsp.symbols(uri);
      assert.deepEqual(symbols.map((s) => s.name), ['Certificate CN=api.example.com', 'Certificate CN=feat Intermediate CA']);
      assert.equal(symbols[0].range.start.line, firstLine);
    });
  }

  it('RFC 1421 headers and an unknown label are named, not errors', async () => {
    const rsa = pki.key('hdr', 'rsa2048');
    const legacy = pki.openssl(['rsa', '-in', rsa, '-des3', '-traditional', '-passout', 'pass:x']);
    const text = legacy + '-----BEGIN FOO BAR-----\nAAAA\n-----END FOO BAR-----\n';
    const uri = uriFor(text);
    const diags = await lsp.open(uri, text);
    assert.deepEqual(codes(diags), ['key-encrypted']);
    const symbols = await lsp.symbols(uri);
    assert.deepEqual(symbols.map((s) => s.name), ['Private key RSA (encrypted)', 'Unknown block FOO BAR']);
    assert.match(hoverText(await lsp.hover(uri, { line: 0, character: 0 })), /Proc-Type: 4,ENCRYPTED<br>DEK-Info: DES-EDE3-CBC/);
  });

  it('a UTF-16 file is read by the server for a sibling', async () => {
    const dir = 'utf16';
    pki.write(`${dir}/app.crt`, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(leaf.pem, 'utf16le')]));
    const keyUri = pki.uri(pki.write(`${dir}/app.key`, intermediate.keyPem));
    const d = await lsp.open(keyUri, intermediate.keyPem);
    assert.deepEqual(codes(d), ['key-mismatch']);
    assert.match(msg(d[0]), /app\.crt/);
  });
});

describe('the system CA bundle', () => {
  // Speed is measured by `npm run bench`; here only the result and the re-analysis after an edit are checked.
  it('gets diagnostics without pem-malformed, and again after an edit', async () => {
    const text = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
    const uri = uriFor(text, 'ca-certificates.crt');
    const diags = await lsp.open(uri, text);
    assert.ok(!codes(diags).includes('pem-malformed'));
    const after = await lsp.edit(uri, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, '# edited\n');
    assert.deepEqual(codes(after), codes(diags));
  });
});
