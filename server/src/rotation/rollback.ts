/**
 * `certops rollback`: restores the backups a recorded rotation made, as a
 * transaction of its own (the current files are backed up first, so a
 * failed rollback puts them back and proves the current certificate is
 * served again).
 */
import { createHash } from 'node:crypto';
import type { RotationRecord } from './evidence';
import { backupStamp, filePlan } from './journal';
import { octal, planLines } from './plan';
import { certFacts, leafOf } from './preflight';
import { hashScript } from './scripts';
import { execute, newJournal, remotePreflight, RotationDeps, RotationOptions, StepFailure, Transaction } from './transaction';

/** Rolls the endpoint back to the files `target` replaced, and verifies the old certificate is served. */
export async function rollbackRotation(deps: RotationDeps, target: RotationRecord, opts: RotationOptions = {}): Promise<RotationRecord> {
  const tx = new Transaction(deps, opts, 'rollback');
  tx.record.rollbackOf = target.id;
  const refuse = (m: string) => tx.finish('refused', m);
  if (target.kind !== 'rotate' || target.state !== 'rotated') return refuse(`${target.id} is a ${target.kind} that ended ${target.state}; only a completed rotation can be rolled back`);
  if (target.host !== deps.host || target.endpoint !== deps.endpoint.name) return refuse(`${target.id} is a rotation of ${target.host}/${target.endpoint}`);
  const stamp = backupStamp(deps.now());
  const plans = target.files.map((f) => filePlan(f.role, f.path, tx.id, stamp));
  const sources = target.files.map((f) => ({ remotePath: f.backup }));
  try {
    const backups = await tx.step('check backups', async () => {
      const r = await tx.shOk(hashScript(target.files.map((f) => f.backup)), 'checking the backups');
      const missing = target.files.filter((_, i) => new RegExp(`^${i} -$`, 'm').test(r.stdout.toString('utf8')));
      if (missing.length) throw new StepFailure(`the backup ${missing.map((f) => f.backup).join(', ')} is gone; cannot roll back`);
      return target.files.map((f) => f.backup);
    }, (b) => b.join(', '));
    void backups;
    // The first file tells old from new on disk; a trust-only rotation has just the CA file.
    const first = target.files[0];
    const firstBytes = await deps.remote.readFile(first.backup, { maxBytes: opts.maxFileBytes ?? 1 << 20 });
    const restoreLeaf = first.role === 'cert' ? leafOf(firstBytes) : undefined;
    if (first.role === 'cert' && !restoreLeaf) return refuse(`${first.backup} holds no readable certificate`);
    if (restoreLeaf) tx.record.new = { ...certFacts(restoreLeaf), chain: [] };
    const remote = await remotePreflight(tx, plans, firstBytes.length);
    if ('severity' in remote) {
      tx.record.findings.push(remote);
      return refuse(remote.message);
    }
    if (restoreLeaf && remote.oldServed === restoreLeaf.sha256) return refuse(`the endpoint already serves the certificate of ${first.backup}`);
    const expectServed = restoreLeaf?.sha256 ?? remote.oldServed;
    const modes = plans.map(() => undefined);
    tx.record.plan = planLines({
      endpoint: deps.endpoint, files: plans, modes: plans.map((_, i) => ({ mode: remote.found.files[i]?.mode ?? 0, uid: remote.found.files[i]?.uid ?? 0, gid: remote.found.files[i]?.gid ?? 0 })),
      found: remote.found, keep: Math.max(1, opts.keepBackups ?? 5), newSha: expectServed, oldServed: remote.oldServed,
    }).map((l) => l.replace(/^write the new (\w+) to (\S+) created \S+/, `copy the backup $1 to $2 with its own mode`));
    for (const f of tx.record.files) f.newMode = f.mode && octal(parseInt(f.mode, 8));
    if (opts.dryRun) return tx.finish('planned', 'dry run: nothing was changed');
    const currentFirst = first.role === 'cert' ? remote.oldCertFileSha : createHash('sha256').update(await deps.remote.readFile(first.path, { maxBytes: opts.maxFileBytes ?? 1 << 20 })).digest('hex');
    const journal = newJournal(tx, 'rollback', plans, remote.oldServed, expectServed, currentFirst, createHash('sha256').update(firstBytes).digest('hex'));
    return await execute(tx, journal, plans, sources, modes, { oldServed: remote.oldServed, oldCertFileSha: currentFirst, expectServed });
  } catch (e) {
    return refuse((e as Error).message);
  }
}
