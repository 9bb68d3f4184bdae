// `npm run bench`: prints the speed and conformance figures, each beside a
// reference measured in the same run. Nothing here passes or fails on time.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import * as esbuild from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..', '..');
const run = (args) => spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' }).status ?? 1;

if (run(['esbuild.mjs']) !== 0) process.exit(1);
await esbuild.build({
  entryPoints: ['test/bench/lsp.ts', 'test/bench/fuzz.ts', 'test/bench/hosts.ts', 'test/bench/rotation.ts'], outdir: 'out', outbase: '.', bundle: true, platform: 'node', target: 'node20',
  format: 'cjs', packages: 'external', sourcemap: true, logLevel: 'warning', absWorkingDir: ROOT,
});
let failed = 0;
console.log('\n=== language server');
failed += run(['--enable-source-maps', 'out/test/bench/lsp.js']) ? 1 : 0;
console.log('\n=== fuzz: more seeds than the tests (CERTOPS_FUZZ_SEEDS=a,b,c to choose them)');
failed += run(['--enable-source-maps', 'out/test/bench/fuzz.js']) ? 1 : 0;
console.log('\n=== certops status over SSH: 20 lab hosts');
failed += run(['--enable-source-maps', 'out/test/bench/hosts.js']) ? 1 : 0;
console.log('\n=== certops rotate over SSH: 20 lab endpoints, beside the manual runbook as a script');
failed += run(['--enable-source-maps', 'out/test/bench/rotation.js']) ? 1 : 0;
console.log('\n=== path validation: x509-limbo');
failed += run(['test/bench/run-limbo.mjs']) ? 1 : 0;
process.exit(failed ? 1 : 0);
