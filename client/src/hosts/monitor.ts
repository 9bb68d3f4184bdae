// The expiry monitor: refreshes on an interval, notifies once per threshold
// crossing, and keeps a status bar item on the nearest expiry (click: the tree).
import * as vscode from 'vscode';
import { crossings, expiryLevel, ExpiryLevel, nearestDays, nearestExpiry } from './expiry';
import { allStatuses, display, statusKey } from './items';
import type { HostsSession } from './session';
import type { EndpointStatus } from './engine';

// Survives window reloads, so a crossing already notified is not notified again.
const SEEN_KEY = 'certops.monitor.seen';

const NOTICE: Record<Exclude<ExpiryLevel, 'ok'>, string> = {
  warning: 'expires soon',
  critical: 'expires very soon',
  expired: 'has expired',
};

/** Owns the timer and the status bar item. */
export class ExpiryMonitor implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private readonly item = vscode.window.createStatusBarItem('certops.expiry', vscode.StatusBarAlignment.Left, 10);
  private readonly subs: vscode.Disposable[] = [];
  private readonly seen: Map<string, ExpiryLevel>;
  private shown = false;

  constructor(
    private readonly session: HostsSession,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.seen = new Map(Object.entries(state.get<Record<string, ExpiryLevel>>(SEEN_KEY, {})));
    this.item.name = 'Cert Ops: nearest certificate expiry';
    this.item.command = 'certops.hosts.focus';
    this.subs.push(session.onDidChange(() => this.render()), session.onDidRefresh((r) => void this.notify(r)));
    this.render();
  }

  /** The status bar item's text, empty while hidden. */
  get statusBarText(): string {
    return this.shown ? this.item.text : '';
  }

  /** Starts (or restarts, after a settings change) the periodic refresh; 0 minutes turns it off. */
  schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const minutes = this.session.settings.monitorIntervalMinutes;
    if (minutes > 0) {
      this.timer = setInterval(() => void this.tick(), minutes * 60_000);
      this.timer.unref?.();
    }
  }

  private async tick(): Promise<void> {
    if (this.session.state !== 'loaded' || this.session.busy.size > 0) return;
    try {
      await this.session.refresh();
    } catch (e) {
      this.log.warn(`periodic refresh failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private levels(statuses: EndpointStatus[]): { status: EndpointStatus; level: ExpiryLevel }[] {
    const endpoints = new Map((this.session.inventory?.hosts ?? []).flatMap((h) => h.endpoints.map((e) => [statusKey(h.name, e.name), e] as const)));
    return statuses.map((status) => ({ status, level: expiryLevel(status, endpoints.get(statusKey(status.host, status.endpoint)), this.session.settings.criticalDays) }));
  }

  private async notify(statuses: EndpointStatus[]): Promise<void> {
    const found = crossings(this.seen, this.levels(statuses));
    await this.state.update(SEEN_KEY, Object.fromEntries(this.seen));
    for (const c of found) {
      if (c.level === 'ok') continue;
      const days = nearestDays(c.status);
      const text = `Cert Ops: the certificate of ${display(c.key)} ${NOTICE[c.level]}${days !== undefined && days >= 0 ? ` (${days} day${days === 1 ? '' : 's'} left)` : ''}.`;
      const show = c.level === 'warning' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
      void show(text, 'Show Hosts').then((choice) => {
        if (choice) void vscode.commands.executeCommand('certops.hosts.focus');
      });
    }
  }

  private render(): void {
    const statuses = allStatuses(this.session);
    const nearest = nearestExpiry(statuses);
    this.shown = nearest !== undefined;
    if (!nearest) {
      this.item.hide();
      return;
    }
    const level = this.levels([nearest.status])[0].level;
    const d = nearest.daysLeft;
    this.item.text = `$(${level === 'ok' ? 'shield' : level === 'warning' ? 'warning' : 'error'}) ${display(nearest.key)} ${d < 0 ? 'expired' : `${d}d`}`;
    this.item.tooltip = `Nearest certificate expiry across the inventory: ${display(nearest.key)}, ${d < 0 ? `expired ${-d} days ago` : `${d} days left`}. Click to show the hosts.`;
    this.item.backgroundColor = level === 'critical' || level === 'expired' ? new vscode.ThemeColor('statusBarItem.errorBackground') : level === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.item.dispose();
    for (const s of this.subs) s.dispose();
  }
}
