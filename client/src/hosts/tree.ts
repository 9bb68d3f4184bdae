// The hosts tree view: ItemSpecs (items.ts) turned into TreeItems.
import * as vscode from 'vscode';
import { buildTree, ItemSpec } from './items';
import type { HostsSession } from './session';

/** Provides `certops.hosts` from the session; rebuilt whenever the session changes. */
export class HostsTreeProvider implements vscode.TreeDataProvider<ItemSpec>, vscode.Disposable {
  private roots: ItemSpec[] = [];
  private parents = new Map<ItemSpec, ItemSpec>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(session: HostsSession) {
    this.rebuild(session);
    this.sub = session.onDidChange(() => {
      this.rebuild(session);
      this.changed.fire();
    });
  }

  private rebuild(session: HostsSession): void {
    this.roots = buildTree(session);
    this.parents.clear();
    const walk = (item: ItemSpec) => item.children.forEach((c) => (this.parents.set(c, item), walk(c)));
    this.roots.forEach(walk);
  }

  /** The current row with this id (rows are rebuilt on every change), for reveal. */
  find(id: string): ItemSpec | undefined {
    const walk = (items: ItemSpec[]): ItemSpec | undefined => {
      for (const i of items) {
        const hit = i.id === id ? i : walk(i.children);
        if (hit) return hit;
      }
      return undefined;
    };
    return walk(this.roots);
  }

  getParent(element: ItemSpec): ItemSpec | undefined {
    return this.parents.get(element);
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
    // No resourceUri: file decorations (the read-only lock, colours) would crowd the status shown here.
    if (s.file) item.command = { command: 'certops.hosts.open', title: 'Open', arguments: [s] };
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
