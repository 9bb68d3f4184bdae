/**
 * Finds PEM blocks in text and reports each with its exact range, so hovers
 * and diagnostics land on the block they are about. Tolerant by design: text
 * around blocks (OpenSSL `subject=` lines, PKCS#12 `Bag Attributes`, comments),
 * CRLF or CR line ends, a BOM, indentation, any base64 line length and
 * RFC 1421 headers are all accepted; problems are recorded, never thrown.
 */

/** A zero-based line/character position, the same shape LSP uses. */
export interface Position {
  line: number;
  character: number;
}

/** A range from `start` to `end` (exclusive), the same shape LSP uses. */
export interface Range {
  start: Position;
  end: Position;
}

/** One `-----BEGIN X-----` … `-----END X-----` block. */
export interface PemBlock {
  /** The label after BEGIN, e.g. `CERTIFICATE`. */
  label: string;
  /** From the `-----BEGIN` to the end of the END line (or of the last body line when END is missing). */
  range: Range;
  /** Character offsets of `range` in the scanned text. */
  offsets: { start: number; end: number };
  /**
   * First line of the annotation lines OpenSSL writes right above a block
   * (`Bag Attributes`, `subject=`, `issuer=`); equals `range.start.line` when there are none.
   * Removing a block removes these too.
   */
  attachedStartLine: number;
  /** RFC 1421 headers such as `Proc-Type`, in order. */
  headers: [string, string][];
  /** The base64 body with whitespace removed. */
  body: string;
  /** The decoded body; empty when the base64 is bad. */
  der: Buffer;
  /** Problems found while reading the block; empty when it is well-formed. */
  problems: string[];
}

const BEGIN_LINE = /^(\s*)-----BEGIN ([^\r\n]*?)-----\s*$/;
const END_LINE = /^\s*-----END ([^\r\n]*?)-----\s*$/;
const HEADER = /^\s*([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/;
const BASE64_LINE = /^[A-Za-z0-9+/=]*$/;
const ANNOTATION = /^\s*(Bag Attributes|Key Attributes|<No Attributes>|subject=|issuer=|localKeyID:|friendlyName:|[0-9.]+:|X509v3 |Microsoft |[A-Za-z ]+: <)/;
const LINE_BREAK = /[\r\n]/g;
const EMPTY = Buffer.alloc(0);
// Base64 characters (without '='), for a validity check faster than a regular expression over a whole body.
const B64 = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') B64[c.charCodeAt(0)] = 1;

/** Whether `body` is base64 characters followed by at most two '='. */
function isBase64Body(body: string): boolean {
  let n = body.length;
  if (n > 0 && body.charCodeAt(n - 1) === 61) n--;
  if (n > 0 && body.charCodeAt(n - 1) === 61) n--;
  for (let i = 0; i < n; i++) {
    const c = body.charCodeAt(i);
    if (c >= 128 || B64[c] === 0) return false;
  }
  return true;
}

interface Line {
  text: string;
  offset: number;
}

/** Splits text into lines with their offsets, treating CRLF, CR and LF as line ends like LSP does. */
export function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  const re = /\r\n|\r|\n/g;
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    lines.push({ text: text.slice(start, m.index), offset: start });
    start = m.index + m[0].length;
  }
  lines.push({ text: text.slice(start), offset: start });
  return lines;
}

/**
 * Walks the text line by line without materialising every line: a
 * 10,000-certificate bundle has 300,000 body lines, and only BEGIN/END lines
 * and the lines around them need to become strings.
 */
class Cursor {
  line = 0;
  /** Offset of the start of `line`. */
  offset = 0;
  /**
   * Without a CR anywhere, a native indexOf('\n') finds line ends; a
   * character loop in JavaScript was most of the scanning time.
   */
  private readonly hasCR: boolean;
  constructor(
    private readonly text: string,
    hasCR?: boolean,
  ) {
    this.hasCR = hasCR ?? text.indexOf('\r') >= 0;
  }

  /** End of the current line (before its line break). */
  lineEnd(from = this.offset): number {
    const t = this.text;
    if (!this.hasCR) {
      const lf = t.indexOf('\n', from);
      return lf < 0 ? t.length : lf;
    }
    LINE_BREAK.lastIndex = from;
    return LINE_BREAK.exec(t)?.index ?? t.length;
  }

  /** Moves to the start of the next line; false at the end of the text. */
  next(): boolean {
    return this.step(this.lineEnd());
  }

  /** Moves past the line break at `e`, the end of the current line. */
  private step(e: number): boolean {
    if (e >= this.text.length) return false;
    this.offset = e + (this.text.charCodeAt(e) === 13 && this.text.charCodeAt(e + 1) === 10 ? 2 : 1);
    this.line++;
    return true;
  }

  /** Moves forward to the line containing `offset`. */
  advanceTo(offset: number): void {
    for (;;) {
      const e = this.lineEnd();
      if (offset <= e || !this.step(e)) return;
    }
  }

  /** A cursor over the same text at the given line. */
  at(line: number, offset: number): Cursor {
    const c = new Cursor(this.text, this.hasCR);
    c.line = line;
    c.offset = offset;
    return c;
  }

  current(): string {
    return this.text.slice(this.offset, this.lineEnd());
  }
}

/** Scans `text` for PEM blocks; never throws. A leading BOM is ignored. */
export function scanPem(text: string): PemBlock[] {
  return [...scanPemSteps(text)];
}

/** `scanPem` a block at a time, for a caller that spreads a large text over several turns of its event loop. */
export function* scanPemSteps(text: string): Generator<PemBlock, void, void> {
  if (text.charCodeAt(0) === 0xfeff) text = ' ' + text.slice(1);
  const cur = new Cursor(text);
  let prevEndLine = -1;
  let nextEnd = -2;
  for (let search = 0; ; ) {
    const at = text.indexOf('-----BEGIN', search);
    if (at < 0) break;
    cur.advanceTo(at);
    const beginText = cur.current();
    const begin = BEGIN_LINE.exec(beginText);
    if (!begin) {
      // BEGIN_LINE spans the whole line, so no other marker on it can match; retrying each is quadratic on a long line.
      search = Math.max(cur.lineEnd(), at + 10);
      continue;
    }
    const label = begin[2].trim();
    const startLine = cur.line;
    const startOffset = cur.offset;
    const startChar = begin[1].length;
    const headers: [string, string][] = [];
    const problems: string[] = [];
    const bodyStart = cur.next() ? cur.offset : text.length;
    let bodyEnd: number;
    let endLine = -1;
    let lastLine: number;
    let lastLineOffset: number;
    // The END, unless another BEGIN comes first (then END is missing).
    // Remembered between blocks (bodyStart only grows): thousands of BEGINs without END would each rescan the rest of the text.
    if (nextEnd === -2 || (nextEnd >= 0 && nextEnd < bodyStart)) nextEnd = text.indexOf('-----END', bodyStart);
    const endAt = nextEnd;
    const nextBegin = text.indexOf('-----BEGIN', bodyStart);
    if (endAt >= 0 && (nextBegin < 0 || endAt < nextBegin)) {
      const lineStart = lastLineStart(text, endAt);
      const beforeMarker = text.slice(lineStart, endAt);
      cur.advanceTo(endAt);
      const end = /^\s*$/.test(beforeMarker) ? END_LINE.exec(cur.current()) : null;
      if (end) {
        if (end[1].trim() !== label) problems.push(`END label "${end[1].trim()}" does not match BEGIN label "${label}"`);
        endLine = cur.line;
        bodyEnd = cur.offset;
      } else {
        bodyEnd = lineStart;
      }
      lastLine = cur.line;
      lastLineOffset = cur.offset;
    } else {
      bodyEnd = nextBegin >= 0 ? lastLineStart(text, nextBegin) : text.length;
      cur.advanceTo(Math.max(bodyStart, bodyEnd - 1));
      lastLine = cur.line;
      lastLineOffset = cur.offset;
    }
    if (endLine < 0) {
      problems.push(`missing "-----END ${label}-----"`);
      // Without an END, trailing blank lines do not belong to the block.
      const trimmed = text.slice(startOffset, bodyEnd).trimEnd();
      const tail = cur.at(startLine, startOffset);
      tail.advanceTo(startOffset + trimmed.length);
      lastLine = tail.line;
      lastLineOffset = tail.offset;
    }
    let raw = bodyStart < bodyEnd ? text.slice(bodyStart, bodyEnd) : '';
    // RFC 1421 headers sit before the base64 and contain ':', which base64 never does.
    if (raw.indexOf(':') >= 0) {
      const lines = raw.split(/\r\n|\r|\n/);
      let k = 0;
      for (; k < lines.length; k++) {
        const h = HEADER.exec(lines[k]);
        if (!h) break;
        headers.push([h[1], h[2].trim()]);
      }
      raw = lines.slice(k).join('\n');
    }
    const { body, der } = headers.length === 0 ? decodeBody(raw, startLine, problems) : decodeBodyUncached(raw, startLine + headers.length, problems);
    const endText = text.slice(lastLineOffset, cur.lineEnd(lastLineOffset));
    const endChar = endText.trimEnd().length;
    let attachedStartLine = startLine;
    if (startLine > 0 && startLine - 1 > prevEndLine) {
      // Annotation lines directly above; walk back from the BEGIN line.
      let o = startOffset;
      for (let l = startLine - 1; l > prevEndLine; l--) {
        const lineEnd = o - (o >= 2 && text.charCodeAt(o - 2) === 13 && text.charCodeAt(o - 1) === 10 ? 2 : 1);
        const ls = lastLineStart(text, lineEnd);
        if (!ANNOTATION.test(text.slice(ls, lineEnd))) break;
        attachedStartLine = l;
        o = ls;
      }
    }
    prevEndLine = lastLine;
    search = Math.max(lastLineOffset + endChar, at + 10);
    if (cur.line < lastLine) cur.advanceTo(lastLineOffset);
    yield {
      label,
      range: { start: { line: startLine, character: startChar }, end: { line: lastLine, character: endChar } },
      offsets: { start: startOffset + startChar, end: lastLineOffset + endChar },
      attachedStartLine,
      headers,
      body,
      der,
      problems,
    };
  }
}

// An edit leaves all blocks but one as they were; their bodies are taken
// from here instead of being stripped, checked and decoded again. Only
// well-formed bodies are kept (their problems would name line numbers).
const BODY_CACHE_LIMIT = 20_000;
const bodies = new Map<string, { body: string; der: Buffer }>();

/** Statistics for tests and benchmarks: bodies served from the cache and bodies decoded. */
export const bodyStats = { hits: 0, misses: 0 };

function decodeBody(raw: string, startLine: number, problems: string[]): { body: string; der: Buffer } {
  const hit = bodies.get(raw);
  if (hit) {
    bodyStats.hits++;
    return hit;
  }
  bodyStats.misses++;
  const before = problems.length;
  const out = decodeBodyUncached(raw, startLine, problems);
  if (problems.length === before && out.der.length > 0) {
    if (bodies.size >= BODY_CACHE_LIMIT) bodies.delete(bodies.keys().next().value as string);
    // A slice would keep the whole document text alive; the key must be a copy.
    bodies.set(flatCopy(raw), out);
  }
  return out;
}

/** A string with the same content that does not share storage with the string it was sliced from. */
function flatCopy(s: string): string {
  if (s.length < 16) return s;
  const copy = Buffer.from(s, 'latin1').toString('latin1');
  // Characters past U+00FF (exotic whitespace) do not survive latin1; UTF-16 keeps every code unit.
  return copy === s ? copy : Buffer.from(s, 'utf16le').toString('utf16le');
}

/** The base64 of `raw` (the block's lines after any headers, which start at `headersEnd`) and its bytes. */
function decodeBodyUncached(raw: string, headersEnd: number, problems: string[]): { body: string; der: Buffer } {
  const body = raw.replace(/\s+/g, '');
  let valid = isBase64Body(body);
  if (!valid) {
    const rawLines = raw.split(/\r\n|\r|\n/);
    const bad = rawLines.findIndex((l) => !BASE64_LINE.test(l.replace(/\s+/g, '')));
    if (bad >= 0) problems.push(`line ${headersEnd + 1 + bad + 1} is not base64`);
    else problems.push('the base64 body is truncated or malformed');
  } else if (body.length === 0) {
    problems.push('the block has no base64 body');
    valid = false;
  } else if (body.length % 4 === 1) {
    problems.push('the base64 body is truncated or malformed');
  }
  return { body, der: valid ? Buffer.from(body, 'base64') : EMPTY };
}

/** Offset of the start of the line containing `offset`. */
function lastLineStart(text: string, offset: number): number {
  for (let i = offset - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i + 1;
  }
  return 0;
}
