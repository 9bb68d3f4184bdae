// `certops lint` and the language server give the same diagnostics for the same file, embedded forms included:
// the CLI reads files through the functions the server calls.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { main } from '../../server/src/cli/main';
import { LspClient } from './client';
import { CA_EXT, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

const pki = new Pki();
const root = pki.issue('par-root', { subject: '/CN=Parity Root', ext: ROOT_EXT, notAfter: 365 * 86400 });
const inter = pki.issue('par-inter', { subject: '/CN=Parity Int', issuer: root, ext: CA_EXT, notAfter: 10 * 86400 });
const leaf = pki.issue('par-leaf', { subject: '/CN=parity.example', issuer: inter, ext: leafExt('DNS:parity.example'), notAfter: 20 * 86400 });
const other = pki.issue('par-other', { subject: '/CN=Unrelated', ext: ROOT_EXT, notAfter: 365 * 86400 });
const env = { PATH: process.env.PATH, SSL_CERT_FILE: other.certPath };
let lsp: LspClient | undefined;
after(async () => {
  await lsp?.stop();
  pki.dispose();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const key = readFileSync(leaf.keyPath, 'utf8');
const FILES: [string, string, string][] = [
  ['secret.yaml', 'yaml', `apiVersion: v1\nkind: Secret\ndata:\n  tls.crt: ${b64(leaf.pem + inter.pem)}\n  tls.key: ${b64(key)}\n`],
  ['values.yaml', 'yaml', `tls:\n  cert: |\n${(leaf.pem + inter.pem).replace(/^/gm, '    ')}`],
  ['config.json', 'json', JSON.stringify({ cert: leaf.pem, chain: [inter.pem] }, null, 2)],
  ['app.env', 'dotenv', `CERT="${leaf.pem.replace(/\n/g, '\\n')}"\nOTHER=1\n`],
  ['fullchain.pem', 'pem', inter.pem + leaf.pem],
];

describe('certops lint and the language server agree', () => {
  for (const [name, languageId, text] of FILES) {
    it(`${name} (${languageId})`, async () => {
      lsp ??= await LspClient.start({}, env);
      const path = pki.write(name, text, 0o644);
      const fromServer = await lsp.open(pathToFileURL(path).toString(), text, languageId);
      let out = '';
      const code = await main(['lint', '--json', path], (s) => void (out += s), () => undefined, { env, color: false });
      assert.ok(code === 0 || code === 1, out);
      const fromCli = (JSON.parse(out) as { files: { diagnostics: { range: unknown; code: string; message: string }[] }[] }).files[0].diagnostics;
      assert.ok(fromCli.length > 0, `${name}: no diagnostics at all`);
      assert.deepEqual(
        fromCli.map((d) => [d.range, d.code, d.message]),
        fromServer.map((d) => [d.range, d.code, d.message]),
      );
    });
  }
});
