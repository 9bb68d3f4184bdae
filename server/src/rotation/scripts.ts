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
export function inspectScript(paths: string[], dirs: string[]): string {
  const lines = ['export LC_ALL=C', 'echo "U $(id -u) $(id -un)"'];
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
  dirs: { writable: boolean; availableKb: number | undefined }[];
}

/** Parses inspectScript's output; throws on anything it did not print. */
export function parseInspection(stdout: string, files: number, dirs: number): Inspection {
  const out: Inspection = { uid: -1, user: '', files: new Array(files).fill(undefined), dirs: [] };
  for (const line of stdout.split('\n')) {
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

/** Creates the lock file exclusively with the journal in it; prints the holder's journal and exits LOCK_HELD when it exists. */
export function lockScript(lock: string, journal: string): string {
  return [
    'umask 077',
    `if ( set -C; printf '%s\\n' ${q(journal)} > ${q(lock)} ) 2>/dev/null; then exit 0; fi`,
    `if [ -e ${q(lock)} ]; then cat -- ${q(lock)}; exit ${LOCK_HELD}; fi`,
    `echo "cannot create the lock file" >&2; exit 1`,
  ].join('\n');
}

/** Replaces the journal inside the lock file (write beside, then rename). */
export function journalLines(lock: string, journal: string): string[] {
  const tmp = `${lock}.tmp`;
  return [`( umask 077; printf '%s\\n' ${q(journal)} > ${q(tmp)} ) && mv -f -- ${q(tmp)} ${q(lock)} || { echo ${q(`cannot update the journal ${lock}`)} >&2; exit 70; }`];
}

/** Copies each file beside itself keeping mode and owner, prunes old backups to `keep`, then journals. */
export function backupScript(files: FilePlan[], keep: number, lock: string, journal: string): string {
  const lines = ['umask 077', 'export LC_ALL=C'];
  for (const f of files) {
    lines.push(`[ ! -e ${q(f.backup)} ] || { echo "the backup name is taken" >&2; exit 1; }`);
    lines.push(`cp -p -- ${q(f.path)} ${q(f.backup)} || { echo ${q(`cannot back up ${f.path}`)} >&2; exit 1; }`);
  }
  for (const f of files) {
    const base = `${f.path}.certops-backup-`;
    // Backup names sort by their UTC suffix; the glob lies after the quoted part so it still expands.
    lines.push(`ls -1d -- ${q(base)}[0-9]* 2>/dev/null | sort | head -n -${keep} | while IFS= read -r old; do rm -f -- "$old"; done`);
  }
  lines.push(...journalLines(lock, journal));
  return lines.join('\n');
}

/**
 * Writes stdin to `temp`, created with its final mode (through the umask, never
 * chmod after) and owner before any byte is written, flushed to disk; checks the size.
 */
export function stageScript(temp: string, mode: number, uid: number, gid: number, size: number): string {
  const umask = (0o777 & ~mode).toString(8).padStart(3, '0');
  return [
    'export LC_ALL=C',
    `umask ${umask}`,
    `rm -f -- ${q(temp)}`,
    `( set -C; : > ${q(temp)} ) || exit 1`,
    `if [ "$(stat -c %u:%g -- ${q(temp)})" != "${uid}:${gid}" ]; then chown ${uid}:${gid} -- ${q(temp)} || { rm -f -- ${q(temp)}; exit 1; }; fi`,
    `cat > ${q(temp)} || { rm -f -- ${q(temp)}; exit 1; }`,
    `if [ "$(wc -c < ${q(temp)})" -ne ${size} ]; then rm -f -- ${q(temp)}; echo "short write" >&2; exit 1; fi`,
    `sync -- ${q(temp)} 2>/dev/null || sync`,
  ].join('\n');
}

/** Copies a backup to `temp` keeping its mode and owner (for a restore), flushed. */
export function stageCopyScript(source: string, temp: string): string {
  return [
    'umask 077',
    `rm -f -- ${q(temp)}`,
    `cp -p -- ${q(source)} ${q(temp)} && cmp -s -- ${q(source)} ${q(temp)} || { rm -f -- ${q(temp)}; echo ${q(`cannot copy ${source}`)} >&2; exit 1; }`,
    `sync -- ${q(temp)} 2>/dev/null || sync`,
  ].join('\n');
}

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
