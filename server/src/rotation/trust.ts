/**
 * Trust-only rotation: a new CA file for an endpoint whose certificate stays,
 * the first and last phases of a CA rotation with overlap (roll out the
 * combined bundle; later, the bundle without the old CA). The endpoint's
 * current certificate must verify against the new CA file, so the old CA is
 * never dropped while a certificate it issued is still in use. Verified by
 * the server still serving its certificate after the reload (and the
 * endpoint's check, which for mutual TLS should connect with a client
 * certificate).
 */
import { createHash } from 'node:crypto';
import { analyzeDocument, decodeFileBytes, RAW } from '../analysis';
import { validatePath } from '../validation';
import type { RotationRecord } from './evidence';
import { backupStamp, filePlan } from './journal';
import { octal, planLines, targetModes } from './plan';
import { certFacts } from './preflight';
import { execute, newJournal, remotePreflight, RotationDeps, RotationOptions, Transaction } from './transaction';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Replaces the endpoint's CA file with `ca`, proving the current certificate still verifies against it and is still served. */
export async function rotateTrust(deps: RotationDeps, ca: { bytes: Buffer; name: string }, opts: RotationOptions = {}): Promise<RotationRecord> {
  const tx = new Transaction(deps, opts, 'rotate');
  const { endpoint } = deps;
  const refuse = (m: string) => tx.finish('refused', m);
  if (!endpoint.files.ca) return refuse(`the endpoint ${endpoint.name} has no CA file in the inventory; a trust rotation replaces files.ca`);
  const doc = analyzeDocument(decodeFileBytes(ca.bytes));
  const cas = doc.blocks.filter((b) => b.kind === 'certificate');
  const broken = cas.find((b) => !b.certificate);
  if (cas.length === 0 || broken) return refuse(`${ca.name}: ${broken ? `line ${broken.range.start.line + 1}: ${broken.problems[0] ?? 'not a certificate'}` : 'no certificate in the file'}`);
  const notCa = cas.find((b) => !b.certificate?.isCA);
  if (notCa?.certificate) return refuse(`${ca.name}: ${notCa.certificate.subject} is not a CA certificate`);
  tx.record.newCa = cas.map((b) => certFacts(b.certificate!));
  const anchors = cas.map((b) => b.certificate![RAW].der);
  const plans = [filePlan('ca', endpoint.files.ca, tx.id, backupStamp(deps.now()))];
  try {
    const remote = await remotePreflight(tx, plans, ca.bytes.length);
    if ('severity' in remote) {
      tx.record.findings.push(remote);
      return refuse(remote.message);
    }
    const currentCa = await tx.step('read current CA file', () => deps.remote.readFile(endpoint.files.ca!, { maxBytes: opts.maxFileBytes ?? 1 << 20 }), (b) => `${b.length} bytes`);
    if (currentCa.equals(ca.bytes)) return refuse(`${endpoint.files.ca} already holds ${ca.name}; nothing to rotate`);
    // The certificate the endpoint keeps must chain to the new anchors: the overlap rule.
    const certBytes = await deps.remote.readFile(endpoint.files.cert, { maxBytes: opts.maxFileBytes ?? 1 << 20 });
    const chain = analyzeDocument(decodeFileBytes(certBytes)).blocks.flatMap((b) => (b.certificate ? [b.certificate[RAW].der] : []));
    if (chain.length === 0) return refuse(`${endpoint.files.cert} on ${deps.host} holds no readable certificate`);
    const v = validatePath({ leaf: chain[0], intermediates: chain.slice(1), roots: anchors, at: deps.now(), extendedKeyUsage: ['serverAuth'] });
    if (!v.valid) {
      return refuse(`the endpoint's current certificate does not verify against ${ca.name} (${v.errors[0].code}: ${v.errors[0].message}); roll out certificates from the new CA before dropping the old one`);
    }
    const modes = targetModes(plans, remote.found, endpoint);
    tx.record.files[0].newMode = octal(modes[0].mode);
    tx.record.plan = planLines({ endpoint, files: plans, modes, found: remote.found, keep: Math.max(1, opts.keepBackups ?? 5), newSha: remote.oldServed, oldServed: remote.oldServed })
      .map((l) => l.replace(/until it serves [0-9a-f]{64} instead of [0-9a-f]{64}/, `until it serves ${remote.oldServed} again (its certificate stays)`));
    if (opts.dryRun) return tx.finish('planned', 'dry run: nothing was changed');
    const oldCaSha = sha256(currentCa);
    const journal = newJournal(tx, 'rotate', plans, remote.oldServed, remote.oldServed, oldCaSha, sha256(ca.bytes));
    return await execute(tx, journal, plans, [{ content: ca.bytes }], modes, { oldServed: remote.oldServed, oldCertFileSha: oldCaSha, expectServed: remote.oldServed });
  } catch (e) {
    return refuse((e as Error).message);
  }
}
