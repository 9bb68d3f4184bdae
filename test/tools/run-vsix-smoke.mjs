// The `package` test layer: builds the .vsix (`npm run package`), installs it into
// code-server with --install-extension, starts code-server on that extensions folder
// WITHOUT extensionDevelopmentPath (so only the installed copy can answer), opens a
// certificate and checks through the workbench that its language server answered:
// a hover with the certificate's subject and a problem counted in the status bar.
// `--vsix FILE` tests a given package instead of building one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CODE_SERVER_ENTRY, CODE_SERVER_NODE, CODE_SERVER_VERSION, ensureCodeServer, freePort, ROOT, startCodeServer } from './code-server.mjs';
import { packageVsix } from './package-vsix.mjs';

const WAIT = 60_000;
const SUBJECT = 'smoke.certops.test';
const started = Date.now();
const results = join(ROOT, 'out', 'results');
mkdirSync(results, { recursive: true });

function summary(ok, checks) {
  writeFileSync(join(results, 'package.json'), JSON.stringify({
    layer: 'package', runner: `code-server ${CODE_SERVER_VERSION}`, exitCode: ok ? 0 : 1,
    tests: checks.length, pass: checks.filter((c) => c.ok).length, fail: checks.filter((c) => !c.ok).length, skipped: 0,
    seconds: (Date.now() - started) / 1000,
  }, null, 2));
}

const checks = [];
function check(name, ok, detail = '') {
  checks.push({ name, ok });
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${detail ? `: ${detail}` : ''}`);
  if (!ok) throw new Error(`${name}${detail ? `: ${detail}` : ''}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'certops-vsix-'));
let server, browser, page;
try {
  ensureCodeServer();
  const at = process.argv.indexOf('--vsix');
  const vsix = at > 0 ? process.argv[at + 1] : packageVsix().file;

  const dataDir = join(tmp, 'data');
  const extensionsDir = join(dataDir, 'extensions');
  // code-server 4.93 does not create them itself.
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(join(dataDir, 'user-data', 'User'), { recursive: true });
  const install = spawnSync(CODE_SERVER_NODE, [CODE_SERVER_ENTRY, '--install-extension', vsix, '--extensions-dir', extensionsDir,
    '--user-data-dir', join(dataDir, 'user-data')], { encoding: 'utf8', timeout: 5 * 60_000 });
  const installedDirs = existsSync(extensionsDir) ? readdirSync(extensionsDir).filter((d) => d.startsWith('certops.certops-')) : [];
  check('code-server --install-extension installs the .vsix', install.status === 0 && installedDirs.length === 1,
    install.status === 0 ? `${installedDirs.length} certops folders in ${extensionsDir}` : `exit ${install.status ?? install.signal}\n${install.stderr}${install.stdout}`);
  const installed = join(extensionsDir, installedDirs[0]);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  console.log(`installed certops ${manifest.version} at ${installed}`);
  // The installed copy carries no dependencies: ssh2's optional native add-on and
  // everything else must come from the bundles.
  check('the installed extension has no node_modules', !existsSync(join(installed, 'node_modules')));

  const workspace = join(tmp, 'workspace');
  mkdirSync(workspace);
  // A certificate that expires in 3 days (cert-expiring-critical); its key is thrown away unread.
  const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', '/dev/null', '-subj', `/CN=${SUBJECT}`, '-days', '3', '-out', join(workspace, 'smoke.pem')], { encoding: 'utf8' });
  if (cert.status !== 0) throw new Error(`openssl could not make the test certificate: ${cert.stderr}`);

  server = await startCodeServer({ workspace, dataDir, port: await freePort() });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  // No payload: the workbench runs the extensions of --extensions-dir, as for a user.
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'smoke.pem' }).first();
  await row.waitFor({ timeout: WAIT });
  await row.click();
  await page.locator('.tabs-container .tab', { hasText: 'smoke.pem' }).first().waitFor({ timeout: WAIT });

  const hover = page.locator('.monaco-hover', { hasText: 'Subject' }).first();
  const line = page.locator('.monaco-editor .view-line').nth(2);
  let shown = false;
  // A hover asked before the server has started is empty: rest the mouse again until it answers.
  for (let i = 0; i < 20 && !shown; i++) {
    await line.hover({ position: { x: 40 + (i % 3) * 10, y: 8 } });
    shown = await hover.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false);
  }
  const hoverText = shown ? await hover.innerText() : '';
  check('the installed language server answers a hover with the subject', hoverText.includes(SUBJECT),
    shown ? JSON.stringify(hoverText.slice(0, 200)) : 'no hover with a Subject appeared');

  const problems = page.locator('[id="status.problems"]').first();
  let label = '';
  for (let i = 0; i < 30 && !/Errors: [1-9]|Warnings: [1-9]/.test(label); i++) {
    label = (await problems.getAttribute('aria-label', { timeout: WAIT }).catch(() => '')) ?? '';
    if (!/Errors: [1-9]|Warnings: [1-9]/.test(label)) await page.waitForTimeout(1000);
  }
  check('its diagnostics are counted in the status bar', /Errors: [1-9]|Warnings: [1-9]/.test(label), JSON.stringify(label));
  // The walkthrough is contributed by the installed manifest: VS Code lists it by its title.
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ timeout: WAIT });
  await input.fill('>Welcome: Open Walkthrough');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Walkthrough' }).first().click({ timeout: WAIT });
  const walkthrough = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get Started with Cert Ops' }).first();
  const listed = await walkthrough.waitFor({ timeout: WAIT }).then(() => true, () => false);
  check('the walkthrough is offered', listed);
  await walkthrough.click();
  const step = page.locator('.gettingStartedContainer', { hasText: 'Add a host' }).first();
  const opened = await step.waitFor({ timeout: WAIT }).then(() => true, () => false);
  check('the walkthrough opens with its steps', opened && /Open a certificate[\s\S]*Rotate a certificate/.test(await step.innerText()));
  await page.screenshot({ path: join(results, 'package-smoke.png') });
  summary(true, checks);
  console.log(`the installed .vsix works in code-server ${CODE_SERVER_VERSION} (${checks.length} checks)`);
} catch (e) {
  if (page) await page.screenshot({ path: join(results, 'package-smoke-failed.png') }).catch(() => {});
  if (!checks.some((c) => !c.ok)) checks.push({ name: 'setup', ok: false });
  summary(false, checks);
  console.error(`package smoke test failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
}
