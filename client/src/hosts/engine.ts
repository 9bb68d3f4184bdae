// The engine pieces the extension uses, gathered in one place. All of them are
// VS Code-free and shared with the CLI: the client never re-implements them.
export { loadInventory, InventoryError, MAX_INVENTORY_BYTES } from '../../../server/src/inventory';
export { hostsFromAnsibleIni, hostsFromAnsibleYaml, hostsFromSshConfig, mergeHosts } from '../../../server/src/inventory/import';
export type { Inventory, HostEntry, EndpointEntry } from '../../../server/src/inventory';
export { SshPool, SshError } from '../../../server/src/ssh';
export type { Prompts, RemoteHost, RemoteStat } from '../../../server/src/ssh';
export { inventoryStatus } from '../../../server/src/hosts';
export type { EndpointStatus, EndpointState, FileFacts } from '../../../server/src/hosts';
export {
  evidenceDir, localPreflight, readEvidence, recoverEndpoint, renderMarkdown, rollbackEndpoint, rotateEndpoint, rotateTrustEndpoint, rotationDeps, runFleet, writeEvidence,
} from '../../../server/src/rotation';
export type { FinalState, FleetResult, NewFiles, ProgressEvent, RotationDeps, RotationOptions, RotationRecord } from '../../../server/src/rotation';
export { Transaction } from '../../../server/src/rotation/transaction';
export { inspectLock } from '../../../server/src/rotation/recover';
export type { LockState } from '../../../server/src/rotation/recover';
export { describeReload } from '../../../server/src/rotation/plan';
export { main as runCli } from '../../../server/src/cli/main';
export { fallbackRoots } from '../../../server/src/analysis/truststore';
export { loadCertificates } from '../../../server/src/cli/blocks';
