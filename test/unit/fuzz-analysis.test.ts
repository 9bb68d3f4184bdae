// The analysis and the LSP services called directly on hostile inputs: none may throw, none may stall.
// Reproduce a run with CERTOPS_FUZZ_SEED=<the printed seed>.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyzeDocument } from '../../server/src/analysis';
import { embeddedRegions, editableDiagnostics } from '../../server/src/embedded';
import { codeActions } from '../../server/src/services/codeactions';
import { codeLenses } from '../../server/src/services/codelens';
import { computeDiagnostics } from '../../server/src/services/diagnostics';
import { hoverAt } from '../../server/src/services/hover';
import { documentLinks } from '../../server/src/services/links';
import { DEFAULT_SETTINGS } from '../../server/src/services/settings';
import { documentSymbols, foldingRanges } from '../../server/src/services/symbols';
import { Pki } from '../fixtures/pki';
import { FuzzInput, fuzzInputs, fuzzMaterial, fuzzSeed, prng } from '../lsp/fuzz-inputs';

const PER_INPUT_MS = 5000;
const MAX_BYTES = DEFAULT_SETTINGS.limits.maxFileSizeMB * 1048576;

let pki: Pki;
let inputs: FuzzInput[];
const seed = fuzzSeed();

before(() => {
  console.log(`fuzz-analysis seed: ${seed} (set CERTOPS_FUZZ_SEED=${seed} to reproduce)`);
  pki = new Pki();
  inputs = fuzzInputs(fuzzMaterial(pki), seed, { heavy: true });
});
after(() => pki.dispose());

/** Everything the server does with a document, with the services called directly. */
function exercise(input: FuzzInput, rnd: () => number): { blocks: number; diagnostics: number } {
  const uri = 'file:///fuzz/input.pem';
  const regions = input.languageId === 'pem' ? undefined : embeddedRegions(input.text, input.languageId, { maxBytes: MAX_BYTES });
  for (const r of regions ?? []) {
    for (const o of [0, r.text.length >> 1, r.text.length]) {
      const p = r.locate(o);
      assert.ok(Number.isInteger(p.offset) && p.offset >= 0 && p.offset <= input.text.length && p.line >= 0 && p.character >= 0, `region locates ${o} at ${JSON.stringify(p)}`);
    }
  }
  const a = analyzeDocument(input.text, { maxBytes: MAX_BYTES, regions });
  for (const b of a.blocks) assert.ok(b.offsets.start >= 0 && b.offsets.start <= b.offsets.end && b.offsets.end <= input.text.length, `block offsets ${JSON.stringify(b.offsets)}`);
  const diagnostics = computeDiagnostics(a, DEFAULT_SETTINGS, { uri });
  for (const d of diagnostics) {
    assert.ok(d.range.start.line >= 0 && d.range.start.character >= 0, `negative position in ${JSON.stringify(d.range)}`);
    assert.ok(d.range.start.line < d.range.end.line || (d.range.start.line === d.range.end.line && d.range.start.character <= d.range.end.character), 'range ends before it starts');
  }
  const lineCount = input.text.split(/\r\n|\r|\n/).length;
  const positions = [{ line: 0, character: 0 }, ...a.blocks.slice(0, 20).map((b) => b.range.start), ...Array.from({ length: 5 }, () => ({ line: Math.floor(rnd() * lineCount), character: Math.floor(rnd() * 200) }))];
  for (const p of positions) hoverAt(a, p, { uri });
  documentSymbols(a);
  foldingRanges(a);
  codeLenses(a, {});
  documentLinks(a, uri);
  codeActions(a, input.text, uri, input.languageId === 'pem' ? diagnostics : editableDiagnostics(a, input.text, diagnostics));
  // The result must survive JSON (what the server sends): no cycles, no BigInt.
  JSON.stringify(diagnostics);
  return { blocks: a.blocks.length, diagnostics: diagnostics.length };
}

describe('fuzz: analysis and services never throw or stall', () => {
  it(`hundreds of hostile inputs (seed ${seed})`, () => {
    assert.ok(inputs.length >= 300, `only ${inputs.length} inputs`);
    const rnd = prng(seed ^ 0x5eed);
    const slow: string[] = [];
    let blocks = 0;
    for (const input of inputs) {
      const started = Date.now();
      try {
        blocks += exercise(input, rnd).blocks;
      } catch (e) {
        assert.fail(`input "${input.name}" (${input.languageId}, ${input.text.length} chars, seed ${seed}) threw: ${(e as Error).stack}`);
      }
      const ms = Date.now() - started;
      if (ms > PER_INPUT_MS) slow.push(`${input.name}: ${ms} ms`);
    }
    assert.deepEqual(slow, [], 'inputs that took too long');
    assert.ok(blocks > inputs.length / 2, 'most inputs hold blocks the analysis found');
  });

  it('regressions: BEGIN markers by the thousand are scanned in linear time', () => {
    const cases = inputs.filter((i) => /50,000 BEGIN markers|line of 50,000 markers|20,000 BEGIN lines|^50,000 BEGIN lines/.test(i.name));
    assert.equal(cases.length, 4);
    for (const input of cases) {
      const started = Date.now();
      const a = analyzeDocument(input.text);
      assert.ok(Date.now() - started < 2000, `${input.name}: ${Date.now() - started} ms`);
      assert.ok(a.blocks.every((b) => b.problems.length > 0), input.name);
    }
  });

  it('regressions: 100k-deep nesting is reported as malformed, not a crash', () => {
    const deep = inputs.filter((i) => i.name.startsWith('100k nested') && i.languageId === 'pem');
    assert.equal(deep.length, 5);
    for (const input of deep) {
      const a = analyzeDocument(input.text);
      assert.equal(a.blocks.length, 1);
      assert.ok(a.blocks[0].problems.length > 0, `${input.name}: ${JSON.stringify(a.blocks[0].problems)}`);
    }
  });

  it('regressions: a 5 MB base64 line is one malformed block, found quickly', () => {
    const input = inputs.find((i) => i.name === '5 MB base64 line as CERTIFICATE');
    assert.ok(input);
    const started = Date.now();
    const a = analyzeDocument(input.text);
    assert.equal(a.blocks.length, 1);
    assert.ok(a.blocks[0].problems.length > 0);
    assert.ok(Date.now() - started < PER_INPUT_MS);
  });
});
