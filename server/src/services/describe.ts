import type { AnalyzedBlock, CertificateInfo, DocumentAnalysis } from '../analysis/model';
import { keyLabel } from '../analysis/spki';

/** The display name of a certificate: its CN, else its whole subject. */
export function certName(c: CertificateInfo | { commonName?: string; subject: string }): string {
  if (c.commonName) return `CN=${c.commonName}`;
  if (c.subject) return c.subject;
  // An empty string is also what the model holds for a subject that does not decode.
  const broken = 'problems' in c && c.problems.some((p) => p.field === 'subject' && p.severity === 'error');
  return broken ? '(invalid subject)' : '(empty subject)';
}

/** The role a certificate plays in its file: leaf, intermediate, root or CA. */
export function certRole(a: DocumentAnalysis, b: AnalyzedBlock): string {
  const c = b.certificate;
  if (!c) return '';
  if (c.selfIssued) return 'root';
  if (!c.isCA) return 'leaf';
  return a.chain.mode === 'chain' || a.chain.mode === 'single' ? 'intermediate' : 'CA';
}

/** "block 2" (1-based, as people count). */
export function blockRef(index: number): string {
  return `block ${index + 1}`;
}

/** A short title for any block: "Certificate CN=x", "Private key RSA 2048", "Unknown block FOO". */
export function blockTitle(b: AnalyzedBlock): string {
  if (b.certificate) return `Certificate ${certName(b.certificate)}`;
  if (b.privateKey) return `Private key ${keyLabel(b.privateKey)}${b.privateKey.encrypted ? ' (encrypted)' : ''}`;
  if (b.publicKey) return `Public key ${keyLabel(b.publicKey)}`;
  if (b.csr) return `Certificate request ${certName(b.csr)}`;
  if (b.crl) return `CRL ${b.crl.issuer}`;
  if (b.pkcs7) return `PKCS#7 (${b.pkcs7.certificates.length} certificates)`;
  if (b.parameters) return `${b.parameters.kind} parameters ${b.parameters.curve ?? (b.parameters.bits ? `${b.parameters.bits} bits` : '')}`.trim();
  if (b.kind === 'unknown') return `Unknown block ${b.label}`;
  return `${b.label} (malformed)`;
}

/** Certificate blocks in chain order when there is one, else in file order. */
export function chainSequence(a: DocumentAnalysis): number[] {
  if (a.chain.mode === 'chain') return a.chain.order ?? a.chain.certificates;
  if (a.chain.mode === 'single') return a.chain.certificates;
  return [];
}
