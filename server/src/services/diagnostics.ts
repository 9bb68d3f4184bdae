/**
 * The certops diagnostics: one pure function from an analysed document to
 * LSP diagnostics, each on the range of the block it is about, with a stable
 * `code` and `data.block` (the block index) for quick fixes.
 */
import type { Diagnostic, DiagnosticSeverity } from 'vscode-languageserver';
import type { AnalyzedBlock, CertificateInfo, DocumentAnalysis } from '../analysis/model';
import { isWeakKey, keyLabel } from '../analysis/spki';
import { WEAK_HASHES } from '../der/oids';
import { pairKeys, pairLeafWithSiblingKey } from '../analysis/match';
import type { CertopsSettings } from './settings';
import { ServiceContext, daysUntil, relativeDays } from './context';
import { blockRef, certName, chainSequence } from './describe';

const ERROR: DiagnosticSeverity = 1;
const WARNING: DiagnosticSeverity = 2;
const INFO: DiagnosticSeverity = 3;

/** Every code computeDiagnostics can produce. */
export const DIAGNOSTIC_CODES = [
  'pem-malformed',
  'cert-expired',
  'cert-not-yet-valid',
  'cert-expiring',
  'cert-expiring-critical',
  'chain-order',
  'chain-broken',
  'chain-signature',
  'chain-issuer-not-ca',
  'chain-pathlen',
  'chain-incomplete',
  'chain-root-included',
  'chain-expires-before-leaf',
  'cert-nonconforming',
  'duplicate-certificate',
  'key-mismatch',
  'key-encrypted',
  'key-weak',
  'signature-weak',
  'san-missing',
  'key-permissions',
  'file-too-large',
  'chain-analysis-limited',
  'ca-overlap',
] as const;

/** At most this many ca-overlap diagnostics per document: a bundle of thousands of same-name CAs needs no thousands of notes. */
export const MAX_OVERLAP_DIAGNOSTICS = 100;

/** A certops diagnostic code. */
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

/** What quick fixes need to know about a diagnostic. */
export interface DiagnosticData {
  block: number;
  /** For chain-order: the leaf-first order of block indexes. */
  order?: number[];
}

/** All diagnostics for a document, sorted by position. */
export function computeDiagnostics(analysis: DocumentAnalysis, settings: CertopsSettings, context: ServiceContext = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const now = context.now ?? new Date();
  const add = (b: AnalyzedBlock, severity: DiagnosticSeverity, code: DiagnosticCode, message: string, extra: Partial<DiagnosticData> = {}) =>
    out.push({ range: b.range, severity, code, source: 'certops', message, data: { block: b.index, ...extra } satisfies DiagnosticData });

  if (analysis.truncated) {
    const t = analysis.truncated;
    out.push({
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: INFO,
      code: 'file-too-large',
      source: 'certops',
      message: `The file is larger than the size limit (${(t.totalBytes / 1048576).toFixed(1)} MiB > ${(t.limitBytes / 1048576).toFixed(1)} MiB, certops.limits.maxFileSizeMB): only the first ${analysis.blocks.length} blocks were analysed.`,
    });
  }

  for (const b of analysis.blocks) {
    for (const p of b.problems) add(b, ERROR, 'pem-malformed', `Malformed ${b.label}: ${p}.`);
    const c = b.certificate;
    if (c) certificateChecks(b, c, settings, now, add);
    const dupOf = analysis.chain.duplicates.get(b.index);
    if (dupOf !== undefined) add(b, WARNING, 'duplicate-certificate', `This certificate is identical to ${blockRef(dupOf)}.`);
    const k = b.privateKey;
    if (k?.encrypted) add(b, INFO, 'key-encrypted', `The private key is encrypted (${k.encryption ?? 'unknown cipher'}); it cannot be matched to a certificate without its passphrase.`);
    if (k && isWeakKey(k)) add(b, WARNING, 'key-weak', `Weak private key: ${keyLabel(k)} (RSA needs at least 2048 bits, EC at least 256).`);
    if (b.publicKey && isWeakKey(b.publicKey)) add(b, WARNING, 'key-weak', `Weak public key: ${keyLabel(b.publicKey)}.`);
    if (b.csr && isWeakKey(b.csr.publicKey)) add(b, WARNING, 'key-weak', `The request's key is weak: ${keyLabel(b.csr.publicKey)}.`);
  }

  chainChecks(analysis, context, add);
  overlapChecks(analysis, add);

  for (const p of pairKeys(analysis, context.siblings ?? [])) {
    if (p.status !== 'mismatch') continue;
    const where = p.sibling ? `${blockRef(p.certBlock)} of ${p.sibling.name}` : blockRef(p.certBlock);
    const owner = p.owner ? ` It belongs to ${blockRef(p.owner.certBlock)}${p.sibling ? ' of that file' : ''} (${p.owner.certSubject}), which a server does not pair it with.` : '';
    add(analysis.blocks[p.keyBlock], ERROR, 'key-mismatch', `This private key does not match the certificate it is paired with (${where}, ${p.certSubject}).${owner}`);
  }
  const leafPair = pairLeafWithSiblingKey(analysis, context.siblings ?? []);
  if (leafPair && !leafPair.match) {
    const owner = leafPair.owner ? ` It belongs to ${blockRef(leafPair.owner.certBlock)} (${leafPair.owner.certSubject}), but a server pairs the key with this certificate.` : '';
    add(analysis.blocks[leafPair.leaf], ERROR, 'key-mismatch', `The private key in ${leafPair.sibling.name} does not match this certificate.${owner}`);
  }

  if (context.fileMode !== undefined && (context.fileMode & 0o044) !== 0) {
    const key = analysis.blocks.find((b) => b.kind === 'privateKey');
    if (key) {
      const mode = (context.fileMode & 0o777).toString(8).padStart(3, '0');
      add(key, WARNING, 'key-permissions', `This private key file is readable by ${context.fileMode & 0o004 ? 'everyone' : 'its group'} (mode ${mode}); run chmod 600 on it.`);
    }
  }
  return out.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

type Add = (b: AnalyzedBlock, severity: DiagnosticSeverity, code: DiagnosticCode, message: string, extra?: Partial<DiagnosticData>) => void;

function certificateChecks(b: AnalyzedBlock, c: CertificateInfo, settings: CertopsSettings, now: Date, add: Add): void {
  for (const p of c.problems) {
    const text = `${p.field ? `${p.field}: ` : ''}${p.message}`;
    if (p.severity === 'error') add(b, ERROR, 'pem-malformed', `Malformed ${b.label}: ${text}.`);
    else add(b, WARNING, 'cert-nonconforming', `Non-conforming certificate: ${text}.`);
  }
  if (c.notAfter && c.notBefore) expiryChecks(b, c, c.notBefore, c.notAfter, settings, now, add);
  if (isWeakKey(c.publicKey)) add(b, WARNING, 'key-weak', `Weak key: ${keyLabel(c.publicKey)} (RSA needs at least 2048 bits, EC at least 256).`);
  if (!c.selfIssued && c.signatureHash && WEAK_HASHES.has(c.signatureHash)) {
    add(b, WARNING, 'signature-weak', `Weak signature algorithm ${c.signatureAlgorithm}: ${c.signatureHash.toUpperCase()} signatures are rejected by current clients.`);
  }
  if (!c.isCA && !c.selfIssued && c.sans.length === 0 && !c.problems.some((p) => p.field === 'subjectAltName')) {
    add(b, WARNING, 'san-missing', `${certName(c)} has no subjectAltName; browsers and most TLS clients ignore the CN and will reject it.`);
  }
}

function expiryChecks(b: AnalyzedBlock, c: CertificateInfo, notBefore: Date, notAfter: Date, settings: CertopsSettings, now: Date, add: Add): void {
  const days = daysUntil(notAfter, now);
  const when = `${notAfter.toISOString().slice(0, 10)}, ${relativeDays(notAfter, now)}`;
  if (notAfter.getTime() <= now.getTime()) add(b, ERROR, 'cert-expired', `${certName(c)} expired (${when}).`);
  else if (notBefore.getTime() > now.getTime()) {
    add(b, ERROR, 'cert-not-yet-valid', `${certName(c)} is not valid yet (from ${notBefore.toISOString().slice(0, 10)}, ${relativeDays(notBefore, now)}).`);
  } else if (days < settings.expiry.criticalDays) add(b, ERROR, 'cert-expiring-critical', `${certName(c)} expires ${when} (certops.expiry.criticalDays = ${settings.expiry.criticalDays}).`);
  else if (days < settings.expiry.warningDays) add(b, WARNING, 'cert-expiring', `${certName(c)} expires ${when} (certops.expiry.warningDays = ${settings.expiry.warningDays}).`);
}

function chainChecks(a: DocumentAnalysis, context: ServiceContext, add: Add): void {
  const { chain, blocks } = a;
  const cert = (i: number) => blocks[i].certificate as CertificateInfo;
  const limited = chain.limited;
  if (limited) {
    const n = limited.undecided.length;
    add(
      blocks[limited.undecided[0]],
      INFO,
      'chain-analysis-limited',
      `Chain analysis stopped: the certificates of this file name each other as issuer in ${limited.candidatePairs} candidate pairs, and ${limited.checked} signature checks (at most ${limited.failedLimit} that fail) left the issuer of ${n} certificate${n === 1 ? '' : 's'} undecided, from this one on: their issuers are not linked and the file is not checked as a chain.`,
    );
  }
  if (chain.mode === 'chain') {
    if (chain.order && chain.links.some((l) => l.status !== 'ok')) {
      const expected = chain.order.map((i) => i + 1).join(', ');
      add(blocks[chain.certificates[0]], WARNING, 'chain-order', `The certificates form a chain but not leaf first; servers must send them in the order blocks ${expected}.`, { order: chain.order });
    } else {
      for (const l of chain.links) {
        if (l.status === 'name') add(blocks[l.next], ERROR, 'chain-broken', `${blockRef(l.next)} (${certName(cert(l.next))}) did not issue the certificate before it (${blockRef(l.subject)}, issuer ${cert(l.subject).issuer}).`);
      }
    }
    for (const l of chain.links) {
      if (l.status === 'signature') add(blocks[l.subject], ERROR, 'chain-signature', `The names link to ${blockRef(l.next)}, but this certificate's signature does not verify with its key.`);
    }
  }
  const seq = chainSequence(a);
  if (seq.length === 0) return;
  // Pairs (subject, issuer) that are really linked: by the order, else by neighbours whose names link.
  const pairs: [number, number][] = chain.order
    ? chain.order.slice(0, -1).map((s, k) => [s, (chain.order as number[])[k + 1]])
    : chain.links.filter((l) => l.status !== 'name').map((l) => [l.subject, l.next]);
  for (const [s, i] of pairs) {
    const issuer = cert(i);
    if (!issuer.isCA) {
      const why = issuer.basicConstraints?.ca ? 'its key usage lacks keyCertSign' : 'it lacks basicConstraints CA:TRUE';
      add(blocks[i], ERROR, 'chain-issuer-not-ca', `This certificate issues ${blockRef(s)} but may not act as a CA: ${why}.`);
    }
  }
  const leaf = cert(seq[0]);
  for (let j = 1; j < seq.length; j++) {
    const c = cert(seq[j]);
    const pathLen = c.basicConstraints?.pathLen;
    if (pathLen !== undefined) {
      const below = seq.slice(1, j).filter((i) => !cert(i).selfIssued).length;
      if (below > pathLen) add(blocks[seq[j]], ERROR, 'chain-pathlen', `pathLenConstraint ${pathLen} allows ${pathLen} intermediate CA(s) below this one, but the chain has ${below}.`);
    }
    if (c.notAfter && leaf.notAfter && c.notAfter.getTime() < leaf.notAfter.getTime() && !leaf.selfIssued) {
      add(blocks[seq[j]], WARNING, 'chain-expires-before-leaf', `This issuer expires ${c.notAfter.toISOString().slice(0, 10)}, before the leaf (${leaf.notAfter.toISOString().slice(0, 10)}); the chain stops working then.`);
    }
  }
  const top = cert(seq[seq.length - 1]);
  const topBlock = blocks[seq[seq.length - 1]];
  if (chain.mode === 'chain' && seq.length >= 2 && top.selfIssued && !leaf.isCA && !leaf.selfIssued) {
    add(topBlock, INFO, 'chain-root-included', 'A self-signed root is included; clients must already trust it, so servers need not send it.');
  }
  if (context.trust && !top.selfIssued && !chain.issuerOf.has(topBlock.index) && !context.trust.contains(top) && !context.trust.findIssuer(top)) {
    add(topBlock, WARNING, 'chain-incomplete', `The issuer of this certificate (${top.issuer}) is neither in this file nor in the trust store (${context.trust.description}); add the intermediate certificate.`);
  }
}

/**
 * CAs that share a subject name (as names chain) but are different
 * certificates: the overlap bundle of a CA rotation. Each one that is not the
 * newest (by notBefore, then notAfter) says which block replaces it.
 * Cross-signs of a root in the group are not counted.
 */
function overlapChecks(a: DocumentAnalysis, add: Add): void {
  let left = MAX_OVERLAP_DIAGNOSTICS;
  const day = (d: Date) => d.toISOString().slice(0, 10);
  for (const group of a.chain.sameSubject) {
    // A self-signed CA's key signed by another CA is a cross-sign, another path to the same CA that stays: no overlap.
    const selfSignedKeys = new Set(group.map((i) => a.blocks[i].certificate as CertificateInfo).filter((c) => c.selfIssued).map((c) => c.spkiSha256));
    // A CA whose dates do not decode cannot be placed in time; pem-malformed already names it.
    const cas = group.filter((i) => {
      const c = a.blocks[i].certificate as CertificateInfo;
      return c.isCA && c.notBefore !== undefined && c.notAfter !== undefined && (c.selfIssued || !selfSignedKeys.has(c.spkiSha256));
    });
    if (cas.length < 2) continue;
    const cert = (i: number) => a.blocks[i].certificate as CertificateInfo & { notBefore: Date; notAfter: Date };
    const newest = cas.reduce((n, i) => (compareAge(cert(i), cert(n)) > 0 ? i : n));
    const top = cert(newest);
    for (const i of cas) {
      if (i === newest) continue;
      if (left-- === 0) return;
      const c = cert(i);
      const relation = compareAge(c, top) < 0 ? 'is older than' : 'has the same validity as';
      const dates = `from ${day(top.notBefore)}, expires ${day(top.notAfter)}`;
      const which = c.spkiSha256 === top.spkiSha256
        ? `(${dates}), a re-issue of the same CA with the same key: what either issued verifies with both`
        : `(${dates}, a new key)`;
      add(
        a.blocks[i],
        INFO,
        'ca-overlap',
        `${cas.length} CAs named ${c.subject || certName(c)}: this one (expires ${day(c.notAfter)}, SHA-256 ${c.sha256.slice(0, 16)}…) ${relation} ${blockRef(newest)} ${which}; the overlap of a CA rotation: remove it once every endpoint trusts the newer one.`,
      );
    }
  }
}

/** Positive when `x` is newer than `y`: the later notBefore, then the later notAfter. */
function compareAge(x: { notBefore: Date; notAfter: Date }, y: { notBefore: Date; notAfter: Date }): number {
  return x.notBefore.getTime() - y.notBefore.getTime() || x.notAfter.getTime() - y.notAfter.getTime();
}
