// `certops verify --batch`: many chains in one process, one JSON object per line each way.
import { KU_BITS, PeerName, validatePath } from '../validation';
import { CliIo, EXIT, isoTime, safeJson } from './io';

/** `--purpose` / `"purpose"`: the extended key usage each name requires. */
export const PURPOSES: Record<string, string[]> = { server: ['serverAuth'], client: ['clientAuth'], any: [] };

/** The keyUsage names `--key-usage` and `"keyUsage"` accept. */
export const KEY_USAGE_NAMES: readonly string[] = KU_BITS;

/** One output line. */
export interface BatchResult {
  id: unknown;
  valid: boolean;
  chain: string[];
  errors: { code: string; message: string }[];
}

/** The error code of an input line that could not be used; validation codes never collide with it. */
export const BAD_INPUT = 'bad-input';

class BadLine extends Error {}

/**
 * Validates every non-blank line of `input` and prints one result line per input line, in order.
 * Exit 0 when every chain is valid, 1 when any is invalid or any line was unusable.
 */
export function runBatch(input: string, io: CliIo): number {
  let allValid = true;
  input.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const result = validateLine(line, index + 1, io.now());
    allValid &&= result.valid;
    io.out(`${safeJson(result)}\n`);
  });
  return allValid ? EXIT.ok : EXIT.failed;
}

/** Validates one input line; never throws, a bad line becomes a result with a `bad-input` error. */
export function validateLine(line: string, lineNumber: number, now: Date): BatchResult {
  let id: unknown = null;
  try {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      throw new BadLine(`not JSON (${(e as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadLine('not a JSON object');
    const o = parsed as Record<string, unknown>;
    id = o.id ?? null;
    if (typeof o.leaf !== 'string') throw new BadLine('"leaf" must be a PEM string');
    const result = validatePath({
      leaf: o.leaf,
      roots: stringList(o, 'roots'),
      intermediates: stringList(o, 'intermediates'),
      peerName: peerName(o.peerName),
      at: time(o.at, now),
      extendedKeyUsage: [...purpose(o.purpose), ...stringList(o, 'extendedKeyUsage')],
      keyUsage: keyUsage(stringList(o, 'keyUsage')),
      maxDepth: depth(o.maxDepth),
      crls: stringList(o, 'crls'),
    });
    return { id, ...result };
  } catch (e) {
    // A validator bug on hostile input must not end the batch either: report it on this line.
    const message = e instanceof BadLine ? e.message : `internal error: ${(e as Error).message}`;
    return { id, valid: false, chain: [], errors: [{ code: BAD_INPUT, message: `line ${lineNumber}: ${message}` }] };
  }
}

function stringList(o: Record<string, unknown>, field: string): string[] {
  const v = o[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new BadLine(`"${field}" must be an array of strings`);
  return v as string[];
}

function purpose(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'string' || !Object.hasOwn(PURPOSES, v)) throw new BadLine('"purpose" must be null, "server", "client" or "any"');
  return PURPOSES[v];
}

function keyUsage(names: string[]): string[] {
  const unknown = names.find((n) => !KEY_USAGE_NAMES.includes(n));
  if (unknown !== undefined) throw new BadLine(`"keyUsage": unknown name ${JSON.stringify(unknown)} (expected ${KEY_USAGE_NAMES.join(', ')})`);
  return names;
}

function peerName(v: unknown): PeerName | null {
  if (v === undefined || v === null) return null;
  const p = v as { kind?: unknown; value?: unknown };
  if (typeof v !== 'object' || (p.kind !== 'DNS' && p.kind !== 'IP' && p.kind !== 'RFC822') || typeof p.value !== 'string') {
    throw new BadLine('"peerName" must be null or {kind: DNS|IP|RFC822, value: string}');
  }
  return { kind: p.kind, value: p.value };
}

function time(v: unknown, now: Date): Date {
  if (v === undefined || v === null) return now;
  const d = typeof v === 'string' ? isoTime(v) ?? new Date(NaN) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new BadLine('"at" must be null or an ISO 8601 time');
  return d;
}

function depth(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new BadLine('"maxDepth" must be null or a non-negative integer');
  return v;
}
