/**
 * Scalars of a YAML stream that may hold PEM, decoded with their positions.
 * The `yaml` package finds the scalars and their source spans; quoted scalars
 * are decoded here again because its values do not say where each character
 * came from.
 */
import { parseAllDocuments, Scalar, visit } from 'yaml';
import { Builder, MappedText, verbatim } from './text';
import { unescapeAt } from './text';

/** A scalar's decoded value and the document span of its source (quotes and block header included). */
export interface YamlScalar {
  value: MappedText;
  start: number;
  end: number;
  /** The scalar's style, as the `yaml` package names it (`PLAIN`, `QUOTE_DOUBLE`, `BLOCK_LITERAL`, …). */
  style: string;
}

/**
 * The parser recurses once per nesting level and a few thousand levels exhaust
 * the stack, which can even abort the process (V8 fails to compile a regular
 * expression near the stack limit); deeper documents are not parsed.
 */
const MAX_DEPTH = 256;

/**
 * Calls `onScalar` for every scalar of `doc` whose source passes `wanted`.
 * Returns false, having visited nothing, when the document nests too deep to
 * be parsed safely.
 */
export function yamlScalars(doc: string, wanted: (raw: string) => boolean, onScalar: (s: YamlScalar) => void): boolean {
  if (nestsDeeperThan(doc, MAX_DEPTH)) return false;
  const docs = parseAllDocuments(doc, { prettyErrors: false, uniqueKeys: false, strict: false });
  const all = Array.isArray(docs) ? docs : [docs];
  if (all.some((d) => d.errors.some((e) => e instanceof RangeError || /call stack/i.test(e.message)))) return false;
  const found: YamlScalar[] = [];
  for (const d of all) {
    visit(d, {
      Scalar(_key, node) {
        const s = decodeScalar(doc, node);
        if (s && wanted(doc.slice(s.start, s.end))) found.push(s);
      },
    });
  }
  found.forEach(onScalar);
  return true;
}

/**
 * Whether `doc` may nest more than `limit` levels: flow brackets (quotes
 * ignored, so this overestimates), or a line's indentation plus the `- ` and
 * `? ` indicators that open it. Stops as soon as the limit is passed.
 */
export function nestsDeeperThan(doc: string, limit: number): boolean {
  let flow = 0;
  let lineStart = true;
  let lead = 0;
  for (let i = 0; i < doc.length; i++) {
    const c = doc.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++flow > limit) return true;
    } else if ((c === 0x5d || c === 0x7d) && flow > 0) flow--;
    if (c === 10 || c === 13) {
      lineStart = true;
      lead = 0;
    } else if (lineStart) {
      if (c === 0x20 || c === 0x09 || ((c === 0x2d || c === 0x3f) && (doc.charCodeAt(i + 1) === 0x20 || doc.charCodeAt(i + 1) === 0x09))) {
        if (++lead > limit) return true;
      } else lineStart = false;
    }
  }
  return false;
}

function decodeScalar(doc: string, node: Scalar): YamlScalar | undefined {
  const range = node.range;
  if (!range) return undefined;
  const [start, end] = range;
  const style = node.type ?? 'PLAIN';
  let value: MappedText;
  switch (style) {
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED': {
      // The content, indentation included, is left as written: PEM tolerates indentation, and positions stay exact.
      const header = doc.slice(start, end).search(/\r\n|\r|\n/);
      if (header < 0) return undefined;
      const from = start + header + (doc.startsWith('\r\n', start + header) ? 2 : 1);
      value = verbatim(doc, from, end);
      break;
    }
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE': {
      const close = doc[end - 1] === doc[start] && end - start >= 2 ? end - 1 : end;
      value = decodeQuoted(doc, start + 1, close, style === 'QUOTE_DOUBLE');
      if (typeof node.value === 'string' && value.text !== node.value) value = spread(node.value, start, end);
      break;
    }
    default:
      value = verbatim(doc, start, end);
  }
  return { value, start, end, style };
}

/** A fallback that spreads `text` evenly over a span, for a value this decoder reads differently from the parser. */
function spread(text: string, start: number, end: number): MappedText {
  const map = new Int32Array(text.length + 1);
  for (let i = 0; i < text.length; i++) map[i] = start + Math.floor((i * (end - start)) / Math.max(1, text.length));
  map[text.length] = end;
  return { text, map };
}

const YAML_ESCAPES = '0abtnvfre "/\\NLP_xuU\t';
const YAML_NAMED: Record<string, string> = { N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029', '\t': '\t' };

/**
 * Decodes a flow scalar's contents `doc[start, end)` (quotes excluded): line
 * folding for both styles, backslash escapes for double quotes, `''` for single.
 */
export function decodeQuoted(doc: string, start: number, end: number, double: boolean): MappedText {
  const out = new Builder(end - start);
  // Literal spaces and tabs before a line break are dropped by folding; escaped ones are content.
  let pending: [string, number][] = [];
  const flush = () => {
    for (const [c, at] of pending) out.push(c, at);
    pending = [];
  };
  const isBreak = (i: number) => doc[i] === '\n' || doc[i] === '\r';
  const breakLen = (i: number) => (doc[i] === '\r' && doc[i + 1] === '\n' ? 2 : 1);
  /** Skips a line break, then blank lines and indentation; returns where content resumes and how many blank lines it crossed. */
  const fold = (i: number): { next: number; blank: number } => {
    let j = i + breakLen(i);
    let blank = 0;
    for (;;) {
      while (j < end && (doc[j] === ' ' || doc[j] === '\t')) j++;
      if (j < end && isBreak(j)) {
        blank++;
        j += breakLen(j);
      } else return { next: j, blank };
    }
  };
  let i = start;
  while (i < end) {
    const c = doc[i];
    if (isBreak(i)) {
      pending = [];
      const { next, blank } = fold(i);
      out.push(blank ? '\n'.repeat(blank) : ' ', i);
      i = next;
    } else if (c === ' ' || c === '\t') {
      pending.push([c, i]);
      i++;
    } else {
      flush();
      if (double && c === '\\') {
        if (isBreak(i + 1)) {
          const { next, blank } = fold(i + 1);
          if (blank) out.push('\n'.repeat(blank), i);
          i = next;
        } else {
          const e = doc[i + 1];
          const named = e === undefined ? undefined : YAML_NAMED[e];
          if (named !== undefined) {
            out.push(named, i);
            i += 2;
          } else {
            const u = unescapeAt(doc, i, YAML_ESCAPES);
            out.push(u.text, i);
            i += u.length;
          }
        }
      } else if (!double && c === "'" && doc[i + 1] === "'") {
        out.push("'", i);
        i += 2;
      } else {
        out.push(c, i);
        i++;
      }
    }
  }
  flush();
  return out.finish(end);
}
