/**
 * The entry point shared by the language server and the CLI: text in, a plain
 * analysed document out. See model.ts for the data model.
 */
import { PemBlock, scanPem } from '../pem/scanner';
import { analyzeChain } from './chain';
import { decodeBlock } from './decode';
import type { AnalyzedBlock, DocumentAnalysis } from './model';

export * from './model';
export { decodeFileBytes } from '../pem/text';
export { chainPosition } from './chain';

/**
 * A piece of text embedded in the document (a PEM string inside YAML, JSON,
 * .env or a decoded Kubernetes secret), scanned as if it stood at `line` /
 * `character` / `offset` of the document. Blocks found in it are reported
 * with document positions.
 */
export interface TextRegion {
  text: string;
  line: number;
  character: number;
  offset: number;
}

/** Options of analyzeDocument. */
export interface AnalyzeOptions {
  /** Analyse only the blocks in the first `maxBytes` characters of larger texts (default: no limit). */
  maxBytes?: number;
  /** Extra regions to scan besides the text itself. */
  regions?: TextRegion[];
}

/** Scans and decodes every PEM block in `text` and relates its certificates; never throws. */
export function analyzeDocument(text: string, opts: AnalyzeOptions = {}): DocumentAnalysis {
  let scanned = text;
  let truncated: DocumentAnalysis['truncated'];
  if (opts.maxBytes !== undefined && text.length > opts.maxBytes) {
    // Cut after the last complete block inside the limit, so no block is reported broken by the cut.
    const lastEnd = text.lastIndexOf('-----END', opts.maxBytes);
    const eol = lastEnd < 0 ? 0 : text.indexOf('\n', lastEnd);
    scanned = lastEnd < 0 ? '' : text.slice(0, eol < 0 ? text.length : eol + 1);
    truncated = { limitBytes: opts.maxBytes, totalBytes: text.length, analysedBytes: scanned.length };
  }
  const found: PemBlock[] = scanPem(scanned);
  for (const region of opts.regions ?? []) found.push(...scanPem(region.text).map((b) => shift(b, region)));
  if (opts.regions?.length) found.sort((a, b) => a.offsets.start - b.offsets.start);
  const blocks: AnalyzedBlock[] = found.map((b, index) => {
    const content = decodeBlock(b);
    return {
      ...content,
      problems: [...b.problems, ...content.problems],
      index,
      label: b.label,
      range: b.range,
      offsets: b.offsets,
      attachedStartLine: b.attachedStartLine,
      headers: b.headers,
    };
  });
  return { blocks, chain: analyzeChain(blocks), truncated };
}

function shift(b: PemBlock, r: TextRegion): PemBlock {
  const pos = (p: { line: number; character: number }) => ({ line: p.line + r.line, character: p.line === 0 ? p.character + r.character : p.character });
  return {
    ...b,
    range: { start: pos(b.range.start), end: pos(b.range.end) },
    offsets: { start: b.offsets.start + r.offset, end: b.offsets.end + r.offset },
    attachedStartLine: b.attachedStartLine + r.line,
  };
}
