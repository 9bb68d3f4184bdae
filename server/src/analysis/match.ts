import type { AnalyzedBlock, CertificateInfo, DocumentAnalysis } from './model';

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
}

/** The leaf of a document: the first of the leaf-first order, else the first certificate. */
export function leafBlock(a: DocumentAnalysis): AnalyzedBlock | undefined {
  const i = a.chain.order?.[0] ?? a.chain.certificates[0];
  return i === undefined ? undefined : a.blocks[i];
}

/**
 * Pairs each private key of `a` with a certificate: the certificate in the
 * same file whose public key it holds, else the file's leaf, else the leaf of
 * the first sibling that holds certificates.
 */
export function pairKeys(a: DocumentAnalysis, siblings: SiblingDocument[]): KeyPairing[] {
  const out: KeyPairing[] = [];
  for (const b of a.blocks) {
    const key = b.privateKey;
    if (!key) continue;
    const spki = key.spkiSha256;
    const same = spki ? a.blocks.find((c) => c.certificate?.spkiSha256 === spki) : undefined;
    let target: AnalyzedBlock | undefined = same ?? leafBlock(a);
    let sibling: SiblingDocument | undefined;
    if (!target) {
      for (const s of siblings) {
        // A sibling is paired by its leaf: a key that fits fullchain.pem's intermediate is still the wrong key.
        const found = leafBlock(s.analysis);
        if (found) {
          target = found;
          sibling = s;
          break;
        }
      }
    }
    if (!target?.certificate) continue;
    const status = !spki ? 'unknown' : spki === target.certificate.spkiSha256 ? 'match' : 'mismatch';
    out.push({ keyBlock: b.index, status, sibling, certBlock: target.index, certSubject: target.certificate.subject });
  }
  return out;
}

/** For a certificate file: the first unencrypted private key in its sibling key files, and whether it fits the leaf. */
export function pairLeafWithSiblingKey(a: DocumentAnalysis, siblings: SiblingDocument[]): { leaf: number; sibling: SiblingDocument; keyBlock: number; match: boolean } | undefined {
  const leaf = leafBlock(a);
  if (!leaf?.certificate || a.blocks.some((b) => b.privateKey)) return undefined;
  for (const s of siblings) {
    const key = s.analysis.blocks.find((b) => b.privateKey?.spkiSha256);
    if (key) return { leaf: leaf.index, sibling: s, keyBlock: key.index, match: key.privateKey?.spkiSha256 === leaf.certificate.spkiSha256 };
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
 * The position in `certificates` of the first one whose public key has the
 * SPKI hash `spkiSha256` (a private key's public half), or -1.
 */
export function certificateForKey(certificates: readonly { certificate: CertificateInfo }[], spkiSha256: string): number {
  return certificates.findIndex((c) => c.certificate.spkiSha256 === spkiSha256);
}
