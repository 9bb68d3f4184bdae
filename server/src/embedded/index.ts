/**
 * PEM embedded in other files: YAML scalars (block, quoted), JSON strings,
 * dotenv values, and base64 values that decode to PEM (Kubernetes Secrets,
 * kubeconfigs). Each is returned as a region for analyzeDocument, with a
 * `locate` that maps offsets in the decoded text back to the document, so
 * hovers and diagnostics land on the value in the file.
 */
import type { DocumentAnalysis, TextRegion } from '../analysis';
import type { Range } from '../pem/scanner';
import { dotenvValues } from './dotenv';
import { jsonStrings } from './json';
import { looseValues } from './plain';
import { decodeBase64Pem, LineIndex, lineEnd, MappedText, maybeBase64Pem } from './text';
import { yamlScalars } from './yaml';

export type { MappedText } from './text';

/** The languages whose documents are searched for embedded PEM. */
export const EMBEDDED_LANGUAGES: readonly string[] = ['yaml', 'json', 'jsonc', 'dotenv', 'plaintext'];

/** How an embedded PEM text was written in the document. */
export type EmbeddedForm = 'yaml-block' | 'yaml-quoted' | 'yaml-plain' | 'json-string' | 'dotenv' | 'escaped' | 'base64';

/** A PEM text found inside a document of another language. */
export interface EmbeddedRegion extends TextRegion {
  form: EmbeddedForm;
  /** The document range of the value's source (quotes and block header excluded). */
  valueRange: Range;
  locate: NonNullable<TextRegion['locate']>;
}

/** Options of embeddedRegions. */
export interface EmbeddedOptions {
  /** Only the first `maxBytes` characters are searched (the analysis reads no further). */
  maxBytes?: number;
}

/**
 * The embedded PEM texts of a document of language `languageId`; empty for
 * other languages and for documents without a trace of PEM. Never throws.
 */
export function embeddedRegions(text: string, languageId: string, opts: EmbeddedOptions = {}): EmbeddedRegion[] {
  if (!EMBEDDED_LANGUAGES.includes(languageId)) return [];
  const doc = opts.maxBytes !== undefined && text.length > opts.maxBytes ? text.slice(0, opts.maxBytes) : text;
  if (!mayHold(doc)) return [];
  const lines = new LineIndex(doc);
  const out: EmbeddedRegion[] = [];
  const add = (form: EmbeddedForm, v: MappedText) => {
    if (v.text.includes('-----BEGIN')) out.push(toRegion(form, v, lines));
    else if (maybeBase64Pem(v.text)) {
      const decoded = decodeBase64Pem(v);
      if (decoded) out.push(toRegion('base64', decoded, lines));
    }
  };
  try {
    switch (languageId) {
      case 'yaml':
        // A document nested too deep for the parser still gets what can be found without the grammar.
        if (!yamlScalars(doc, mayHold, (s) => add(s.style.startsWith('BLOCK') ? 'yaml-block' : s.style.startsWith('QUOTE') ? 'yaml-quoted' : 'yaml-plain', s.value))) {
          looseValues(doc, (v) => add(v.escaped ? 'escaped' : 'base64', v.value));
        }
        break;
      case 'json':
      case 'jsonc':
        jsonStrings(doc, mayHold, (s) => add('json-string', s.value));
        break;
      case 'dotenv':
        dotenvValues(doc, mayHold, (v) => add('dotenv', v.value));
        break;
      default:
        looseValues(doc, (v) => add(v.escaped ? 'escaped' : 'base64', v.value));
    }
  } catch {
    return [];
  }
  return out;
}

function mayHold(raw: string): boolean {
  return raw.includes('-----BEGIN') || raw.includes('LS0tLS1CRUdJT');
}

function toRegion(form: EmbeddedForm, v: MappedText, lines: LineIndex): EmbeddedRegion {
  const n = v.text.length;
  const start = lines.position(v.map[0]);
  const locate = (offset: number) => {
    const at = v.map[Math.max(0, Math.min(Math.floor(offset), n))];
    return { ...lines.position(at), offset: at };
  };
  return { form, text: v.text, line: start.line, character: start.character, offset: v.map[0], locate, valueRange: { start, end: lines.position(v.map[n]) } };
}

/**
 * Whether a block stands in `text` on lines of its own (nothing but blanks
 * before its BEGIN and after its END), so quick fixes that remove or move
 * whole lines cannot break the quoting or encoding of an embedded value.
 */
export function standsOnOwnLines(text: string, block: { offsets: { start: number; end: number } }): boolean {
  const { start, end } = block.offsets;
  if (!text.startsWith('-----BEGIN', start) || !/-----END [^\r\n]*-----$/.test(text.slice(Math.max(start, end - 200), end))) return false;
  const lineStart = Math.max(text.lastIndexOf('\n', start - 1), text.lastIndexOf('\r', start - 1)) + 1;
  return text.slice(lineStart, start).trim() === '' && text.slice(end, lineEnd(text, end)).trim() === '';
}

/** The diagnostics (of `analysis`, by their `data.block`) whose blocks stand on their own lines in `text`; the others get no line-editing quick fixes. */
export function editableDiagnostics<D extends { data?: unknown }>(analysis: DocumentAnalysis, text: string, diagnostics: D[]): D[] {
  return diagnostics.filter((d) => {
    const b = analysis.blocks[(d.data as { block?: number } | undefined)?.block ?? -1];
    return !b || standsOnOwnLines(text, b);
  });
}
