import type { CodeLens } from 'vscode-languageserver';
import type { DocumentAnalysis } from '../analysis/model';
import { keyLabel } from '../analysis/spki';
import { pairKeys } from '../analysis/match';
import { ServiceContext, relativeDays } from './context';
import { blockRef, blockTitle, certName, certRole } from './describe';

/** One CodeLens above each block: "leaf · CN=api.example.com · expires 2027-01-03, in 42 days". */
export function codeLenses(a: DocumentAnalysis, context: ServiceContext = {}): CodeLens[] {
  const now = context.now ?? new Date();
  const pairings = pairKeys(a, context.siblings ?? []);
  return a.blocks.map((b) => {
    let title: string;
    if (b.certificate) {
      const c = b.certificate;
      const end = c.notAfter;
      const when = end ? `${end.getTime() <= now.getTime() ? 'expired' : 'expires'} ${end.toISOString().slice(0, 10)}, ${relativeDays(end, now)}` : 'invalid expiry date';
      const malformed = c.problems.some((p) => p.severity === 'error') ? ' · malformed' : '';
      title = `${certRole(a, b)} · ${certName(c)} · ${when}${malformed}`;
    } else if (b.privateKey) {
      const p = pairings.find((x) => x.keyBlock === b.index);
      const where = p ? `${p.sibling ? `${p.sibling.name} ` : ''}${blockRef(p.certBlock)}` : '';
      const pair = p?.status === 'match' ? ` · matches ${where}` : p?.status === 'mismatch' ? ` · does not match ${where}` : '';
      title = `private key · ${keyLabel(b.privateKey)}${b.privateKey.encrypted ? ' · encrypted' : ''}${pair}`;
    } else title = b.problems.length ? `${b.label} · malformed` : blockTitle(b);
    // An empty command makes the lens a label: clicking it does nothing.
    return { range: { start: b.range.start, end: b.range.start }, command: { title, command: '' } };
  });
}
