/**
 * The one place chain checks ask "did this certificate issue that one?".
 * It delegates to the RFC 5280 module's `issued`; when that refuses an
 * algorithm on policy grounds (SHA-1, MD5, DSA, unusual parameters) the
 * signature is still checked here, so a weak-but-valid signature is reported
 * as `signature-weak` rather than as a broken chain.
 */
import { issued, loadCertificate, type Certificate } from '../validation';
import type { CertificateInfo } from './model';
import { RAW } from './model';
import { verifySignature } from './objects';

/** `ok`: issued; `name`: names or key identifiers do not link; `signature`: they link but the signature fails. */
export type IssuanceStatus = 'ok' | 'name' | 'signature';

const verified = new Map<string, IssuanceStatus>();
const strict = new WeakMap<CertificateInfo, Certificate | null>();

function strictCert(c: CertificateInfo): Certificate | null {
  let s = strict.get(c);
  if (s === undefined) {
    try {
      s = loadCertificate(c[RAW].der);
    } catch {
      s = null;
    }
    strict.set(c, s);
  }
  return s;
}

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
  const si = strictCert(issuer);
  const ss = strictCert(subject);
  if (si && ss) {
    const why = issued(si, ss);
    if (!why) return 'ok';
    if (why.code === 'no-path') return 'name';
    if (why.message === 'signature does not verify') return 'signature';
  }
  const s = subject[RAW];
  return verifySignature(s.tbs, s.signature, issuer[RAW].spki, { name: subject.signatureAlgorithm, hash: subject.signatureHash }) ? 'ok' : 'signature';
}

/** Name chaining as RFC 5280 6.1 does it, plus the key identifier check that tells apart CAs sharing a name. */
export function namesLink(issuer: CertificateInfo, subject: CertificateInfo): boolean {
  if (!subject[RAW].issuerName.equals(issuer[RAW].subjectName) && subject.issuer.toLowerCase() !== issuer.subject.toLowerCase()) return false;
  if (subject.authorityKeyId && issuer.subjectKeyId && subject.authorityKeyId !== issuer.subjectKeyId) return false;
  return true;
}
