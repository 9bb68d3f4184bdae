/**
 * The handful of POSIX sh scripts a rotation runs on the host. Every path and
 * value is quoted with shellQuote; file contents travel on stdin, never in
 * argv (where other users of the host could read a key in `ps`). Each script
 * is one round trip, so a rotation costs a few SSH exec requests.
 */
import { shellQuote as q } from './contract';

/** Exit code of the lock script when another rotation holds the lock. */
export const LOCK_HELD = 75;

/** One file a rotation replaces, with every remote path it involves. */
export interface FilePlan {
  role: 'cert' | 'key' | 'ca';
  path: string;
  /** Where the current file is copied, beside it (`PATH.certops-backup-<UTC>`). */
  backup: string;
  /** The new content's temporary name in the same directory. */
  temp: string;
  /** A hard link to the file being replaced, so a failed second rename can put the first back. */
  prev: string;
}

/** Reports every file's mode, owner and type, and every directory's writability and free space. */
export function inspectScript(paths: string[], dirs: string[], lock?: string): string {
  const lines = ['export LC_ALL=C', 'echo "U $(id -u) $(id -un)"'];
  if (lock !== undefined) lines.push(`if [ -e ${q(lock)} ]; then echo "L present"; fi`);
  paths.forEach((p, i) => {
    lines.push(`if [ -e ${q(p)} ] || [ -L ${q(p)} ]; then echo "F ${i} $(stat -c '%a %u %g %s %F' -- ${q(p)})"; else echo "F ${i} missing"; fi`);
  });
  dirs.forEach((d, i) => {
    lines.push(`if [ -d ${q(d)} ] && [ -w ${q(d)} ]; then w=writable; else w=readonly; fi`);
    lines.push(`echo "D ${i} $w $(df -Pk -- ${q(d)} 2>/dev/null | awk 'NR==2 {print $4}')"`);
  });
  return lines.join('\n');
}

/** Parsed output of inspectScript. */
export interface Inspection {
  uid: number;
  user: string;
  files: ({ mode: number; uid: number; gid: number; size: number; type: string } | undefined)[];
  /** Whether the endpoint's lock file exists (a rotation runs, or one was interrupted). */
  lockPresent: boolean;
  dirs: { writable: boolean; availableKb: number | undefined }[];
}

/** Parses inspectScript's output; throws on anything it did not print. */
export function parseInspection(stdout: string, files: number, dirs: number): Inspection {
  const out: Inspection = { uid: -1, user: '', files: new Array(files).fill(undefined), dirs: [], lockPresent: false };
  for (const line of stdout.split('\n')) {
    if (line === 'L present') {
      out.lockPresent = true;
      continue;
    }
    let m = /^U (\d+) (\S+)$/.exec(line);
    if (m) {
      out.uid = Number(m[1]);
      out.user = m[2];
      continue;
    }
    m = /^F (\d+) ([0-7]+) (\d+) (\d+) (\d+) (.+)$/.exec(line);
    if (m) {
      out.files[Number(m[1])] = { mode: parseInt(m[2], 8), uid: Number(m[3]), gid: Number(m[4]), size: Number(m[5]), type: m[6] };
      continue;
    }
    m = /^D (\d+) (writable|readonly) ?(\d*)$/.exec(line);
    if (m) out.dirs[Number(m[1])] = { writable: m[2] === 'writable', availableKb: m[3] ? Number(m[3]) : undefined };
  }
  if (out.uid < 0 || out.dirs.length !== dirs) throw new Error(`unexpected answer from the host: ${stdout.slice(0, 200)}`);
  return out;
}

/** Replaces the journal inside the lock file (write beside, then rename). */
export function journalLines(lock: string, journal: string): string[] {
  const tmp = `${lock}.tmp`;
  return [`( umask 077; printf '%s\\n' ${q(journal)} > ${q(tmp)} ) && mv -f -- ${q(tmp)} ${q(lock)} || { echo ${q(`cannot update the journal ${lock}`)} >&2; exit 70; }`];
}

/**
 * Takes the lock (exit LOCK_HELD, printing the holder's journal, when it is
 * taken), copies each file beside itself keeping mode and owner, prunes old
 * backups to `keep`, and journals; on any failure after the lock it removes
 * what it made (partial backups, the lock) and exits 1: one round trip.
 */
export function lockAndBackupScript(files: FilePlan[], keep: number, lock: string, lockedJournal: string, backedUpJournal: string): string {
  const undo = `rm -f -- ${[...files.map((f) => q(f.backup)), q(lock)].join(' ')}`;
  const lines = [
    'umask 077',
    'export LC_ALL=C',
    `if ( set -C; printf '%s\\n' ${q(lockedJournal)} > ${q(lock)} ) 2>/dev/null; then :`,
    `elif [ -e ${q(lock)} ]; then cat -- ${q(lock)}; exit ${LOCK_HELD}`,
    `else echo "cannot create the lock file" >&2; exit 1; fi`,
  ];
  for (const f of files) {
    lines.push(`[ ! -e ${q(f.backup)} ] || { echo "the backup name is taken" >&2; rm -f -- ${q(lock)}; exit 1; }`);
    lines.push(`cp -p -- ${q(f.path)} ${q(f.backup)} || { echo ${q(`cannot back up ${f.path}`)} >&2; ${undo}; exit 1; }`);
  }
  for (const f of files) {
    const base = `${f.path}.certops-backup-`;
    lines.push(`ls -1d -- ${q(base)}[0-9]* 2>/dev/null | sort | head -n -${keep} | while IFS= read -r old; do rm -f -- "$old"; done`);
  }
  lines.push(`( umask 077; printf '%s\\n' ${q(backedUpJournal)} > ${q(`${lock}.tmp`)} ) && mv -f -- ${q(`${lock}.tmp`)} ${q(lock)} || { echo "cannot update the journal" >&2; ${undo}; exit 1; }`);
  return lines.join('\n');
}

/** One temporary file of stageAllScript: new content from stdin (created with mode and owner), or a copy of a remote file. */
export type StageEntry = { temp: string; mode: number; uid: number; gid: number; size: number } | { temp: string; copyFrom: string };

/**
 * Writes every temporary file in one round trip. New contents arrive on stdin
 * one after another; each is cut at its size with `dd bs=1` (it never reads
 * past what it was asked for, unlike buffered readers), into a file created
 * with its final mode and owner first. On any failure every temporary file is
 * removed.
 */
export function stageAllScript(entries: StageEntry[], failCode = 1): string {
  const cleanup = `rm -f -- ${entries.map((e) => q(e.temp)).join(' ')}`;
  const lines = ['export LC_ALL=C'];
  for (const e of entries) {
    const fail = (why: string) => `{ ${cleanup}; echo ${q(why)} >&2; exit ${failCode}; }`;
    if ('copyFrom' in e) {
      lines.push(`( umask 077; rm -f -- ${q(e.temp)}; cp -p -- ${q(e.copyFrom)} ${q(e.temp)} ) && cmp -s -- ${q(e.copyFrom)} ${q(e.temp)} || ${fail(`cannot copy ${e.copyFrom}`)}`);
    } else {
      const umask = (0o777 & ~e.mode).toString(8).padStart(3, '0');
      lines.push(`( umask ${umask}; rm -f -- ${q(e.temp)}; set -C; : > ${q(e.temp)} ) || ${fail(`cannot create ${e.temp}`)}`);
      lines.push(`if [ "$(stat -c %u:%g -- ${q(e.temp)})" != "${e.uid}:${e.gid}" ]; then chown ${e.uid}:${e.gid} -- ${q(e.temp)} || ${fail(`cannot give ${e.temp} its owner`)}; fi`);
      lines.push(`dd bs=1 count=${e.size} 2>/dev/null > ${q(e.temp)} || ${fail(`cannot write ${e.temp}`)}`);
      lines.push(`[ "$(wc -c < ${q(e.temp)})" -eq ${e.size} ] || ${fail(`short write to ${e.temp}`)}`);
    }
  }
  lines.push(`sync -- ${entries.map((e) => q(e.temp)).join(' ')} 2>/dev/null || sync`);
  return lines.join('\n');
}

/** Exit code of the place script when the files are in place but the signal reload riding along failed. */
export const SIGNAL_FAILED = 78;

/** Exit code of the place script when writing the temporary files failed (nothing renamed, temporaries removed). */
export const STAGE_FAILED = 79;

/** Exit code of the swap script when rename `i` (zero-based) failed and the earlier ones were undone. */
export const SWAP_FAILED_BASE = 80;

/**
 * Renames every staged file over its target back to back. Before the first
 * rename each target gets a hard link, so when rename i fails the renames
 * before it are undone from those links and the script exits SWAP_FAILED_BASE + i.
 */
export function swapScript(files: FilePlan[], lock: string, journalBefore: string, journalAfter: string): string {
  const lines = ['export LC_ALL=C', ...journalLines(lock, journalBefore)];
  for (const f of files) lines.push(`ln -f -- ${q(f.path)} ${q(f.prev)} || { echo ${q(`cannot link ${f.path}`)} >&2; exit 1; }`);
  files.forEach((f, i) => {
    const undo = files.slice(0, i).reverse().map((u) => `mv -f -- ${q(u.prev)} ${q(u.path)}`);
    const cleanup = `rm -f -- ${files.map((u) => q(u.prev)).join(' ')}`;
    lines.push(`mv -f -- ${q(f.temp)} ${q(f.path)} || { ${[...undo, cleanup, `echo ${q(`rename over ${f.path} failed`)} >&2`, `exit ${SWAP_FAILED_BASE + i}`].join('; ')}; }`);
  });
  lines.push(`rm -f -- ${files.map((f) => q(f.prev)).join(' ')}`);
  lines.push(...journalLines(lock, journalAfter));
  return lines.join('\n');
}

/** Signals the server: by pid file or by exact process name. */
export function signalScript(signal: string, target: { pidFile?: string; process?: string }): string {
  if (!/^[A-Z][A-Z0-9]*$/.test(signal)) throw new Error(`"${signal}" is not a signal name (HUP, USR1, ...)`);
  if (target.pidFile !== undefined) {
    // The first line: PostgreSQL's postmaster.pid holds more after the pid.
    return [`pid=$(head -n 1 -- ${q(target.pidFile)} | tr -d ' \r') || exit 1`, `case "$pid" in ''|*[!0-9]*) echo ${q(`no pid in ${target.pidFile}`)} >&2; exit 1;; esac`, `kill -s ${signal} "$pid"`].join('\n');
  }
  if (target.process !== undefined) return `pkill -${signal} -x -- ${q(target.process)} || { echo ${q(`no process named ${target.process}`)} >&2; exit 1; }`;
  throw new Error('a signal reload needs pidFile or process');
}

/** Removes the lock file and any leftovers of this rotation. */
export function releaseScript(lock: string, leftovers: string[]): string {
  return `rm -f -- ${[...leftovers, `${lock}.tmp`, lock].map(q).join(' ')}`;
}

/** Reads the lock file if there is one (exit 1 when there is none). */
export function readLockScript(lock: string): string {
  return `[ -e ${q(lock)} ] || exit 1\ncat -- ${q(lock)}`;
}

/** SHA-256 of each file, `-` when missing: tells which files a crashed rotation left in place. */
export function hashScript(paths: string[]): string {
  return paths.map((p, i) => `if [ -f ${q(p)} ]; then echo "${i} $(sha256sum < ${q(p)} | cut -c1-64)"; else echo "${i} -"; fi`).join('\n');
}
