// The extension's view of the inventory: the loaded file, one SSH pool, and the
// latest status of each endpoint. The tree, the monitor, the remote file system
// and the commands all read from here; the work itself is the engine's.
import * as vscode from 'vscode';
import { HostsSettings, readHostsSettings } from './config';
import { EndpointStatus, HostEntry, Inventory, InventoryError, inventoryStatus, loadInventory, Prompts, RemoteHost, SshError, SshPool } from './engine';
import { display, statusKey, TreeModel } from './items';

type PoolOptions = ConstructorParameters<typeof SshPool>[0];

/** The pool, reporting refused host keys as they happen: a possible attack must not hide in a tree row. */
class ReportingPool extends SshPool {
  constructor(
    opts: PoolOptions,
    private readonly onRefused: (e: SshError) => void,
  ) {
    super(opts);
  }

  override async get(host: HostEntry, signal?: AbortSignal): Promise<RemoteHost> {
    try {
      return await super.get(host, signal);
    } catch (e) {
      if (e instanceof SshError && (e.kind === 'host-key-changed' || e.kind === 'host-key-revoked')) this.onRefused(e);
      throw e;
    }
  }
}

// The same refusal is shown once a minute at most (a refresh and an open editor may hit it together).
const REFUSAL_QUIET_MS = 60_000;

/** What the welcome view and the tree show: no inventory yet, an invalid one, or a loaded one. */
export type InventoryState = 'none' | 'invalid' | 'loaded' | 'no-folder';

/** Holds the inventory, the SSH connections and the statuses; fires onDidChange when any of them changes. */
export class HostsSession implements vscode.Disposable, TreeModel {
  inventory: Inventory | undefined;
  state: InventoryState = 'none';
  /** The one-line reason the inventory could not be loaded. */
  problem: string | undefined;
  readonly statuses = new Map<string, EndpointStatus>();
  readonly busy = new Set<string>();
  /** By statusKey: a rotation lock found on the endpoint (an interrupted or running rotation), in one line. */
  readonly interrupted = new Map<string, string>();
  /** By statusKey: the step of a rotation under way. */
  readonly rotating = new Map<string, string>();
  settings: HostsSettings = readHostsSettings();
  private pool: SshPool | undefined;
  private readonly refusals = new Map<string, number>();
  private definitions = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after the inventory, a status or the busy set changed. */
  readonly onDidChange = this.changed.event;
  private readonly refreshed = new vscode.EventEmitter<EndpointStatus[]>();
  /** Fires with the statuses of every completed refresh. */
  readonly onDidRefresh = this.refreshed.event;

  constructor(
    private readonly prompts: Prompts,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Re-reads the settings; new SSH settings close the pooled connections, a new inventory path reloads. */
  reconfigure(e: vscode.ConfigurationChangeEvent): void {
    this.settings = readHostsSettings();
    if (e.affectsConfiguration('certops.ssh')) {
      this.pool?.closeAll();
      this.pool = undefined;
    }
    if (e.affectsConfiguration('certops.inventory')) this.reload();
    else this.changed.fire();
  }

  private sshPool(): SshPool {
    this.pool ??= new ReportingPool({ prompts: this.prompts, knownHostsFile: this.settings.knownHostsFile, sshConfigFile: this.settings.sshConfigFile }, (e) => this.refused(e));
    return this.pool;
  }

  private refused(e: SshError): void {
    const last = this.refusals.get(e.message);
    if (last !== undefined && Date.now() - last < REFUSAL_QUIET_MS) return;
    this.refusals.set(e.message, Date.now());
    this.log.error(display(e.message));
    void vscode.window.showErrorMessage(`Cert Ops: ${display(e.message)}`);
  }

  /** Loads (or re-loads) the inventory file; statuses of endpoints that are gone are dropped. */
  reload(): void {
    const file = this.settings.inventoryFile;
    this.problem = undefined;
    if (!file) {
      this.inventory = undefined;
      this.state = 'no-folder';
    } else {
      try {
        this.inventory = loadInventory(file);
        this.state = 'loaded';
      } catch (e) {
        this.inventory = undefined;
        const missing = e instanceof InventoryError && e.jsonPath === '$' && e.problem === 'no such file';
        this.state = missing ? 'none' : 'invalid';
        this.problem = missing ? undefined : e instanceof Error ? e.message : String(e);
        if (this.problem) this.log.warn(`inventory: ${this.problem}`);
      }
    }
    // A status stays only while its host and endpoint read the same: an edited entry is checked afresh.
    const defs = new Map((this.inventory?.hosts ?? []).flatMap((h) => h.endpoints.map((e) => [statusKey(h.name, e.name), JSON.stringify([h.ssh, e])] as const)));
    for (const k of this.statuses.keys()) if (defs.get(k) !== this.definitions.get(k)) this.statuses.delete(k);
    this.definitions = defs;
    void vscode.commands.executeCommand('setContext', 'certops.inventory', this.state);
    this.changed.fire();
  }

  /** Checks the selected endpoints (`HOST` or `HOST/ENDPOINT`; all when none) and records their statuses. */
  async refresh(selectors: string[] = []): Promise<EndpointStatus[]> {
    const inv = this.inventory;
    if (!inv) return [];
    const keys = inv.hosts.flatMap((h) =>
      h.endpoints.map((e) => statusKey(h.name, e.name)).filter((k) => selectors.length === 0 || selectors.some((s) => s === k || (!s.includes('/') && k.startsWith(`${s}/`)))),
    );
    for (const k of keys) this.busy.add(k);
    this.changed.fire();
    try {
      const result = await inventoryStatus(inv, this.sshPool(), selectors);
      for (const s of result) if (!s.states.includes('ok')) this.log.info(display(`${s.host}/${s.endpoint}: ${s.states.join(', ')}`));
      // A reload while the check ran may have replaced the inventory: its statuses describe entries that may be gone.
      if (this.inventory !== inv) return result;
      for (const s of result) this.statuses.set(statusKey(s.host, s.endpoint), s);
      this.refreshed.fire(result);
      return result;
    } finally {
      for (const k of keys) this.busy.delete(k);
      this.changed.fire();
    }
  }

  /** Records (or clears, with undefined) the rotation lock found on an endpoint. */
  setInterrupted(key: string, text: string | undefined): void {
    if (text === this.interrupted.get(key)) return;
    if (text === undefined) this.interrupted.delete(key);
    else this.interrupted.set(key, text);
    this.changed.fire();
  }

  /** Records the step of a rotation under way on an endpoint, or its end (undefined). */
  setRotating(key: string, step: string | undefined): void {
    if (step === undefined) this.rotating.delete(key);
    else this.rotating.set(key, step);
    this.changed.fire();
  }

  /** The inventory entry of a host, or an error naming it. */
  host(name: string): HostEntry {
    const h = this.inventory?.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host "${name}" in the inventory`);
    return h;
  }

  /** The pooled connection to an inventory host (connecting, and prompting, when needed). */
  remote(name: string): Promise<RemoteHost> {
    return this.sshPool().get(this.host(name));
  }

  dispose(): void {
    this.pool?.closeAll();
    this.changed.dispose();
    this.refreshed.dispose();
  }
}
