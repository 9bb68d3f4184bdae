/**
 * PEM in text of no particular syntax (logs, notes, a YAML file the parser
 * gave up on): escaped PEM strings (`-----BEGIN X-----\nMII…`) and base64
 * words that decode to PEM.
 */
import { Builder, MappedText, unescapeAt, verbatim } from './text';

/** An embedded value found without a grammar, and its document span. */
export interface LooseValue {
  value: MappedText;
  start: number;
  end: number;
  escaped: boolean;
}

const ESCAPED_BEGIN = /-----BEGIN [^\r\n\\"']*?-----(?:\\r)?\\n/g;
const BASE64_WORD = /(?<![A-Za-z0-9+/])LS0tLS1CRUdJT[A-Za-z0-9+/]*={0,2}/g;

/** Calls `visit` for each escaped PEM string and each base64 word that may be PEM, in document order. */
export function looseValues(doc: string, onValue: (v: LooseValue) => void): void {
  const found: LooseValue[] = [];
  ESCAPED_BEGIN.lastIndex = 0;
  for (let m = ESCAPED_BEGIN.exec(doc); m; m = ESCAPED_BEGIN.exec(doc)) {
    const start = m.index;
    const v = decodeEscapedRun(doc, start);
    found.push({ value: v, start, end: v.map[v.text.length], escaped: true });
    ESCAPED_BEGIN.lastIndex = Math.max(v.map[v.text.length], start + 1);
  }
  BASE64_WORD.lastIndex = 0;
  for (let m = BASE64_WORD.exec(doc); m; m = BASE64_WORD.exec(doc)) {
    found.push({ value: verbatim(doc, m.index, m.index + m[0].length), start: m.index, end: m.index + m[0].length, escaped: false });
  }
  found.sort((a, b) => a.start - b.start).forEach(onValue);
}

/** Decodes backslash escapes from `start` up to an unescaped quote or the end of the line. */
function decodeEscapedRun(doc: string, start: number): MappedText {
  let end = start;
  while (end < doc.length && !'"\'\r\n'.includes(doc[end])) end += doc[end] === '\\' ? 2 : 1;
  end = Math.min(end, doc.length);
  const out = new Builder(end - start);
  for (let i = start; i < end; ) {
    if (doc[i] === '\\') {
      const u = unescapeAt(doc, i, 'nrtbf"\'\\/u');
      out.push(u.text, i);
      i += u.length;
    } else {
      out.push(doc[i], i);
      i++;
    }
  }
  return out.finish(end);
}
