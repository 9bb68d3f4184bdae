// `npm test`: installs what the tests need and runs every layer, in order:
// typecheck, lint, unit, lsp, lab (real sshd/nginx), vscode (real VS Code in code-server),
// vscode-floor (the same on the engines.vscode floor), package (the .vsix installed into code-server and smoke-tested).
// Plain Node with no dependencies, so it can bootstrap `npm ci` on a fresh clone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function step(name, cmd, args, env = {}) {
  console.log(`\n=== ${name}: ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}${[cmd, ...args].join(' ')}`);
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  return { name, ok: r.status === 0, seconds: (Date.now() - t) / 1000 };
}

const results = [];
if (!existsSync(join(ROOT, 'node_modules', '.package-lock.json'))) {
  const r = step('install', npm, ['ci', '--no-audit', '--no-fund']);
  if (!r.ok) {
    console.error('npm ci failed: cannot run the tests');
    process.exit(1);
  }
}
rmSync(join(ROOT, 'out', 'results'), { recursive: true, force: true });
mkdirSync(join(ROOT, 'out', 'results'), { recursive: true });

results.push(step('typecheck', npm, ['run', '--silent', 'typecheck']));
results.push(step('lint', npm, ['run', '--silent', 'lint']));
const build = step('build', process.execPath, ['esbuild.mjs', '--tests']);
results.push(build);
if (build.ok) {
  for (const layer of ['unit', 'lsp', 'lab']) results.push(step(layer, process.execPath, ['test/tools/run-node-tests.mjs', layer, '--no-build']));
  results.push(step('vscode', process.execPath, ['test/tools/run-code-server-tests.mjs', '--no-build']));
  // The same suite on the oldest VS Code that engines.vscode admits (code-server 4.93.1, VS Code 1.93.1).
  results.push(step('vscode-floor', process.execPath, ['test/tools/run-code-server-tests.mjs', '--no-build'], { CERTOPS_CODE_SERVER: '4.93.1' }));
  results.push(step('ui', process.execPath, ['test/tools/run-ui-tests.mjs', '--no-build']));
  // Last: it rebuilds dist/ as production bundles, and the layers above run the test build.
  results.push(step('package', process.execPath, ['test/tools/run-vsix-smoke.mjs']));
}

console.log('\n=== summary');
for (const r of results) {
  let counts = '';
  try {
    const s = JSON.parse(readFileSync(join(ROOT, 'out', 'results', `${r.name}.json`), 'utf8'));
    counts = `${s.pass}/${s.tests} passed${s.fail ? `, ${s.fail} failed` : ''}${s.skipped ? `, ${s.skipped} skipped` : ''}`;
  } catch {
    /* steps without test counts */
  }
  console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(10)} ${r.seconds.toFixed(1).padStart(7)} s  ${counts}`);
}
const failed = results.filter((r) => !r.ok);
console.log(failed.length ? `\n${failed.length} step(s) failed: ${failed.map((r) => r.name).join(', ')}` : '\nall test layers passed');
process.exit(failed.length ? 1 : 0);
