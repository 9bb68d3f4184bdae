// The hosts tree view: ItemSpecs (items.ts) turned into TreeItems.
import * as vscode from 'vscode';
import { buildTree, ItemSpec } from './items';
import { remoteUri } from './remoteFs';
import type { HostsSession } from './session';

/** Provides `certops.hosts` from the session; rebuilt whenever the session changes. */
export class HostsTreeProvider implements vscode.TreeDataProvider<ItemSpec>, vscode.Disposable {
  private roots: ItemSpec[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(session: HostsSession) {
    this.roots = buildTree(session);
    this.sub = session.onDidChange(() => {
      this.roots = buildTree(session);
      this.changed.fire();
    });
  }

  getChildren(element?: ItemSpec): ItemSpec[] {
    return element ? element.children : this.roots;
  }

  getTreeItem(s: ItemSpec): vscode.TreeItem {
    const collapsible = { none: vscode.TreeItemCollapsibleState.None, collapsed: vscode.TreeItemCollapsibleState.Collapsed, expanded: vscode.TreeItemCollapsibleState.Expanded }[s.collapsible];
    const item = new vscode.TreeItem(s.label, collapsible);
    item.id = s.id;
    item.description = s.description;
    // Plain strings, not MarkdownString: certificate subjects and host output are untrusted.
    item.tooltip = s.tooltip;
    item.contextValue = s.contextValue;
    item.iconPath = new vscode.ThemeIcon(s.icon.id, s.icon.color ? new vscode.ThemeColor(s.icon.color) : undefined);
    if (s.file) {
      item.resourceUri = remoteUri(s.host, s.file);
      item.command = { command: 'certops.hosts.open', title: 'Open', arguments: [s] };
    }
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
