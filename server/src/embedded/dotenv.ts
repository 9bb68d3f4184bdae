/**
 * Values of a dotenv file (`KEY=value`, `export KEY="…"`), decoded with their
 * positions. Double-quoted values may span lines and use `\n` escapes, as the
 * dotenv loaders read them; single- and backtick-quoted ones are literal.
 */
import { Builder, lineEnd, MappedText, verbatim } from './text';

/** A decoded dotenv value and the document span of its source (quotes excluded). */
export interface DotenvValue {
  key: string;
  value: MappedText;
  start: number;
  end: number;
}

const ASSIGNMENT = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*[=:][ \t]*/gm;

/** Calls `visit` for every value of `doc` whose source passes `wanted`. */
export function dotenvValues(doc: string, wanted: (raw: string) => boolean, onValue: (v: DotenvValue) => void): void {
  ASSIGNMENT.lastIndex = 0;
  for (let m = ASSIGNMENT.exec(doc); m; m = ASSIGNMENT.exec(doc)) {
    const key = m[1];
    const at = m.index + m[0].length;
    const q = doc[at];
    let start: number;
    let end: number;
    let next: number;
    if (q === '"' || q === "'" || q === '`') {
      start = at + 1;
      end = closingQuote(doc, start, q);
      next = Math.min(doc.length, end + 1);
    } else {
      start = at;
      end = lineEnd(doc, at);
      // An unquoted value ends before a ` #` comment.
      const comment = doc.slice(start, end).search(/[ \t]#/);
      if (comment >= 0) end = start + comment;
      next = end;
    }
    if (wanted(doc.slice(start, end))) {
      const value = q === "'" || q === '`' ? verbatim(doc, start, end) : decodeDotenv(doc, start, end);
      onValue({ key, value, start, end });
    }
    // A multi-line value is skipped whole, so its lines are never read as assignments.
    ASSIGNMENT.lastIndex = Math.max(next, m.index + 1);
  }
}

/** The offset of the quote closing a value that starts at `start`, or the end of the document when it is unclosed. */
function closingQuote(doc: string, start: number, q: string): number {
  for (let i = start; i < doc.length; i++) {
    if (doc[i] === '\\' && q === '"') i++;
    else if (doc[i] === q) return i;
  }
  return doc.length;
}

/** Decodes `\n`, `\r`, `\t`, `\"` and `\\` escapes; raw line breaks stay. */
function decodeDotenv(doc: string, start: number, end: number): MappedText {
  const out = new Builder(end - start);
  for (let i = start; i < end; ) {
    let to = i;
    while (to < end && doc.charCodeAt(to) !== 0x5c) to++;
    out.pushRun(doc, i, to);
    i = to;
    if (i >= end) break;
    const e = doc[i + 1];
    if (i + 1 < end && e in DOTENV_ESCAPES) {
      out.push(DOTENV_ESCAPES[e], i);
      i += 2;
    } else {
      out.push('\\', i);
      i++;
    }
  }
  return out.finish(end);
}

const DOTENV_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
