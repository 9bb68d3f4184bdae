// `npm start`: installs what it needs, builds, starts the demo lab (sshd and two nginx
// endpoints on loopback, test/lab/demo.ts) and opens a real VS Code (code-server) with the
// extension loaded on a folder of freshly generated sample certificates and the lab's inventory.
// Ctrl-C (SIGINT) or SIGTERM stops everything it started.
// `--screenshot FILE` instead drives headless Chromium to hover a certificate,
// saves a screenshot, and exits (used to make the README's picture).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\`${cmd} ${args.join(' ')}\` failed`);
    process.exit(1);
  }
};

if (!existsSync(join(ROOT, 'node_modules', '.package-lock.json'))) run(npm, ['ci', '--no-audit', '--no-fund']);
run(process.execPath, ['esbuild.mjs']);

const { CHROMIUM_ARGS, ensureCodeServer, freePort, startCodeServer, workbenchUrl } = await import('./code-server.mjs');
const { makeSampleWorkspace } = await import('./sample-workspace.mjs');
const { loadDemoLab } = await import('./demo-lab.mjs');
ensureCodeServer();
const workspace = join(ROOT, '.vscode-test', 'sample');
makeSampleWorkspace(workspace);
const screenshotAt = process.argv.indexOf('--screenshot');

// Whatever has started is stopped on a signal, even one that arrives while the rest is starting.
const running = [];
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  for (const s of running.reverse()) await s.stop().catch((e) => console.error(`stopping: ${e.message}`));
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const { startDemoLab } = await loadDemoLab();
const lab = await startDemoLab(workspace);
running.push(lab);
if (stopping) await new Promise(() => {});
const port = Number(process.env.PORT) || (await freePort());
const dataDir = join(ROOT, '.vscode-test', 'start-data');
const server = await startCodeServer({ workspace, dataDir, port, settings: lab.settings });
running.push(server);
if (stopping) await new Promise(() => {});
// What was started, by pid, for the check that Ctrl-C leaves nothing running (test/tools/check-start-stop.mjs).
mkdirSync(dataDir, { recursive: true });
writeFileSync(join(dataDir, 'pids.json'), JSON.stringify({ start: process.pid, codeServer: server.pid, lab: lab.pids() }));
const url = workbenchUrl({ port, workspace, extensionPath: ROOT });

if (screenshotAt > 0) {
  const file = resolve(process.argv[screenshotAt + 1] ?? 'media/hover.png');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(url);
    await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'api.pem' }).first().click();
    const line = page.locator('.monaco-editor .view-line').nth(3);
    await line.waitFor({ timeout: 30_000 });
    // The summary line above the block comes from the language server too.
    await page.locator('.codelens-decoration', { hasText: 'expires' }).first().waitFor({ timeout: 30_000 });
    // The hover needs the language server; retry the mouse move until the widget shows its table.
    for (let i = 0; i < 30; i++) {
      await line.hover({ position: { x: 40 + (i % 3) * 10, y: 8 } });
      const shown = await page.locator('.monaco-hover', { hasText: 'Subject' }).first().isVisible().catch(() => false);
      if (shown) break;
      await page.waitForTimeout(1000);
    }
    await page.locator('.monaco-hover', { hasText: 'Subject' }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: file });
    console.log(`saved ${file}`);
  } finally {
    await browser.close();
  }
  await stop();
}

console.log(`\nCert Ops is running in VS Code at:\n\n  ${url}\n\nThe sample certificates are in ${workspace}.
The Cert Ops view (activity bar) lists the demo lab: host "demo" (sshd on loopback), endpoint "expiring"
(a certificate that expires in 4 days) and "renewed" (renewed on disk, not reloaded). Rotate "expiring" with
renewed/demo.crt and renewed/demo.key from the sample folder. Press Ctrl+C to stop.`);
if (process.env.DISPLAY || process.platform === 'darwin') {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
}
