// Pairing keys with certificates in sibling files, for every naming pattern operators use.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { LspClient, codes, msg, startChainServer } from './client';
import { Issued, Pki } from '../fixtures/pki';

let pki: Pki;
let lsp: LspClient;
let intermediate: Issued, leaf: Issued;
let stop: () => Promise<void>;

before(async () => {
  ({ pki, lsp, intermediate, leaf, stop } = await startChainServer('sib'));
});
after(() => stop?.());

const PATTERNS: [string, string][] = [
  ['site.crt', 'site.key'],
  ['site.pem', 'site-key.pem'],
  ['site.pem', 'site.key.pem'],
  ['cert.pem', 'key.pem'],
  ['cert.pem', 'privkey.pem'],
  ['fullchain.pem', 'privkey.pem'],
  ['node.crt', 'node.key'],
  ['client.maxroach.crt', 'client.maxroach.key'],
  ['server.crt', 'server.key'],
];

describe('sibling key/certificate pairing', () => {
  PATTERNS.forEach(([certName, keyName], i) => {
    it(`${certName} ↔ ${keyName}: mismatch reported on both sides, cleared when the key is fixed`, async () => {
      const certText = leaf.pem + intermediate.pem;
      const certUri = pki.uri(pki.write(`pair${i}/${certName}`, certText));
      const keyUri = pki.uri(pki.write(`pair${i}/${keyName}`, intermediate.keyPem));

      // The certificate file is not open: the server reads it from disk.
      const keyDiags = await lsp.open(keyUri, intermediate.keyPem);
      assert.deepEqual(codes(keyDiags), ['key-mismatch']);
      assert.ok(msg(keyDiags[0]).includes(certName), msg(keyDiags[0]));

      const certDiags = await lsp.open(certUri, certText);
      assert.deepEqual(codes(certDiags), ['key-mismatch']);
      assert.equal(certDiags[0].range.start.line, 0, 'on the leaf');
      assert.ok(msg(certDiags[0]).includes(keyName));

      // Editing the key document re-checks the open certificate.
      const cleared = lsp.waitFor(certUri, (p) => p.diagnostics.length === 0);
      assert.deepEqual(codes(await lsp.change(keyUri, leaf.keyPem)), []);
      await cleared;
      const hover = await lsp.hover(keyUri, { line: 1, character: 0 });
      const text = hover && typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
      assert.match(text, new RegExp(`matches block 1 of ${certName.replace(/\./g, '\\.')}`));
      await lsp.close(keyUri);
      await lsp.close(certUri);
    });
  });

  it('a key file changed on disk re-checks the open certificate', async () => {
    const certText = leaf.pem;
    const certUri = pki.uri(pki.write('disk/web.crt', certText));
    const keyPath = pki.write('disk/web.key', intermediate.keyPem);
    assert.ok(codes(await lsp.open(certUri, certText)).includes('key-mismatch'));
    const cleared = lsp.waitFor(certUri, (p) => !codes(p.diagnostics).includes('key-mismatch'));
    writeFileSync(keyPath, leaf.keyPem);
    await lsp.filesChanged([pki.uri(keyPath)]);
    await cleared;
  });

  it('names that follow no pattern are not paired', async () => {
    const certUri = pki.uri(pki.write('nopair/bundle.txt', leaf.pem));
    pki.write('nopair/bundle.key', intermediate.keyPem);
    assert.ok(!codes(await lsp.open(certUri, leaf.pem)).includes('key-mismatch'));
  });
});
