/**
 * The journal a rotation keeps in its lock file on the host: which phase it
 * reached, which files it touched and where their backups are. Whoever finds
 * a lock with an unfinished journal can tell what to undo or finish.
 */
import { basename, posix } from 'node:path';
import type { FilePlan } from './scripts';

/** How far a rotation got. Each phase is written to the host before the step after it starts. */
export type Phase =
  /** The lock is taken; nothing else changed. */
  | 'locked'
  /** Backups exist; the files are unchanged. */
  | 'backed-up'
  /** Renames are about to run: the files may be old, new, or (never for long) mixed. */
  | 'placing'
  /** Every new file is in place. */
  | 'placed'
  /** The server was told to reload. */
  | 'reloaded'
  /** The new certificate was seen served (and the check passed). */
  | 'verified'
  /** Restoring the backups. */
  | 'rolling-back';

/** The journal, as JSON in the lock file. Holds paths and fingerprints only, never key material. */
export interface Journal {
  version: 1;
  id: string;
  /** `rotate` or `rollback` (a rollback of a recorded rotation is itself journaled). */
  kind: 'rotate' | 'rollback';
  who: string;
  /** The controlling machine and process, to tell a crashed holder from a live one. */
  machine: string;
  pid: number;
  host: string;
  endpoint: string;
  startedAt: string;
  updatedAt: string;
  phase: Phase;
  /** Every phase reached so far, in order: the steps done. */
  done?: Phase[];
  files: FilePlan[];
  /** SHA-256 of the leaf served before the rotation (the rollback target). */
  oldServed: string;
  /** SHA-256 of the leaf in the certificate file before the rotation, when it differs from the one served. */
  oldFileLeaf?: string;
  /** SHA-256 of the leaf being rotated in. */
  newLeaf: string;
  /** SHA-256 of the first placed file's old and new content (the certificate file, or the CA file of a trust-only rotation), to tell which one is on disk. */
  oldCertFile: string;
  newCertFile: string;
}

/** The lock (and journal) file of an endpoint: hidden, beside its certificate file. */
export function lockPath(certPath: string): string {
  return posix.join(posix.dirname(certPath), `.${basename(certPath)}.certops-lock`);
}

/** A rotation id: UTC time to the second, then a random suffix; sorts by time. */
export function rotationId(now: Date, random: string): string {
  return `${utcStamp(now)}-${random}`;
}

/** `20261203T093000Z`: the id prefix. */
export function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** `20261203T093000.123Z`: the backup suffix (to the millisecond, so a rollback right after a rotation gets its own). */
export function backupStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '');
}

/** The remote paths of one file of a rotation. */
export function filePlan(role: FilePlan['role'], path: string, id: string, stamp: string): FilePlan {
  const dir = posix.dirname(path);
  const base = basename(path);
  return {
    role,
    path,
    backup: `${path}.certops-backup-${stamp}`,
    temp: posix.join(dir, `.${base}.certops-new-${id}`),
    prev: posix.join(dir, `.${base}.certops-prev-${id}`),
  };
}

/** Serialises the journal for the lock file (one line). */
export function encodeJournal(j: Journal): string {
  return JSON.stringify(j);
}

/** Reads a lock file's content; undefined when it is not a journal this version wrote. */
export function decodeJournal(text: string): Journal | undefined {
  try {
    const j = JSON.parse(text.trim()) as Partial<Journal>;
    if (j.version !== 1 || typeof j.id !== 'string' || typeof j.phase !== 'string' || !Array.isArray(j.files)) return undefined;
    const filesOk = j.files.every((f) => f && typeof f.path === 'string' && typeof f.backup === 'string' && typeof f.temp === 'string' && typeof f.prev === 'string');
    return filesOk ? (j as Journal) : undefined;
  } catch {
    return undefined;
  }
}
