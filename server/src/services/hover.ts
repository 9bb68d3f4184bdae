/** Hover: the public facts of the block under the cursor, as a markdown table. Never private material. */
import type { Hover } from 'vscode-languageserver';
import type { AnalyzedBlock, CertificateInfo, DocumentAnalysis, PublicKeyInfo, SubjectAltName } from '../analysis/model';
import type { Position, Range } from '../pem/scanner';
import { keyLabel } from '../analysis/spki';
import { chainPosition } from '../analysis/chain';
import { pairKeys } from '../analysis/match';
import { ServiceContext, relativeDays } from './context';
import { blockRef, blockTitle, certName, certRole, chainSequence } from './describe';

/** The block whose range contains `position`, if any. */
export function blockAt(a: DocumentAnalysis, position: Position): AnalyzedBlock | undefined {
  return a.blocks.find((b) => contains(b.range, position));
}

/** The hover for the block under `position`, or null outside every block. */
export function hoverAt(a: DocumentAnalysis, position: Position, context: ServiceContext = {}): Hover | null {
  const b = blockAt(a, position);
  if (!b) return null;
  return { contents: { kind: 'markdown', value: describeBlock(a, b, context) }, range: b.range };
}

/** The markdown shown for one block. */
export function describeBlock(a: DocumentAnalysis, b: AnalyzedBlock, context: ServiceContext = {}): string {
  const now = context.now ?? new Date();
  const rows: [string, string][] = [];
  let title = `**${blockTitle(b)}**`;
  if (b.certificate) {
    const c = b.certificate;
    title = `**${capitalise(certRole(a, b))} certificate** ${esc(certName(c))}`;
    certificateRows(c, now, rows);
    const pos = chainPosition(a.chain, b.index);
    const issuer = a.chain.issuerOf.get(b.index);
    if (pos && pos.total > 1) rows.push(['Chain', `${pos.position} of ${pos.total}${issuer !== undefined ? `, issued by ${blockRef(issuer)}` : c.selfIssued ? ', self-signed' : ''}`]);
    else if (issuer !== undefined) rows.push(['Issued by', blockRef(issuer)]);
    const dup = a.chain.duplicates.get(b.index);
    if (dup !== undefined) rows.push(['Duplicate of', blockRef(dup)]);
    const seq = chainSequence(a);
    // Where the chain ends, say which store the chain-incomplete verdict was checked against.
    if (context.trust && seq[seq.length - 1] === b.index && issuer === undefined) {
      const t = context.trust;
      const verdict = t.contains(c) ? 'this certificate is a trust anchor' : t.findIssuer(c) ? 'issuer trusted' : c.selfIssued ? 'self-signed, not a trust anchor' : '**issuer not found**';
      rows.push(['Trust store', `${verdict}: ${esc(t.description)}`]);
    }
  } else if (b.privateKey) {
    const k = b.privateKey;
    rows.push(['Type', keyLabel(k)], ['Format', k.format], ['Encrypted', k.encrypted ? `yes (${k.encryption ?? 'unknown cipher'})` : 'no']);
    if (k.spkiSha256) rows.push(['Public key SHA-256', code(k.spkiSha256)]);
    const pairing = pairKeys(a, context.siblings ?? []).find((p) => p.keyBlock === b.index);
    if (pairing) {
      const where = pairing.sibling ? `${blockRef(pairing.certBlock)} of ${pairing.sibling.name}` : blockRef(pairing.certBlock);
      const verdict = pairing.status === 'match' ? 'matches' : pairing.status === 'mismatch' ? '**does not match**' : 'cannot be compared with';
      rows.push(['Certificate', `${verdict} ${where} (${esc(pairing.certSubject)})`]);
    }
  } else if (b.publicKey) {
    publicKeyRows(b.publicKey, rows);
    rows.push(['Format', b.publicKey.format]);
  } else if (b.csr) {
    const r = b.csr;
    rows.push(['Subject', esc(r.subject)]);
    if (r.sans.length) rows.push(['Requested SANs', sans(r.sans)]);
    publicKeyRows(r.publicKey, rows);
    rows.push(['Signature', `${r.signatureAlgorithm}, ${r.signatureValid ? 'valid' : '**invalid**'}`]);
  } else if (b.crl) {
    const l = b.crl;
    rows.push(['Issuer', esc(l.issuer)], ['This update', date(l.thisUpdate)]);
    if (l.nextUpdate) rows.push(['Next update', `${date(l.nextUpdate)} (${relativeDays(l.nextUpdate, now)})`]);
    rows.push(['Revoked', String(l.revokedCount)], ['Signature algorithm', l.signatureAlgorithm]);
  } else if (b.pkcs7) {
    b.pkcs7.certificates.forEach((c, i) => rows.push([`Certificate ${i + 1}`, `${esc(c.subject)}, ${c.notAfter ? `expires ${date(c.notAfter)} (${relativeDays(c.notAfter, now)})` : '**invalid expiry date**'}`]));
    if (b.pkcs7.crlCount) rows.push(['CRLs', String(b.pkcs7.crlCount)]);
  } else if (b.parameters) {
    if (b.parameters.curve) rows.push(['Curve', b.parameters.curve]);
    if (b.parameters.bits) rows.push(['Size', `${b.parameters.bits} bits`]);
  }
  if (b.headers.length) rows.push(['Headers', b.headers.map(([k, v]) => `${k}: ${esc(v)}`).join('<br>')]);
  const parts = [title];
  const problems = [...b.problems, ...(b.certificate?.problems ?? []).map((p) => `${p.severity === 'error' ? 'Malformed' : 'Non-conforming'}: ${p.field ? `${p.field}: ` : ''}${p.message}`)];
  if (problems.length) parts.push(problems.map((p) => `- ⚠ ${esc(p)}`).join('\n'));
  if (rows.length) parts.push(['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n'));
  return parts.join('\n\n');
}

function certificateRows(c: CertificateInfo, now: Date, rows: [string, string][]): void {
  // A field the decoder could not read is marked as such, never shown with a guessed value.
  const bad = (...fields: string[]) => {
    const p = c.problems.find((x) => x.severity === 'error' && fields.includes(x.field));
    return p && `**invalid** (${esc(p.message)})`;
  };
  rows.push(['Subject', bad('subject') ?? esc(c.subject)], ['Issuer', bad('issuer') ?? esc(c.issuer)], ['Serial', code(c.serialNumber)]);
  if (c.version !== 3) rows.push(['Version', bad('version') ?? String(c.version)]);
  const from = c.notBefore ? date(c.notBefore) : (bad('validity.notBefore', 'validity') ?? '**invalid**');
  const to = c.notAfter ? date(c.notAfter) : (bad('validity.notAfter', 'validity') ?? '**invalid**');
  let state = '';
  if (c.notBefore && c.notAfter) {
    const expired = c.notAfter.getTime() <= now.getTime();
    state = ` (${expired ? `**expired** ${relativeDays(c.notAfter, now)}` : c.notBefore.getTime() > now.getTime() ? `**not valid yet** (starts ${relativeDays(c.notBefore, now)})` : `expires ${relativeDays(c.notAfter, now)}`})`;
  }
  rows.push(['Validity', `${from} → ${to}${state}`]);
  // Entries that decoded are shown (non-IA5 octets escaped) even when one of them is flagged above.
  if (c.sans.length) rows.push(['SANs', sans(c.sans)]);
  else if (bad('subjectAltName')) rows.push(['SANs', bad('subjectAltName') as string]);
  publicKeyRows(c.publicKey, rows);
  rows.push(['Signature', bad('signatureAlgorithm') ?? c.signatureAlgorithm]);
  rows.push(['SHA-256', code(c.sha256)], ['SHA-1', code(c.sha1)], ['SPKI SHA-256 pin', code(Buffer.from(c.spkiSha256, 'hex').toString('base64'))]);
  const bcBad = bad('basicConstraints');
  if (bcBad) rows.push(['Basic constraints', bcBad]);
  else if (c.basicConstraints) rows.push(['Basic constraints', `CA:${c.basicConstraints.ca ? 'TRUE' : 'FALSE'}${c.basicConstraints.pathLen !== undefined ? `, pathlen:${c.basicConstraints.pathLen}` : ''}`]);
  const extRow = (label: string, field: string, value: string | undefined) => {
    const why = bad(field);
    if (why) rows.push([label, why]);
    else if (value !== undefined) rows.push([label, value]);
  };
  extRow('Key usage', 'keyUsage', c.keyUsage?.join(', '));
  extRow('Extended key usage', 'extendedKeyUsage', c.extendedKeyUsage?.map(esc).join(', '));
  extRow('Subject key ID', 'subjectKeyIdentifier', c.subjectKeyId && code(c.subjectKeyId));
  extRow('Authority key ID', 'authorityKeyIdentifier', c.authorityKeyId && code(c.authorityKeyId));
  extRow('OCSP', 'authorityInfoAccess', c.authorityInfoAccess.ocsp.length ? c.authorityInfoAccess.ocsp.map(esc).join('<br>') : undefined);
  if (c.authorityInfoAccess.caIssuers.length) rows.push(['CA issuers', c.authorityInfoAccess.caIssuers.map(esc).join('<br>')]);
  extRow('CRL distribution', 'cRLDistributionPoints', c.crlDistributionPoints.length ? c.crlDistributionPoints.map(esc).join('<br>') : undefined);
  if (c.otherExtensions?.length) {
    rows.push(['Other extensions', c.otherExtensions.map((e) => `${e.oid}${e.critical === undefined ? ' (criticality **invalid**)' : e.critical ? ' (critical)' : ''}, ${e.length} bytes${e.length ? ` ${code(e.preview)}` : ''}`).join('<br>')]);
  }
}

function publicKeyRows(k: PublicKeyInfo, rows: [string, string][]): void {
  rows.push(['Public key', keyLabel(k)], ['SPKI SHA-256', code(k.spkiSha256)]);
}

function sans(list: SubjectAltName[]): string {
  return list.map((s) => `${s.type.toUpperCase()}:${esc(s.value)}`).join('<br>');
}

function date(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

function code(s: string): string {
  return `\`${s}\``;
}

function esc(s: string): string {
  // A line break inside a value (a CN may hold one) would end the table row: show it as \xHH instead.
  return s.replace(/[|\\`*_<>[\]]/g, (ch) => '\\' + ch).replace(/[\r\n\u0085\u2028\u2029]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function contains(range: Range, p: Position): boolean {
  if (p.line < range.start.line || p.line > range.end.line) return false;
  if (p.line === range.start.line && p.character < range.start.character) return false;
  if (p.line === range.end.line && p.character > range.end.character) return false;
  return true;
}
