/**
 * The longer fuzz run of `npm run bench`: the unit fuzz test's inputs for
 * several seeds (the fixed CI seed first, then CERTOPS_FUZZ_SEEDS or three
 * more), each through the analysis and every service, plus the regression
 * inputs whose speed the tests used to assert. Prints time per input, the
 * slowest inputs and any input that broke an invariant (exit 1 then).
 */
import { analyzeDocument } from '../../server/src/analysis';
import { analyzeText } from '../../server/src/services/analyze';
import { DEFAULT_SETTINGS } from '../../server/src/services/settings';
import { Pki } from '../fixtures/pki';
import { exercise } from '../lsp/fuzz-exercise';
import { DEFAULT_FUZZ_SEED, FuzzInput, fuzzInputs, fuzzMaterial, prng } from '../lsp/fuzz-inputs';

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const extra = (process.env.CERTOPS_FUZZ_SEEDS ?? '').split(',').filter((s) => /^\d+$/.test(s)).map(Number);
const seeds = [DEFAULT_FUZZ_SEED, ...(extra.length ? extra : [1, 2, 3].map((k) => (DEFAULT_FUZZ_SEED * 2654435761 + k) >>> 0))];

const pki = new Pki();
let failures = 0;
try {
  const material = fuzzMaterial(pki);
  const timings: [number, string][] = [];
  let count = 0;
  const t0 = process.hrtime.bigint();
  for (const seed of seeds) {
    const rnd = prng(seed ^ 0x5eed);
    for (const input of fuzzInputs(material, seed, { heavy: true })) {
      const t = process.hrtime.bigint();
      try {
        exercise(input, rnd);
      } catch (e) {
        failures++;
        console.log(`FAIL seed ${seed} "${input.name}" (${input.languageId}, ${input.text.length} chars): ${(e as Error).message.split('\n')[0]}`);
      }
      timings.push([ms(t), `${input.name} (seed ${seed})`]);
      count++;
    }
  }
  const total = ms(t0);
  console.log(`fuzz: ${count} inputs, seeds ${seeds.join(', ')}: ${(total / 1000).toFixed(1)} s, mean ${(total / count).toFixed(1)} ms per input, ${failures} failures`);
  console.log('slowest inputs:');
  for (const [t, name] of timings.sort((a, b) => b[0] - a[0]).slice(0, 5)) console.log(`  ${t.toFixed(0).padStart(7)} ms  ${name}`);

  // The figures the unit tests used to assert (2 s and 5 s): measured here, beside the run's own mean.
  const regressions: FuzzInput[] = fuzzInputs(material, DEFAULT_FUZZ_SEED, { heavy: true }).filter((i) =>
    /50,000 BEGIN markers|line of 50,000 markers|20,000 BEGIN lines|^50,000 BEGIN lines|^5 MB base64 line as CERTIFICATE$/.test(i.name),
  );
  console.log('regression inputs (analysis alone):');
  for (const input of regressions) {
    const t = process.hrtime.bigint();
    analyzeDocument(input.text);
    console.log(`  ${ms(t).toFixed(0).padStart(7)} ms  ${input.name}`);
  }
  const leaf = JSON.stringify(material.leaf.pem);
  const b64 = Buffer.from(material.intermediate.pem).toString('base64');
  const inner = `${leaf}, ${b64}`;
  for (const [name, text] of [
    ['YAML: 200,000 nested flow sequences', '['.repeat(200_000) + inner + ']'.repeat(200_000)],
    ['YAML: 100,000 nested block sequences', '- '.repeat(100_000) + inner + '\n'],
    ['YAML: 5,000 nested flow sequences', '['.repeat(5000) + inner + ']'.repeat(5000)],
  ]) {
    const t = process.hrtime.bigint();
    const blocks = analyzeText(text, 'yaml', DEFAULT_SETTINGS).blocks.length;
    console.log(`  ${ms(t).toFixed(0).padStart(7)} ms  ${name} (${blocks} blocks)`);
  }
} finally {
  pki.dispose();
}
process.exit(failures ? 1 : 0);
