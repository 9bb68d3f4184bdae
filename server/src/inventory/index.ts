/**
 * The workspace inventory `certops.json`: hosts reached over SSH, their TLS
 * endpoints and the certificate files behind them. Validation is driven by
 * `certops.schema.json`, the same schema VS Code uses for completion.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import schemaJson from './certops.schema.json';
import { childPath, Schema, validateAgainst } from './validate';

export { childPath } from './validate';

/** The JSON schema of `certops.json` (also emitted as `dist/certops.schema.json`). */
export const INVENTORY_SCHEMA = schemaJson as unknown as Schema;

/** The inventory's default file name. */
export const INVENTORY_FILE = 'certops.json';

/** Inventories larger than this are refused rather than parsed. */
export const MAX_INVENTORY_BYTES = 4 * 1024 * 1024;

/** A loaded, valid inventory. */
export interface Inventory {
  file: string;
  hosts: HostEntry[];
}

/** One host reached over SSH. */
export interface HostEntry {
  name: string;
  /** Either an object, or a string naming a Host alias of ~/.ssh/config. */
  ssh: SshTarget | string;
  endpoints: EndpointEntry[];
}

/** How to reach a host; each field overrides what ~/.ssh/config says for `host`. */
export interface SshTarget {
  host?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  proxyJump?: string;
  sudo?: boolean;
}

/** A TLS service of a host and the files it serves. */
export interface EndpointEntry {
  name: string;
  probe: { host: string; port: number; servername?: string; via?: 'direct' | 'ssh'; starttls?: 'smtp' | 'imap' | 'postgres' };
  files: { cert: string; key?: string; ca?: string };
  reload: ReloadSpec;
  expiry?: { warningDays?: number; criticalDays?: number };
  /** Commands around placement (rotation). */
  hooks?: { before?: string; after?: string };
  /** A check after the probe (rotation). */
  check?: { command?: string; where?: 'host' | 'local'; send?: string; expect?: string };
  /** Octal mode of the placed key, default "0600". */
  keyMode?: string;
}

/** How the server picks up new files. */
export type ReloadSpec =
  | { kind: 'signal'; signal?: string; pidFile?: string; process?: string }
  | { kind: 'command'; command: string }
  | { kind: 'restart'; command: string }
  | { kind: 'watch'; intervalSeconds?: number }
  | { kind: 'none' };

/** An invalid or unreadable inventory: the file, the JSON path of the first problem, and the problem. */
export class InventoryError extends Error {
  constructor(
    readonly file: string,
    readonly jsonPath: string,
    readonly problem: string,
  ) {
    super(`${file}: ${jsonPath}: ${problem}`);
  }
}

/** Reads and validates an inventory file; throws InventoryError on the first problem. */
export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new InventoryError(file, '$', 'is a directory');
    if (st.size > MAX_INVENTORY_BYTES) throw new InventoryError(file, '$', `larger than ${MAX_INVENTORY_BYTES / 1024 / 1024} MiB`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof InventoryError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InventoryError(file, '$', code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (e as Error).message));
  }
  return parseInventory(text, file);
}

/** Parses and validates inventory text; throws InventoryError on the first problem. */
export function parseInventory(text: string, file: string): Inventory {
  if (text.length > MAX_INVENTORY_BYTES) throw new InventoryError(file, '$', `larger than ${MAX_INVENTORY_BYTES / 1024 / 1024} MiB`);
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new InventoryError(file, '$', `not valid JSON (${jsonErrorWhere(text, (e as Error).message)})`);
  }
  const problem = validateAgainst(INVENTORY_SCHEMA, doc);
  if (problem) throw new InventoryError(file, problem.jsonPath, problem.message);
  const hosts = ((doc as { hosts: HostEntry[] }).hosts ?? []).map((h) => ({ ...h, endpoints: h.endpoints ?? [] }));
  // Names are how the tree and `certops status HOST/ENDPOINT` address entries, so they must be unique.
  const seen = new Set<string>();
  hosts.forEach((h, i) => {
    if (seen.has(h.name)) throw new InventoryError(file, childPath(childPath(childPath('$', 'hosts'), i), 'name'), `duplicate host name "${h.name}"`);
    seen.add(h.name);
    const eps = new Set<string>();
    h.endpoints.forEach((ep, j) => {
      const at = childPath(childPath(childPath(childPath('$', 'hosts'), i), 'endpoints'), j);
      if (eps.has(ep.name)) throw new InventoryError(file, childPath(at, 'name'), `duplicate endpoint name "${ep.name}" in host "${h.name}"`);
      eps.add(ep.name);
      const w = ep.expiry?.warningDays;
      const c = ep.expiry?.criticalDays;
      if (w !== undefined && c !== undefined && c > w) throw new InventoryError(file, childPath(childPath(at, 'expiry'), 'criticalDays'), 'must not be larger than warningDays');
      if (ep.reload.kind === 'signal' && ep.reload.pidFile !== undefined && ep.reload.process !== undefined) {
        throw new InventoryError(file, childPath(at, 'reload'), 'give pidFile or process, not both');
      }
    });
  });
  return { file, hosts };
}

/** "line L column C" for a JSON.parse message that carries a position. */
function jsonErrorWhere(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return message.split('\n')[0];
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `line ${line} column ${col}`;
}

/** The inventory for a command: the given file, else `certops.json` here or in the nearest parent directory (like git). */
export function findInventory(cwd: string, explicit?: string): string | undefined {
  if (explicit !== undefined) return resolve(cwd, explicit);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, INVENTORY_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** An unknown HOST or HOST/ENDPOINT selector. */
export class SelectorError extends Error {}

/** `HOST` or `HOST/ENDPOINT` selectors → matching pairs in inventory order (every pair when none is given). */
export function selectEndpoints(inv: Inventory, selectors: string[] = []): { host: HostEntry; endpoint: EndpointEntry }[] {
  const all = inv.hosts.flatMap((host) => host.endpoints.map((endpoint) => ({ host, endpoint })));
  if (selectors.length === 0) return all;
  const wanted = new Set<string>();
  for (const sel of selectors) {
    const slash = sel.indexOf('/');
    const hostName = slash < 0 ? sel : sel.slice(0, slash);
    const epName = slash < 0 ? undefined : sel.slice(slash + 1);
    const host = inv.hosts.find((h) => h.name === hostName);
    if (!host) throw new SelectorError(`no host "${hostName}" in ${inv.file}`);
    if (epName === undefined) for (const ep of host.endpoints) wanted.add(`${host.name}\0${ep.name}`);
    else {
      if (!host.endpoints.some((e) => e.name === epName)) throw new SelectorError(`host "${hostName}" has no endpoint "${epName}" in ${inv.file}`);
      wanted.add(`${host.name}\0${epName}`);
    }
  }
  return all.filter((p) => wanted.has(`${p.host.name}\0${p.endpoint.name}`));
}
