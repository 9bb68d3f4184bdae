// `npm start`: installs what it needs, builds, and opens a real VS Code (code-server)
// with the extension loaded on a folder of freshly generated sample certificates.
// `--screenshot FILE` instead drives headless Chromium to hover a certificate,
// saves a screenshot, and exits (used to make the README's picture).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
ensureCodeServer();
const workspace = join(ROOT, '.vscode-test', 'sample');
makeSampleWorkspace(workspace);
const screenshotAt = process.argv.indexOf('--screenshot');
const port = Number(process.env.PORT) || (await freePort());
const server = await startCodeServer({ workspace, dataDir: join(ROOT, '.vscode-test', 'start-data'), port });
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
    await server.stop();
  }
  process.exit(0);
}

console.log(`\nCert Ops is running in VS Code at:\n\n  ${url}\n\nThe sample certificates are in ${workspace}. Press Ctrl+C to stop.`);
if (process.env.DISPLAY || process.platform === 'darwin') {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
}
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
