// ca-overlap through the real server over stdio: the overlap bundle of a CA rotation, as certops ca-bundle writes it, and as lint reports it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Diagnostic } from 'vscode-languageserver-protocol/node';
import { main } from '../../server/src/cli/main';
import { LspClient, codes, msg, startChainServer } from './client';
import { DAY, Issued, Pki, ROOT_EXT } from '../fixtures/pki';

let pki: Pki;
let lsp: LspClient;
let stop: () => Promise<void>;
let oldRoot: Issued, newRoot: Issued, reissued: Issued;
let n = 0;

function open(text: string, name = `overlap-${++n}.pem`): Promise<Diagnostic[]> {
  return lsp.open(pki.uri(pki.write(name, text)), text);
}

async function cli(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => void (out += s), (s) => void (err += s), { env: {}, color: false });
  return { code, out, err };
}

before(async () => {
  ({ pki, lsp, stop } = await startChainServer('overlap'));
  // The rotation: the old root from a year ago (a year left), the new one from now on for ten years with a new key.
  oldRoot = pki.issue('rot-old', { subject: '/O=Example/CN=Example Root CA', ext: ROOT_EXT, notBefore: -365 * DAY, notAfter: 365 * DAY });
  newRoot = pki.issue('rot-new', { subject: '/O=Example/CN=Example Root CA', ext: ROOT_EXT, notAfter: 3650 * DAY });
  reissued = pki.issue('rot-reissued', { subject: '/O=Example/CN=Example Root CA', ext: ROOT_EXT, keyOf: oldRoot, notAfter: 1825 * DAY });
});
after(() => stop?.());

describe('ca-overlap over the protocol', () => {
  it('an overlap bundle (new CA, then old) gets one information diagnostic on the old CA naming the new one', async () => {
    const d = await open(newRoot.pem + oldRoot.pem);
    assert.deepEqual(codes(d), ['ca-overlap']);
    assert.equal(d[0].severity, 3);
    assert.equal(d[0].source, 'certops');
    const oldStart = newRoot.pem.split('\n').length - 1;
    assert.equal(d[0].range.start.line, oldStart);
    assert.equal(d[0].range.end.line, oldStart + oldRoot.pem.split('\n').length - 2);
    assert.match(msg(d[0]), /^2 CAs named CN=Example Root CA,O=Example: this one \(expires \d{4}-\d\d-\d\d, SHA-256 [0-9a-f]{16}…\) is older than block 1 \(from .*, a new key\); the overlap of a CA rotation/);
  });

  it('old first: the diagnostic stays on the old CA and names block 2', async () => {
    const d = await open(oldRoot.pem + newRoot.pem);
    assert.deepEqual(codes(d), ['ca-overlap']);
    assert.equal(d[0].range.start.line, 0);
    assert.match(msg(d[0]), /is older than block 2/);
  });

  it('a CA re-issued with the same key and a longer validity is named as such', async () => {
    const d = await open(oldRoot.pem + reissued.pem);
    assert.deepEqual(codes(d), ['ca-overlap']);
    assert.match(msg(d[0]), /a re-issue of the same CA with the same key/);
  });

  it('the same CA twice is duplicate-certificate only', async () => {
    assert.deepEqual(codes(await open(newRoot.pem + newRoot.pem)), ['duplicate-certificate']);
  });

  it('the output of certops ca-bundle NEW OLD: the server and certops lint report exactly this one diagnostic', async () => {
    const out = join(pki.dir, `rotation-${++n}.pem`);
    const made = await cli(['ca-bundle', newRoot.certPath, oldRoot.certPath, '--out', out]);
    assert.equal(made.code, 0, made.err);
    const text = readFileSync(out, 'utf8');
    const server = await lsp.open(pki.uri(out), text);
    assert.deepEqual(codes(server), ['ca-overlap']);
    const lint = await cli(['lint', out, '--json']);
    assert.equal(lint.code, 0, lint.err);
    const fromCli = (JSON.parse(lint.out) as { files: { diagnostics: { range: unknown; code: string; severity: string; message: string }[] }[] }).files[0].diagnostics;
    assert.deepEqual(fromCli, server.map((d) => ({ range: d.range, severity: 'info', code: d.code, message: msg(d) })));
  });
});
