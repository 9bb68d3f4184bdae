/**
 * Everything the language server does with a document, with the services
 * called directly, and the invariants each result must keep. Shared by the
 * unit fuzz test and the longer fuzz run of `npm run bench`.
 */
import assert from 'node:assert/strict';
import { embeddedRegions, editableDiagnostics } from '../../server/src/embedded';
import { analyzeText } from '../../server/src/services/analyze';
import { codeActions } from '../../server/src/services/codeactions';
import { codeLenses } from '../../server/src/services/codelens';
import { computeDiagnostics } from '../../server/src/services/diagnostics';
import { hoverAt } from '../../server/src/services/hover';
import { documentLinks } from '../../server/src/services/links';
import { DEFAULT_SETTINGS } from '../../server/src/services/settings';
import { documentSymbols, foldingRanges } from '../../server/src/services/symbols';
import type { FuzzInput } from './fuzz-inputs';

const MAX_BYTES = DEFAULT_SETTINGS.limits.maxFileSizeMB * 1048576;

/** Runs one input through the analysis and every service; throws (an assertion) when an invariant breaks. */
export function exercise(input: FuzzInput, rnd: () => number): { blocks: number; diagnostics: number } {
  const uri = 'file:///fuzz/input.pem';
  const regions = input.languageId === 'pem' ? undefined : embeddedRegions(input.text, input.languageId, { maxBytes: MAX_BYTES });
  for (const r of regions ?? []) {
    for (const o of [0, r.text.length >> 1, r.text.length]) {
      const p = r.locate(o);
      assert.ok(Number.isInteger(p.offset) && p.offset >= 0 && p.offset <= input.text.length && p.line >= 0 && p.character >= 0, `region locates ${o} at ${JSON.stringify(p)}`);
    }
  }
  // The server's own entry point (embedded regions included), as in server.ts.
  const a = analyzeText(input.text, input.languageId, DEFAULT_SETTINGS);
  for (const b of a.blocks) assert.ok(b.offsets.start >= 0 && b.offsets.start <= b.offsets.end && b.offsets.end <= input.text.length, `block offsets ${JSON.stringify(b.offsets)}`);
  const diagnostics = computeDiagnostics(a, DEFAULT_SETTINGS, { uri });
  for (const d of diagnostics) {
    assert.ok(d.range.start.line >= 0 && d.range.start.character >= 0, `negative position in ${JSON.stringify(d.range)}`);
    assert.ok(d.range.start.line < d.range.end.line || (d.range.start.line === d.range.end.line && d.range.start.character <= d.range.end.character), 'range ends before it starts');
  }
  const lineCount = input.text.split(/\r\n|\r|\n/).length;
  const positions = [{ line: 0, character: 0 }, ...a.blocks.slice(0, 20).map((b) => b.range.start), ...Array.from({ length: 5 }, () => ({ line: Math.floor(rnd() * lineCount), character: Math.floor(rnd() * 200) }))];
  for (const p of positions) hoverAt(a, p, { uri });
  documentSymbols(a);
  foldingRanges(a);
  codeLenses(a, {});
  documentLinks(a, uri);
  codeActions(a, input.text, uri, input.languageId === 'pem' ? diagnostics : editableDiagnostics(a, input.text, diagnostics));
  // The result must survive JSON (what the server sends): no cycles, no BigInt.
  JSON.stringify(diagnostics);
  return { blocks: a.blocks.length, diagnostics: diagnostics.length };
}
