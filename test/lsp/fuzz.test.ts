// Hostile inputs sent to one server process: after each, the server must publish diagnostics for that
// version and answer a hover, and it must still be alive at the end. The seed is fixed (CERTOPS_FUZZ_SEED
// overrides it); how long each input takes is measured by `npm run bench`, not asserted here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Hover, PublishDiagnosticsParams } from 'vscode-languageserver-protocol/node';
import { LspClient } from './client';
import { DAY, leafExt, Pki } from '../fixtures/pki';
import { FuzzMaterial, fuzzInputs, fuzzMaterial, fuzzSeed, prng } from './fuzz-inputs';

// Not a speed requirement: a server that never answers must fail the test with its stderr rather than hang it.
const BOUND_MS = 60_000;
const EXT: Record<string, string> = { pem: 'pem', yaml: 'yaml', json: 'json', jsonc: 'jsonc', dotenv: 'env', plaintext: 'txt' };

let pki: Pki;
let lsp: LspClient;
let material: FuzzMaterial;
const seed = fuzzSeed();

before(async () => {
  console.log(`lsp fuzz seed: ${seed} (set CERTOPS_FUZZ_SEED=${seed} to reproduce)`);
  pki = new Pki();
  material = fuzzMaterial(pki);
  lsp = await LspClient.start({ trust: { extraCAFiles: [material.root.certPath] } });
});

after(async () => {
  await lsp.stop();
  pki.dispose();
});

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer at all (waited ${BOUND_MS / 1000} s); server stderr: ${lsp.stderr.slice(-2000)}`)), BOUND_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('fuzz: the server survives hostile documents', () => {
  it(`a few hundred inputs, one server process (seed ${seed})`, async () => {
    const inputs = fuzzInputs(material, seed, { heavy: true });
    assert.ok(inputs.length >= 300, `only ${inputs.length} inputs`);
    const rnd = prng(seed ^ 0x15b);
    // Some inputs replace the text of long-lived documents (didChange, one per language), the rest open fresh ones.
    const live = new Map<string, { uri: string; version: number }>();
    let withDiagnostics = 0;
    for (const [k, input] of inputs.entries()) {
      const what = `input #${k} "${input.name}" (${input.languageId}, ${input.text.length} chars, seed ${seed})`;
      const useChange = rnd() < 0.2;
      let uri: string;
      let version: number;
      let published: Promise<PublishDiagnosticsParams>;
      if (useChange && live.has(input.languageId)) {
        const doc = live.get(input.languageId) as { uri: string; version: number };
        doc.version++;
        ({ uri, version } = doc);
        published = lsp.waitFor(uri, (p) => p.version === version, BOUND_MS + 1000);
        await lsp.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text: input.text }] });
      } else {
        uri = `file:///certops-fuzz/doc-${k}.${EXT[input.languageId]}`;
        version = 1;
        published = lsp.waitFor(uri, (p) => p.version === 1, BOUND_MS + 1000);
        await lsp.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: input.languageId, version, text: input.text } });
        if (useChange) live.set(input.languageId, { uri, version });
      }
      const diags = await within(published, `${what}: diagnostics`);
      if (diags.diagnostics.length > 0) withDiagnostics++;
      const line = diags.diagnostics[0]?.range.start ?? { line: Math.floor(rnd() * 3), character: Math.floor(rnd() * 40) };
      const hover: Hover | null = await within(lsp.hover(uri, line), `${what}: hover`);
      if (diags.diagnostics.length > 0 && hover) assert.ok(hover.contents, `${what}: hover without contents`);
      if (!live.has(input.languageId) || live.get(input.languageId)?.uri !== uri) await lsp.close(uri);
      assert.equal(lsp.process.exitCode, null, `${what}: the server exited`);
    }
    assert.ok(withDiagnostics > inputs.length / 2, `only ${withDiagnostics} of ${inputs.length} inputs got diagnostics`);
  });

  it('the process is still alive and still right afterwards', async () => {
    assert.equal(lsp.process.exitCode, null);
    assert.equal(lsp.process.signalCode, null);
    const uri = 'file:///certops-fuzz/after.pem';
    const diags = await lsp.open(uri, material.leaf.pem + material.intermediate.pem);
    assert.deepEqual(diags, []);
    const expired = pki.issue('fuzz-expired', {
      subject: '/CN=old.example.com', issuer: material.intermediate, ext: leafExt('DNS:old.example.com'), notBefore: -10 * DAY, notAfter: -1 * DAY,
    });
    assert.deepEqual((await lsp.change(uri, expired.pem + material.intermediate.pem)).map((d) => d.code), ['cert-expired']);
    const hover = await lsp.hover(uri, { line: 1, character: 3 });
    assert.match(JSON.stringify(hover?.contents), /old\.example\.com/);
  });
});
