// The rotation commands: rotate (one endpoint or a fleet), roll back, show the
// evidence, and the renewal helpers (CSR, CA overlap bundle). The transaction,
// the preflight, the fleet runner, the evidence and the CLI commands are the
// engine's; this module asks the questions, shows the progress and the end state.
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  describeReload, EndpointEntry, evidenceDir, RemoteHost, FleetResult, HostEntry, inspectLock, localPreflight, LockState, NewFiles, ProgressEvent,
  readEvidence, recoverEndpoint, renderMarkdown, rollbackEndpoint, rotateEndpoint, rotateTrustEndpoint, RotationDeps, RotationOptions, RotationRecord, rotationDeps, runCli, runFleet, fallbackRoots,
  Transaction, writeEvidence,
} from './engine';
import { display, ItemSpec, statusKey } from './items';
import type { HostsSession } from './session';

/** The dialogs the rotation commands use; tests answer them without a person. */
export type RotationUi = Pick<typeof vscode.window, 'showWarningMessage' | 'showInformationMessage' | 'showErrorMessage' | 'showQuickPick' | 'showOpenDialog' | 'showSaveDialog'>;

/**
 * Local files handed to `certops.rotate` instead of asking for them (keybindings,
 * tasks, tests). `ca` alone replaces only the endpoints' CA file, a phase of a
 * CA rotation with overlap; the certificate stays.
 */
export interface RotateArgs {
  cert?: string;
  key?: string;
  ca?: string;
}

/** What a rotate or rollback command did, per endpoint, and where its evidence is. */
export interface RotationOutcome {
  results: FleetResult[];
  /** The Markdown evidence files written, in the order of the results. */
  evidence: string[];
}

/** A step of a running transaction, as the progress notification showed it. */
export interface StepEvent extends ProgressEvent {
  label: string;
}

// New certificate and key files are small; anything larger is not one.
const MAX_INPUT_BYTES = 1 << 20;

/** What each engine step is called in the progress notification. */
const STEP_TEXT: Record<string, string> = {
  'inspect files': 'preflight: reading the current files',
  'read current certificate': 'preflight: reading the current certificate',
  'probe baseline': 'preflight: probing what is served now',
  lock: 'taking the lock',
  backup: 'backing up the current files',
  'lock and backup': 'taking the lock and backing up the current files',
  'read current CA file': 'preflight: reading the current CA file',
  'check backups': 'checking the backups to restore',
  'client checklist': 'running the client checklist',
  'before hook': 'running the before hook',
  'stage new files': 'writing the new files',
  place: 'renaming the new files into place',
  reload: 'reloading the server',
  'after hook': 'running the after hook',
  verify: 'verifying: probing for the new certificate',
  check: 'running the check',
  release: 'releasing the lock',
  'rollback: stage backups': 'rolling back: copying the backups',
  'rollback: restore': 'rolling back: renaming the backups into place',
  'rollback: reload': 'rolling back: reloading the server',
  'rollback: verify': 'rolling back: probing for the old certificate',
  'hash certificate file': 'recovering: reading the certificate file',
  probe: 'recovering: probing',
};

/** An error's one-line message, made safe to show. */
function errorText(e: unknown): string {
  return display(e instanceof Error ? e.message : String(e));
}

function short(sha: string | undefined): string {
  return sha ? `${sha.slice(0, 16)}…` : 'unknown';
}

function day(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : '?';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A local input file, bounded in size; a clear one-line error otherwise. */
function readLocal(file: string): Buffer {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new Error(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorText(e)}`, { cause: e });
  }
  if (size > MAX_INPUT_BYTES) throw new Error(`${file}: larger than 1 MiB; not a certificate or key file`);
  return readFileSync(file);
}

function settingNumber(key: string, fallback: number, min: number): number {
  const v = vscode.workspace.getConfiguration('certops').get<number>(key);
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.floor(v) : fallback;
}

type Target = { host: HostEntry; endpoint: EndpointEntry; label: string };

/** Drives the rotation transactions from VS Code. */
export class RotationController implements vscode.Disposable {
  /** Replaced by tests to answer the dialogs. */
  ui: RotationUi = vscode.window;
  private readonly stepped = new vscode.EventEmitter<StepEvent>();
  /** The running transactions' cancel switches. */
  private readonly running = new Set<AbortController>();
  /** Fires for every step of every transaction the commands run. */
  readonly onDidStep = this.stepped.event;

  constructor(
    private readonly session: HostsSession,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  dispose(): void {
    this.stepped.dispose();
  }

  /**
   * Cancels the running transactions, as the progress notification's Cancel
   * does: before the backup nothing changes; after it the engine rolls back.
   */
  cancelRunning(): void {
    for (const c of this.running) c.abort();
  }

  /** A cancel switch for one transaction, tied to a progress notification's token. */
  private cancelSwitch(token: vscode.CancellationToken): { signal: AbortSignal; done: () => void } {
    const c = new AbortController();
    this.running.add(c);
    const sub = token.onCancellationRequested(() => c.abort());
    if (token.isCancellationRequested) c.abort();
    return {
      signal: c.signal,
      done: () => {
        sub.dispose();
        this.running.delete(c);
      },
    };
  }

  /** Registers the rotation commands. */
  register(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand('certops.rotate', (item?: ItemSpec, selected?: ItemSpec[], args?: RotateArgs) => this.rotate(item, selected, args)),
      vscode.commands.registerCommand('certops.rollback', (item?: ItemSpec, _selected?: ItemSpec[], args?: { rotation?: string }) => this.rollback(item, args)),
      vscode.commands.registerCommand('certops.showEvidence', (item?: ItemSpec | string) => this.showEvidence(item)),
      vscode.commands.registerCommand('certops.csr', (args?: { from: string; outKey: string; outCsr: string; keyType?: string }) => this.csr(args)),
      vscode.commands.registerCommand('certops.caBundle', (args?: { newCa: string; oldCa: string; out: string }) => this.caBundle(args)),
    ];
  }

  private inventoryReady(): boolean {
    if (this.session.state === 'loaded' && this.session.inventory) return true;
    void this.ui.showWarningMessage(this.session.problem ? `Cert Ops: ${display(this.session.problem)}` : 'Cert Ops: there is no certops.json inventory in this workspace yet.');
    return false;
  }

  private evidenceDir(): string {
    return evidenceDir(this.session.inventory?.file ?? '');
  }

  private allTargets(): Target[] {
    return (this.session.inventory?.hosts ?? []).flatMap((host) => host.endpoints.map((endpoint) => ({ host, endpoint, label: statusKey(host.name, endpoint.name) })));
  }

  /** The endpoints a command acts on: the selected rows (an endpoint, or a host's endpoints), else asked. */
  private async targets(item: ItemSpec | undefined, selected: ItemSpec[] | undefined, many: boolean, only: (t: Target) => boolean = () => true): Promise<Target[]> {
    const all = this.allTargets().filter(only);
    const rows = selected && selected.length > 1 ? selected : item ? [item] : [];
    if (rows.length) {
      const keys = new Set(rows.flatMap((r) => (r.endpoint ? [statusKey(r.host, r.endpoint)] : all.filter((t) => t.host.name === r.host).map((t) => t.label))));
      return all.filter((t) => keys.has(t.label));
    }
    if (all.length === 0) {
      void this.ui.showWarningMessage('Cert Ops: the inventory has no endpoints to act on.');
      return [];
    }
    const picks = all.map((t) => ({ label: display(t.label), description: display(t.endpoint.files.cert), target: t }));
    if (many) {
      const chosen = await this.ui.showQuickPick(picks, { title: 'Cert Ops: rotate which endpoints?', canPickMany: true, placeHolder: 'Several endpoints roll out as a fleet: a canary first' });
      return (chosen ?? []).map((c) => c.target);
    }
    const chosen = await this.ui.showQuickPick(picks, { title: 'Cert Ops: which endpoint?' });
    return chosen ? [chosen.target] : [];
  }

  private async pickFile(title: string, openLabel: string): Promise<string | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const chosen = await this.ui.showOpenDialog({ title, openLabel, canSelectMany: false, defaultUri: folder, filters: { 'PEM files': ['pem', 'crt', 'cer', 'key', 'ca-bundle'], 'All files': ['*'] } });
    return chosen?.[0]?.fsPath;
  }

  /** The new files: from the arguments, else asked with open dialogs in the workspace. */
  private async newFiles(targets: Target[], args?: RotateArgs): Promise<NewFiles | undefined> {
    let names: RotateArgs | undefined = args;
    if (names && names.cert === undefined) {
      if (names.ca === undefined) throw new Error('give the new certificate, or a CA file alone');
      return { cert: Buffer.alloc(0), ca: readLocal(names.ca), names: { cert: '', ca: path.basename(names.ca) } };
    }
    if (!names) {
      const cert = await this.pickFile('Cert Ops: the new certificate (with its intermediates, as the server sends them)', 'Use Certificate');
      if (!cert) return undefined;
      let key: string | undefined;
      if (targets.some((t) => t.endpoint.files.key)) {
        key = await this.pickFile('Cert Ops: the new private key', 'Use Key');
        if (!key) return undefined;
      }
      let ca: string | undefined;
      if (targets.some((t) => t.endpoint.files.ca)) {
        const keep = { label: 'Keep the current CA file', description: 'the chain is checked against it' };
        const replace = { label: 'Replace the CA file…', description: 'choose the new CA file' };
        const choice = await this.ui.showQuickPick([keep, replace], { title: 'Cert Ops: the endpoint\'s CA file' });
        if (!choice) return undefined;
        if (choice === replace) {
          ca = await this.pickFile('Cert Ops: the new CA file', 'Use CA File');
          if (!ca) return undefined;
        }
      }
      names = { cert, key, ca };
    }
    const cert = names.cert ?? '';
    return {
      cert: readLocal(cert),
      key: names.key === undefined ? undefined : readLocal(names.key),
      ca: names.ca === undefined ? undefined : readLocal(names.ca),
      names: { cert: path.basename(cert), key: names.key && path.basename(names.key), ca: names.ca && path.basename(names.ca) },
    };
  }

  private options(extra: RotationOptions = {}): RotationOptions {
    return { keepBackups: settingNumber('rotation.keepBackups', 5, 1), fallbackRoots: fallbackRoots({ extraCAFiles: vscode.workspace.getConfiguration('certops').get<string[]>('trust.extraCAFiles') ?? [] }), ...extra };
  }

  /** The engine's step events, to the progress notification, the log and onDidStep. */
  private stepReporter(label: string, progress: vscode.Progress<{ message?: string; increment?: number }>, share: number, named: boolean): (e: ProgressEvent) => void {
    // Several endpoints share one notification: each line then says which endpoint it is about.
    const who = named ? `${display(label)}: ` : '';
    return (e) => {
      const text = STEP_TEXT[e.step] ?? e.step;
      if (e.status === 'start') {
        progress.report({ message: `${who}${text}…` });
        this.session.setRotating(label, text);
      } else if (e.status === 'ok') progress.report({ increment: share });
      else progress.report({ message: `${who}${text} failed: ${display(e.detail ?? '')}` });
      this.log.info(display(`${label}: ${e.step} ${e.status}${e.detail ? `: ${e.detail}` : ''}`));
      this.stepped.fire({ ...e, label });
    };
  }

  /** What the endpoint's lock says: an interrupted rotation to finish, a live one, or nothing. */
  async lockState(t: Target): Promise<LockState> {
    const deps = rotationDeps(t.host.name, t.endpoint, await this.session.remote(t.host.name));
    return inspectLock(new Transaction(deps, {}, 'recover'), {});
  }

  /** Offers to finish interrupted rotations found on the targets; false when the rotation must not go on. */
  private async recoverFirst(targets: Target[]): Promise<boolean> {
    const found: { t: Target; state: LockState }[] = [];
    for (const t of targets) {
      const state = await this.lockState(t);
      this.session.setInterrupted(t.label, state.kind === 'free' ? undefined : interruptedText(state));
      if (state.kind !== 'free') found.push({ t, state });
    }
    const held = found.find((f) => f.state.kind === 'held');
    if (held && held.state.kind === 'held') {
      void this.ui.showErrorMessage(`Cert Ops: ${display(held.t.label)}: ${display(held.state.message)}. Nothing was changed.`);
      return false;
    }
    if (found.length === 0) return true;
    const recover = 'Recover and Continue';
    const answer = await this.ui.showWarningMessage(
      `An interrupted rotation was found on ${found.map((f) => display(f.t.label)).join(', ')}.`,
      { modal: true, detail: `${found.map((f) => `${display(f.t.label)}: ${display(interruptedText(f.state))}`).join('\n')}\n\nCert Ops finishes it first from its journal on the host: it completes it when the new certificate is verified served, and rolls it back otherwise.` },
      recover,
    );
    if (answer !== recover) return false;
    const records = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Cert Ops: finishing the interrupted rotation' }, async (progress) => {
      const out: RotationRecord[] = [];
      for (const { t } of found) {
        const deps = rotationDeps(t.host.name, t.endpoint, await this.session.remote(t.host.name), { progress: this.stepReporter(t.label, progress, 100 / found.length / 4, found.length > 1) });
        const r = await recoverEndpoint(deps, this.options()).finally(() => this.session.setRotating(t.label, undefined));
        if (r) {
          writeEvidence(this.evidenceDir(), r);
          out.push(r);
        }
        this.session.setInterrupted(t.label, undefined);
      }
      return out;
    });
    const bad = records.filter((r) => r.state === 'needs-attention' || r.state === 'refused');
    for (const r of records) this.log.info(display(`${r.host}/${r.endpoint}: recovery ${r.state}: ${r.message}`));
    if (bad.length) {
      await this.ui.showErrorMessage(`Cert Ops: ${display(`${bad[0].host}/${bad[0].endpoint}`)}: ${display(bad[0].message)}`, { modal: true, detail: (bad[0].advice ?? []).map(display).join('\n') });
      return false;
    }
    void this.ui.showInformationMessage(`Cert Ops: ${records.map((r) => `${display(`${r.host}/${r.endpoint}`)}: ${display(r.message)}`).join(' ')}`);
    return true;
  }

  /** The transaction the files ask for: a rotation, or (a CA file alone) a trust rotation. */
  private transaction(deps: RotationDeps, files: NewFiles, opts: RotationOptions): Promise<RotationRecord[]> {
    if (files.names.cert === '' && files.ca) return rotateTrustEndpoint(deps, { bytes: files.ca, name: files.names.ca ?? 'the CA file' }, opts);
    return rotateEndpoint(deps, files, opts);
  }

  /** The dry run of every target (local and remote preflight, the plan); the records say what would happen. */
  private async plan(targets: Target[], files: NewFiles, opts: RotationOptions): Promise<RotationRecord[] | undefined> {
    // A dry run changes nothing, so it can be cancelled at any point (the endpoint under way finishes reading).
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Cert Ops: preflight', cancellable: true }, async (progress, token) => {
      const out: RotationRecord[] = [];
      for (const t of targets) {
        if (token.isCancellationRequested) return undefined;
        progress.report({ message: `${display(t.label)}: checking the new files and the endpoint…` });
        const deps = rotationDeps(t.host.name, t.endpoint, await this.session.remote(t.host.name));
        const records = await this.transaction(deps, files, { ...opts, dryRun: true });
        out.push(records[records.length - 1]);
      }
      return token.isCancellationRequested ? undefined : out;
    });
  }

  /**
   * `certops.rotate`: preflight here and on the host, a confirmation naming
   * what changes, then the transaction (a fleet when several endpoints) with
   * its steps in a progress notification, evidence, and the tree refreshed.
   */
  async rotate(item?: ItemSpec, selected?: ItemSpec[], args?: RotateArgs): Promise<RotationOutcome | undefined> {
    if (!this.inventoryReady()) return undefined;
    const trustOnly = args !== undefined && args.cert === undefined;
    const targets = await this.targets(item, selected, true, (t) => !trustOnly || t.endpoint.files.ca !== undefined);
    if (targets.length === 0) return undefined;
    let files: NewFiles | undefined;
    try {
      files = await this.newFiles(targets, args);
    } catch (e) {
      void this.ui.showErrorMessage(`Cert Ops: ${errorText(e)}`);
      return undefined;
    }
    if (!files) return undefined;
    const unusable = this.refuseLocally(targets, files);
    if (unusable) return unusable;
    try {
      if (!(await this.recoverFirst(targets))) return undefined;
      let opts = this.options();
      let planned = await this.plan(targets, files, opts);
      if (!planned) return undefined;
      const refused = planned.filter((r) => r.state !== 'planned');
      const onlyEarlier = refused.length > 0 && refused.every((r) => r.findings.some((f) => f.code === 'expires-earlier') && !r.findings.some((f) => f.severity === 'error'));
      if (onlyEarlier) {
        const anyway = 'Rotate Anyway';
        const answer = await this.ui.showWarningMessage(`The new certificate expires before the one it replaces on ${refused.map((r) => display(`${r.host}/${r.endpoint}`)).join(', ')}.`, { modal: true, detail: display(refused[0].message.replace(/; pass --allow-earlier-expiry to rotate anyway$/, '')) }, anyway);
        if (answer !== anyway) return undefined;
        opts = { ...opts, allowEarlierExpiry: true };
        planned = await this.plan(targets, files, opts);
        if (!planned) return undefined;
      }
      const notPlanned = planned.find((r) => r.state !== 'planned');
      if (notPlanned) {
        void this.ui.showErrorMessage(`Cert Ops: ${display(`${notPlanned.host}/${notPlanned.endpoint}`)}: rotation refused, nothing was changed: ${display(notPlanned.message)}`);
        const results = planned.map((r) => ({ label: `${r.host}/${r.endpoint}`, state: r.state === 'planned' ? ('skipped' as const) : r.state, records: [r], message: r.message }));
        return { results, evidence: [] };
      }
      if (!(await this.confirmRotation(targets, files, planned))) return undefined;
      return await this.run(targets, files, opts);
    } catch (e) {
      this.log.error(`rotation: ${errorText(e)}`);
      void this.ui.showErrorMessage(`Cert Ops: ${errorText(e)}`);
      return undefined;
    }
  }

  /**
   * The engine's local preflight, before any host is contacted: new files that
   * do not parse, a key that is not the certificate's, a certificate not valid
   * now or not naming the endpoint are refused here, with nothing asked.
   */
  private refuseLocally(targets: Target[], files: NewFiles): RotationOutcome | undefined {
    if (files.names.cert === '') return undefined;
    const now = new Date();
    for (const t of targets) {
      const { findings } = localPreflight(files, { servername: t.endpoint.probe.servername ?? t.endpoint.probe.host, now });
      const errors = findings.filter((f) => f.severity === 'error').map((f) => f.message);
      if (errors.length === 0) continue;
      const message = errors.join('; ');
      void this.ui.showErrorMessage(`Cert Ops: ${display(t.label)}: rotation refused, nothing was changed: ${display(message)}`);
      return { results: targets.map((x) => ({ label: x.label, state: x === t ? 'refused' : 'skipped', records: [], message: x === t ? message : 'not started' })), evidence: [] };
    }
    return undefined;
  }

  /** The modal naming host, endpoint, files, reload and old → new certificate; "Show Plan" opens the dry run. */
  private async confirmRotation(targets: Target[], files: NewFiles, planned: RotationRecord[]): Promise<boolean> {
    const detail = planned.map((r, i) => describePlanned(targets[i], files, r)).join('\n\n');
    const warnings = planned.flatMap((r) => r.findings.filter((f) => f.severity === 'warning').map((f) => `warning: ${display(f.message)}`));
    const rotate = targets.length > 1 ? 'Roll Out' : 'Rotate';
    const show = 'Show Plan';
    const fleet = targets.length > 1 ? `\n\n${display(targets[0].label)} first as the canary, then ${settingNumber('rotation.concurrency', 4, 1)} at a time; the rollout stops at the first failure.` : '';
    for (;;) {
      const answer = await this.ui.showWarningMessage(
        files.names.cert === ''
          ? `Replace the CA file of ${targets.length > 1 ? plural(targets.length, 'endpoint') : display(targets[0].label)}?`
          : targets.length > 1
            ? `Rotate the certificates of ${plural(targets.length, 'endpoint')}?`
            : `Rotate the certificate of ${display(targets[0].label)}?`,
        { modal: true, detail: `${detail}${warnings.length ? `\n\n${warnings.join('\n')}` : ''}${fleet}\n\nEvery step is verified; any failure after the backup restores the old files and probes until the old certificate is served.` },
        rotate,
        show,
      );
      if (answer === rotate) return true;
      if (answer !== show) return false;
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: planned.map((r) => renderMarkdown(r)).join('\n') });
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    }
  }

  /** Runs the rotation of the targets with progress, writes the evidence, says how it ended, refreshes the tree. */
  private async run(targets: Target[], files: NewFiles, opts: RotationOptions): Promise<RotationOutcome> {
    const evidence: string[] = [];
    const byLabel = new Map<string, string[]>();
    const title = targets.length > 1 ? `Cert Ops: rolling out to ${plural(targets.length, 'endpoint')}` : `Cert Ops: rotating ${display(targets[0].label)}`;
    // Cancel: a transaction under way stops (nothing changed before its backup, rolled back after); no further endpoint starts.
    const notStarted = new Set<string>();
    const unreachable = new Map<string, string>();
    let cancelled = false;
    const fleet = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      token.onCancellationRequested(() => (cancelled = true));
      return runFleet(
        targets.map((t) => ({
          label: t.label,
          run: async () => {
            if (token.isCancellationRequested) {
              notStarted.add(t.label);
              throw new Error('not started: the rollout was cancelled');
            }
            let remote: RemoteHost;
            try {
              remote = await this.session.remote(t.host.name);
            } catch (e) {
              // Nothing was touched: a refusal, not a rollback to look after (the rollout still stops here).
              unreachable.set(t.label, `cannot connect: ${(e as Error).message}`);
              throw e;
            }
            // About a dozen steps make a rotation; the bar moves by the share of each.
            const deps = rotationDeps(t.host.name, t.endpoint, remote, { progress: this.stepReporter(t.label, progress, 100 / targets.length / 12, targets.length > 1) });
            const cancel = this.cancelSwitch(token);
            const records = await this.transaction(deps, files, { ...opts, signal: cancel.signal }).finally(() => {
              cancel.done();
              this.session.setRotating(t.label, undefined);
            });
            byLabel.set(t.label, this.save(records));
            return records;
          },
        })),
        { canary: targets.length > 1 ? 1 : 0, concurrency: settingNumber('rotation.concurrency', 4, 1) },
      );
    });
    const results = fleet.map((r): FleetResult => {
      const why = unreachable.get(r.label);
      if (why !== undefined && r.records.length === 0) return { ...r, state: 'refused', message: why };
      if (notStarted.has(r.label) || (cancelled && r.state === 'skipped')) return { ...r, state: 'skipped', message: 'not started: the rollout was cancelled' };
      return r;
    });
    for (const r of results) evidence.push(...(byLabel.get(r.label) ?? []));
    this.announce('rotation', results, byLabel);
    await this.refreshAfter(targets);
    return { results, evidence };
  }

  /** Writes the records (never a plan); returns the Markdown paths. */
  private save(records: RotationRecord[]): string[] {
    const dir = this.evidenceDir();
    return records.filter((r) => r.state !== 'planned').map((r) => writeEvidence(dir, r).replace(/\.json$/, '.md'));
  }

  private async refreshAfter(targets: Target[]): Promise<void> {
    try {
      await this.session.refresh(targets.map((t) => t.label));
    } catch (e) {
      this.log.warn(`refresh after the rotation: ${errorText(e)}`);
    }
  }

  /** The end state, plainly: rotated (with the cutover), rolled back (why), needs attention (what to do). */
  private announce(what: 'rotation' | 'rollback', results: FleetResult[], evidence: Map<string, string[]>): void {
    const showEvidence = 'Show Evidence';
    const openLast = (label: string) => (choice: string | undefined) => {
      const md = evidence.get(label)?.slice(-1)[0];
      if (choice === showEvidence && md) void this.openEvidence(md);
    };
    for (const r of results) {
      const last = r.records[r.records.length - 1];
      const first = r.records.length > 1 ? ` (first, the interrupted rotation: ${display(r.records[0].message)})` : '';
      this.log.info(display(`${r.label}: ${what} ${r.state}: ${r.message}`));
      for (const a of last?.advice ?? []) this.log.warn(display(`${r.label}: ${a}`));
      if (results.length > 1 && r.state === 'skipped') continue;
      const label = display(r.label);
      if (r.state === 'rotated') {
        const done = what === 'rollback' ? 'rolled back' : 'rotated';
        void this.ui.showInformationMessage(`Cert Ops: ${label} ${done}: ${display(r.message)}${first}.`, showEvidence).then(openLast(r.label));
      } else if (r.state === 'rolled-back') {
        const how = /^cancelled\b|\(cancelled\)/.test(r.message) ? 'was cancelled and rolled back' : 'failed and was rolled back';
        void this.ui.showWarningMessage(`Cert Ops: ${label}: the ${what} ${how}: ${display(r.message)}${first}.`, showEvidence).then(openLast(r.label));
      } else if (r.state === 'needs-attention') {
        const advice = last?.advice?.length ? last.advice : [r.message];
        void this.ui
          .showErrorMessage(`Cert Ops: ${label} needs attention: ${display(r.message)}`, { modal: true, detail: `What to do:\n${advice.map((a) => `- ${display(a)}`).join('\n')}` }, showEvidence)
          .then(openLast(r.label));
      } else if (r.state === 'refused') {
        void this.ui.showErrorMessage(`Cert Ops: ${label}: ${what} refused, nothing was changed: ${display(r.message)}${first}`);
      }
    }
    if (results.length > 1) {
      const done = results.filter((r) => r.state === 'rotated').length;
      const skipped = results.filter((r) => r.state === 'skipped').length;
      const why = results.some((r) => r.state !== 'rotated' && r.state !== 'skipped') ? 'the rollout stopped at a failure' : 'the rollout was cancelled';
      const text = `Cert Ops: rollout: ${done} of ${results.length} endpoints rotated${skipped ? `, ${skipped} not started (${why})` : ''}.`;
      void (done === results.length ? this.ui.showInformationMessage(text) : this.ui.showWarningMessage(text));
    }
  }

  /** `certops.rollback`: restores what the endpoint's last completed rotation replaced, proven by a probe. */
  async rollback(item?: ItemSpec, args?: { rotation?: string }): Promise<RotationOutcome | undefined> {
    if (!this.inventoryReady()) return undefined;
    const [t] = await this.targets(item?.endpoint ? item : undefined, undefined, false);
    if (!t) return undefined;
    const done = readEvidence(this.evidenceDir(), t.host.name, t.endpoint.name).filter((e) => e.record.kind === 'rotate' && e.record.state === 'rotated');
    const wanted = args?.rotation;
    const target = (wanted === undefined ? done.slice(-1) : done.filter((e) => e.record.id.startsWith(wanted)))[0]?.record;
    if (!target) {
      void this.ui.showErrorMessage(`Cert Ops: no completed rotation of ${display(t.label)} is recorded in ${display(this.evidenceDir())}.`);
      return undefined;
    }
    try {
      if (!(await this.recoverFirst([t]))) return undefined;
      const back = 'Roll Back';
      const answer = await this.ui.showWarningMessage(
        `Roll back ${display(t.label)} to the files from before rotation ${display(target.id)}?`,
        {
          modal: true,
          detail: [
            ...target.files.map((f) => `${f.role} ${display(f.path)} ← ${display(f.backup)}`),
            `reload: ${display(describeReload(t.endpoint.reload))}`,
            `served now: ${short(target.new?.sha256)}${target.new ? `, until ${day(target.new.notAfter)}` : ''}`,
            `after:      ${short(target.old.served)}${target.old.file ? `, until ${day(target.old.file.notAfter)}` : ''}`,
            '',
            'The current files are backed up first; if the old certificate is not served after the reload, they come back.',
          ].join('\n'),
        },
        back,
      );
      if (answer !== back) return undefined;
      const byLabel = new Map<string, string[]>();
      const records = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Cert Ops: rolling back ${display(t.label)}`, cancellable: true }, async (progress, token) => {
        const deps = rotationDeps(t.host.name, t.endpoint, await this.session.remote(t.host.name), { progress: this.stepReporter(t.label, progress, 100 / 12, false) });
        const cancel = this.cancelSwitch(token);
        return rollbackEndpoint(deps, target, this.options({ signal: cancel.signal })).finally(() => {
          cancel.done();
          this.session.setRotating(t.label, undefined);
        });
      });
      byLabel.set(t.label, this.save(records));
      const last = records[records.length - 1];
      const results: FleetResult[] = [{ label: t.label, state: last.state, records, message: last.message }];
      this.announce('rollback', results, byLabel);
      await this.refreshAfter([t]);
      return { results, evidence: byLabel.get(t.label) ?? [] };
    } catch (e) {
      void this.ui.showErrorMessage(`Cert Ops: ${errorText(e)}`);
      return undefined;
    }
  }

  /**
   * `certops.showEvidence`: from an endpoint's row its last record, else a
   * chosen one (newest first); a path opens that file. Returns the Markdown file.
   */
  async showEvidence(item?: ItemSpec | string): Promise<vscode.Uri | undefined> {
    if (typeof item === 'string') return this.openEvidence(item);
    if (!this.inventoryReady()) return undefined;
    const dir = this.evidenceDir();
    const targets = item?.endpoint ? this.allTargets().filter((t) => t.label === statusKey(item.host, item.endpoint ?? '')) : this.allTargets();
    const found = targets.flatMap((t) => readEvidence(dir, t.host.name, t.endpoint.name)).sort((a, b) => b.record.id.localeCompare(a.record.id));
    if (found.length === 0) {
      void this.ui.showInformationMessage(`Cert Ops: no rotation of ${item?.endpoint ? display(statusKey(item.host, item.endpoint)) : 'this inventory'} is recorded in ${display(dir)} yet.`);
      return undefined;
    }
    let chosen = found[0];
    if (!item?.endpoint && found.length > 1) {
      const pick = await this.ui.showQuickPick(
        found.map((f) => ({ label: display(`${f.record.host}/${f.record.endpoint}: ${f.record.kind} ${f.record.state}`), description: display(f.record.id), detail: display(f.record.message), f })),
        { title: 'Cert Ops: which rotation record?', matchOnDescription: true },
      );
      if (!pick) return undefined;
      chosen = pick.f;
    }
    return this.openEvidence(chosen.path.replace(/\.json$/, '.md'));
  }

  /** Opens a Markdown record in the preview (the text editor where there is no Markdown preview). */
  private async openEvidence(md: string): Promise<vscode.Uri> {
    const uri = vscode.Uri.file(md);
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
    } catch {
      await vscode.window.showTextDocument(uri, { preview: true });
    }
    return uri;
  }

  /** Runs a `certops` CLI command in this process; its JSON output, or its one-line error shown. */
  private async cli(args: string[]): Promise<Record<string, unknown> | undefined> {
    let out = '';
    let err = '';
    const code = await runCli([...args, '--json'], (s) => (out += s), (s) => (err += s));
    if (code !== 0) {
      void this.ui.showErrorMessage(`Cert Ops: ${display(err.trim().split('\n')[0] || `certops ${args[0]} failed (exit ${code})`)}`);
      return undefined;
    }
    return JSON.parse(out) as Record<string, unknown>;
  }

  /** `certops.csr`: a new private key (0600) and a CSR with the subject and SANs of a certificate, by `certops csr`. */
  async csr(args?: { from: string; outKey: string; outCsr: string; keyType?: string }): Promise<Record<string, unknown> | undefined> {
    let a = args;
    if (!a) {
      const from = await this.pickFile('Cert Ops: the certificate to renew (its subject and SANs go into the CSR)', 'Use Certificate');
      if (!from) return undefined;
      const type = await this.ui.showQuickPick(
        [
          { label: 'EC P-256', description: 'default', value: 'ec' },
          { label: 'RSA 2048', value: 'rsa2048' },
          { label: 'RSA 3072', value: 'rsa3072' },
          { label: 'Ed25519', description: 'not accepted by every CA', value: 'ed25519' },
        ],
        { title: 'Cert Ops: the new key\'s type' },
      );
      if (!type) return undefined;
      const base = path.join(path.dirname(from), path.basename(from).replace(/\.(pem|crt|cer)$/i, ''));
      const key = await this.ui.showSaveDialog({ title: 'Cert Ops: the new private key (created 0600; must not exist)', defaultUri: vscode.Uri.file(`${base}.new.key`), saveLabel: 'Create Key' });
      if (!key) return undefined;
      a = { from, outKey: key.fsPath, outCsr: key.fsPath.replace(/(\.key)?$/, '.csr'), keyType: type.value };
    }
    const r = await this.cli(['csr', '--from', a.from, '--out-key', a.outKey, '--out-csr', a.outCsr, '--key-type', a.keyType ?? 'ec']);
    if (!r) return undefined;
    void this.ui.showInformationMessage(`Cert Ops: wrote ${display(a.outKey)} (new ${display(String(r.keyType))} private key, mode 0600) and ${display(a.outCsr)} for ${display(String(r.subject))}.`);
    await vscode.window.showTextDocument(vscode.Uri.file(a.outCsr), { preview: true });
    return r;
  }

  /** `certops.caBundle`: the new CA followed by the old one, for a CA rotation with overlap, by `certops ca-bundle`. */
  async caBundle(args?: { newCa: string; oldCa: string; out: string }): Promise<Record<string, unknown> | undefined> {
    let a = args;
    if (!a) {
      const newCa = await this.pickFile('Cert Ops: the new CA certificate', 'Use New CA');
      if (!newCa) return undefined;
      const oldCa = await this.pickFile('Cert Ops: the old CA certificate (still trusted during the overlap)', 'Use Old CA');
      if (!oldCa) return undefined;
      const out = await this.ui.showSaveDialog({ title: 'Cert Ops: the overlap bundle (must not exist)', defaultUri: vscode.Uri.file(path.join(path.dirname(newCa), 'ca-overlap.crt')), saveLabel: 'Create Bundle' });
      if (!out) return undefined;
      a = { newCa, oldCa, out: out.fsPath };
    }
    const r = await this.cli(['ca-bundle', a.newCa, a.oldCa, '--out', a.out]);
    if (!r) return undefined;
    const n = Array.isArray(r.certificates) ? r.certificates.length : 0;
    const out = a.out;
    const rollOut = 'Roll Out as CA File…';
    void this.ui
      .showInformationMessage(
        `Cert Ops: wrote ${display(out)} (${plural(n, 'certificate')}, the new CA first). Roll it out as the endpoints' CA file first, then the leaf certificates the new CA issued, then the new CA alone.`,
        rollOut,
      )
      .then((choice) => (choice === rollOut ? this.rotate(undefined, undefined, { ca: out }) : undefined));
    await vscode.window.showTextDocument(vscode.Uri.file(out), { preview: true });
    return r;
  }

  /** Looks for interrupted rotations on the endpoints just checked, so the tree can show them. */
  async checkLocks(labels: string[]): Promise<void> {
    for (const t of this.allTargets().filter((x) => labels.includes(x.label))) {
      const status = this.session.statuses.get(t.label);
      if (!status || status.states.includes('unreachable')) continue;
      try {
        const state = await this.lockState(t);
        this.session.setInterrupted(t.label, state.kind === 'free' ? undefined : interruptedText(state));
      } catch (e) {
        this.log.warn(display(`${t.label}: cannot read the rotation lock: ${errorText(e)}`));
      }
    }
  }
}

/** One line about a lock found on an endpoint. */
function interruptedText(state: LockState): string {
  if (state.kind === 'free') return '';
  if (state.kind === 'held') return state.message;
  const j = state.journal;
  return `interrupted ${j.kind} ${j.id} by ${j.who} (phase ${j.phase}, ${j.updatedAt}); Rotate or Roll Back finishes it`;
}

/** One endpoint's part of the confirmation. */
function describePlanned(t: Target, files: NewFiles, r: RotationRecord): string {
  const p = t.endpoint.probe;
  const source = { cert: files.names.cert, key: files.names.key, ca: files.names.ca };
  const lines = [`${display(t.label)}: ${display(`${p.host}:${p.port}`)}${p.servername ? ` (SNI ${display(p.servername)})` : ''}`];
  for (const f of r.files) lines.push(`  ${f.role.padEnd(4)} ${display(f.path)} ← ${display(source[f.role] ?? '')} (${f.newMode ?? f.mode ?? '?'})`);
  lines.push(`  reload: ${display(describeReload(t.endpoint.reload))}`);
  const old = r.old.file;
  const servedNote = old && r.old.served && old.sha256 !== r.old.served ? ` (on disk: ${short(old.sha256)})` : '';
  lines.push(`  old: ${old ? `${display(old.subject)}, until ${day(old.notAfter)}, ` : ''}sha256 ${short(r.old.served)}${servedNote}`);
  if (r.new) lines.push(`  new: ${display(r.new.subject)}, until ${day(r.new.notAfter)}, sha256 ${short(r.new.sha256)}`);
  for (const c of r.newCa ?? []) lines.push(`  new CA file: ${display(c.subject)}, until ${day(c.notAfter)}, sha256 ${short(c.sha256)}`);
  return lines.join('\n');
}
