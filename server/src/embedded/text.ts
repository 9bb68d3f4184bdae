/**
 * Text decoded out of a document (an escaped string, a base64 value) that
 * remembers, for every decoded character, the document offset it came from,
 * so blocks found in it can be reported where the user sees them.
 */
import type { Position } from '../pem/scanner';

/** Decoded text with the document offset of each character. */
export interface MappedText {
  text: string;
  /** `map[i]` is the document offset `text[i]` came from; `map[text.length]` is the end of the source span. */
  map: Int32Array;
}

/** Offset → position over a document, with LSP's line ends (CRLF, CR, LF). */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo] };
  }
}

/** The offset of the line break that ends the line holding `at`, or the end of `doc`. */
export function lineEnd(doc: string, at: number): number {
  for (let i = at; i < doc.length; i++) {
    const c = doc.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return doc.length;
}

/** The source span `[start, end)` of `doc` taken as is. */
export function verbatim(doc: string, start: number, end: number): MappedText {
  const map = new Int32Array(end - start + 1);
  for (let i = 0; i <= end - start; i++) map[i] = start + i;
  return { text: doc.slice(start, end), map };
}

/** Collects decoded characters; decoding never makes text longer than its source, so `capacity` is the source length. */
export class Builder {
  private readonly parts: string[] = [];
  private readonly map: Int32Array;
  private n = 0;

  constructor(capacity: number) {
    // Slack for an escape cut off by the end of its span, which may read a character past it.
    this.map = new Int32Array(capacity + 16);
  }

  push(s: string, from: number): void {
    for (let i = 0; i < s.length; i++) this.map[this.n++] = from;
    this.parts.push(s);
  }

  /** Appends `doc[from, to)` as written, each character mapped to itself. */
  pushRun(doc: string, from: number, to: number): void {
    for (let i = from; i < to; i++) this.map[this.n++] = i;
    this.parts.push(doc.slice(from, to));
  }

  finish(end: number): MappedText {
    this.map[this.n] = end;
    return { text: this.parts.join(''), map: this.map.subarray(0, this.n + 1) };
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', '\\': '\\', '/': '/', "'": "'", '0': '\0', a: '\x07', v: '\v', e: '\x1b', ' ': ' ' };

/**
 * Decodes a backslash escape at `doc[i]` (the backslash). Returns the decoded
 * text and the source length consumed; an unknown escape stands for itself.
 */
export function unescapeAt(doc: string, i: number, allowed: string): { text: string; length: number } {
  const c = doc[i + 1];
  if (c === undefined) return { text: '\\', length: 1 };
  if (allowed.includes(c)) {
    const hexLen = c === 'u' ? 4 : c === 'x' ? 2 : c === 'U' ? 8 : 0;
    if (hexLen) {
      const hex = doc.slice(i + 2, i + 2 + hexLen);
      if (hex.length === hexLen && /^[0-9a-fA-F]+$/.test(hex)) {
        const cp = parseInt(hex, 16);
        // A lone surrogate from \uD800 is kept as the code unit; JSON pairs them across two escapes.
        const text = cp <= 0xffff ? String.fromCharCode(cp) : cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
        return { text, length: 2 + hexLen };
      }
      return { text: c, length: 2 };
    }
    if (c in SIMPLE_ESCAPES) return { text: SIMPLE_ESCAPES[c], length: 2 };
  }
  return { text: '\\' + c, length: 2 };
}

const B64_PEM_PREFIX = 'LS0tLS1CRUdJT'; // "-----BEGIN" in base64: the first 13 characters are fixed.

/** Whether `s` may be base64 of a PEM text (cheap test before decoding). */
export function maybeBase64Pem(s: string): boolean {
  return s.trimStart().startsWith(B64_PEM_PREFIX);
}

/**
 * Decodes `value` as base64 when it holds PEM text (it decodes to text that
 * starts with `-----BEGIN`). Each decoded byte maps to the base64 character
 * that carries its first bits, so blocks land on their part of the value.
 */
export function decodeBase64Pem(value: MappedText): MappedText | undefined {
  const src = value.text;
  if (!maybeBase64Pem(src)) return undefined;
  const compact = src.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  // Latin-1 keeps one character per byte, so offsets in the decoded text are byte offsets.
  const decoded = Buffer.from(compact, 'base64').toString('latin1');
  if (!decoded.startsWith('-----BEGIN')) return undefined;
  let cmap: Int32Array = value.map;
  if (compact.length !== src.length) {
    cmap = new Int32Array(compact.length + 1);
    let k = 0;
    for (let i = 0; i < src.length; i++) if (!/\s/.test(src[i])) cmap[k++] = value.map[i];
    cmap[k] = value.map[src.length];
  }
  const end = value.map[src.length];
  const map = new Int32Array(decoded.length + 1);
  for (let i = 0; i < decoded.length; i++) map[i] = cmap[Math.min(Math.floor((i * 4) / 3), compact.length)];
  map[decoded.length] = end;
  return { text: decoded, map };
}
