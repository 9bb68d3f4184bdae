// The VS Code test layer: runs the compiled mocha suite (out/test/vscode/index.js)
// inside a real VS Code (code-server) driven by headless Chromium, and exits with
// the suite's own exit code as the workbench reports it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { format } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CODE_SERVER_VERSION, CURRENT_CODE_SERVER, ensureCodeServer, freePort, ROOT, startCodeServer, workbenchUrl } from './code-server.mjs';
import { makeSampleWorkspace } from './sample-workspace.mjs';

const SUITE_TIMEOUT_MS = 10 * 60_000;
// CERTOPS_CODE_SERVER=<the floor version> runs the same suite on the engines.vscode floor.
const LAYER = CODE_SERVER_VERSION === CURRENT_CODE_SERVER ? 'vscode' : 'vscode-floor';
const started = Date.now();
const log = (s) => console.log(s);
// Expected offline and harmless: the marketplace and sign-in lookups of the workbench.
const NOISE = /ENOTFOUND|No signed-in session|ChatModelSelection|queryGalleryExtensions|^\s+at /;

ensureCodeServer();
if (!process.argv.includes('--no-build')) {
  const b = spawnSync(process.execPath, ['esbuild.mjs', '--tests'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

// `--screenshots DIR`: tests that print `certops-screenshot FILE` (a path under DIR) get the workbench captured there.
const shotsAt = process.argv.indexOf('--screenshots');
if (shotsAt > 0) process.env.CERTOPS_SCREENSHOT_DIR = resolve(process.argv[shotsAt + 1] ?? 'media');

const tmp = mkdtempSync(join(tmpdir(), 'certops-vscode-'));
const workspace = join(tmp, 'sample');
makeSampleWorkspace(workspace);
const port = await freePort();
const server = await startCodeServer({ workspace, dataDir: join(tmp, 'data'), port, log: process.env.CERTOPS_DEBUG ? log : () => {} });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
const hostOutput = [];
let exitCode;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const exited = new Promise((resolve) => {
    // The workbench calls these: the extension host's console, and the suite's exit status.
    page.exposeFunction('codeAutomationLog', (type, args) => {
      // The host forwards console calls with their printf-style arguments (mocha's reporter uses them).
      const line = format(...(Array.isArray(args) ? args : [args]));
      hostOutput.push(`[${type}] ${line}`);
      const shot = /^certops-screenshot (\S+\.png)$/.exec(line);
      if (shot && process.env.CERTOPS_SCREENSHOT_DIR && shot[1].startsWith(`${process.env.CERTOPS_SCREENSHOT_DIR}/`)) {
        page.screenshot({ path: shot[1] }).then(() => log(`saved ${shot[1]}`), (e) => log(`screenshot failed: ${e.message}`));
      }
      if (!NOISE.test(line)) log(`[extension host ${type}] ${line}`);
    });
    page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), SUITE_TIMEOUT_MS).unref());
  await page.goto(workbenchUrl({ port, workspace, extensionPath: ROOT, testsPath: join(ROOT, 'out', 'test', 'vscode', 'index.js') }));
  exitCode = await Promise.race([exited, timeout]);
  if (exitCode === 'timeout') {
    await page.screenshot({ path: join(ROOT, 'out', 'results', 'vscode-timeout.png') }).catch(() => {});
    console.error(`the VS Code suite did not finish within ${SUITE_TIMEOUT_MS / 60_000} minutes`);
    exitCode = 1;
  }
} finally {
  await browser.close().catch(() => {});
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}

// The mocha spec reporter's summary lines, for the top-level runner's table.
const text = hostOutput.join('\n');
const passing = Number(/(\d+) passing/.exec(text)?.[1] ?? 0);
const failing = Number(/(\d+) failing/.exec(text)?.[1] ?? 0);
const pending = Number(/(\d+) pending/.exec(text)?.[1] ?? 0);
mkdirSync(join(ROOT, 'out', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'out', 'results', `${LAYER}-extension-host.log`), `${text}\nexit code ${exitCode}\n`);
const summary = { layer: LAYER, runner: `code-server ${CODE_SERVER_VERSION}`, exitCode, tests: passing + failing + pending, pass: passing, fail: failing, skipped: pending, seconds: (Date.now() - started) / 1000 };
writeFileSync(join(ROOT, 'out', 'results', `${LAYER}.json`), JSON.stringify(summary, null, 2));
console.log(`VS Code suite in code-server ${CODE_SERVER_VERSION}: exit code ${exitCode} (${passing} passing, ${failing} failing, ${pending} pending)`);
if (exitCode === 0 && (passing === 0 || pending > 0)) {
  console.error('the VS Code suite reported no passing tests or pending ones: counted as a failure');
  process.exit(1);
}
process.exit(exitCode === 0 ? 0 : 1);
