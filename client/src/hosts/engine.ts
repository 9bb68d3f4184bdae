// The engine pieces the extension uses, gathered in one place. All of them are
// VS Code-free and shared with the CLI: the client never re-implements them.
export { loadInventory, InventoryError, MAX_INVENTORY_BYTES } from '../../../server/src/inventory';
export { hostsFromAnsibleIni, hostsFromAnsibleYaml, hostsFromSshConfig, mergeHosts } from '../../../server/src/inventory/import';
export type { Inventory, HostEntry, EndpointEntry } from '../../../server/src/inventory';
export { SshPool, SshError } from '../../../server/src/ssh';
export type { Prompts, RemoteHost, RemoteStat } from '../../../server/src/ssh';
export { inventoryStatus } from '../../../server/src/hosts';
export type { EndpointStatus, EndpointState, FileFacts } from '../../../server/src/hosts';
