// The analysis and the LSP services called directly on hostile inputs: none may throw, and each result keeps its invariants.
// The seed is fixed (CERTOPS_FUZZ_SEED overrides it); how long inputs take is measured by `npm run bench`, not asserted here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyzeDocument } from '../../server/src/analysis';
import { Pki } from '../fixtures/pki';
import { exercise } from '../lsp/fuzz-exercise';
import { FuzzInput, fuzzInputs, fuzzMaterial, fuzzSeed, prng } from '../lsp/fuzz-inputs';

let pki: Pki;
let inputs: FuzzInput[];
const seed = fuzzSeed();

before(() => {
  console.log(`fuzz-analysis seed: ${seed} (set CERTOPS_FUZZ_SEED=${seed} to reproduce)`);
  pki = new Pki();
  inputs = fuzzInputs(fuzzMaterial(pki), seed, { heavy: true });
});
after(() => pki.dispose());

describe('fuzz: analysis and services never throw or stall', () => {
  it(`hundreds of hostile inputs (seed ${seed})`, () => {
    assert.ok(inputs.length >= 300, `only ${inputs.length} inputs`);
    const rnd = prng(seed ^ 0x5eed);
    let blocks = 0;
    for (const input of inputs) {
      try {
        blocks += exercise(input, rnd).blocks;
      } catch (e) {
        assert.fail(`input "${input.name}" (${input.languageId}, ${input.text.length} chars, seed ${seed}) threw: ${(e as Error).stack}`);
      }
    }
    assert.ok(blocks > inputs.length / 2, 'most inputs hold blocks the analysis found');
  });

  it('regressions: BEGIN markers by the thousand are each one malformed block (their scan time is in npm run bench)', () => {
    const cases = inputs.filter((i) => /50,000 BEGIN markers|line of 50,000 markers|20,000 BEGIN lines|^50,000 BEGIN lines/.test(i.name));
    assert.equal(cases.length, 4);
    for (const input of cases) {
      const a = analyzeDocument(input.text);
      // No block out of nothing and none per marker inside a line: at most one per BEGIN line, each malformed.
      const beginLines = input.text.split('\n').filter((l) => l.startsWith('-----BEGIN')).length;
      assert.ok(a.blocks.length <= beginLines, `${input.name}: ${a.blocks.length} blocks for ${beginLines} BEGIN lines`);
      assert.equal(a.blocks.length === 0, beginLines === 0, input.name);
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

  it('regressions: a 5 MB base64 line is one malformed block', () => {
    const input = inputs.find((i) => i.name === '5 MB base64 line as CERTIFICATE');
    assert.ok(input);
    const a = analyzeDocument(input.text);
    assert.equal(a.blocks.length, 1);
    assert.ok(a.blocks[0].problems.length > 0);
  });
});
