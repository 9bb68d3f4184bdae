// Remote documents (certops-remote:) pair with their siblings like local files do:
// the server asks the client for the sibling's bytes with certops/readSibling.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LspClient, codes, msg, startChainServer } from './client';
import { Issued } from '../fixtures/pki';
import { ReadSiblingParams, ReadSiblingRequest, ReadSiblingResult } from '../../server/src/protocol';

let lsp: LspClient;
let intermediate: Issued, leaf: Issued;
let stop: () => Promise<void>;
// What the "host" holds, and every sibling the server asked for.
const remote = new Map<string, string>();
const asked: ReadSiblingParams[] = [];

before(async () => {
  ({ lsp, intermediate, leaf, stop } = await startChainServer('remote'));
  lsp.connection.onRequest(ReadSiblingRequest.method, (p: ReadSiblingParams): ReadSiblingResult => {
    asked.push(p);
    const text = remote.get(p.uri);
    return text === undefined ? null : { data: Buffer.from(text).toString('base64') };
  });
});
after(() => stop?.());

describe('pairing of remote documents through certops/readSibling', () => {
  it('a remote key is checked against the certificate beside it on the host, which is not open', async () => {
    const certUri = 'certops-remote:/web1/etc/nginx/tls/server.crt';
    const keyUri = 'certops-remote:/web1/etc/nginx/tls/server.key';
    remote.set(certUri, leaf.pem + intermediate.pem);
    const diags = await lsp.open(keyUri, intermediate.keyPem);
    assert.deepEqual(codes(diags), ['key-mismatch']);
    assert.ok(msg(diags[0]).includes('server.crt'), msg(diags[0]));
    assert.ok(asked.some((a) => a.uri === certUri && a.maxBytes > 0), JSON.stringify(asked));
    // Only names in the same directory of the same host are asked for.
    assert.ok(asked.every((a) => a.uri.startsWith('certops-remote:/web1/etc/nginx/tls/')), JSON.stringify(asked));
    await lsp.close(keyUri);
  });

  it('a matching remote key gets no diagnostic, and its hover names the certificate file on the host', async () => {
    const certUri = 'certops-remote:/web2/srv/my%20certs/site.pem';
    const keyUri = 'certops-remote:/web2/srv/my%20certs/site-key.pem';
    remote.set(certUri, leaf.pem + intermediate.pem);
    const diags = await lsp.open(keyUri, leaf.keyPem);
    assert.deepEqual(codes(diags), []);
    const hover = await lsp.hover(keyUri, { line: 1, character: 1 });
    assert.match(JSON.stringify(hover?.contents), /matches block 1 of site\.pem/);
    await lsp.close(keyUri);
  });

  it('when a remote document is re-read from its host, its siblings are read again too', async () => {
    const certUri = 'certops-remote:/web4/etc/tls/node.crt';
    const keyUri = 'certops-remote:/web4/etc/tls/node.key';
    remote.set(certUri, intermediate.pem);
    assert.deepEqual(codes(await lsp.open(keyUri, leaf.keyPem)), ['key-mismatch']);
    // The certificate was renewed on the host; the editor re-reads the key file (same text, new version).
    remote.set(certUri, leaf.pem + intermediate.pem);
    assert.deepEqual(codes(await lsp.change(keyUri, leaf.keyPem)), []);
    await lsp.close(keyUri);
  });

  it('a sibling the client cannot read is simply not paired', async () => {
    const keyUri = 'certops-remote:/web3/etc/tls/lonely.key';
    const diags = await lsp.open(keyUri, intermediate.keyPem);
    assert.deepEqual(codes(diags), []);
    assert.ok(asked.some((a) => a.uri === 'certops-remote:/web3/etc/tls/lonely.crt'));
    await lsp.close(keyUri);
  });
});
