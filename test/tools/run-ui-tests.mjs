// The `ui` layer: person-level tests of the workbench (test/ui/*.test.mjs), on code-server
// driven by headless Chromium, with the demo lab of `npm start`. Writes out/results/ui.json.
// Usage: node test/tools/run-ui-tests.mjs [--no-build] [file filter]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureCodeServer } from './code-server.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const filter = args.find((a) => !a.startsWith('--'));
if (!args.includes('--no-build')) {
  const b = spawnSync(process.execPath, ['esbuild.mjs', '--tests'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
ensureCodeServer();

const files = readdirSync(join(ROOT, 'test', 'ui')).filter((f) => f.endsWith('.test.mjs') && (!filter || f.includes(filter))).map((f) => join('test', 'ui', f));
if (files.length === 0) {
  console.error('no person-level tests in test/ui');
  process.exit(1);
}
mkdirSync(join(ROOT, 'out', 'results'), { recursive: true });
const tap = join(ROOT, 'out', 'results', 'ui.tap');
const started = Date.now();
// One file at a time: each starts its own code-server, lab and browser.
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files], { cwd: ROOT, stdio: 'inherit' });
const code = await new Promise((res) => child.on('exit', (c, s) => res(c ?? (s ? 1 : 0))));

const summary = { layer: 'ui', files: files.length, seconds: (Date.now() - started) / 1000, exitCode: code };
const text = readFileSync(tap, 'utf8');
for (const k of ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) {
  const m = new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text);
  summary[k] = m ? Number(m[1]) : null;
}
writeFileSync(join(ROOT, 'out', 'results', 'ui.json'), JSON.stringify(summary, null, 2));
if (code === 0 && (summary.skipped || summary.todo || !summary.tests)) {
  console.error(`ui: ${summary.skipped} skipped, ${summary.todo} todo, ${summary.tests} tests: counted as a failure`);
  process.exit(1);
}
process.exit(code);
