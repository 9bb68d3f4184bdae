// Shared plumbing for the commands: exit codes, the one-line usage error, file reading and colour.
import { readFileSync } from 'node:fs';
import { parseArgs, ParseArgsConfig } from 'node:util';

/** The documented exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad usage or unreadable input: main prints the message on one line and exits 2. */
export class UsageError extends Error {}

/** What a command needs from the outside world; tests pass their own. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether to emit ANSI colour in text output. */
  color: boolean;
  env: NodeJS.ProcessEnv;
  /** The clock; tests pin it. */
  now: () => Date;
  /** Reads all of standard input (for `-` arguments). */
  readStdin: () => Promise<Buffer>;
}

/** A parsed command line: named values plus positionals. */
export interface Parsed<T> {
  values: T;
  positionals: string[];
}

/** util.parseArgs with its errors turned into one-line usage errors; `--json` is accepted everywhere. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: O) {
  try {
    const r = parseArgs({ args, options: { json: { type: 'boolean' }, ...options }, allowPositionals: true, strict: true });
    return { values: r.values, positionals: r.positionals };
  } catch (e) {
    const message = (e as Error).message.split('. ')[0].replace(/\.$/, '');
    throw new UsageError(`${message} (see certops ${command} --help)`);
  }
}

/** Reads a file, turning every failure into "FILE: problem" (never a stack trace). */
export function readInput(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`${path}: ${describeFsError(e)}`);
  }
}

/** Node's fs messages repeat the path and the syscall; operators need only the reason. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return code ?? (e as Error).message;
  }
}

/** Parses a whole non-negative number for an option, or throws a usage error naming it. */
export function parseCount(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${option}: expected a whole number, got "${value}"`);
  return Number(value);
}

/** Parses `--at`: ISO 8601, or Unix seconds as `@1700000000`. */
export function parseTime(value: string): Date {
  const d = /^@\d+$/.test(value) ? new Date(Number(value.slice(1)) * 1000) : new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--at: "${value}" is not an ISO 8601 time or @unix-seconds`);
  return d;
}

type Style = 'red' | 'green' | 'yellow' | 'bold' | 'dim';
const CODES: Record<Style, [number, number]> = { red: [31, 39], green: [32, 39], yellow: [33, 39], bold: [1, 22], dim: [2, 22] };

/** A colouring function that is the identity when colour is off. */
export function painter(color: boolean): (style: Style, s: string) => string {
  return (style, s) => (color ? `\x1b[${CODES[style][0]}m${s}\x1b[${CODES[style][1]}m` : s);
}

/** Prints one JSON document on its own line. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}
