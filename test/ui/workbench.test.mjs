// Person-level tests: the workbench of a real VS Code (code-server) driven through
// headless Chromium as a person does, on the sample folder and the demo lab of
// `npm start` (test/lab/demo.ts). Assertions are on what is on the screen; each
// test saves a screenshot under out/results/. The tests run in order on one page.
/* global window, document, MutationObserver */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM_ARGS, freePort, startCodeServer, workbenchUrl } from '../tools/code-server.mjs';
import { loadDemoLab } from '../tools/demo-lab.mjs';
import { makeSampleWorkspace } from '../tools/sample-workspace.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'out', 'results');
// Generous: the language server, SSH and the rotation run on a shared 2-core machine.
const WAIT = 60_000;

let tmp, workspace, lab, server, browser, page;
const shot = (name) => page.screenshot({ path: join(RESULTS, `ui-${name}.png`) });
/** Resolves true once `locator` is visible within `ms`, false otherwise. */
const visibleWithin = (locator, ms) => locator.waitFor({ state: 'visible', timeout: ms }).then(() => true, () => false);

async function openFromExplorer(name) {
  // The Explorer's rows are named by the file, as a screen reader reads them.
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: WAIT });
  // A double click keeps the editor open (a single click's preview is replaced by the next file).
  await row.dblclick();
  await page.locator('.tabs-container .tab', { hasText: name }).first().waitFor({ timeout: WAIT });
}

/** The rows of the Cert Ops side bar (the Hosts view), by their text. */
const hostsRow = (text) => page.locator('.sidebar .monaco-list-row', { hasText: text }).first();

/** A test whose screen is saved as ui-failed-NAME.png when it fails, to see what a person would have seen. */
const test = (title, name, fn) => it(title, async () => {
  try {
    await fn();
  } catch (e) {
    await page?.screenshot({ path: join(RESULTS, `ui-failed-${name}.png`) }).catch(() => undefined);
    throw e;
  }
});

describe('the workbench as a person uses it, on the demo lab', { concurrency: false }, () => {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'certops-ui-'));
    workspace = join(tmp, 'sample');
    mkdirSync(RESULTS, { recursive: true });
    makeSampleWorkspace(workspace);
    const { startDemoLab } = await loadDemoLab();
    lab = await startDemoLab(workspace);
    const port = await freePort();
    server = await startCodeServer({ workspace, dataDir: join(tmp, 'data'), port, settings: lab.settings });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(workbenchUrl({ port, workspace, extensionPath: ROOT }));
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: WAIT });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await lab?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('opening a certificate from the Explorer and hovering it shows its subject', 'hover', async () => {
    await openFromExplorer('api.pem');
    // The summary line above the block says the language server has decoded the file.
    await page.locator('.codelens-decoration', { hasText: 'expires' }).first().waitFor({ timeout: WAIT });
    const line = page.locator('.monaco-editor .view-line').nth(3);
    const hover = page.locator('.monaco-hover', { hasText: 'Subject' }).first();
    // A mouse that rests on a line shows the hover; move it again if the first rest came before the server answered.
    let shown = false;
    for (let i = 0; i < 20 && !shown; i++) {
      await line.hover({ position: { x: 40 + (i % 3) * 10, y: 8 } });
      shown = await visibleWithin(hover, 3000);
    }
    assert.ok(shown, 'no hover with a Subject appeared over the certificate');
    assert.match(await hover.innerText(), /api\.example\.test/);
    await shot('hover');
  });

  test('the Problems panel lists the codes of the files opened', 'problems', async () => {
    await page.keyboard.press('Escape');
    await openFromExplorer('wrong-order.pem');
    await openFromExplorer('soon.crt');
    await page.keyboard.press('Control+Shift+M');
    const problems = page.locator('.markers-panel');
    await problems.waitFor({ timeout: WAIT });
    for (const code of ['chain-order', 'cert-expiring-critical']) {
      assert.ok(await visibleWithin(problems.locator('.monaco-list-row', { hasText: code }).first(), WAIT), `no ${code} row in the Problems panel`);
    }
    await shot('problems');
  });

  test('the Hosts view lists the lab endpoints with their statuses', 'hosts', async () => {
    await page.locator('.activitybar [aria-label^="Cert Ops"]').first().click();
    await hostsRow('demo').waitFor({ timeout: WAIT });
    // A person presses the view's Refresh when the statuses are not there yet.
    if (!(await visibleWithin(hostsRow('served ≠ on disk'), 10_000))) {
      await page.locator('.sidebar [aria-label="Refresh"]').first().click();
    }
    const expiring = hostsRow(/^expiring/);
    await page.locator('.sidebar .monaco-list-row', { hasText: /expiring · \d day/ }).first().waitFor({ timeout: WAIT });
    const renewed = page.locator('.sidebar .monaco-list-row', { hasText: 'served ≠ on disk' }).first();
    await renewed.waitFor({ timeout: WAIT });
    assert.match(await renewed.innerText(), /renewed/);
    assert.match(await expiring.innerText(), /expiring · [34] days left/);
    assert.match(await hostsRow('demo').innerText(), /2 of 2 need attention/);
    await shot('hosts');
  });

  test('Rotate Certificate… from the command palette shows progress and ends with the new certificate in the tree', 'rotation', async () => {
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.keyboard.press('F1');
    await input.waitFor({ timeout: WAIT });
    await input.fill('>Cert Ops: Rotate Certificate');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Cert Ops: Rotate Certificate' }).first().click();
    // Which endpoints: a multi-select pick; tick demo/expiring and accept.
    await page.locator('.quick-input-title', { hasText: 'rotate which endpoints' }).waitFor({ timeout: WAIT });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'demo/expiring' }).first().click();
    await page.keyboard.press('Enter');
    // The open dialogs are VS Code's simple file dialog: type the path, press Enter.
    // It opens on the workspace folder; a person types the rest of the path, which it completes as they type.
    for (const [title, path, button] of [['the new certificate', lab.renewedCert, 'Use Certificate'], ['the new private key', lab.renewedKey, 'Use Key']]) {
      await page.locator('.quick-input-title', { hasText: title }).waitFor({ timeout: WAIT });
      await page.waitForFunction((w) => document.querySelector('.quick-input-box input')?.value === `${w}/`, workspace, { timeout: WAIT });
      await input.press('End');
      await page.keyboard.type(relative(workspace, path));
      await page.waitForFunction((p) => document.querySelector('.quick-input-box input')?.value === p, path, { timeout: WAIT });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: basename(path) }).first().waitFor({ timeout: WAIT });
      // The dialog ignores the button while it is still reading the folder typed into; a person clicks again.
      const titleRow = page.locator('.quick-input-title', { hasText: title });
      let closed = false;
      for (let i = 0; i < 5 && !closed; i++) {
        await page.locator('.quick-input-widget').getByRole('button', { name: button }).click();
        closed = await titleRow.waitFor({ state: 'hidden', timeout: 5000 }).then(() => true, () => false);
      }
      assert.ok(closed, `the open dialog "${title}" did not take ${path}`);
    }
    await page.locator('.quick-input-title', { hasText: "the endpoint's CA file" }).waitFor({ timeout: WAIT });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Keep the current CA file' }).first().click();

    // Everything the notifications and the Hosts view's rows say from here on, to see the progress pass by.
    await page.evaluate(() => {
      const seen = (window.certopsSeen = []);
      new MutationObserver(() => {
        for (const t of document.querySelectorAll('.notification-toast, .notifications-center, .sidebar .monaco-list-row')) seen.push(t.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: WAIT });
    assert.match(await dialog.innerText(), /Rotate the certificate of demo\/expiring\?/);
    await shot('rotation-confirm');
    await dialog.getByRole('button', { name: 'Rotate', exact: true }).click();

    // The end: the endpoint is checked again, OK, with the renewed certificate's 90 days on disk.
    await page.locator('.sidebar .monaco-list-row', { hasText: /^expiring.*OK/ }).first().waitFor({ timeout: 120_000 });
    assert.match(await hostsRow(/^expiring/).innerText(), /OK · (89|90) days left/);
    // On the way, the endpoint's row followed the transaction's steps (the tree draws some of them:
    // a step shorter than a redraw is not seen, so no particular one is required).
    const seen = await page.evaluate(() => window.certopsSeen.join('\n'));
    const steps = [...new Set(seen.split('\n').filter((l) => /^expiring\s*rotating: /.test(l)))];
    assert.ok(steps.length >= 2, `the row showed ${steps.length} rotation steps:\n${[...new Set(seen.split('\n'))].join('\n').slice(-2000)}`);
    // And the notifications (the status bar's bell) say it rotated.
    await page.locator('.statusbar [aria-label*="Notifications"]').first().click();
    const center = page.locator('.notifications-center');
    await center.locator('.monaco-list-row', { hasText: /demo\/expiring rotated/ }).first().waitFor({ timeout: WAIT });
    await shot('rotation-done');
  });
});
