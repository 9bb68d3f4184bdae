// The language server uses the engine's one trust store: SSL_CERT_FILE / SSL_CERT_DIR from its environment
// (as the CLI does), else the platform bundle; the chain-incomplete message and the hover name the store.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LspClient } from './client';
import { CA_EXT, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

const pki = new Pki();
const root = pki.issue('ts-root', { subject: '/CN=Store Test Root', ext: ROOT_EXT, notAfter: 365 * 86400 });
const inter = pki.issue('ts-inter', { subject: '/CN=Store Test Int', issuer: root, ext: CA_EXT, notAfter: 300 * 86400 });
const leaf = pki.issue('ts-leaf', { subject: '/CN=store.example', issuer: inter, ext: leafExt('DNS:store.example'), notAfter: 200 * 86400 });
const other = pki.issue('ts-other', { subject: '/CN=Unrelated Root', ext: ROOT_EXT, notAfter: 365 * 86400 });
const clients: LspClient[] = [];
after(async () => {
  for (const c of clients) await c.stop();
  pki.dispose();
});

/** A server whose environment has only PATH and the given variables. */
async function server(env: Record<string, string>): Promise<LspClient> {
  const c = await LspClient.start({}, { PATH: process.env.PATH, ...env });
  clients.push(c);
  return c;
}

describe('trust store in the language server', () => {
  it('honours SSL_CERT_FILE: the chain to a root in it is complete, and the hover says so', async () => {
    const lsp = await server({ SSL_CERT_FILE: root.certPath });
    const uri = 'file:///trust/fullchain.pem';
    const diags = await lsp.open(uri, leaf.pem + inter.pem);
    assert.deepEqual(diags.map((d) => d.code), []);
    const hover = await lsp.hover(uri, { line: 14, character: 2 });
    // Markdown escapes the underscores of the variable's name.
    const md = (hover?.contents as { value: string }).value;
    assert.ok(md.includes(`| Trust store | issuer trusted: SSL\\_CERT\\_FILE=${root.certPath} (1 root) |`), md);
  });

  it('names the store in chain-incomplete when the root is not in it', async () => {
    const lsp = await server({ SSL_CERT_FILE: other.certPath });
    const diags = await lsp.open('file:///trust/other.pem', leaf.pem + inter.pem);
    const incomplete = diags.find((d) => d.code === 'chain-incomplete');
    assert.ok(incomplete, JSON.stringify(diags));
    assert.match(String(incomplete.message), /nor in the trust store \(SSL_CERT_FILE=\S+ts-other\.pem \(1 root\)\)/);
  });

  it('honours SSL_CERT_DIR with hashed links', async () => {
    const dir = join(pki.dir, 'hashed');
    mkdirSync(dir);
    symlinkSync(root.certPath, join(dir, '5ca1ab1e.0'));
    const lsp = await server({ SSL_CERT_DIR: dir });
    assert.deepEqual((await lsp.open('file:///trust/dir.pem', leaf.pem + inter.pem)).map((d) => d.code), []);
  });
});
