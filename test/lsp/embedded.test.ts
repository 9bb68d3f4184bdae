// PEM embedded in YAML, JSON, .env and plain-text documents, through the real server over stdio.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnostic } from 'vscode-languageserver-protocol/node';
import { LspClient, codes, startChainServer } from './client';
import { DAY, Issued, leafExt, Pki } from '../fixtures/pki';

let pki: Pki;
let lsp: LspClient;
let root: Issued, intermediate: Issued, expired: Issued;
let stop: () => Promise<void>;
let n = 0;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const lines = (text: string) => text.split('\n');

function open(text: string, languageId: string, ext: string): Promise<Diagnostic[]> {
  return lsp.open(pki.uri(pki.write(`embedded-${++n}.${ext}`, text)), text, languageId);
}

function hoverText(h: Awaited<ReturnType<LspClient['hover']>>): string {
  const c = h?.contents;
  return typeof c === 'object' && c !== null && 'value' in c ? c.value : JSON.stringify(c);
}

before(async () => {
  ({ pki, lsp, root, intermediate, stop } = await startChainServer('emb'));
  expired = pki.issue('emb-expired', { subject: '/CN=old.example.com', issuer: intermediate, ext: leafExt('DNS:old.example.com'), notBefore: -60 * DAY, notAfter: -2 * DAY });
});
after(() => stop?.());

describe('embedded PEM through the server', () => {
  it('a Kubernetes Secret with a base64 tls.crt of an expired certificate: cert-expired on the tls.crt value, hover there', async () => {
    const text = [
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: old-tls',
      'type: kubernetes.io/tls',
      'data:',
      `  tls.crt: ${b64(expired.pem + intermediate.pem)}`,
      `  tls.key: ${b64(expired.keyPem)}`,
      '',
    ].join('\n');
    const uri = pki.uri(pki.write(`secret-${++n}.yaml`, text));
    const diags = await lsp.open(uri, text, 'yaml');
    const exp = diags.filter((d) => d.code === 'cert-expired');
    assert.equal(exp.length, 1, JSON.stringify(codes(diags)));
    assert.equal(exp[0].range.start.line, 6);
    assert.equal(exp[0].range.end.line, 6);
    assert.equal(exp[0].range.start.character, lines(text)[6].indexOf('LS0t'));
    assert.ok(exp[0].range.end.character <= lines(text)[6].length);
    // The certificate in the second half of the value is the intermediate, fine on its own.
    const mid = Math.floor((exp[0].range.end.character + lines(text)[6].length) / 2);
    const h1 = await lsp.hover(uri, { line: 6, character: exp[0].range.start.character + 5 });
    assert.match(hoverText(h1), /old\.example\.com/);
    assert.deepEqual(h1?.range, exp[0].range);
    assert.match(hoverText(await lsp.hover(uri, { line: 6, character: mid })), /emb Intermediate CA/);
    assert.match(hoverText(await lsp.hover(uri, { line: 7, character: 20 })), /private key|EC/i);
    assert.equal(await lsp.hover(uri, { line: 1, character: 3 }), null);
    // Removing lines would break the Secret: no quick fix for a block inside a base64 value.
    assert.deepEqual(await lsp.codeActions(uri, exp), []);
  });

  it('a YAML block scalar keeps its quick fixes: the block stands on its own lines', async () => {
    const indented = (pem: string) => pem.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
    const text = `cert: |\n${indented(expired.pem)}\n${indented(intermediate.pem)}\n`;
    const uri = pki.uri(pki.write(`bundle-${++n}.yaml`, text));
    const diags = await lsp.open(uri, text, 'yaml');
    const exp = diags.filter((d) => d.code === 'cert-expired');
    assert.deepEqual(exp.map((d) => d.range.start), [{ line: 1, character: 4 }]);
    const actions = await lsp.codeActions(uri, exp);
    assert.equal(actions.length, 1);
    assert.match(actions[0].title, /Remove the expired certificate/);
  });

  it('a JSON file with an escaped PEM string: diagnostics on the string, hover on it', async () => {
    const text = JSON.stringify({ server: { name: 'old', certificate: expired.pem, chain: intermediate.pem } }, null, 2) + '\n';
    const uri = pki.uri(pki.write(`config-${++n}.json`, text));
    const diags = await lsp.open(uri, text, 'json');
    const exp = diags.filter((d) => d.code === 'cert-expired');
    assert.equal(exp.length, 1);
    const line = lines(text)[exp[0].range.start.line];
    assert.match(line, /^\s+"certificate": "-----BEGIN CERTIFICATE-----\\n/);
    assert.equal(exp[0].range.start.character, line.indexOf('-----BEGIN'));
    assert.equal(line.slice(exp[0].range.end.character - 25, exp[0].range.end.character), '-----END CERTIFICATE-----');
    assert.match(hoverText(await lsp.hover(uri, { line: exp[0].range.start.line, character: exp[0].range.start.character + 40 })), /old\.example\.com/);
    assert.deepEqual(await lsp.codeActions(uri, exp), []);
  });

  it('a .env file: multi-line and \\n-escaped values', async () => {
    const text = `APP=web\nTLS_CERT="${expired.pem.trimEnd()}"\nCA_CERT="${intermediate.pem.replace(/\n/g, '\\n')}"\n`;
    const diags = await open(text, 'dotenv', 'env');
    const exp = diags.filter((d) => d.code === 'cert-expired');
    assert.deepEqual(exp.map((d) => d.range.start), [{ line: 1, character: 'TLS_CERT="'.length }]);
    assert.match(lines(text)[exp[0].range.end.line], /^-----END CERTIFICATE-----"$/);
    assert.ok(!diags.some((d) => d.code === 'pem-malformed'), JSON.stringify(codes(diags)));
  });

  it('a kubeconfig: each *-data value is analysed on its own line', async () => {
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- cluster:',
      `    certificate-authority-data: ${b64(root.pem)}`,
      '    server: https://k8s.example.test:6443',
      '  name: prod',
      'users:',
      '- name: admin',
      '  user:',
      `    client-certificate-data: ${b64(expired.pem)}`,
      `    client-key-data: ${b64(expired.keyPem)}`,
      '',
    ].join('\n');
    const uri = pki.uri(pki.write(`kubeconfig-${++n}.yaml`, text));
    const diags = await lsp.open(uri, text, 'yaml');
    assert.deepEqual(diags.filter((d) => d.code === 'cert-expired').map((d) => d.range.start.line), [10]);
    assert.match(hoverText(await lsp.hover(uri, { line: 4, character: 40 })), /emb Root CA/);
    assert.match(hoverText(await lsp.hover(uri, { line: 11, character: 30 })), /private key|EC/i);
    const symbols = await lsp.symbols(uri);
    assert.equal(symbols.length, 3);
  });

  it('plain text: an escaped PEM in a log line', async () => {
    const text = `INFO loaded certificate="${expired.pem.replace(/\n/g, '\\n')}"\n`;
    const diags = await open(text, 'plaintext', 'log');
    assert.deepEqual(diags.filter((d) => d.code === 'cert-expired').map((d) => d.range.start), [{ line: 0, character: text.indexOf('-----BEGIN') }]);
  });

  it('certops.embedded.enabled = false: no diagnostics for YAML, JSON, .env and plain text, PEM files unaffected; back on when re-enabled', async () => {
    const off = await LspClient.start({ embedded: { enabled: false } });
    try {
      const docs: [string, string, string][] = [
        [`data:\n  tls.crt: ${b64(expired.pem)}\n`, 'yaml', 'yaml'],
        [`x: |\n  ${expired.pem.trimEnd().split('\n').join('\n  ')}\n`, 'yaml', 'yaml'],
        [JSON.stringify({ c: expired.pem }), 'json', 'json'],
        [`C="${expired.pem}"`, 'dotenv', 'env'],
        [expired.pem, 'plaintext', 'txt'],
      ];
      const uris: string[] = [];
      for (const [text, lang, ext] of docs) {
        const uri = pki.uri(pki.write(`off-${++n}.${ext}`, text));
        uris.push(uri);
        assert.deepEqual(await off.open(uri, text, lang), [], lang);
        assert.equal(await off.hover(uri, { line: 1, character: 12 }), null);
      }
      const pemUri = pki.uri(pki.write(`off-${++n}.pem`, expired.pem));
      assert.ok((await off.open(pemUri, expired.pem, 'pem')).some((d) => d.code === 'cert-expired'));
      const again = off.waitFor(uris[0], (p) => p.diagnostics.length > 0);
      await off.setSettings({ embedded: { enabled: true } });
      assert.ok((await again).diagnostics.some((d) => d.code === 'cert-expired' && d.range.start.line === 1));
    } finally {
      await off.stop();
    }
  });
});
