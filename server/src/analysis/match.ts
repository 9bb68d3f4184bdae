import { namesLink } from './issuance';
import type { AnalyzedBlock, CertificateInfo, DocumentAnalysis } from './model';
import { RAW } from './model';

/** A sibling file analysed for pairing. */
export interface SiblingDocument {
  /** Base name shown to the user, e.g. `server.key`. */
  name: string;
  uri: string;
  analysis: DocumentAnalysis;
}

/** The certificate a private key is paired with, and whether they match. */
export interface KeyPairing {
  keyBlock: number;
  /** `match`/`mismatch`: compared; `unknown`: the key is encrypted or its public half cannot be derived. */
  status: 'match' | 'mismatch' | 'unknown';
  /** Where the paired certificate is: `undefined` for this file, else the sibling. */
  sibling?: SiblingDocument;
  certBlock: number;
  certSubject: string;
  /** On a mismatch: another certificate of the paired file whose public key the key holds. */
  owner?: { certBlock: number; certSubject: string };
}

/**
 * Pairs each private key of `a` with a certificate: the certificate block in
 * the same file whose public key it holds, else the file's first certificate
 * block, else the certificate of the first sibling holding any that a server
 * would pair it with (`pairKeyWithCertificates`, as `certops match` decides).
 */
export function pairKeys(a: DocumentAnalysis, siblings: SiblingDocument[]): KeyPairing[] {
  const out: KeyPairing[] = [];
  // A key beside a PKCS#7 in one file is no server's pair (servers read PKCS#7 from files of their own): certificate blocks only.
  const own = documentCertificates(a).filter((c) => c.inner === undefined);
  const other = siblings.find((s) => documentCertificates(s.analysis).length > 0);
  for (const b of a.blocks) {
    const key = b.privateKey;
    if (!key) continue;
    const spki = key.spkiSha256;
    // In one file (a combined PEM, a kubeconfig holding several users) each key pairs with the certificate it fits.
    const same = spki ? own.find((c) => c.certificate.spkiSha256 === spki) : undefined;
    let pairing: Omit<KeyPairing, 'keyBlock'> | undefined;
    if (same) pairing = { status: 'match', certBlock: same.block.index, certSubject: same.certificate.subject };
    else if (own.length > 0) pairing = pairingWith(own, spki);
    else if (other) {
      const p = pairingWith(documentCertificates(other.analysis), spki);
      pairing = p && { ...p, sibling: other };
    }
    if (pairing) out.push({ keyBlock: b.index, ...pairing });
  }
  return out;
}

/** The pairing of a key with the certificates of a file, as `pairKeyWithCertificates` decides it; undefined when the file's leaf is ambiguous. */
function pairingWith(certificates: DocumentCertificate[], spki: string | undefined): Omit<KeyPairing, 'keyBlock'> | undefined {
  const verdict = pairKeyWithCertificates(certificates, spki);
  if (verdict.served.index === undefined) return undefined;
  const served = certificates[verdict.served.index];
  const owner = verdict.owner >= 0 && !verdict.match ? certificates[verdict.owner] : undefined;
  return {
    status: !spki ? 'unknown' : verdict.match ? 'match' : 'mismatch',
    certBlock: served.block.index,
    certSubject: served.certificate.subject,
    owner: owner && { certBlock: owner.block.index, certSubject: owner.certificate.subject },
  };
}

/** For a certificate file: the first unencrypted private key in its sibling key files, and whether it fits the certificate a server pairs it with. */
export function pairLeafWithSiblingKey(
  a: DocumentAnalysis,
  siblings: SiblingDocument[],
): { leaf: number; sibling: SiblingDocument; keyBlock: number; match: boolean; owner?: { certBlock: number; certSubject: string } } | undefined {
  if (a.blocks.some((b) => b.privateKey)) return undefined;
  const certificates = documentCertificates(a);
  if (certificates.length === 0) return undefined;
  for (const s of siblings) {
    const key = s.analysis.blocks.find((b) => b.privateKey?.spkiSha256);
    if (!key) continue;
    const p = pairingWith(certificates, key.privateKey?.spkiSha256);
    return p && { leaf: p.certBlock, sibling: s, keyBlock: key.index, match: p.status === 'match', owner: p.owner };
  }
  return undefined;
}

/** A certificate of a document: a certificate block, or one of the certificates inside a PKCS#7 block. */
export interface DocumentCertificate {
  block: AnalyzedBlock;
  /** Zero-based position among the PKCS#7 block's certificates; undefined for a certificate block. */
  inner?: number;
  certificate: CertificateInfo;
}

/** Every decoded certificate of a document in file order, those inside PKCS#7 blocks in their own order. */
export function documentCertificates(a: DocumentAnalysis): DocumentCertificate[] {
  const out: DocumentCertificate[] = [];
  for (const block of a.blocks) {
    if (block.certificate) out.push({ block, certificate: block.certificate });
    block.pkcs7?.certificates.forEach((certificate, inner) => out.push({ block, inner, certificate }));
  }
  return out;
}

/**
 * The certificate of a file that a server presents as its own and pairs the
 * private key with: `index` is its position among the file's certificates,
 * `from` says why. When it cannot be told, `index` is undefined and `leaves`
 * lists the candidates (see `servedCertificate`).
 */
export type ServedCertificate = { index: number; from: 'first' | 'leaf'; leaves?: undefined } | { index?: undefined; from: 'leaf'; leaves: number[] };

/** Name links looked at, at most, to find a PKCS#7's leaf; past it the leaf is not told (50 000 certificates of one name would ask billions). */
export const LEAF_SEARCH_LIMIT = 1_000_000;

/**
 * Which of `certificates` (a file's, from `documentCertificates`) a server uses
 * as its own: the first, as nginx, Apache and HAProxy read a PEM or DER file;
 * when the first comes from a PKCS#7, whose certificates are an unordered set,
 * the leaf among that PKCS#7's: the one that issues none of the others (by
 * name and key identifiers, as chain building links them). Copies of one
 * certificate count once. Several such leaves, or none (certificates issuing
 * each other), leave it ambiguous: `leaves` then holds the positions of the
 * candidates. Undefined when there is no certificate.
 */
export function servedCertificate(certificates: readonly DocumentCertificate[]): ServedCertificate | undefined {
  const first = certificates[0];
  if (!first) return undefined;
  if (first.inner === undefined) return { index: 0, from: 'first' };
  const seen = new Set<string>();
  const set: number[] = [];
  certificates.forEach((c, i) => {
    if (c.block !== first.block || seen.has(c.certificate.sha256)) return;
    seen.add(c.certificate.sha256);
    set.push(i);
  });
  // Only certificates whose subject is some other's issuer name can issue it: index those by name first.
  const bySubject = new Map<string, number[]>();
  for (const i of set) {
    const name = certificates[i].certificate[RAW].cert.subject?.key;
    if (name !== undefined) bySubject.set(name, [...(bySubject.get(name) ?? []), i]);
  }
  const issuers = new Set<number>();
  let budget = LEAF_SEARCH_LIMIT;
  for (const j of set) {
    const issuerName = certificates[j].certificate[RAW].cert.issuer?.key;
    for (const i of (issuerName !== undefined && bySubject.get(issuerName)) || []) {
      if (i === j || issuers.has(i)) continue;
      if (--budget < 0) return { from: 'leaf', leaves: [] };
      if (namesLink(certificates[i].certificate, certificates[j].certificate)) issuers.add(i);
    }
  }
  const leaves = set.filter((i) => !issuers.has(i));
  return leaves.length === 1 ? { index: leaves[0], from: 'leaf' } : { from: 'leaf', leaves };
}

/** How a private key pairs with the certificates of a file. */
export interface KeyVerdict {
  /** The certificate a server pairs the key with. */
  served: ServedCertificate;
  /** The position of the certificate whose public key the key holds (the served one when it does), or -1. */
  owner: number;
  /** The key is the served certificate's: a server accepts the pair. */
  match: boolean;
}

/**
 * The one decision "does this key pair with this file", for the editor's
 * `key-mismatch` and `certops match` alike: the key (its SPKI hash,
 * undefined when it cannot be derived) is compared with the certificate a
 * server pairs it with (`servedCertificate`), not with any certificate of the
 * file: a key that fits fullchain.pem's intermediate is still the wrong key.
 * `certificates` must not be empty.
 */
export function pairKeyWithCertificates(certificates: readonly DocumentCertificate[], spkiSha256: string | undefined): KeyVerdict {
  const served = servedCertificate(certificates) ?? { from: 'leaf', leaves: [] };
  const fits = (i: number) => spkiSha256 !== undefined && certificates[i].certificate.spkiSha256 === spkiSha256;
  const match = served.index !== undefined && fits(served.index);
  const owner = match ? (served.index as number) : certificates.findIndex((_, i) => fits(i));
  return { served, owner, match };
}
