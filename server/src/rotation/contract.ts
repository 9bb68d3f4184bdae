/**
 * The shapes rotation uses from the SSH and inventory modules, in one place,
 * so the transaction is driven by the pool's `RemoteHost` and by in-process
 * fakes in tests alike.
 */
export type { ExecResult, RemoteHost, RemoteStat } from '../ssh';
export { shellQuote } from '../ssh';
export type { EndpointEntry, HostEntry, ReloadSpec } from '../inventory';
