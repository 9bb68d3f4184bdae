/**
 * The one place chain checks ask "did this certificate issue that one?".
 * Names link by the RFC 5280 §7.1 rule of server/src/x509/names (the same
 * comparison path validation uses), and the signature is checked by the one
 * verifier of server/src/x509/signature on the already decoded model. Weak
 * but valid signatures (SHA-1, MD5, DSA) count as issued, so that they are
 * reported as `signature-weak` rather than as a broken chain.
 */
import { verifySignature } from '../x509/signature';
import type { CertificateInfo } from './model';
import { RAW } from './model';

/** `ok`: issued; `name`: names or key identifiers do not link; `signature`: they link but the signature fails. */
export type IssuanceStatus = 'ok' | 'name' | 'signature';

const verified = new Map<string, IssuanceStatus>();

/** Whether `issuer` issued `subject`: issuer name and key identifiers link, and the signature verifies. */
export function checkIssued(issuer: CertificateInfo, subject: CertificateInfo): IssuanceStatus {
  if (!namesLink(issuer, subject)) return 'name';
  const key = subject.sha256 + issuer.sha256;
  let status = verified.get(key);
  if (status === undefined) {
    status = decide(issuer, subject);
    if (verified.size > 50_000) verified.clear();
    verified.set(key, status);
  }
  return status;
}

function decide(issuer: CertificateInfo, subject: CertificateInfo): IssuanceStatus {
  const s = subject[RAW].cert;
  if (!s.signatureAlg || s.signature.unused !== 0) return 'signature';
  return verifySignature(s.signatureAlg, issuer[RAW].cert.spki, s.tbs, s.signature.bytes, { weak: true }) === undefined ? 'ok' : 'signature';
}

/** Name chaining as RFC 5280 §6.1 does it (§7.1 comparison), plus the key identifier check that tells apart CAs sharing a name. */
export function namesLink(issuer: CertificateInfo, subject: CertificateInfo): boolean {
  const name = issuer[RAW].cert.subject;
  const wanted = subject[RAW].cert.issuer;
  if (!name || !wanted || name.key !== wanted.key) return false;
  if (subject.authorityKeyId && issuer.subjectKeyId && subject.authorityKeyId !== issuer.subjectKeyId) return false;
  return true;
}
