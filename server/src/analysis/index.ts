/**
 * The entry point shared by the language server and the CLI: text in, a plain
 * analysed document out. See model.ts for the data model.
 */
import { PemBlock, scanPem, scanPemSteps } from '../pem/scanner';
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
  /**
   * For text that does not stand line for line in the document (an unescaped
   * JSON string, a decoded base64 value): the document position of an offset
   * in `text`, used instead of `line` / `character` / `offset`.
   */
  locate?: (offset: number) => { line: number; character: number; offset: number };
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
  return finishSteps(analyzeDocumentSteps(text, opts));
}

/**
 * `analyzeDocument` a block at a time: each step decodes one block, and the
 * generator returns the analysis. Decoding is most of an analysis (seconds
 * for 10,000 certificates), so a server can spread it over turns of its
 * event loop. Never throws.
 */
export function* analyzeDocumentSteps(text: string, opts: AnalyzeOptions = {}): Generator<void, DocumentAnalysis, void> {
  let scanned = text;
  let truncated: DocumentAnalysis['truncated'];
  if (opts.maxBytes !== undefined && text.length > opts.maxBytes) {
    // Cut after the last complete block inside the limit, so no block is reported broken by the cut.
    const lastEnd = text.lastIndexOf('-----END', opts.maxBytes);
    const eol = lastEnd < 0 ? 0 : text.indexOf('\n', lastEnd);
    scanned = lastEnd < 0 ? '' : text.slice(0, eol < 0 ? text.length : eol + 1);
    truncated = { limitBytes: opts.maxBytes, totalBytes: text.length, analysedBytes: scanned.length };
  }
  // Plain text is scanned as it is decoded, a block per step; regions need every block found first.
  const found = opts.regions?.length ? withRegions(scanned, opts.regions) : scanPemSteps(scanned);
  const blocks: AnalyzedBlock[] = [];
  let index = 0;
  for (const b of found) {
    const content = decodeBlock(b);
    // Property by property rather than an object literal after a spread, which V8
    // builds on a slow path (a third of a re-analysis); the key order is the same.
    const block = Object.assign({}, content) as AnalyzedBlock;
    block.problems = b.problems.length === 0 && content.problems.length === 0 ? [] : [...b.problems, ...content.problems];
    block.index = index;
    block.label = b.label;
    block.range = b.range;
    block.offsets = b.offsets;
    block.attachedStartLine = b.attachedStartLine;
    block.headers = b.headers;
    blocks.push(block);
    index++;
    yield;
  }
  return { blocks, chain: analyzeChain(blocks), truncated };
}

/** Runs the remaining steps of a stepwise analysis and returns its result. */
export function finishSteps<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** The blocks of `text` and of its regions in document order; a region's blocks replace what the plain scan saw of the same text through its quotes or indentation. */
function withRegions(text: string, regions: TextRegion[]): PemBlock[] {
  const spans = regions.map(spanOf).sort((a, b) => a[0] - b[0]);
  const found = scanPem(text).filter((b) => !inSpans(b.offsets.start, spans));
  for (const region of regions) for (const b of scanPem(region.text)) found.push(shift(b, region));
  return found.sort((a, b) => a.offsets.start - b.offsets.start);
}

function spanOf(r: TextRegion): [number, number] {
  return r.locate ? [r.locate(0).offset, r.locate(r.text.length).offset] : [r.offset, r.offset + r.text.length];
}

/** Whether `offset` lies in one of `spans` (sorted by start, not overlapping). */
function inSpans(offset: number, spans: [number, number][]): boolean {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (spans[mid][0] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return offset >= spans[lo][0] && offset < spans[lo][1];
}

function shift(b: PemBlock, r: TextRegion): PemBlock {
  if (r.locate) {
    const start = r.locate(b.offsets.start);
    const end = r.locate(b.offsets.end);
    const range = { start: { line: start.line, character: start.character }, end: { line: end.line, character: end.character } };
    return { ...b, range, offsets: { start: start.offset, end: end.offset }, attachedStartLine: start.line };
  }
  const pos = (p: { line: number; character: number }) => ({ line: p.line + r.line, character: p.line === 0 ? p.character + r.character : p.character });
  return {
    ...b,
    range: { start: pos(b.range.start), end: pos(b.range.end) },
    offsets: { start: b.offsets.start + r.offset, end: b.offsets.end + r.offset },
    attachedStartLine: b.attachedStartLine + r.line,
  };
}
