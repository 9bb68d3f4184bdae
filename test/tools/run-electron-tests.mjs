// The same compiled VS Code suite under desktop VS Code, for machines that can download it
// (a developer laptop, a public CI). It runs on the `engines.vscode` floor and on stable.
// Here and in this project's CI the code-server runner is used instead (no download possible).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { makeSampleWorkspace } from './sample-workspace.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const floor = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.vscode.replace(/^\^/, '');
const versions = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const b = spawnSync(process.execPath, ['esbuild.mjs', '--tests'], { cwd: ROOT, stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);

let failed = 0;
for (const version of versions.length ? versions : [floor, 'stable']) {
  const tmp = mkdtempSync(join(tmpdir(), 'certops-electron-'));
  const workspace = join(tmp, 'sample');
  makeSampleWorkspace(workspace);
  try {
    console.log(`\n=== VS Code ${version}`);
    await runTests({
      version,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(ROOT, 'out', 'test', 'vscode', 'index.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', join(tmp, 'ud')],
    });
  } catch (e) {
    console.error(`VS Code ${version}: ${e instanceof Error ? e.message : e}`);
    failed++;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
