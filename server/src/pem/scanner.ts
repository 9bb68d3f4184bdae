/**
 * Finds PEM blocks in text and reports each with its exact line range, so
 * hovers and diagnostics land on the block they are about.
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
  /** From the start of the BEGIN line to the end of the END line (or of the text when END is missing). */
  range: Range;
  /** RFC 1421 headers such as `Proc-Type`, in order. */
  headers: [string, string][];
  /** The decoded body; empty when the base64 is bad. */
  der: Uint8Array;
  /** Problems found while reading the block; empty when it is well-formed. */
  problems: string[];
}

const BEGIN = /^\s*-----BEGIN ([A-Z0-9 #._-]*)-----\s*$/;
const END = /^\s*-----END ([A-Z0-9 #._-]*)-----\s*$/;
const HEADER = /^\s*([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/;
const BASE64 = /^[A-Za-z0-9+/=]*$/;

/** Scans `text` for PEM blocks; never throws. */
export function scanPem(text: string): PemBlock[] {
  const lines = text.split(/\r\n|\r|\n/);
  const blocks: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const begin = BEGIN.exec(stripBom(lines[i], i));
    if (!begin) continue;
    const label = begin[1];
    const startLine = i;
    const startChar = lines[i].indexOf('-----BEGIN');
    const headers: [string, string][] = [];
    const problems: string[] = [];
    let body = '';
    let endLine = -1;
    let inHeaders = true;
    for (i = i + 1; i < lines.length; i++) {
      const line = lines[i];
      const end = END.exec(line);
      if (end) {
        if (end[1] !== label) problems.push(`END label "${end[1]}" does not match BEGIN label "${label}"`);
        endLine = i;
        break;
      }
      if (BEGIN.test(line)) {
        i--;
        break;
      }
      const header = inHeaders ? HEADER.exec(line) : null;
      if (header) {
        headers.push([header[1], header[2].trim()]);
        continue;
      }
      inHeaders = false;
      const chunk = line.trim();
      if (!BASE64.test(chunk)) problems.push(`line ${i + 1} is not base64`);
      body += chunk;
    }
    if (endLine < 0) problems.push(`missing "-----END ${label}-----"`);
    const lastLine = endLine >= 0 ? endLine : Math.min(i, lines.length - 1);
    let der: Uint8Array = new Uint8Array(0);
    if (problems.length === 0) {
      if (body.length === 0 || body.length % 4 !== 0 || /=[^=]/.test(body)) problems.push('the base64 body is truncated or malformed');
      else der = new Uint8Array(Buffer.from(body, 'base64'));
    }
    blocks.push({
      label,
      range: { start: { line: startLine, character: Math.max(0, startChar) }, end: { line: lastLine, character: lines[lastLine].length } },
      headers,
      der,
      problems,
    });
  }
  return blocks;
}

function stripBom(line: string, index: number): string {
  return index === 0 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
}
