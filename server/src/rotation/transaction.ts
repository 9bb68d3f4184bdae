/**
 * A rotation as one transaction: preflight, lock, backup, atomic placement,
 * reload, verify by probing, check, and automatic rollback when anything after
 * the backup fails. Every phase is journaled in the lock file on the host
 * before the next step starts, so an interrupted rotation can be finished
 * (recover.ts). Remote work is a few quoted scripts through RemoteHost.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { EndpointEntry, ExecResult, RemoteHost } from './contract';
import type { FileRecord, FinalState, ProbeRecord, RotationRecord } from './evidence';
import { encodeJournal, filePlan, Journal, lockPath, Phase, backupStamp, rotationId } from './journal';
import { describeReload, octal, planLines, targetModes, verifyDeadlineMs } from './plan';
import { certFacts, certificatesDer, checkChain, checkExpiry, Finding, leafOf, localPreflight, NewFiles } from './preflight';
import {
  FilePlan, hashScript, inspectScript, Inspection, LOCK_HELD, lockAndBackupScript, parseInspection,
  releaseScript, SIGNAL_FAILED, signalScript, STAGE_FAILED, StageEntry, stageAllScript, SWAP_FAILED_BASE, swapScript,
} from './scripts';
import { ClientCheck, outputOf, Prober, runCheck, runClientChecklist } from './served';

/** One line of progress, as a step starts or ends. */
export interface ProgressEvent {
  id: string;
  host: string;
  endpoint: string;
  step: string;
  status: 'start' | 'ok' | 'failed';
  detail?: string;
  at: string;
}

/** What a transaction needs from the outside; tests pass fakes. */
export interface RotationDeps {
  host: string;
  endpoint: EndpointEntry;
  remote: RemoteHost;
  probe: Prober;
  /** `user@machine` of the operator. */
  who: string;
  /** This machine and process, written to the journal to tell a crashed holder from a live one. */
  machine: string;
  pid: number;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** Random suffix for ids and temporary names: [a-z0-9]+. */
  random: () => string;
  progress?: (e: ProgressEvent) => void;
  /** Whether a local process is alive (for locks taken from this machine). */
  isAlive?: (pid: number) => boolean;
}

/** Settings of a rotation. */
export interface RotationOptions {
  /** Backups kept per file (default 5, at least 1). */
  keepBackups?: number;
  /** Verify deadline, overriding the reload style's default. */
  verifyTimeoutMs?: number;
  /** Pause between probes while waiting (default 250 ms). */
  pollMs?: number;
  /** Handshakes with the expected certificate needed after the first one, in a row, to call it served (default 2). */
  confirmProbes?: number;
  allowEarlierExpiry?: boolean;
  dryRun?: boolean;
  /** Trust anchors when neither a CA file nor the bundle's own root is there (the system store). */
  fallbackRoots?: { source: string; certs: Buffer[] };
  /** A lock whose journal was last updated longer ago than this is taken as abandoned (default 10 min). */
  staleMs?: number;
  /** Finish an interrupted rotation found on the endpoint even if its holder may be alive. */
  forceRecover?: boolean;
  /**
   * Cancels the rotation: before the backup it stops with nothing changed;
   * after it, the rotation rolls back (the rollback itself is never cancelled).
   */
  signal?: AbortSignal;
  /** Mutual TLS: client certificates that must be accepted or refused after the rotation (uses the endpoint's check.send/expect). */
  clientChecks?: ClientCheck[];
  /** Largest remote file read (the current certificate and CA files), default 1 MiB. */
  maxFileBytes?: number;
}

/** A step failed; the message is the one-line reason. */
export class StepFailure extends Error {}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Where the content of a file to place comes from. */
export type Source = { content: Buffer } | { remotePath: string };

/** The shared machinery of rotate, rollback and recover: steps, journal, evidence. */
export class Transaction {
  readonly record: RotationRecord;
  journal?: Journal;
  readonly lock: string;
  /** When the renames finished (ms), for the cutover delay. */
  placedAt?: number;

  constructor(
    readonly deps: RotationDeps,
    readonly opts: RotationOptions,
    kind: RotationRecord['kind'],
    id?: string,
  ) {
    const now = deps.now();
    this.record = {
      id: id ?? rotationId(now, deps.random()),
      kind,
      who: deps.who,
      host: deps.host,
      endpoint: deps.endpoint.name,
      where: describeProbe(deps.endpoint),
      startedAt: now.toISOString(),
      endedAt: now.toISOString(),
      state: 'refused',
      message: '',
      findings: [],
      old: {},
      files: [],
      steps: [],
      probes: [],
    };
    this.lock = lockPath(deps.endpoint.files.cert);
  }

  get id(): string {
    return this.record.id;
  }

  /** Whether the operator cancelled. */
  get cancelled(): boolean {
    return this.opts.signal?.aborted === true;
  }

  /** Set while restoring: a rollback runs to its end whatever the cancel button says. */
  undoing = false;

  /** Runs one named step, recording its times and outcome and reporting progress. */
  async step<T>(name: string, fn: () => Promise<T>, detail: (t: T) => string = () => ''): Promise<T> {
    const startedAt = this.deps.now().toISOString();
    this.emit(name, 'start');
    try {
      if (this.cancelled && !this.undoing) throw new StepFailure('cancelled');
      const value = await fn();
      const d = detail(value);
      this.record.steps.push({ name, startedAt, endedAt: this.deps.now().toISOString(), ok: true, detail: d });
      this.emit(name, 'ok', d);
      return value;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.record.steps.push({ name, startedAt, endedAt: this.deps.now().toISOString(), ok: false, detail: message });
      this.emit(name, 'failed', message);
      throw e instanceof StepFailure ? e : new StepFailure(message);
    }
  }

  private emit(step: string, status: ProgressEvent['status'], detail?: string): void {
    this.deps.progress?.({ id: this.id, host: this.deps.host, endpoint: this.deps.endpoint.name, step, status, detail, at: this.deps.now().toISOString() });
  }

  /** Runs a script with sh on the host. */
  sh(script: string, stdin?: Buffer, timeoutMs = 60_000): Promise<ExecResult> {
    return this.deps.remote.exec(['sh', '-c', script], { stdin, timeoutMs });
  }

  /** Runs a script and throws a StepFailure with its stderr when it fails. */
  async shOk(script: string, what: string, stdin?: Buffer): Promise<ExecResult> {
    const r = await this.sh(script, stdin);
    if (r.code !== 0) throw new StepFailure(`${what}: ${oneLine(r.stderr.toString('utf8')) || `exit ${r.code ?? r.signal}`}`);
    return r;
  }

  /** The journal with a new phase, as text for a script. */
  journalAt(phase: Phase): string {
    this.journal = this.journalWith(phase);
    return encodeJournal(this.journal);
  }

  /** The journal as it will be at `phase`, without moving there yet. */
  journalWith(phase: Phase): Journal {
    if (!this.journal) throw new Error('no journal');
    const done = this.journal.done ?? [];
    return { ...this.journal, phase, updatedAt: this.deps.now().toISOString(), done: done[done.length - 1] === phase ? done : [...done, phase] };
  }

  /** Records a probe; consecutive identical outcomes are kept once so a long wait stays short. */
  noteProbe(p: ProbeRecord): void {
    const last = this.record.probes[this.record.probes.length - 1];
    if (last && last.purpose === p.purpose && last.sha256 === p.sha256 && last.error === p.error) return;
    this.record.probes.push(p);
  }

  /** One handshake; the served leaf's SHA-256 or undefined when none completed. */
  async probeOnce(purpose: ProbeRecord['purpose']): Promise<{ sha256?: string; error?: string }> {
    const at = this.deps.now().toISOString();
    try {
      const s = await this.deps.probe();
      this.noteProbe({ at, purpose, sha256: s.sha256 });
      return { sha256: s.sha256 };
    } catch (e) {
      const error = oneLine((e as Error).message);
      this.noteProbe({ at, purpose, error });
      return { error };
    }
  }

  /** Probes until `sha` is served or the deadline passes; returns the time it was first seen. */
  async waitForServed(want: string | string[], purpose: ProbeRecord['purpose']): Promise<{ seenAt?: number; last?: string; error?: string }> {
    const wanted = new Set(typeof want === 'string' ? [want] : want);
    const deadline = this.deps.now().getTime() + verifyDeadlineMs(this.deps.endpoint.reload, this.opts.verifyTimeoutMs);
    // A server hands over to new workers gradually (nginx's old workers still accept for a moment after
    // a SIGHUP), so one handshake with the new certificate is not enough: it must be served
    // `confirmProbes` more times in a row. The cutover is when that run began.
    const confirm = this.opts.confirmProbes ?? 2;
    let runStart: number | undefined;
    let run = 0;
    for (;;) {
      const last = await this.probeOnce(purpose);
      if (last.sha256 !== undefined && wanted.has(last.sha256)) {
        runStart ??= this.deps.now().getTime();
        if (++run > confirm) return { seenAt: runStart };
      } else {
        runStart = undefined;
        run = 0;
      }
      // A run under way may finish its confirmation past the deadline (at most `confirm` more handshakes).
      if (run === 0 && this.deps.now().getTime() >= deadline) return { last: last.sha256, error: last.error };
      if (this.cancelled && !this.undoing) return { last: last.sha256, error: 'cancelled' };
      await this.deps.sleep(this.opts.pollMs ?? 250);
    }
  }

  /** Runs an endpoint hook on the host; a non-zero exit is a failure. */
  async hook(cmd: string): Promise<string> {
    const r = await this.deps.remote.execShell(cmd, { timeoutMs: 120_000 });
    if (r.code !== 0) throw new StepFailure(`"${cmd}" exited ${r.code ?? r.signal}: ${oneLine(outputOf(r))}`);
    return oneLine(outputOf(r));
  }

  /**
   * Tells the server to pick up its files, the endpoint's way; records the
   * output. `sent` is the outcome of a signal already sent by the place script.
   */
  async reload(sent?: ExecResult): Promise<string> {
    const r = this.deps.endpoint.reload;
    let result: ExecResult | undefined = sent && { ...sent, code: sent.code === SIGNAL_FAILED ? 1 : sent.code };
    if (result) {
      // Rode along with the placement.
    } else if (r.kind === 'signal') result = await this.sh(signalScript(r.signal ?? 'HUP', r));
    else if (r.kind === 'command' || r.kind === 'restart') result = await this.deps.remote.execShell(r.command, { timeoutMs: 120_000 });
    const entry = { kind: r.kind, code: result ? result.code : 0, output: result ? outputOf(result) : '' };
    (this.record.reload ??= []).push(entry);
    if (result && result.code !== 0) throw new StepFailure(`${describeReload(r)} failed (exit ${result.code ?? result.signal}): ${oneLine(entry.output)}`);
    return describeReload(r);
  }

  /**
   * Places the files in one round trip: writes each source to its temporary
   * file (new content created with its final mode and owner, backups copied
   * with theirs), then renames them over their targets back to back. When it
   * fails the files are found out (the script removes the temporaries after a
   * failed write and undoes a half swap; if even that is unclear the first
   * file's hash tells) and the phase is set accordingly.
   */
  async place(
    files: FilePlan[],
    sources: Source[],
    modes: ({ mode: number; uid: number; gid: number } | undefined)[],
    before: Phase,
    after: Phase,
    expectCertSha: string,
    signal?: string,
  ): Promise<ExecResult | undefined> {
    const entries: StageEntry[] = files.map((f, i) => {
      const s = sources[i];
      if (!('content' in s)) return { temp: f.temp, copyFrom: s.remotePath };
      const m = modes[i];
      if (!m) throw new Error('no mode for new content');
      return { temp: f.temp, mode: m.mode, uid: m.uid, gid: m.gid, size: s.content.length };
    });
    const stdin = Buffer.concat(sources.flatMap((s) => ('content' in s ? [s.content] : [])));
    const saved = this.journal;
    // A signal reload rides along: the server is told the moment the renames are done, without another round trip.
    const reload = signal ? `\n( ${signal}\n) || exit ${SIGNAL_FAILED}` : '';
    const script = `${stageAllScript(entries, STAGE_FAILED)}\n${swapScript(files, this.lock, this.journalAt(before), encodeJournal(this.journalWith(after)))}${reload}`;
    const r = await this.sh(script, stdin.length ? stdin : undefined);
    if (r.code === 0 || (signal && r.code === SIGNAL_FAILED)) {
      this.journalAt(after);
      return signal ? r : undefined;
    }
    const why = oneLine(r.stderr.toString('utf8')) || `exit ${r.code ?? r.signal}`;
    if (r.code === STAGE_FAILED) {
      // Nothing was renamed and the journal on the host was not touched.
      this.journal = saved;
      throw new StepFailure(`writing the new files: ${why}`);
    }
    if (r.code !== null && r.code >= SWAP_FAILED_BASE && r.code < SWAP_FAILED_BASE + files.length) {
      throw new StepFailure(`${why}; the renames before it were undone`);
    }
    const placed = await this.certFileSha(files).catch(() => undefined);
    if (placed === expectCertSha) this.journalAt(after);
    throw new StepFailure(why);
  }

  /**
   * SHA-256 of the first placed file on the host now (the certificate, or the
   * CA file of a trust-only rotation): it tells old files from new ones.
   */
  async certFileSha(files: FilePlan[]): Promise<string | undefined> {
    const first = files[0];
    if (!first) return undefined;
    const r = await this.shOk(hashScript([first.path]), `hashing ${first.path}`);
    const m = /^0 ([0-9a-f]{64})$/m.exec(r.stdout.toString('utf8'));
    return m?.[1];
  }

  /** Removes the lock and the temporary names. */
  async release(files: FilePlan[]): Promise<void> {
    await this.shOk(releaseScript(this.lock, files.flatMap((f) => [f.temp, f.prev])), 'releasing the lock');
  }

  /** Ends the record. */
  finish(state: FinalState, message: string, advice?: string[]): RotationRecord {
    this.record.state = state;
    this.record.message = message;
    if (advice) this.record.advice = advice;
    this.record.endedAt = this.deps.now().toISOString();
    return this.record;
  }

  /**
   * Restores the backups the same atomic way, reloads and probes until
   * `oldServed` is served again. Used after a failure and by recovery.
   */
  async rollback(reason: string, files: FilePlan[], oldServed: string, oldCertFileSha: string): Promise<RotationRecord> {
    const phase = this.journal?.phase ?? 'locked';
    this.undoing = true;
    try {
      if (phase === 'locked' || phase === 'backed-up') {
        await this.step('release', () => this.release(files), () => 'no file had been replaced');
        return this.finish('rolled-back', `${reason}; no file had been replaced, the old files stay`);
      }
      const onDisk = await this.certFileSha(files);
      const hooks = this.deps.endpoint.hooks;
      if (onDisk !== oldCertFileSha || phase === 'rolling-back') {
        // The before hook readies the files for writing (a read-only mount made writable): again for the restore.
        if (hooks?.before) await this.step('rollback: before hook', () => this.hook(hooks.before as string), (o) => o).catch(() => undefined);
        await this.step('rollback: restore', () => this.place(files, files.map((f) => ({ remotePath: f.backup })), [], 'rolling-back', 'rolling-back', oldCertFileSha), () => `${files.map((f) => f.backup).join(', ')} copied and renamed into place`);
      }
      // A reload that fails on the old files proves nothing either way: the probe below decides.
      await this.step('rollback: reload', () => this.reload(), (d) => d).catch(() => undefined);
      if (hooks?.after) await this.step('rollback: after hook', () => this.hook(hooks.after as string), (o) => o).catch(() => undefined);
      const seen = await this.step('rollback: verify', async () => {
        // The restored files may hold another certificate than the one served before (renewed on disk
        // but never reloaded): after the reload that one is served, and it is just as much "the old one".
        const fileLeaf = this.journal?.oldFileLeaf;
        const w = await this.waitForServed(fileLeaf ? [oldServed, fileLeaf] : oldServed, 'rollback');
        if (w.seenAt === undefined) throw new StepFailure(`the old certificate ${oldServed} is not served again (${w.error ?? `serving ${w.last}`})`);
        return w;
      }, () => `old certificate served again`);
      void seen;
      await this.step('release', () => this.release(files));
      return this.finish('rolled-back', `${reason}; the old files are back and the old certificate is served`);
    } catch (e) {
      const message = (e as Error).message;
      return this.finish('needs-attention', `${reason}; then the rollback failed: ${message}`, attentionAdvice(this, files, oldServed));
    }
  }
}

/** `127.0.0.1:443 (SNI api.example.com) through SSH, STARTTLS postgres`: where an endpoint is probed. */
function describeProbe(e: EndpointEntry): string {
  const p = e.probe;
  const addr = p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`;
  return `${addr} (SNI ${p.servername ?? p.host})${p.via === 'ssh' ? ' through SSH' : ''}${p.starttls ? `, STARTTLS ${p.starttls}` : ''}`;
}

/** What an operator should do when a rollback could not be verified. */
function attentionAdvice(tx: Transaction, files: FilePlan[], oldServed: string): string[] {
  const e = tx.deps.endpoint;
  return [
    ...files.map((f) => `restore ${f.path} from ${f.backup} (cp -p, then mv over the file) if it is not the old file`),
    `reload the server (${describeReload(e.reload)})`,
    `check with: certops probe ${e.probe.host}:${e.probe.port}${e.probe.servername ? ` --servername ${e.probe.servername}` : ''} --expect-sha256 ${oldServed} --no-verify`,
    `then remove the lock ${tx.lock}, or run certops rollback ${tx.deps.host}/${e.name} to let certops finish the rollback`,
  ];
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 500);
}

/** The files a rotation places, in rename order (certificate first). */
function filesToPlace(endpoint: EndpointEntry, files: NewFiles, id: string, stamp: string): { plans: FilePlan[]; sources: Source[] } | string {
  const e = endpoint.files;
  if (files.key && !e.key) return `the endpoint ${endpoint.name} has no key file in the inventory, but --key was given`;
  if (e.key && !files.key) return `the endpoint ${endpoint.name} has a key file (${e.key}); pass the new key with --key`;
  const plans = [filePlan('cert', e.cert, id, stamp)];
  const sources: Source[] = [{ content: files.cert }];
  if (e.key && files.key) {
    plans.push(filePlan('key', e.key, id, stamp));
    sources.push({ content: files.key });
  }
  if (e.ca && files.ca) {
    plans.push(filePlan('ca', e.ca, id, stamp));
    sources.push({ content: files.ca });
  }
  const paths = new Set(plans.map((p) => p.path));
  if (paths.size !== plans.length) return 'the endpoint names the same file twice';
  if (plans.some((p) => !posix.isAbsolute(p.path))) return 'the endpoint\'s file paths must be absolute';
  return { plans, sources };
}

/** What the remote preflight found. */
export interface RemoteFacts {
  found: Inspection;
  oldCertFileSha: string;
  oldServed: string;
}

/** Reads the files' modes, owners and room, the current certificate, and what is served now. */
export async function remotePreflight(tx: Transaction, plans: FilePlan[], newBytes: number): Promise<RemoteFacts | Finding> {
  const { remote, endpoint } = tx.deps;
  const dirs = [...new Set(plans.map((p) => posix.dirname(p.path)))];
  const r = await tx.step('inspect files', async () => {
    const out = await tx.shOk(inspectScript(plans.map((p) => p.path), dirs, tx.lock), 'inspecting the files');
    return parseInspection(out.stdout.toString('utf8'), plans.length, dirs.length);
  }, (f) => plans.map((p, i) => `${p.path} ${f.files[i] ? octal(f.files[i].mode) : 'missing'}`).join(', '));
  if (r.lockPresent) {
    if (!tx.opts.dryRun) return { severity: 'error', code: 'locked', message: `${tx.lock} exists: a rotation runs or was interrupted` };
    tx.record.findings.push({ severity: 'warning', code: 'locked', message: `${tx.lock} exists: the rotation would first finish the interrupted one, or wait for a running one` });
  }
  for (let i = 0; i < plans.length; i++) {
    const f = r.files[i];
    if (!f) return remoteFinding(`${plans[i].path} does not exist on ${tx.deps.host}; create it first (rotation replaces files, it does not create them)`);
    if (f.type !== 'regular file' && f.type !== 'regular empty file') {
      return remoteFinding(`${plans[i].path} is a ${f.type}, not a regular file; point the inventory at the file itself`);
    }
    tx.record.files.push({ role: plans[i].role, path: plans[i].path, backup: plans[i].backup, mode: octal(f.mode), owner: `${f.uid}:${f.gid}` } satisfies FileRecord);
  }
  let need = newBytes;
  for (const f of r.files) need += f?.size ?? 0;
  for (let i = 0; i < dirs.length; i++) {
    const d = r.dirs[i];
    if (!d?.writable) return remoteFinding(`${dirs[i]} is not writable by ${r.user} on ${tx.deps.host}`);
    // Backups, temporary files and a margin for the journal and the filesystem's own blocks.
    if (d.availableKb !== undefined && d.availableKb * 1024 < need + 64 * 1024) {
      return remoteFinding(`${dirs[i]} has ${d.availableKb} KiB free on ${tx.deps.host}; the backups and new files need ${Math.ceil(need / 1024) + 64} KiB`);
    }
  }
  const certBytes = await tx.step('read current certificate', () => remote.readFile(endpoint.files.cert, { maxBytes: tx.opts.maxFileBytes ?? 1 << 20 }), (b) => `${b.length} bytes`);
  const oldLeaf = leafOf(certBytes);
  if (oldLeaf) tx.record.old.file = certFacts(oldLeaf);
  const baseline = await tx.step('probe baseline', () => tx.probeOnce('baseline'), (p) => p.sha256 ?? p.error ?? '');
  if (!baseline.sha256) return remoteFinding(`the endpoint does not answer TLS now (${baseline.error}); fix that first, or rotate by hand`);
  tx.record.old.served = baseline.sha256;
  if (oldLeaf && oldLeaf.sha256 !== baseline.sha256) {
    tx.record.findings.push({ severity: 'warning', code: 'served-differs', message: `the endpoint serves ${baseline.sha256} but ${endpoint.files.cert} holds ${oldLeaf.sha256} (renewed but not reloaded?)` });
  }
  return { found: r, oldCertFileSha: sha256(certBytes), oldServed: baseline.sha256 };
}

function remoteFinding(message: string): Finding {
  return { severity: 'error', code: 'remote', message };
}

/** "rotation ID by WHO since T (phase P)" from a lock file's content. */
export function describeHolder(text: string): string {
  try {
    const j = JSON.parse(text.trim()) as Partial<Journal>;
    return `rotation ${j.id} by ${j.who}, started ${j.startedAt}, phase ${j.phase}`;
  } catch {
    return 'a lock file that is not a certops journal';
  }
}

/** The journal a new transaction starts with. */
export function newJournal(tx: Transaction, kind: Journal['kind'], files: FilePlan[], oldServed: string, newLeaf: string, oldCertFile: string, newCertFile: string): Journal {
  const now = tx.deps.now().toISOString();
  return {
    version: 1, id: tx.id, kind, who: tx.deps.who, machine: tx.deps.machine, pid: tx.deps.pid, host: tx.deps.host, endpoint: tx.deps.endpoint.name,
    startedAt: now, updatedAt: now, phase: 'locked', done: ['locked'], files, oldServed, newLeaf, oldCertFile, newCertFile,
  };
}

/**
 * After the lock: backup, hooks, staging, swap, reload, verify and check; any
 * failure after the backup rolls back. `expectServed` is the leaf that must be
 * served at the end, `newCertFile` the SHA-256 of the new certificate file.
 */
export async function execute(
  tx: Transaction,
  journal: Journal,
  plans: FilePlan[],
  sources: Source[],
  modes: ({ mode: number; uid: number; gid: number } | undefined)[],
  facts: { oldServed: string; oldCertFileSha: string; expectServed: string },
): Promise<RotationRecord> {
  const { endpoint, remote } = tx.deps;
  const keep = Math.max(1, tx.opts.keepBackups ?? 5);
  tx.journal = journal;
  try {
    await tx.step('lock and backup', async () => {
      const r = await tx.sh(lockAndBackupScript(plans, keep, tx.lock, encodeJournal(journal), encodeJournal(tx.journalWith('backed-up'))));
      if (r.code === LOCK_HELD) throw new StepFailure(`another rotation holds ${tx.lock}: ${describeHolder(r.stdout.toString('utf8'))}`);
      if (r.code !== 0) throw new StepFailure(`backup: ${oneLine(r.stderr.toString('utf8')) || `exit ${r.code ?? r.signal}`}`);
    }, () => plans.map((p) => p.backup).join(', '));
  } catch (e) {
    // The script removed whatever it had made: the lock (if it took it) and partial backups.
    return tx.finish('refused', `${(e as Error).message}; nothing was changed`);
  }
  tx.journalAt('backed-up');
  try {
    const hooks = endpoint.hooks;
    if (hooks?.before) await tx.step('before hook', () => tx.hook(hooks.before as string), (o) => o);
    const newCertSha = tx.journal?.newCertFile ?? '';
    // With no hook in between, a signal reload is sent by the place script itself.
    const r0 = endpoint.reload;
    const signal = r0.kind === 'signal' && !hooks?.after ? signalScript(r0.signal ?? 'HUP', r0) : undefined;
    const sent = await tx.step('place', () => tx.place(plans, sources, modes, 'placing', 'placed', newCertSha, signal), () => plans.map((p, i) => `${p.path} ${modes[i] ? octal(modes[i].mode) : 'as its backup'}`).join(', '));
    tx.placedAt = tx.deps.now().getTime();
    await tx.step('reload', () => tx.reload(sent), (d) => d);
    if (hooks?.after) await tx.step('after hook', () => tx.hook(hooks.after as string), (o) => o);
    const seen = await tx.step('verify', async () => {
      const w = await tx.waitForServed(facts.expectServed, 'verify');
      if (w.seenAt === undefined) {
        throw new StepFailure(`the new certificate is not served within ${verifyDeadlineMs(endpoint.reload, tx.opts.verifyTimeoutMs) / 1000} s (${w.error ?? `still serving ${w.last}`})`);
      }
      return w.seenAt;
    }, (at) => `served ${at - (tx.placedAt ?? at)} ms after placement`);
    tx.record.cutoverMs = seen - (tx.placedAt ?? seen);
    const clients = tx.opts.clientChecks ?? [];
    if (endpoint.check && (endpoint.check.command !== undefined || clients.length === 0)) {
      await tx.step('check', async () => {
        const c = await runCheck(endpoint, remote, 10_000, { skipSendExpect: clients.length > 0 });
        if (c) tx.record.check = c;
        if (c && !c.ok) throw new StepFailure(`check failed: ${oneLine(c.output)}`);
        return c?.kind ?? 'none';
      }, (k) => k);
    }
    if (clients.length) {
      await tx.step('client checklist', async () => {
        const c = await runClientChecklist(endpoint, remote, clients);
        tx.record.clientChecklist = c;
        if (!c.ok) throw new StepFailure(`client checklist failed: ${oneLine(c.output)}`);
        return c.output.split('\n').length;
      }, (n) => `${n} client certificates as expected`);
    }
    await tx.step('release', () => tx.release(plans));
    const what = tx.record.kind === 'rollback'
      ? `the files from before ${tx.record.rollbackOf} are back and ${facts.expectServed === facts.oldServed ? 'the endpoint still serves its certificate' : 'the certificate from before is served again'}`
      : tx.record.newCa ? 'the new CA file is in place and the endpoint still serves its certificate' : 'the new certificate is served';
    return tx.finish('rotated', `${what} (cutover ${tx.record.cutoverMs} ms)`);
  } catch (e) {
    return tx.rollback((e as Error).message, plans, facts.oldServed, facts.oldCertFileSha);
  }
}

/**
 * Rotates one endpoint to the given files and proves it by probing, or rolls
 * back. Never throws for an operational failure: the record says what happened.
 */
export async function rotate(deps: RotationDeps, files: NewFiles, opts: RotationOptions = {}): Promise<RotationRecord> {
  const tx = new Transaction(deps, opts, 'rotate');
  const { endpoint } = deps;
  const now = deps.now();
  const pre = localPreflight(files, { servername: endpoint.probe.servername ?? endpoint.probe.host, now });
  tx.record.findings.push(...pre.findings);
  if (pre.leaf) tx.record.new = { ...pre.leaf, chain: pre.certChain };
  const refuse = (message: string) => tx.finish('refused', message);
  const errors = pre.findings.filter((f) => f.severity === 'error');
  if (errors.length || !pre.leaf) return refuse(errors.map((f) => f.message).join('; ') || 'the new certificate cannot be read');
  const placed = filesToPlace(endpoint, files, tx.id, backupStamp(now));
  if (typeof placed === 'string') return refuse(placed);
  const { plans, sources } = placed;

  try {
    const remote = await remotePreflight(tx, plans, sources.reduce((n, s) => n + ('content' in s ? s.content.length : 0), 0));
    if ('severity' in remote) {
      tx.record.findings.push(remote);
      return refuse(remote.message);
    }
    if (remote.oldServed === pre.leaf.sha256) return refuse(`the endpoint already serves ${pre.leaf.sha256}; nothing to rotate`);
    const remoteCa = endpoint.files.ca && !files.ca ? await deps.remote.readFile(endpoint.files.ca, { maxBytes: opts.maxFileBytes ?? 1 << 20 }).catch(() => undefined) : undefined;
    const roots = [
      ...(files.ca ? [{ source: files.names.ca ?? 'the CA file', certs: pre.caCerts }] : []),
      ...(remoteCa ? [{ source: `${deps.host}:${endpoint.files.ca}`, certs: certificatesDer(remoteCa) }] : []),
    ];
    const chain = checkChain(files, { roots, fallback: opts.fallbackRoots, now });
    const late = checkExpiry(pre.leaf, tx.record.old.file);
    for (const f of [chain, late]) if (f) tx.record.findings.push(f);
    if (chain) return refuse(chain.message);
    if (late && !opts.allowEarlierExpiry) return refuse(late.message);
    const modes = targetModes(plans, remote.found, endpoint);
    for (let i = 0; i < plans.length; i++) tx.record.files[i].newMode = octal(modes[i].mode);
    tx.record.plan = planLines({ endpoint, files: plans, modes, found: remote.found, keep: Math.max(1, opts.keepBackups ?? 5), newSha: pre.leaf.sha256, oldServed: remote.oldServed });
    if (opts.dryRun) return tx.finish('planned', 'dry run: nothing was changed');
    const journal = { ...newJournal(tx, 'rotate', plans, remote.oldServed, pre.leaf.sha256, remote.oldCertFileSha, sha256(files.cert)), oldFileLeaf: tx.record.old.file?.sha256 };
    return await execute(tx, journal, plans, sources, modes, { oldServed: remote.oldServed, oldCertFileSha: remote.oldCertFileSha, expectServed: pre.leaf.sha256 });
  } catch (e) {
    // Before the backup nothing has changed: a failure here is a refusal.
    return refuse((e as Error).message);
  }
}
