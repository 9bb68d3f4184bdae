import { daysUntil, summarizeCertificate } from '../analysis/certificate';
import { PemBlock, Position, Range, scanPem } from '../pem/scanner';

/** A hover as LSP shapes it, without depending on a connection. */
export interface HoverResult {
  contents: { kind: 'markdown'; value: string };
  range: Range;
}

/** The hover for the block under `position`, or null when the position is outside every block. */
export function hoverAt(text: string, position: Position, now = new Date()): HoverResult | null {
  const block = scanPem(text).find((b) => contains(b.range, position));
  if (!block) return null;
  return { contents: { kind: 'markdown', value: describeBlock(block, now) }, range: block.range };
}

function describeBlock(block: PemBlock, now: Date): string {
  if (block.problems.length > 0) return `**${block.label}** (malformed)\n\n${block.problems.map((p) => `- ${p}`).join('\n')}`;
  if (block.label !== 'CERTIFICATE') return `**${block.label}**`;
  try {
    const c = summarizeCertificate(block.der);
    const days = daysUntil(c.notAfter, now);
    const left = days >= 0 ? `${days} days left` : `expired ${-days} days ago`;
    return [
      `**Certificate** ${c.subject}`,
      '',
      `| | |`,
      `|---|---|`,
      `| Subject | ${c.subject} |`,
      `| Issuer | ${c.issuer} |`,
      `| Expires | ${c.notAfter.toISOString()} (${left}) |`,
      `| SHA-256 | \`${c.sha256}\` |`,
    ].join('\n');
  } catch (e) {
    return `**CERTIFICATE** (cannot be decoded)\n\n${(e as Error).message}`;
  }
}

function contains(range: Range, p: Position): boolean {
  if (p.line < range.start.line || p.line > range.end.line) return false;
  if (p.line === range.start.line && p.character < range.start.character) return false;
  if (p.line === range.end.line && p.character > range.end.character) return false;
  return true;
}
