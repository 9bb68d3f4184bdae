/**
 * Finishing an interrupted rotation. The lock file's journal says how far it
 * got; the files on disk and a probe say the rest. Before any rename the lock
 * is simply released; after the renames the rotation is completed when the
 * new certificate is served, and rolled back otherwise.
 */
import type { RotationRecord } from './evidence';
import { decodeJournal, Journal } from './journal';
import { readLockScript } from './scripts';
import { describeHolder, RotationDeps, RotationOptions, Transaction } from './transaction';

/** What a look at the endpoint's lock found. */
export type LockState =
  | { kind: 'free' }
  /** Held by a rotation that may be running: leave it alone. */
  | { kind: 'held'; message: string; journal?: Journal }
  /** Held by a rotation that is gone: recover it. */
  | { kind: 'abandoned'; journal: Journal };

/** Reads the endpoint's lock and judges whether its holder is gone. */
export async function inspectLock(tx: Transaction, opts: RotationOptions): Promise<LockState> {
  const r = await tx.sh(readLockScript(tx.lock));
  if (r.code === 1 && r.stdout.length === 0) return { kind: 'free' };
  if (r.code !== 0) throw new Error(`cannot read ${tx.lock}: ${r.stderr.toString('utf8').trim() || `exit ${r.code}`}`);
  const text = r.stdout.toString('utf8');
  const journal = decodeJournal(text);
  if (!journal) return { kind: 'held', message: `${tx.lock} exists but is not a certops journal; remove it by hand if no rotation runs` };
  const age = tx.deps.now().getTime() - Date.parse(journal.updatedAt);
  const local = journal.machine === tx.deps.machine;
  const dead = local && tx.deps.isAlive !== undefined && !tx.deps.isAlive(journal.pid);
  if (opts.forceRecover || dead || age > (opts.staleMs ?? 10 * 60_000)) return { kind: 'abandoned', journal };
  return { kind: 'held', message: `another rotation holds ${tx.lock}: ${describeHolder(text)}`, journal };
}

/**
 * Looks for an interrupted rotation on the endpoint and finishes it. Returns
 * undefined when there is none, or the record of what was done (a `recover`
 * record: `rotated` when the new certificate was verified and the rotation
 * completed, `rolled-back` when the old files were restored or had not been
 * replaced, `needs-attention` otherwise, `refused` when a live rotation holds the lock).
 */
export async function recoverEndpoint(deps: RotationDeps, opts: RotationOptions = {}): Promise<RotationRecord | undefined> {
  const tx = new Transaction(deps, opts, 'recover');
  let state: LockState;
  try {
    state = await inspectLock(tx, opts);
  } catch (e) {
    return tx.finish('refused', (e as Error).message);
  }
  if (state.kind === 'free') return undefined;
  if (state.kind === 'held') return tx.finish('refused', state.message);
  const j = state.journal;
  tx.journal = j;
  tx.record.interrupted = j.id;
  tx.record.old.served = j.oldServed;
  tx.record.files = j.files.map((f) => ({ role: f.role, path: f.path, backup: f.backup }));
  const files = j.files;
  const what = `interrupted ${j.kind} ${j.id} (by ${j.who}, phase ${j.phase})`;
  tx.record.steps.push({ name: 'found journal', startedAt: tx.record.startedAt, endedAt: tx.record.startedAt, ok: true, detail: what });
  try {
    if (j.phase === 'locked' || j.phase === 'backed-up') {
      await tx.step('release', () => tx.release(files));
      return tx.finish('rolled-back', `${what} had not replaced any file; its lock was released`);
    }
    if (j.phase === 'rolling-back') return await tx.rollback(`${what}: finishing its rollback`, files, j.oldServed, j.oldCertFile);
    const onDisk = await tx.step('hash certificate file', () => tx.certFileSha(files), (h) => h ?? 'missing');
    if (onDisk === j.oldCertFile) {
      await tx.step('release', () => tx.release(files));
      return tx.finish('rolled-back', `${what} had not replaced the files (they are the old ones); its lock was released`);
    }
    if (onDisk === j.newCertFile) {
      const served = await tx.step('probe', () => tx.probeOnce('recover'), (p) => p.sha256 ?? p.error ?? '');
      if (served.sha256 === j.newLeaf) {
        await tx.step('release', () => tx.release(files));
        return tx.finish('rotated', `${what}: the new files are in place and the new certificate is served; verified and completed`);
      }
      return await tx.rollback(`${what}: the new files are in place but the new certificate is not served (${served.error ?? `serving ${served.sha256}`}); rolling back`, files, j.oldServed, j.oldCertFile);
    }
    return await tx.rollback(`${what}: the certificate file is neither the old nor the new one; restoring the backups`, files, j.oldServed, j.oldCertFile);
  } catch (e) {
    return tx.finish('needs-attention', `${what}: recovery failed: ${(e as Error).message}`, [`look at ${tx.lock} and the backups ${files.map((f) => f.backup).join(', ')}`]);
  }
}
