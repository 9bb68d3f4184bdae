// The SSH layer's shared types, in their own module so pool.ts and index.ts do not import each other.
import type { Duplex } from 'node:stream';

/** What the engine asks the user; the extension answers with VS Code UI, the CLI with a TTY prompt or a refusal. */
export interface Prompts {
  /** Unknown host key: 'once' = accept for this connection, 'save' = accept and append to known_hosts, 'cancel'. */
  unknownHostKey(info: { host: string; port: number; keyType: string; sha256: string }): Promise<'once' | 'save' | 'cancel'>;
  /** The passphrase of an encrypted identity file; undefined skips the file. */
  passphrase(info: { identityFile: string; host: string }): Promise<string | undefined>;
  /** A password (or keyboard-interactive answer); undefined gives up on password authentication. */
  password(info: { user: string; host: string }): Promise<string | undefined>;
}

/** A remote file's metadata. */
export interface RemoteStat {
  path: string;
  /** Permission bits, e.g. 0o600. */
  mode: number;
  uid: number;
  gid: number;
  /** Owner and group names, when known (through sudo's `stat`; SFTP reports only ids). */
  owner?: string;
  group?: string;
  size: number;
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
}

/** The outcome of a remote command. */
export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
}

/** One live connection to one inventory host (with sudo applied when the host says so). */
export interface RemoteHost {
  readonly name: string;
  /** Whether file operations and commands go through `sudo -n` by default. */
  readonly sudo: boolean;
  /** argv is quoted with shellQuote(); never a shell string from untrusted input. */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a user-configured shell command line (reload command, hooks) as written in the inventory. */
  execShell(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Reads a file (SFTP, or `sudo -n cat` with sudo); rejects with `code` ENOENT/EACCES/EFBIG or an SshError. */
  readFile(path: string, opts?: { maxBytes?: number; signal?: AbortSignal }): Promise<Buffer>;
  /** undefined when the file does not exist. */
  stat(path: string): Promise<RemoteStat | undefined>;
  /** A TCP stream opened from the host's side (ssh direct-tcpip), for probes via ssh. */
  forwardOut(host: string, port: number): Promise<Duplex>;
  /** Closes this host's shared connection (the pool reconnects on the next use). */
  close(): void;
}

/** Options of exec and execShell. */
export interface ExecOptions {
  stdin?: Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Overrides the host's `sudo` setting for this command. */
  sudo?: boolean;
  /** Output beyond this many bytes (stdout + stderr) fails the command; default 16 MiB. */
  maxOutputBytes?: number;
}

/** Why an SSH operation failed. */
export type SshErrorKind =
  | 'unreachable'
  | 'auth'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'sudo-needs-password'
  | 'timeout'
  | 'cancelled'
  | 'command';

/** An SSH failure with a one-line message meant for the user. */
export class SshError extends Error {
  constructor(
    message: string,
    readonly kind: SshErrorKind,
  ) {
    super(message);
  }
}
