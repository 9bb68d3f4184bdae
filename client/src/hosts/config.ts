// The remote-hosts settings, read in one place into one typed object.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

/** The `certops.inventory.*`, `certops.ssh.*` and `certops.monitor.*` settings, resolved. */
export interface HostsSettings {
  /** Absolute path of the inventory, or undefined without a workspace folder. */
  inventoryFile: string | undefined;
  /** undefined: the engine's default (~/.ssh/known_hosts). */
  knownHostsFile: string | undefined;
  /** undefined: the engine's default (~/.ssh/config). */
  sshConfigFile: string | undefined;
  /** Passphrases typed for identity files are kept in VS Code's secret storage. */
  rememberPassphrases: boolean;
  /** 0: no periodic refresh. */
  monitorIntervalMinutes: number;
  /** Fallback for endpoints without `expiry.criticalDays`. */
  criticalDays: number;
  /** Remote files larger than this are not opened. */
  maxFileBytes: number;
}

/** The settings whose change rebuilds the SSH pool or reloads the inventory. */
export const HOSTS_SECTIONS = ['certops.inventory', 'certops.ssh', 'certops.monitor', 'certops.expiry', 'certops.limits'];

function expandHome(p: string): string {
  return p === '~' ? os.homedir() : p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

function numberOr(v: unknown, fallback: number, min = 0): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : fallback;
}

/** Reads the settings once; callers re-read on onDidChangeConfiguration for HOSTS_SECTIONS. */
export function readHostsSettings(): HostsSettings {
  const c = vscode.workspace.getConfiguration('certops');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const inv = expandHome(c.get<string>('inventory.path') || 'certops.json');
  // Machine-scoped settings (a workspace cannot point them elsewhere); relative to the home directory.
  const file = (key: string) => {
    const v = c.get<string>(key);
    return v ? path.resolve(os.homedir(), expandHome(v)) : undefined;
  };
  return {
    inventoryFile: path.isAbsolute(inv) ? inv : folder?.scheme === 'file' ? path.join(folder.fsPath, inv) : undefined,
    knownHostsFile: file('ssh.knownHostsFile'),
    sshConfigFile: file('ssh.configFile'),
    rememberPassphrases: c.get<boolean>('ssh.rememberPassphrases') === true,
    monitorIntervalMinutes: numberOr(c.get('monitor.intervalMinutes'), 60),
    criticalDays: numberOr(c.get('expiry.criticalDays'), 7),
    maxFileBytes: Math.round(numberOr(c.get('limits.maxFileSizeMB'), 32) * 1048576),
  };
}
