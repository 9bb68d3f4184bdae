import type { DocumentSymbol, FoldingRange, SymbolKind } from 'vscode-languageserver';
import type { DocumentAnalysis } from '../analysis/model';
import { blockTitle, certRole } from './describe';

const KIND_FOR: Record<string, SymbolKind> = {
  certificate: 5, // Class
  privateKey: 20, // Key
  publicKey: 20,
  csr: 23, // Struct
  crl: 18, // Array
  pkcs7: 19, // Object
  parameters: 14, // Constant
  unknown: 19,
};

/** The outline: one symbol per block, named by type and CN. */
export function documentSymbols(a: DocumentAnalysis): DocumentSymbol[] {
  return a.blocks.map((b) => {
    const detail = b.certificate ? `${certRole(a, b)} · ${b.certificate.notAfter ? `expires ${b.certificate.notAfter.toISOString().slice(0, 10)}` : 'invalid expiry date'}` : b.problems.length ? 'malformed' : b.label;
    const selection = { start: b.range.start, end: { line: b.range.start.line, character: b.range.start.character + b.label.length + 16 } };
    return { name: blockTitle(b), detail, kind: KIND_FOR[b.kind] ?? 19, range: b.range, selectionRange: selection };
  });
}

/** One folding range per block, from its BEGIN line to its END line. */
export function foldingRanges(a: DocumentAnalysis): FoldingRange[] {
  return a.blocks.filter((b) => b.range.end.line > b.range.start.line).map((b) => ({ startLine: b.range.start.line, endLine: b.range.end.line }));
}
