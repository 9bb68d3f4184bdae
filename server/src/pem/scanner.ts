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

const BEGIN = /^(\s*)-----BEGIN ([^\r\n]*?)-----\s*$/;
const END = /^\s*-----END ([^\r\n]*?)-----\s*$/;
const HEADER = /^\s*([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/;
const BASE64_LINE = /^[A-Za-z0-9+/=]*$/;
const ANNOTATION = /^\s*(Bag Attributes|Key Attributes|<No Attributes>|subject=|issuer=|localKeyID:|friendlyName:|[0-9.]+:|X509v3 |Microsoft |[A-Za-z ]+: <)/;
const EMPTY = Buffer.alloc(0);

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

/** Scans `text` for PEM blocks; never throws. A leading BOM is ignored. */
export function scanPem(text: string): PemBlock[] {
  const lines = splitLines(text);
  if (lines[0].text.charCodeAt(0) === 0xfeff) {
    lines[0] = { text: ' ' + lines[0].text.slice(1), offset: lines[0].offset };
  }
  const blocks: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i].text;
    // Cheap test first: a 10,000-certificate bundle has 300,000 body lines.
    if (first.indexOf('-----BEGIN') < 0) continue;
    const begin = BEGIN.exec(first);
    if (!begin) continue;
    const label = begin[2].trim();
    const startLine = i;
    const startChar = begin[1].length;
    const headers: [string, string][] = [];
    const problems: string[] = [];
    const chunks: string[] = [];
    let endLine = -1;
    let inHeaders = true;
    let badLine = -1;
    for (i = i + 1; i < lines.length; i++) {
      const line = lines[i].text;
      if (line.indexOf('-----') >= 0) {
        const end = END.exec(line);
        if (end) {
          if (end[1].trim() !== label) problems.push(`END label "${end[1].trim()}" does not match BEGIN label "${label}"`);
          endLine = i;
          break;
        }
        if (BEGIN.test(line)) {
          i--;
          break;
        }
      }
      if (inHeaders && line.indexOf(':') >= 0) {
        const header = HEADER.exec(line);
        if (header) {
          headers.push([header[1], header[2].trim()]);
          continue;
        }
      }
      inHeaders = false;
      const chunk = line.replace(/\s+/g, '');
      if (badLine < 0 && !BASE64_LINE.test(chunk)) badLine = i;
      chunks.push(chunk);
    }
    if (endLine < 0) {
      problems.push(`missing "-----END ${label}-----"`);
      i = Math.min(i, lines.length - 1);
    }
    let lastLine = endLine >= 0 ? endLine : i;
    // Without an END, trailing blank lines do not belong to the block.
    while (endLine < 0 && lastLine > startLine && lines[lastLine].text.trim() === '') lastLine--;
    const body = chunks.join('');
    if (badLine >= 0) problems.push(`line ${badLine + 1} is not base64`);
    else if (body.length === 0) problems.push('the block has no base64 body');
    else if (/=[^=]/.test(body) || body.length % 4 === 1) problems.push('the base64 body is truncated or malformed');
    const der = badLine < 0 && body.length > 0 ? Buffer.from(body, 'base64') : EMPTY;
    const endText = lines[lastLine].text;
    const endChar = endText.length - (endText.length - endText.trimEnd().length);
    let attachedStartLine = startLine;
    while (attachedStartLine > 0 && ANNOTATION.test(lines[attachedStartLine - 1].text)) attachedStartLine--;
    blocks.push({
      label,
      range: { start: { line: startLine, character: startChar }, end: { line: lastLine, character: endChar } },
      offsets: { start: lines[startLine].offset + startChar, end: lines[lastLine].offset + endChar },
      attachedStartLine,
      headers,
      body,
      der,
      problems,
    });
  }
  return blocks;
}
