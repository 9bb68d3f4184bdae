// A 10,000-certificate bundle must get diagnostics in at most 2 s with at most 300 MB resident memory.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { LspClient } from './client';
import { DAY, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

let pki: Pki;
let lsp: LspClient;

before(async () => {
  pki = new Pki();
  lsp = await LspClient.start({});
});

after(async () => {
  await lsp.stop();
  pki.dispose();
});

/** 10,000 distinct certificates: one generated leaf with its serial number rewritten (signatures are not checked in a bundle). */
function bundle(count: number): string {
  const ca = pki.issue('big-ca', { subject: '/CN=Big CA', ext: ROOT_EXT, notAfter: 365 * DAY });
  const leaf = pki.issue('big-leaf', { subject: '/CN=big.example.com', issuer: ca, ext: leafExt('DNS:big.example.com'), notAfter: 400 * DAY });
  const der = Buffer.from(leaf.pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  // Certificate and TBSCertificate headers are 4 bytes each (0x30 0x82 len len), then the 5-byte version.
  assert.equal(der[13], 0x02, 'serial INTEGER where expected');
  const len = der[14];
  const parts: string[] = [];
  for (let k = 0; k < count; k++) {
    const copy = Buffer.from(der);
    copy.writeUIntBE(0x0100 + k, 15 + len - 2, 2);
    copy[15] = Math.min(copy[15], 0x7f) || 0x01;
    parts.push(`-----BEGIN CERTIFICATE-----\n${copy.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`);
  }
  return parts.join('');
}


// Speed and memory are measured by `npm run bench`; this test checks that every block of a huge bundle is analysed.
it('10,000 certificates: every block decoded and listed', async () => {
  const text = bundle(10_000);
  const uri = pki.uri(pki.write('big-bundle.txt', text));
  const diags = await lsp.open(uri, text);
  assert.equal(diags.filter((d) => d.code === 'pem-malformed').length, 0);
  assert.equal((await lsp.symbols(uri)).length, 10_000);
});
