// Shared plumbing for the commands: exit codes, the one-line usage error, file reading and colour.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseArgs, ParseArgsConfig } from 'node:util';

/** The documented exit codes: 3 is a defect in certops itself, never the user's mistake. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3 } as const;

/** Bad usage or unreadable input: main prints the message on one line and exits 2. */
export class UsageError extends Error {}

// C0 and C1 controls, DEL, and the format characters that reorder or break
// lines on a terminal (bidi embeddings, overrides and isolates, marks, line
// and paragraph separators, BOM).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * The one escaping of text output: every string that comes from a certificate,
 * a key file, a server or a file name goes through it before a terminal sees it,
 * so a subject cannot clear the screen, retitle the window or reorder what is
 * printed. Controls become visible `\xHH`, format characters `\u{HHHH}`.
 */
export function untrusted(s: string): string {
  return s.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u{${code.toString(16).toUpperCase()}}`;
  });
}

/** A file that could not be read, for the per-file error lines. */
export interface BadFile {
  file: string;
  problem: string;
}

/**
 * Applies `load` to every path, in order. A path that fails with a usage error
 * (missing, a directory, not PEM or DER, ...) is reported on stderr in one line
 * and skipped, so one bad argument among many does not stop the rest from being
 * checked; the caller exits 2 at the end when `bad` is not empty.
 */
export function loadEach<T>(command: string, paths: string[], io: CliIo, load: (path: string) => T): { loaded: T[]; bad: BadFile[] } {
  const loaded: T[] = [];
  const bad: BadFile[] = [];
  for (const path of paths) {
    try {
      loaded.push(load(path));
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      // The message names the file for the stderr line; the JSON has the file in its own field.
      bad.push({ file: path, problem: e.message.startsWith(`${path}: `) ? e.message.slice(path.length + 2) : e.message });
      io.err(`certops ${command}: ${untrusted(e.message.split('\n')[0])}\n`);
    }
  }
  return { loaded, bad };
}

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

/**
 * util.parseArgs with its errors turned into one-line usage errors; `--json` is
 * accepted everywhere. A value that looks like a negative number (`--within -1`)
 * is taken as the option's value, not as an option, so the command can reject
 * it with a message about the value.
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: O) {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--([^=]+)$/.exec(args[i])?.[1];
    if (name !== undefined && options[name]?.type === 'string' && i + 1 < args.length && /^-\d/.test(args[i + 1])) {
      joined.push(`--${name}=${args[++i]}`);
    } else joined.push(args[i]);
  }
  try {
    const r = parseArgs({ args: joined, options: { json: { type: 'boolean' }, ...options }, allowPositionals: true, strict: true });
    return { values: r.values, positionals: r.positionals };
  } catch (e) {
    const message = (e as Error).message.split('. ')[0].replace(/\.$/, '');
    throw new UsageError(`${message} (see certops ${command} --help)`);
  }
}

/** The most a command reads from one input file (real CA bundles are well under 1 MiB). */
export const MAX_INPUT_BYTES = 64 << 20;

/**
 * Reads a file, at most MAX_INPUT_BYTES of it (pipes such as `<(cmd)` included),
 * turning every failure into "FILE: problem" (never a stack trace).
 */
export function readInput(path: string): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(`${path}: is a directory`);
    if (st.isFile() && st.size > MAX_INPUT_BYTES) throw new UsageError(`${path}: larger than ${MAX_INPUT_BYTES >> 20} MiB`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 16);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_INPUT_BYTES) throw new UsageError(`${path}: larger than ${MAX_INPUT_BYTES >> 20} MiB`);
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${path}: ${describeFsError(e)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
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
  if (/^-\d+$/.test(value)) throw new UsageError(`--${option}: must not be negative, got ${value}`);
  if (!/^\d+$/.test(value)) throw new UsageError(`--${option}: expected a whole number, got "${untrusted(value)}"`);
  return Number(value);
}

/** Parses `--at`: ISO 8601, or Unix seconds as `@1700000000`. */
export function parseTime(value: string): Date {
  const d = /^@\d+$/.test(value) ? new Date(Number(value.slice(1)) * 1000) : isoTime(value);
  if (d === undefined || Number.isNaN(d.getTime())) throw new UsageError(`--at: "${untrusted(value)}" is not an ISO 8601 time or @unix-seconds`);
  return d;
}

// Date's own parser takes "5" for May 2001 and "-1" for 2001; only ISO 8601 forms are let through to it.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** An ISO 8601 date or date-time (as `--at` and the batch's `"at"` take it), or undefined. */
export function isoTime(value: string): Date | undefined {
  if (!ISO_8601.test(value)) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

type Style = 'red' | 'green' | 'yellow' | 'bold' | 'dim';
const CODES: Record<Style, [number, number]> = { red: [31, 39], green: [32, 39], yellow: [33, 39], bold: [1, 22], dim: [2, 22] };

/** A colouring function that is the identity when colour is off. */
export function painter(color: boolean): (style: Style, s: string) => string {
  return (style, s) => (color ? `\x1b[${CODES[style][0]}m${s}\x1b[${CODES[style][1]}m` : s);
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls but leaves DEL, C1
 * controls and bidi characters raw; as \uXXXX they are the same JSON value and
 * harmless on a screen.
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Prints one JSON document on its own line. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(`${safeJson(value, 2)}\n`);
}
