/**
 * String literals of JSON and JSONC, decoded with their positions. A tolerant
 * tokenizer rather than a parser: a half-typed document still has strings.
 */
import { Builder, lineEnd, MappedText } from './text';

/** A decoded JSON string literal and the document span of its contents (quotes excluded). */
export interface JsonString {
  value: MappedText;
  start: number;
  end: number;
}

/** Calls `visit` for every string literal of `doc` whose raw text passes `wanted`; comments are skipped. */
export function jsonStrings(doc: string, wanted: (raw: string) => boolean, visit: (s: JsonString) => void): void {
  const n = doc.length;
  let i = 0;
  while (i < n) {
    const c = doc.charCodeAt(i);
    if (c === 0x2f /* / */ && doc[i + 1] === '/') {
      i = lineEnd(doc, i);
    } else if (c === 0x2f && doc[i + 1] === '*') {
      const close = doc.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === 0x22 /* " */) {
      const start = i + 1;
      // JSON strings cannot hold raw line breaks: an unterminated one ends at the line's end.
      let end = start;
      while (end < n) {
        const d = doc.charCodeAt(end);
        if (d === 0x22 || d === 10 || d === 13) break;
        end += d === 0x5c /* \ */ ? 2 : 1;
      }
      end = Math.min(end, n);
      if (wanted(doc.slice(start, end))) visit({ value: decodeJsonString(doc, start, end), start, end });
      i = end + 1;
    } else i++;
  }
}

/** Decodes the contents of a JSON string literal `doc[start, end)`. */
export function decodeJsonString(doc: string, start: number, end: number): MappedText {
  const out = new Builder(end - start);
  let i = start;
  while (i < end) {
    if (doc[i] !== '\\') {
      // Escapes are rare in a long string: copy the run up to the next one at once.
      let to = i;
      while (to < end && doc.charCodeAt(to) !== 0x5c) to++;
      out.pushRun(doc, i, to);
      i = to;
      continue;
    }
    const e = i + 1 < end ? doc[i + 1] : undefined;
    if (e === 'u' && i + 6 <= end && /^[0-9a-fA-F]{4}$/.test(doc.slice(i + 2, i + 6))) {
      out.push(String.fromCharCode(parseInt(doc.slice(i + 2, i + 6), 16)), i);
      i += 6;
      continue;
    }
    const simple = e === undefined ? undefined : JSON_ESCAPES[e];
    // An invalid escape is kept as written; JSON.parse would reject the file, the user sees it anyway.
    out.push(simple ?? '\\' + (e ?? ''), i);
    i += e === undefined ? 1 : 2;
  }
  return out.finish(Math.min(end, doc.length));
}

const JSON_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', '\\': '\\', '/': '/' };
