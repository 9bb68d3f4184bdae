import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { writeKnownHosts } from '../lab/harness';

/** The generated sample folder the runner opened, and its manifest of what each file holds. */
export function sampleFolder(): { root: vscode.Uri; manifest: Record<string, Record<string, unknown>> } {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the runner opens the generated sample folder as the workspace');
  return { root: folder.uri, manifest: JSON.parse(readFileSync(join(folder.uri.fsPath, '.certops-sample.json'), 'utf8')) };
}

/** Activates certops and returns its API. */
export async function activateCertops(): Promise<{ client: unknown }> {
  const ext = vscode.extensions.getExtension('certops.certops');
  assert.ok(ext, 'the certops extension is installed in the extension host');
  return (await ext.activate()) as { client: unknown };
}

/** Opens a file of the sample folder in an editor. */
export async function openSample(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(sampleFolder().root, name));
  return vscode.window.showTextDocument(doc);
}

/** The plain text of every hover at a position. */
export async function hoverText(uri: vscode.Uri, position: vscode.Position): Promise<string> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, position);
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

/** Resolves with the diagnostics of `uri` once `accept` is true of them (the server publishes asynchronously). */
export function waitForDiagnostics(uri: vscode.Uri, accept: (d: vscode.Diagnostic[]) => boolean, ms = 20_000): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const d = vscode.languages.getDiagnostics(uri);
      if (accept(d)) {
        sub.dispose();
        clearTimeout(timer);
        resolve(d);
      }
    };
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`diagnostics for ${uri.fsPath} never matched; last: ${JSON.stringify(vscode.languages.getDiagnostics(uri))}`));
    }, ms);
    check();
  });
}

/** Polls `f` every 100 ms until it returns something other than undefined or false; fails naming `what` after `ms`. */
export async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** With `--screenshots DIR`, the runner captures the workbench when asked on the console. */
export async function screenshot(name: string): Promise<void> {
  const dir = process.env.CERTOPS_SCREENSHOT_DIR;
  if (!dir) return;
  const file = join(dir, name);
  rmSync(file, { force: true });
  // The workbench draws what the providers returned a moment later; the picture is for people, not an assertion.
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`certops-screenshot ${file}`);
  await until(`the screenshot ${file}`, () => existsSync(file), 30_000);
}

/**
 * Makes the lab host's key the only one trusted and keeps the monitor quiet: `<prefix>known_hosts` and an empty
 * `<prefix>ssh_config` in `folder`, named in the user settings. Returns the known_hosts path.
 */
export async function trustLabHost(folder: string, knownHostsLine: string, prefix: string): Promise<string> {
  const knownHosts = writeKnownHosts(folder, [knownHostsLine], `${prefix}known_hosts`);
  writeFileSync(join(folder, `${prefix}ssh_config`), '');
  const config = vscode.workspace.getConfiguration('certops');
  await config.update('ssh.knownHostsFile', knownHosts, vscode.ConfigurationTarget.Global);
  await config.update('ssh.configFile', join(folder, `${prefix}ssh_config`), vscode.ConfigurationTarget.Global);
  await config.update('monitor.intervalMinutes', 0, vscode.ConfigurationTarget.Global);
  return knownHosts;
}
