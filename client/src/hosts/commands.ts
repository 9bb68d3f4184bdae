// The hosts commands: refresh, probe, open, copy fingerprint, import, and the inventory file.
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { hostsFromAnsibleIni, hostsFromAnsibleYaml, hostsFromSshConfig, mergeHosts, MAX_INVENTORY_BYTES } from './engine';
import { display, ItemSpec, STATE_LOOK, statusKey } from './items';
import type { VsCodePrompts } from './prompts';
import { remoteUri } from './remoteFs';
import type { HostsSession } from './session';

/** An error's one-line message, made safe to show (it may quote a host's or a file's words). */
function errorText(e: unknown): string {
  return display(e instanceof Error ? e.message : String(e));
}

/** What a refresh of `item` checks: one endpoint, one host, or everything. */
function selectorsOf(item: ItemSpec | undefined): string[] {
  if (!item) return [];
  return [item.endpoint ? statusKey(item.host, item.endpoint) : item.host];
}

/** Registers every `certops.hosts.*` command and `certops.importHosts`. */
export function registerHostCommands(session: HostsSession, prompts: VsCodePrompts, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const refresh = async (item?: ItemSpec) => {
    if (session.state !== 'loaded') {
      void vscode.window.showWarningMessage(session.problem ? `Cert Ops: ${display(session.problem)}` : 'Cert Ops: there is no certops.json inventory in this workspace yet.');
      return [];
    }
    try {
      return await vscode.window.withProgress({ location: { viewId: 'certops.hosts' } }, () => session.refresh(selectorsOf(item)));
    } catch (e) {
      log.error(`refresh failed: ${errorText(e)}`);
      void vscode.window.showErrorMessage(`Cert Ops: ${errorText(e)}`);
      return [];
    }
  };

  /** Checks one endpoint now and says what it serves; resolves with its status. */
  const probe = async (item?: ItemSpec) => {
    if (!item?.endpoint) return undefined;
    const [s] = await refresh(item);
    if (!s) return undefined;
    const served = s.served ? `serves ${display(s.served.subject)} (SHA-256 ${s.served.sha256.slice(0, 16)}…, ${s.served.daysLeft} days left)` : `probe failed: ${display(s.probeError ?? 'unknown reason')}`;
    const verdict = s.states.map((st) => STATE_LOOK[st]?.label ?? st).join(', ');
    const show = s.states.includes('ok') ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void show(`Cert Ops: ${display(statusKey(s.host, s.endpoint))} ${served}: ${verdict}.`);
    return s;
  };

  const open = async (item?: ItemSpec | vscode.Uri) => {
    const uri = item instanceof vscode.Uri ? item : item?.file ? remoteUri(item.host, item.file) : undefined;
    if (!uri) return;
    try {
      await vscode.window.showTextDocument(uri, { preview: true });
    } catch (e) {
      void vscode.window.showErrorMessage(`Cert Ops: cannot open ${display(uri.path)}: ${errorText(e)}`);
    }
  };

  const copyFingerprint = async (item?: ItemSpec) => {
    if (!item?.sha256) return;
    await vscode.env.clipboard.writeText(item.sha256);
    vscode.window.setStatusBarMessage('Cert Ops: SHA-256 fingerprint copied', 3000);
  };

  const openInventory = async () => {
    const file = session.settings.inventoryFile;
    if (!file) {
      void vscode.window.showWarningMessage('Cert Ops: open a folder first; the inventory is its certops.json.');
      return;
    }
    if (!existsSync(file)) writeFileSync(file, `${JSON.stringify({ hosts: [] }, null, 2)}\n`, { flag: 'wx' });
    await vscode.window.showTextDocument(vscode.Uri.file(file));
  };

  /** With `args`, imports from that file without asking (for keybindings, tasks and tests). */
  const importHosts = async (args?: { from: string; format: 'ssh' | 'ansible' }) => {
    const file = session.settings.inventoryFile;
    if (!file) {
      void vscode.window.showWarningMessage('Cert Ops: open a folder first; imported hosts go to its certops.json.');
      return;
    }
    const sshConfig = session.settings.sshConfigFile ?? path.join(os.homedir(), '.ssh', 'config');
    const pick = args ? { source: args.format } : await vscode.window.showQuickPick(
      [
        { label: '$(terminal) SSH config', description: sshConfig, source: 'ssh' as const },
        { label: '$(file) Ansible inventory…', description: 'INI or YAML', source: 'ansible' as const },
      ],
      { title: 'Cert Ops: import hosts into certops.json', placeHolder: 'Where are your hosts listed?' },
    );
    if (!pick) return;
    let from = args?.from ?? sshConfig;
    if (!args && pick.source === 'ansible') {
      const chosen = await vscode.window.showOpenDialog({ title: 'Ansible inventory', canSelectMany: false, openLabel: 'Import' });
      if (!chosen?.[0]) return;
      from = chosen[0].fsPath;
    }
    try {
      if (statSync(from).size > MAX_INVENTORY_BYTES) throw new Error(`${from}: larger than ${MAX_INVENTORY_BYTES / 1048576} MiB`);
      const text = readFileSync(from, 'utf8');
      const imported =
        pick.source === 'ssh' ? hostsFromSshConfig(text) : /\.ya?ml$/i.test(from) || /^\s*[\w-]+:\s*$/m.test(text) ? hostsFromAnsibleYaml(text) : hostsFromAnsibleIni(text);
      // The inventory must be valid before it is rewritten: never overwrite what could not be read.
      if (session.state === 'invalid') throw new Error(`fix ${file} first: ${session.problem}`);
      const doc = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>) : {};
      const merged = mergeHosts(session.inventory?.hosts ?? [], imported);
      writeFileSync(`${file}.tmp`, `${JSON.stringify({ ...doc, hosts: merged.hosts }, null, 2)}\n`);
      // Renaming over the old file leaves no half-written inventory behind.
      renameSync(`${file}.tmp`, file);
      session.reload();
      const skipped = merged.skipped.length ? `; ${merged.skipped.length} already present` : '';
      void vscode.window.showInformationMessage(
        merged.added.length
          ? `Cert Ops: imported ${merged.added.length} host${merged.added.length === 1 ? '' : 's'} from ${from}${skipped}. Add their endpoints in certops.json.`
          : `Cert Ops: no new hosts in ${from}${skipped}.`,
      );
      if (merged.added.length) await vscode.window.showTextDocument(vscode.Uri.file(file));
    } catch (e) {
      void vscode.window.showErrorMessage(`Cert Ops: import failed: ${errorText(e)}`);
    }
  };

  const forgetPassphrases = async () => {
    const n = await prompts.forgetAll();
    void vscode.window.showInformationMessage(`Cert Ops: forgot ${n} saved passphrase${n === 1 ? '' : 's'}.`);
  };

  return [
    vscode.commands.registerCommand('certops.hosts.refresh', refresh),
    vscode.commands.registerCommand('certops.hosts.probe', probe),
    vscode.commands.registerCommand('certops.hosts.open', open),
    vscode.commands.registerCommand('certops.hosts.copyFingerprint', copyFingerprint),
    vscode.commands.registerCommand('certops.hosts.openInventory', openInventory),
    vscode.commands.registerCommand('certops.importHosts', importHosts),
    vscode.commands.registerCommand('certops.hosts.forgetPassphrases', forgetPassphrases),
  ];
}
