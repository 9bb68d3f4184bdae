/** Quick fixes for chain diagnostics: reorder leaf-first, remove duplicates, expired certificates and roots. */
import type { CodeAction, Diagnostic, TextEdit } from 'vscode-languageserver';
import type { AnalyzedBlock, DocumentAnalysis } from '../analysis/model';
import type { DiagnosticData } from './diagnostics';
import { blockRef } from './describe';

/** Code actions for the certops diagnostics in `diagnostics` (as the client sends them back). */
export function codeActions(a: DocumentAnalysis, text: string, uri: string, diagnostics: Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== 'certops') continue;
    const data = d.data as DiagnosticData | undefined;
    const b = data ? a.blocks[data.block] : undefined;
    if (!b) continue;
    const fix = (title: string, edits: TextEdit[]) => out.push({ title, kind: 'quickfix', diagnostics: [d], isPreferred: true, edit: { changes: { [uri]: edits } } });
    switch (d.code) {
      case 'chain-order':
        if (data?.order) fix('Reorder the chain leaf-first', reorder(a, text, data.order));
        break;
      case 'duplicate-certificate':
        fix(`Remove the duplicate certificate (${blockRef(b.index)})`, [removeBlock(b)]);
        break;
      case 'cert-expired':
        if (a.chain.mode === 'bundle' || a.chain.mode === 'chain') fix(`Remove the expired certificate from the bundle (${blockRef(b.index)})`, [removeBlock(b)]);
        break;
      case 'chain-root-included':
        fix('Remove the root certificate from the server chain', [removeBlock(b)]);
        break;
    }
  }
  return out;
}

/** Deletes a block, the OpenSSL annotation lines above it and its line break. */
function removeBlock(b: AnalyzedBlock): TextEdit {
  return { range: { start: { line: b.attachedStartLine, character: 0 }, end: { line: b.range.end.line + 1, character: 0 } }, newText: '' };
}

/** Puts the certificates in `order` into the slots the certificates occupy now, leaving any other text in place. */
function reorder(a: DocumentAnalysis, text: string, order: number[]): TextEdit[] {
  const slots = a.chain.certificates;
  return slots.map((slot, k) => {
    const from = a.blocks[order[k]];
    return { range: a.blocks[slot].range, newText: text.slice(from.offsets.start, from.offsets.end) };
  });
}
