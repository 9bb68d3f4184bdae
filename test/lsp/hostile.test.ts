// A file of CA certificates that all name each other must not take the server
// away from other documents: the answer to a hover sent while it is analysed
// arrives before that file's diagnostics, and its chain analysis stops at the
// documented budget with one information diagnostic. Speed is in `npm run bench`.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Hover } from 'vscode-languageserver-protocol/node';
import { LspClient, codes, msg } from './client';
import { mutuallyNamingCAs } from '../fixtures/hostile';
import { Pki, ROOT_EXT } from '../fixtures/pki';

const SIZE = 400;
let lsp: LspClient;
let pki: Pki;

before(async () => {
  lsp = await LspClient.start({});
  pki = new Pki();
});

after(async () => {
  await lsp.stop();
  pki.dispose();
});

it(`a hover on another document is answered while ${SIZE} mutually-naming CAs are analysed`, async () => {
  const other = 'file:///hostile/other.pem';
  const hostile = 'file:///hostile/cas.pem';
  const text = await mutuallyNamingCAs(SIZE);
  await lsp.open(other, await mutuallyNamingCAs(1));

  const events: string[] = [];
  let hover: Promise<Hover | null> | undefined;
  // The server asks for the new document's settings just before analysing it: the hover is sent right behind the
  // answer (the next turn, once the answer is queued for writing), while the server works on the hostile document.
  lsp.connection.onRequest('workspace/configuration', (params: { items: { scopeUri?: string }[] }) => {
    if (!hover && params.items.some((i) => i.scopeUri === hostile)) {
      setImmediate(() => {
        hover = lsp.hover(other, { line: 1, character: 2 });
        void hover.then(() => events.push('hover'));
      });
    }
    return params.items.map(() => lsp.settings);
  });
  const diagnostics = lsp.waitFor(hostile, (p) => p.version === 1, 60_000).then((p) => (events.push('diagnostics'), p.diagnostics));
  await lsp.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: hostile, languageId: 'pem', version: 1, text } });
  const published = await diagnostics;

  assert.ok(hover, 'the server asked for the settings of the hostile document');
  const answer = await hover;
  assert.match(JSON.stringify(answer?.contents), /Hostile CA A/);
  assert.deepEqual(events, ['hover', 'diagnostics']);

  // The chain analysis stopped at its budget and says so, once; no chain diagnostics built on unchecked issuers.
  const limited = published.filter((d) => d.code === 'chain-analysis-limited');
  assert.equal(limited.length, 1);
  assert.equal(limited[0].severity, 3);
  assert.match(msg(limited[0]), new RegExp(`${(SIZE * SIZE) / 2} candidate pairs, and 256 signature checks`));
  assert.deepEqual(codes(published).filter((c) => c.startsWith('chain-') && c !== 'chain-analysis-limited'), []);

  // The hostile document itself answers too.
  const own = await lsp.hover(hostile, { line: 1, character: 2 });
  assert.match(JSON.stringify(own?.contents), /CA certificate/);
});

it('a bundle whose issuers are read only for its links gets the information diagnostic once they are', async () => {
  // Two roots make it a bundle at once: its diagnostics need no signature checked.
  const roots = [1, 2].map((k) => pki.issue(`hostile-root-${k}`, { subject: `/CN=Hostile Root ${k}`, ext: ROOT_EXT }).pem);
  const uri = 'file:///hostile/bundle.pem';
  const first = await lsp.open(uri, [...roots, await mutuallyNamingCAs(SIZE)].join(''));
  assert.deepEqual(codes(first).filter((c) => c.startsWith('chain-')), []);

  const republished = lsp.waitFor(uri, (p) => p.diagnostics.some((d) => d.code === 'chain-analysis-limited'));
  assert.deepEqual(await lsp.links(uri), [], 'no certificate here was issued by another');
  const limited = (await republished).diagnostics.filter((d) => d.code === 'chain-analysis-limited');
  assert.equal(limited.length, 1);
  assert.match(msg(limited[0]), /256 signature checks/);
});
