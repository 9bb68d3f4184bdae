// `certops rotate` and `certops rollback`: the rotation transaction over SSH, with progress on stderr and evidence beside the inventory.
import { statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { fallbackRoots } from '../analysis/truststore';
import type { HostEntry, EndpointEntry, Inventory } from '../inventory';
import { SelectorError, selectEndpoints } from '../inventory';
import {
  evidenceDir, FinalState, NewFiles, ProgressEvent, readEvidence, rollbackEndpoint, rotateEndpoint, rotateTrustEndpoint, rotationDeps, RotationDeps, RotationOptions,
  RotationRecord, runFleet, writeEvidence,
} from '../rotation';
import type { ClientCheck, FleetResult } from '../rotation';
import { localPreflight } from '../rotation';
import type { SshPool } from '../ssh';
import { CliIo, EXIT, painter, parseCommand, parseCount, printJson, readInput, UsageError } from './io';
import type { Command } from './main';
import { cliPool, escapeTerminal, openInventory, REMOTE_HELP, REMOTE_OPTIONS } from './remote';

/** Exit code when a rollback could not be verified. */
export const EXIT_NEEDS_ATTENTION = 3;

const ROTATE_HELP = `Usage: certops rotate HOST/ENDPOINT... --cert FILE --key FILE [options]
       certops rotate HOST/ENDPOINT... --ca FILE [options]

Rotates the certificate of each endpoint of the inventory as one verified
transaction: checks the new files here (they parse, the key fits, the chain
verifies, the names cover the endpoint, valid now, not expiring before the
current one), reads the current files and what is served, takes a lock on the
host, backs the files up beside themselves, writes the new ones created with
their final mode and owner and renames them into place back to back, reloads
the server the endpoint's way, and probes until the new certificate is
served. Any failure after the backup restores the backups, reloads again and
probes until the old certificate is served. An interrupted rotation found on
an endpoint is finished first (rolled back, or verified and completed).
Evidence (JSON and Markdown) is written to .certops/rotations/ beside the
inventory. No key material is ever printed or recorded.

With --ca alone, only the endpoint's CA file is replaced (the phases of a CA
rotation with overlap: first a bundle of the new and the old CA, made with
certops ca-bundle; then the leaf certificates; then the new CA alone). It is
refused when the endpoint's current certificate does not verify against the
new CA file, and verified by the endpoint still serving its certificate after
the reload (and its check).

Options:
  --cert FILE            the new certificate (with its intermediates, as the server sends them)
  --key FILE             the new private key (required when the endpoint has a key file)
  --ca FILE              a new CA file: placed when the endpoint has one, and the trust anchor for the chain check
  --dry-run              print the plan (files, modes, owners, commands, probes) and change nothing
  --canary N             rotate the first N endpoints one by one before the rest (default 1 with several)
  --concurrency N        endpoints rotated at once after the canary (default 4)
  --keep N               backups kept per file (default 5)
  --verify-timeout S     how long to probe for the new certificate (default 10, or the poll interval + 30 for "watch")
  --allow-earlier-expiry rotate even when the new certificate expires before the current one
  --force-recover        finish an interrupted rotation even when its lock looks live
  --client-accepted CERT,KEY  mutual TLS: a client certificate the server must accept after the rotation (repeatable)
  --client-refused CERT,KEY   one it must refuse (unknown CA, expired, no longer trusted; repeatable); both use the
                         endpoint's check.send/expect, and a failure rolls the rotation back
${REMOTE_HELP}
  --json                 progress as JSON lines on stderr, the result as one JSON document

Exit codes: 0 rotated and verified (or planned), 1 failed and rolled back
(verified), 3 needs attention (a rollback could not be verified), 2 refused
before any change, or bad usage.
`;

const ROLLBACK_HELP = `Usage: certops rollback HOST/ENDPOINT [--rotation ID] [options]

Restores the files a recorded rotation replaced (the last completed rotation
of the endpoint by default, from .certops/rotations/ beside the inventory),
as a transaction of its own: the current files are backed up, the backups
of the rotation are copied and renamed into place, the server is reloaded
and probed until the old certificate is served; if not, the current files
come back. An interrupted rotation found on the endpoint is finished first.

Options:
  --rotation ID          the rotation to undo (its id or a unique prefix)
  --dry-run              print the plan and change nothing
  --verify-timeout S     how long to probe for the old certificate
  --force-recover        finish an interrupted rotation even when its lock looks live
${REMOTE_HELP}
  --json                 progress as JSON lines on stderr, the result as one JSON document

Exit codes: 0 the old certificate is served, 1 the rollback failed and the
current files were put back, 3 needs attention, 2 refused or bad usage.
`;

const MAX_INPUT_BYTES = 1 << 20;

/** A local input file, bounded in size. */
function readBounded(path: string): Buffer {
  try {
    if (statSync(path).size > MAX_INPUT_BYTES) throw new UsageError(`${path}: larger than 1 MiB; not a certificate or key file`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  return readInput(path);
}

/** `CERT,KEY` of --client-accepted/--client-refused: read here, the key checked against the certificate, never printed. */
function clientCheck(value: string, expect: ClientCheck['expect']): ClientCheck {
  const [certPath, keyPath, ...rest] = value.split(',');
  const option = expect === 'accepted' ? '--client-accepted' : '--client-refused';
  if (!certPath || !keyPath || rest.length) throw new UsageError(`${option}: expected CERT,KEY, got "${escapeTerminal(value)}"`);
  const cert = readBounded(certPath);
  const key = readBounded(keyPath);
  const pre = localPreflight({ cert, key, names: { cert: certPath, key: keyPath } }, { now: new Date() });
  const keyProblem = pre.findings.find((f) => f.code.startsWith('key-') || f.code === 'cert-unreadable');
  if (keyProblem) throw new UsageError(`${option}: ${escapeTerminal(keyProblem.message)}`);
  return { label: certPath, cert, key, expect };
}

function verifyTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  if (!(s > 0) || s > 3600) throw new UsageError(`--verify-timeout: expected seconds between 0 and 3600, got "${value}"`);
  return s * 1000;
}

/** Prints progress lines on stderr: text for people, JSON lines with --json. */
function progressPrinter(io: CliIo, json: boolean): (e: ProgressEvent) => void {
  const paint = painter(io.color && !json);
  return (e) => {
    if (json) return io.err(`${JSON.stringify({ type: 'progress', ...e })}\n`);
    if (e.status === 'start') return;
    const mark = e.status === 'ok' ? paint('green', 'ok') : paint('red', 'FAILED');
    io.err(`${escapeTerminal(`${e.host}/${e.endpoint}`)}  ${e.step}  ${mark}${e.detail ? `  ${escapeTerminal(e.detail)}` : ''}\n`);
  };
}

/** Everything a transaction needs, for one endpoint, from the pool and this process. */
async function depsFor(pool: SshPool, host: HostEntry, endpoint: EndpointEntry, progress: (e: ProgressEvent) => void): Promise<RotationDeps> {
  return rotationDeps(host.name, endpoint, await pool.get(host), { progress });
}

/** A record for an endpoint that could not even be connected to. */
function unreachable(host: string, endpoint: string, e: unknown): RotationRecord {
  const now = new Date().toISOString();
  return {
    id: `${now.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-unreachable`, kind: 'rotate', who: `${userInfo().username}@${hostname()}`, host, endpoint,
    startedAt: now, endedAt: now, state: 'refused', message: (e as Error).message, findings: [], old: {}, files: [], steps: [], probes: [],
  };
}

const RANK: Record<FinalState | 'skipped', number> = { planned: 0, rotated: 0, skipped: 1, refused: 2, 'rolled-back': 3, 'needs-attention': 4 };

/** The exit code of a run: the worst outcome decides. */
function exitCode(states: (FinalState | 'skipped')[]): number {
  const worst = states.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'rotated' as FinalState | 'skipped');
  if (worst === 'needs-attention') return EXIT_NEEDS_ATTENTION;
  if (worst === 'rolled-back') return EXIT.failed;
  if (worst === 'refused' || worst === 'skipped') return EXIT.usage;
  return EXIT.ok;
}

/** Writes the records, returning their JSON paths. */
function saveAll(inv: Inventory, records: RotationRecord[]): string[] {
  const dir = evidenceDir(inv.file);
  return records.filter((r) => r.state !== 'planned').map((r) => writeEvidence(dir, r));
}

function selected(inv: Inventory, selectors: string[]): { host: HostEntry; endpoint: EndpointEntry }[] {
  try {
    return selectEndpoints(inv, selectors);
  } catch (e) {
    if (e instanceof SelectorError) throw new UsageError(escapeTerminal(e.message));
    throw e;
  }
}

/** The result table and, for failures, the message and advice. */
function printSummary(io: CliIo, results: FleetResult[], evidence: Map<string, string[]>): void {
  const paint = painter(io.color);
  const width = Math.min(40, Math.max(8, ...results.map((r) => r.label.length)));
  const lines = [`${'endpoint'.padEnd(width)}  ${'state'.padEnd(15)}  cutover   message`];
  for (const r of results) {
    const last = r.records[r.records.length - 1];
    const colour = r.state === 'rotated' || r.state === 'planned' ? 'green' : r.state === 'rolled-back' || r.state === 'skipped' ? 'yellow' : 'red';
    const cut = last?.cutoverMs !== undefined ? `${last.cutoverMs} ms` : '';
    lines.push(`${escapeTerminal(r.label).padEnd(width)}  ${paint(colour, r.state.padEnd(15))}  ${cut.padEnd(8)}  ${escapeTerminal(r.message)}`);
    for (const rec of r.records.slice(0, -1)) lines.push(`${''.padEnd(width)}  (first: ${rec.kind} ${rec.state}: ${escapeTerminal(rec.message)})`);
    for (const a of last?.advice ?? []) lines.push(`${''.padEnd(width)}  - ${escapeTerminal(a)}`);
    if (r.state === 'planned' && last?.plan) for (const p of last.plan) lines.push(`${''.padEnd(width)}  ${escapeTerminal(p)}`);
    for (const p of evidence.get(r.label) ?? []) lines.push(`${''.padEnd(width)}  evidence ${escapeTerminal(p.replace(/\.json$/, '.md'))}`);
  }
  io.out(`${lines.join('\n')}\n`);
}

function printResult(io: CliIo, json: boolean, inv: Inventory, results: FleetResult[], evidence: Map<string, string[]>, code: number): void {
  if (json) {
    printJson(io, {
      ok: code === EXIT.ok,
      exitCode: code,
      inventory: inv.file,
      endpoints: results.map((r) => ({ endpoint: r.label, state: r.state, message: r.message, evidence: evidence.get(r.label) ?? [], records: r.records })),
    });
  } else printSummary(io, results, evidence);
}

/** The `rotate` command. */
export const rotateCommand: Command = {
  help: ROTATE_HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('rotate', args, {
      ...REMOTE_OPTIONS,
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      'dry-run': { type: 'boolean' },
      canary: { type: 'string' },
      concurrency: { type: 'string' },
      keep: { type: 'string' },
      'verify-timeout': { type: 'string' },
      'allow-earlier-expiry': { type: 'boolean' },
      'force-recover': { type: 'boolean' },
      'client-accepted': { type: 'string', multiple: true },
      'client-refused': { type: 'string', multiple: true },
    });
    if (positionals.length === 0) throw new UsageError('expected HOST/ENDPOINT... (see certops rotate --help)');
    // Only --ca: a trust rotation (a phase of a CA rotation with overlap); the certificate stays.
    const trustOnly = values.cert === undefined && values.ca !== undefined && values.key === undefined;
    if (values.cert === undefined && !trustOnly) throw new UsageError('--cert FILE is required (or --ca FILE alone to replace only the CA file)');
    const concurrency = parseCount('concurrency', values.concurrency, 4);
    const keep = parseCount('keep', values.keep, 5);
    if (concurrency < 1 || keep < 1) throw new UsageError('--concurrency and --keep must be at least 1');
    const files: NewFiles = {
      cert: trustOnly ? Buffer.alloc(0) : readBounded(values.cert as string),
      key: values.key === undefined ? undefined : readBounded(values.key),
      ca: values.ca === undefined ? undefined : readBounded(values.ca),
      names: { cert: values.cert ?? '', key: values.key, ca: values.ca },
    };
    const inv = openInventory(values.inventory);
    const targets = selected(inv, positionals);
    const canary = parseCount('canary', values.canary, targets.length > 1 ? 1 : 0);
    const opts: RotationOptions = {
      keepBackups: keep,
      verifyTimeoutMs: verifyTimeout(values['verify-timeout']),
      allowEarlierExpiry: values['allow-earlier-expiry'] === true,
      dryRun: values['dry-run'] === true,
      forceRecover: values['force-recover'] === true,
      fallbackRoots: fallbackRoots({ env: io.env }),
      clientChecks: [
        ...(values['client-accepted'] ?? []).map((v) => clientCheck(v, 'accepted')),
        ...(values['client-refused'] ?? []).map((v) => clientCheck(v, 'refused')),
      ],
    };
    const json = values.json === true;
    const progress = progressPrinter(io, json);
    const pool = cliPool(io, values);
    const evidence = new Map<string, string[]>();
    let results: FleetResult[];
    try {
      results = await runFleet(
        targets.map(({ host, endpoint }) => {
          const label = `${host.name}/${endpoint.name}`;
          return {
            label,
            run: async () => {
              let records: RotationRecord[];
              try {
                const deps = await depsFor(pool, host, endpoint, progress);
                records = trustOnly
                  ? await rotateTrustEndpoint(deps, { bytes: files.ca as Buffer, name: values.ca as string }, opts)
                  : await rotateEndpoint(deps, files, opts);
              } catch (e) {
                records = [unreachable(host.name, endpoint.name, e)];
              }
              evidence.set(label, saveAll(inv, records));
              return records;
            },
          };
        }),
        { canary, concurrency },
      );
    } finally {
      pool.closeAll();
    }
    const code = exitCode(results.map((r) => r.state));
    printResult(io, json, inv, results, evidence, code);
    return code;
  },
};

/** The `rollback` command. */
export const rollbackCommand: Command = {
  help: ROLLBACK_HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('rollback', args, {
      ...REMOTE_OPTIONS,
      rotation: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'verify-timeout': { type: 'string' },
      'force-recover': { type: 'boolean' },
    });
    if (positionals.length !== 1 || !positionals[0].includes('/')) throw new UsageError('expected one HOST/ENDPOINT (see certops rollback --help)');
    const inv = openInventory(values.inventory);
    const [{ host, endpoint }] = selected(inv, positionals);
    const label = `${host.name}/${endpoint.name}`;
    const done = readEvidence(evidenceDir(inv.file), host.name, endpoint.name).filter((e) => e.record.kind === 'rotate' && e.record.state === 'rotated');
    const wanted = values.rotation;
    const matches = wanted === undefined ? done.slice(-1) : done.filter((e) => e.record.id.startsWith(wanted));
    if (matches.length === 0) {
      throw new UsageError(`no completed rotation of ${escapeTerminal(label)}${wanted ? ` with id ${escapeTerminal(wanted)}` : ''} is recorded in ${evidenceDir(inv.file)}`);
    }
    if (matches.length > 1) throw new UsageError(`--rotation ${escapeTerminal(wanted ?? '')} matches ${matches.length} rotations; give more of the id`);
    const target = matches[0].record;
    const opts: RotationOptions = {
      verifyTimeoutMs: verifyTimeout(values['verify-timeout']),
      dryRun: values['dry-run'] === true,
      forceRecover: values['force-recover'] === true,
    };
    const json = values.json === true;
    const pool = cliPool(io, values);
    let records: RotationRecord[];
    try {
      records = await rollbackEndpoint(await depsFor(pool, host, endpoint, progressPrinter(io, json)), target, opts);
    } catch (e) {
      records = [unreachable(host.name, endpoint.name, e)];
    } finally {
      pool.closeAll();
    }
    const evidence = new Map([[label, saveAll(inv, records)]]);
    const last = records[records.length - 1];
    const result: FleetResult = { label, state: last.state, records, message: last.message };
    const code = exitCode([last.state]);
    printResult(io, json, inv, [result], evidence, code);
    return code;
  },
};
