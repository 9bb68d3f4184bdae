// Wires the remote-hosts features together: session, tree, remote files, prompts, monitor, commands.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ReadSiblingParams, ReadSiblingRequest, REMOTE_SCHEME } from '../../../server/src/protocol';
import { registerHostCommands } from './commands';
import { HOSTS_SECTIONS } from './config';
import { ExpiryMonitor } from './monitor';
import { VsCodePrompts } from './prompts';
import { RemoteFileSystem } from './remoteFs';
import { HostsSession } from './session';
import { HostsTreeProvider } from './tree';
import { display, ItemSpec } from './items';
import { RotationController } from './rotation';

/** What the hosts features expose to tests through the extension's API. */
export interface HostsApi {
  readonly session: HostsSession;
  readonly tree: HostsTreeProvider;
  readonly view: vscode.TreeView<ItemSpec>;
  readonly monitor: ExpiryMonitor;
  readonly rotation: RotationController;
}

/** Registers the hosts view, the `certops-remote:` file system, the monitor and the commands. */
export function registerHosts(context: vscode.ExtensionContext, client: LanguageClient | undefined, log: vscode.LogOutputChannel): HostsApi {
  const prompts: VsCodePrompts = new VsCodePrompts(context.secrets, context.globalState, () => session.settings.rememberPassphrases);
  const session: HostsSession = new HostsSession(prompts, log);
  const fs = new RemoteFileSystem(session, (message) => log.warn(`remote file: ${message}`));
  const tree = new HostsTreeProvider(session);
  // Several selected endpoints (or a host's row) roll out together.
  const view = vscode.window.createTreeView('certops.hosts', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  const rotation = new RotationController(session, log);
  const monitor = new ExpiryMonitor(session, context.workspaceState, log);
  const showProblem = () => {
    view.message = session.problem ? `The inventory cannot be used: ${display(session.problem)}` : undefined;
  };
  context.subscriptions.push(
    session,
    tree,
    view,
    monitor,
    vscode.workspace.registerFileSystemProvider(REMOTE_SCHEME, fs, { isReadonly: true, isCaseSensitive: true }),
    ...registerHostCommands(session, prompts, log),
    rotation,
    ...rotation.register(),
    // A check of an endpoint also looks for a rotation lock left on it (an interrupted rotation).
    session.onDidRefresh((statuses) => void rotation.checkLocks(statuses.map((s) => `${s.host}/${s.endpoint}`))),
    session.onDidChange(showProblem),
    session.onDidRefresh((statuses) => fs.hostsChecked(new Set(statuses.map((s) => s.host)))),
    // The inventory is re-read whenever its file changes, however it was changed.
    watchInventory(session),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!HOSTS_SECTIONS.some((s) => e.affectsConfiguration(s))) return;
      session.reconfigure(e);
      if (e.affectsConfiguration('certops.inventory')) context.subscriptions.push(watchInventory(session));
      if (e.affectsConfiguration('certops.monitor')) monitor.schedule();
    }),
  );
  if (client) context.subscriptions.push(client.onRequest(ReadSiblingRequest.method, (p: ReadSiblingParams) => fs.readSibling(p)));
  session.reload();
  showProblem();
  monitor.schedule();
  // The first check waits until someone looks: connecting may ask about host keys or passphrases.
  let checked = false;
  const firstLook = (visible: boolean) => {
    if (visible && !checked && session.state === 'loaded') {
      checked = true;
      void vscode.commands.executeCommand('certops.hosts.refresh');
    }
  };
  context.subscriptions.push(
    view.onDidChangeVisibility((e) => firstLook(e.visible)),
    // An inventory created while the view is shown is checked at once too.
    session.onDidChange(() => firstLook(view.visible)),
    session.onDidRefresh(() => (checked = true)),
  );
  firstLook(view.visible);
  return { session, tree, view, monitor, rotation };
}

let inventoryWatcher: vscode.FileSystemWatcher | undefined;

function watchInventory(session: HostsSession): vscode.Disposable {
  inventoryWatcher?.dispose();
  const file = session.settings.inventoryFile;
  if (!file) return new vscode.Disposable(() => {});
  const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
  const reload = () => session.reload();
  w.onDidCreate(reload);
  w.onDidChange(reload);
  w.onDidDelete(reload);
  inventoryWatcher = w;
  return w;
}
