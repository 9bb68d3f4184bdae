// Runs one node:test layer (unit, lsp or lab) from the compiled tests in out/test/<layer>/.
// Usage: node test/tools/run-node-tests.mjs <layer> [--no-build] [file filter]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const [layer, ...rest] = process.argv.slice(2);
const LAYERS = { unit: { concurrency: 2 }, lsp: { concurrency: 2 }, lab: { concurrency: 1 } };
if (!LAYERS[layer]) {
  console.error(`usage: run-node-tests.mjs ${Object.keys(LAYERS).join('|')} [--no-build] [filter]`);
  process.exit(2);
}
const filter = rest.find((a) => !a.startsWith('--'));

if (!rest.includes('--no-build')) {
  const b = spawnSync(process.execPath, ['esbuild.mjs', '--tests'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
let files = [];
try {
  files = find(join(ROOT, 'out', 'test', layer)).sort();
} catch {
  /* reported below */
}
if (filter) files = files.filter((f) => f.includes(filter));
if (files.length === 0) {
  console.error(`no compiled tests for the ${layer} layer in out/test/${layer}`);
  process.exit(1);
}

mkdirSync(join(ROOT, 'out', 'results'), { recursive: true });
const tap = join(ROOT, 'out', 'results', `${layer}.tap`);
const started = Date.now();
const child = spawn(process.execPath, ['--enable-source-maps', '--test', `--test-concurrency=${LAYERS[layer].concurrency}`,
  '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
{ cwd: ROOT, stdio: 'inherit' });
const code = await new Promise((res) => child.on('exit', (c, s) => res(c ?? (s ? 1 : 0))));

// The TAP summary is what CI and the top-level runner read.
const summary = { layer, files: files.length, seconds: (Date.now() - started) / 1000, exitCode: code };
const text = readFileSync(tap, 'utf8');
for (const k of ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) {
  const m = new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text);
  summary[k] = m ? Number(m[1]) : null;
}
writeFileSync(join(ROOT, 'out', 'results', `${layer}.json`), JSON.stringify(summary, null, 2));
// A layer that skipped anything did not really pass: tests must not pass by skipping what they could not set up.
if (code === 0 && (summary.skipped || summary.todo || !summary.tests)) {
  console.error(`${layer}: ${summary.skipped} skipped, ${summary.todo} todo, ${summary.tests} tests: counted as a failure`);
  process.exit(1);
}
process.exit(code);
