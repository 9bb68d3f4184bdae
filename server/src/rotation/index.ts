/**
 * Certificate rotation over SSH as one verified transaction (no VS Code):
 * the CLI and the extension drive these functions with a RemoteHost from the
 * SSH pool and write the records with writeEvidence.
 */
import type { RotationRecord } from './evidence';
import { localPreflight, NewFiles } from './preflight';
import { recoverEndpoint } from './recover';
import { rollbackRotation } from './rollback';
import { rotate, RotationDeps, RotationOptions } from './transaction';

export type { EndpointEntry, HostEntry, RemoteHost, ReloadSpec } from './contract';
export type { FinalState, RotationRecord, StepRecord, ProbeRecord } from './evidence';
export { evidenceDir, readEvidence, renderMarkdown, writeEvidence, escapeControls } from './evidence';
export type { CertFacts, Finding, NewFiles } from './preflight';
export { localPreflight } from './preflight';
export { endpointProber } from './served';
export type { Prober, Served } from './served';
export type { ProgressEvent, RotationDeps, RotationOptions } from './transaction';
export { rotate } from './transaction';
export { recoverEndpoint } from './recover';
export { rollbackRotation } from './rollback';
export { runFleet } from './fleet';
export type { FleetItem, FleetResult } from './fleet';

/**
 * Rotates one endpoint, first finishing any interrupted rotation its lock
 * journal shows. Returns the records made: the recovery's (if there was one)
 * then the rotation's. A live rotation's lock refuses the new one.
 */
export async function rotateEndpoint(deps: RotationDeps, files: NewFiles, opts: RotationOptions = {}): Promise<RotationRecord[]> {
  const out: RotationRecord[] = [];
  // New files that cannot be used are refused before the host is contacted at all.
  const local = localPreflight(files, { servername: deps.endpoint.probe.servername ?? deps.endpoint.probe.host, now: deps.now() });
  if (local.findings.some((f) => f.severity === 'error')) return [await rotate(deps, files, opts)];
  if (!opts.dryRun) {
    const recovered = await recoverEndpoint(deps, opts);
    if (recovered) {
      out.push(recovered);
      if (recovered.state === 'refused' || recovered.state === 'needs-attention') return out;
    }
  }
  out.push(await rotate(deps, files, opts));
  return out;
}

/** Rolls back a recorded rotation, first finishing any interrupted one (whose rollback may already be what was asked). */
export async function rollbackEndpoint(deps: RotationDeps, target: RotationRecord, opts: RotationOptions = {}): Promise<RotationRecord[]> {
  const out: RotationRecord[] = [];
  if (!opts.dryRun) {
    const recovered = await recoverEndpoint(deps, opts);
    if (recovered) {
      out.push(recovered);
      if (recovered.state === 'refused' || recovered.state === 'needs-attention') return out;
    }
  }
  out.push(await rollbackRotation(deps, target, opts));
  return out;
}
