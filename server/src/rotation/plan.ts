/**
 * The parts of a rotation decided before anything runs: which files, their
 * modes and owners, the reload, the verify deadline, and the plan text a dry
 * run prints.
 */
import type { EndpointEntry, ReloadSpec } from './contract';
import type { Inspection, FilePlan } from './scripts';

/** Verify deadline when the server reloads on a signal or command. */
export const DEFAULT_VERIFY_MS = 10_000;
/** A polling server's default interval, and the margin added to it. */
export const DEFAULT_WATCH_INTERVAL_S = 60;
export const WATCH_MARGIN_MS = 30_000;

/** How long to probe for the expected certificate after a reload. */
export function verifyDeadlineMs(reload: ReloadSpec, override?: number): number {
  if (override !== undefined) return override;
  if (reload.kind === 'watch') return (reload.intervalSeconds ?? DEFAULT_WATCH_INTERVAL_S) * 1000 + WATCH_MARGIN_MS;
  return DEFAULT_VERIFY_MS;
}

/** The key file's mode: the endpoint's `keyMode` (octal string), else 0600. */
export function keyModeOf(endpoint: EndpointEntry): number {
  const m = endpoint.keyMode ?? '0600';
  if (!/^0?[0-7]{3}$/.test(m)) throw new Error(`keyMode "${m}" is not an octal mode such as 0600`);
  return parseInt(m, 8);
}

/** Octal text of a mode, `0644`. */
export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** The mode and owner each new file is created with: the key per keyMode, the others as the file they replace. */
export function targetModes(files: FilePlan[], found: Inspection, endpoint: EndpointEntry): { mode: number; uid: number; gid: number }[] {
  return files.map((f, i) => {
    const cur = found.files[i];
    if (!cur) throw new Error(`${f.path}: not found on the host`);
    return { mode: f.role === 'key' ? keyModeOf(endpoint) : cur.mode & 0o777, uid: cur.uid, gid: cur.gid };
  });
}

/** A reload as one line for plans and progress. */
export function describeReload(r: ReloadSpec): string {
  switch (r.kind) {
    case 'signal':
      return r.pidFile !== undefined ? `send SIG${r.signal ?? 'HUP'} to the pid in ${r.pidFile}` : `send SIG${r.signal ?? 'HUP'} to processes named exactly "${r.process}"`;
    case 'command':
      return `run: ${r.command}`;
    case 'restart':
      return `restart: ${r.command}`;
    case 'watch':
      return `no action: the server polls its files every ${r.intervalSeconds ?? DEFAULT_WATCH_INTERVAL_S} s`;
    case 'none':
      return 'no reload';
  }
}

/** The dry run's plan: files with modes and owners, commands and probes, in order. */
export function planLines(opts: {
  endpoint: EndpointEntry;
  files: FilePlan[];
  modes: { mode: number; uid: number; gid: number }[];
  found: Inspection;
  keep: number;
  newSha: string;
  oldServed: string;
}): string[] {
  const e = opts.endpoint;
  const lines: string[] = [];
  lines.push(`lock ${e.name} with an exclusive lock file beside ${e.files.cert}`);
  opts.files.forEach((f, i) => {
    const cur = opts.found.files[i];
    lines.push(`back up ${f.path} (${cur ? octal(cur.mode) : '?'}, uid ${cur?.uid}:${cur?.gid}) to ${f.backup}, keeping the last ${opts.keep}`);
  });
  if (e.hooks?.before) lines.push(`run before placing: ${e.hooks.before}`);
  opts.files.forEach((f, i) => {
    const m = opts.modes[i];
    lines.push(`write the new ${f.role} to ${f.temp} created ${octal(m.mode)} owned by ${m.uid}:${m.gid}, flushed`);
  });
  lines.push(`rename ${opts.files.map((f) => f.path).join(' and ')} into place back to back`);
  lines.push(describeReload(e.reload));
  if (e.hooks?.after) lines.push(`run after reloading: ${e.hooks.after}`);
  const p = e.probe;
  const how = `${p.via === 'ssh' ? 'through SSH ' : ''}${p.starttls ? `with STARTTLS ${p.starttls} ` : ''}`;
  lines.push(`probe ${p.host}:${p.port} ${how}(SNI ${p.servername ?? p.host}) until it serves ${opts.newSha} instead of ${opts.oldServed}, within ${verifyDeadlineMs(e.reload) / 1000} s`);
  if (e.check?.command) lines.push(`check (${e.check.where ?? 'host'}): ${e.check.command}`);
  else if (e.check) lines.push(`check over TLS: send ${JSON.stringify(e.check.send ?? '')}, expect ${JSON.stringify(e.check.expect ?? '')}`);
  lines.push('on any failure: restore the backups the same way, reload, and probe until the old certificate is served');
  return lines;
}
