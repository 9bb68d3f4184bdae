/**
 * The shapes rotation uses from the SSH and inventory modules, in one place.
 * They mirror those modules' published contract structurally, so rotation is
 * driven by the real `RemoteHost` and by in-process fakes in tests alike.
 */
import type { Duplex } from 'node:stream';

/** What `stat` says about a remote file. */
export interface RemoteStat {
  path: string;
  /** Permission bits, e.g. 0o600. */
  mode: number;
  uid: number;
  gid: number;
  owner?: string;
  group?: string;
  size: number;
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
}

/** The outcome of one remote command. */
export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
}

/** One live connection to one inventory host. */
export interface RemoteHost {
  readonly name: string;
  exec(argv: string[], opts?: { stdin?: Buffer; timeoutMs?: number; signal?: AbortSignal; sudo?: boolean }): Promise<ExecResult>;
  execShell(command: string, opts?: { timeoutMs?: number; signal?: AbortSignal; sudo?: boolean }): Promise<ExecResult>;
  readFile(path: string, opts?: { maxBytes?: number }): Promise<Buffer>;
  stat(path: string): Promise<RemoteStat | undefined>;
  forwardOut(host: string, port: number): Promise<Duplex>;
  close(): void;
}

/** How an endpoint picks up new files. */
export type ReloadSpec =
  | { kind: 'signal'; signal?: string; pidFile?: string; process?: string }
  | { kind: 'command'; command: string }
  | { kind: 'restart'; command: string }
  | { kind: 'watch'; intervalSeconds?: number }
  | { kind: 'none' };

/** One TLS endpoint of an inventory host. */
export interface EndpointEntry {
  name: string;
  probe: { host: string; port: number; servername?: string; via?: 'direct' | 'ssh'; starttls?: 'smtp' | 'imap' | 'postgres' };
  files: { cert: string; key?: string; ca?: string };
  reload: ReloadSpec;
  expiry?: { warningDays?: number; criticalDays?: number };
  hooks?: { before?: string; after?: string };
  check?: { command?: string; where?: 'host' | 'local'; send?: string; expect?: string };
  /** Octal string, default "0600". */
  keyMode?: string;
}

/** An inventory host (only its name matters to rotation; the connection comes as a RemoteHost). */
export interface HostEntry {
  name: string;
  endpoints: EndpointEntry[];
}

/** POSIX sh single-quote quoting: safe for any byte string except NUL. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('a NUL byte cannot be passed to a shell');
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
