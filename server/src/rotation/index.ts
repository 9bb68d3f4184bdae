/**
 * Certificate rotation over SSH as one verified transaction (no VS Code):
 * the CLI and the extension drive these functions with a RemoteHost from the
 * SSH pool and write the records with writeEvidence.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { EndpointEntry, RemoteHost } from './contract';
import type { RotationRecord } from './evidence';
import { endpointProber } from './served';
import type { NewFiles } from './preflight';
import { recoverEndpoint } from './recover';
import { rollbackRotation } from './rollback';
import { rotateTrust } from './trust';
import { rotate, RotationDeps, RotationOptions } from './transaction';

export type { EndpointEntry, HostEntry, RemoteHost, ReloadSpec } from './contract';
export type { FinalState, RotationRecord, StepRecord, ProbeRecord } from './evidence';
export { evidenceDir, readEvidence, renderMarkdown, writeEvidence, escapeControls } from './evidence';
export type { CertFacts, Finding, NewFiles } from './preflight';
export { localPreflight } from './preflight';
export { endpointProber } from './served';
export type { ClientCheck, Prober, Served } from './served';
export type { ProgressEvent, RotationDeps, RotationOptions } from './transaction';
export { rotate } from './transaction';
export { recoverEndpoint } from './recover';
export { rollbackRotation } from './rollback';
export { rotateTrust } from './trust';
export { runFleet } from './fleet';
export type { FleetItem, FleetResult } from './fleet';

/** Whether a process of this machine is alive (EPERM means it is, under another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The dependencies of a transaction for one endpoint over a live RemoteHost:
 * the endpoint's own prober, this user and machine, the real clock.
 */
export function rotationDeps(hostName: string, endpoint: EndpointEntry, remote: RemoteHost, extra: Partial<RotationDeps> = {}): RotationDeps {
  let n = 0;
  return {
    host: hostName,
    endpoint,
    remote,
    probe: endpointProber(endpoint, remote),
    who: `${userInfo().username}@${hostname()}`,
    machine: hostname(),
    pid: process.pid,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    random: () => `${randomBytes(4).toString('hex')}${n++}`,
    isAlive,
    ...extra,
  };
}

/**
 * Runs a transaction; when it found the endpoint's lock (a rotation runs or
 * was interrupted), finishes the interrupted one from its journal and runs
 * it again. Returns the records made: the recovery's, if any, then the
 * transaction's. A live rotation's lock refuses.
 */
async function withRecovery(deps: RotationDeps, opts: RotationOptions, run: () => Promise<RotationRecord>): Promise<RotationRecord[]> {
  const first = await run();
  if (!first.findings.some((f) => f.code === 'locked' && f.severity === 'error')) return [first];
  const recovered = await recoverEndpoint(deps, opts);
  const out = recovered ? [recovered] : [];
  if (recovered && (recovered.state === 'refused' || recovered.state === 'needs-attention')) return out;
  out.push(await run());
  return out;
}

/** Rotates one endpoint, first finishing any interrupted rotation its lock journal shows. */
export async function rotateEndpoint(deps: RotationDeps, files: NewFiles, opts: RotationOptions = {}): Promise<RotationRecord[]> {
  return withRecovery(deps, opts, () => rotate(deps, files, opts));
}

/** Replaces an endpoint's CA file (a phase of a CA rotation with overlap), first finishing any interrupted rotation. */
export async function rotateTrustEndpoint(deps: RotationDeps, ca: { bytes: Buffer; name: string }, opts: RotationOptions = {}): Promise<RotationRecord[]> {
  return withRecovery(deps, opts, () => rotateTrust(deps, ca, opts));
}

/** Rolls back a recorded rotation, first finishing any interrupted one. */
export async function rollbackEndpoint(deps: RotationDeps, target: RotationRecord, opts: RotationOptions = {}): Promise<RotationRecord[]> {
  return withRecovery(deps, opts, () => rollbackRotation(deps, target, opts));
}
