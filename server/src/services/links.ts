import type { DocumentLink } from 'vscode-languageserver';
import type { DocumentAnalysis } from '../analysis/model';
import { blockRef } from './describe';

/** A link on each certificate's BEGIN line to the block of its issuer in the same file. */
export function documentLinks(a: DocumentAnalysis, uri: string): DocumentLink[] {
  const out: DocumentLink[] = [];
  for (const [subject, issuer] of a.chain.issuerOf) {
    const b = a.blocks[subject];
    const target = a.blocks[issuer];
    out.push({
      range: b.range.start.line === b.range.end.line ? b.range : { start: b.range.start, end: { line: b.range.start.line, character: b.range.start.character + 5 + b.label.length + 11 } },
      // VS Code opens `#L<line>` fragments at that line (1-based).
      target: `${uri}#L${target.range.start.line + 1}`,
      tooltip: `Go to the issuer, ${blockRef(issuer)}`,
    });
  }
  return out;
}
