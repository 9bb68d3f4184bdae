import { X509Certificate } from 'node:crypto';

/** What the editor and the CLI show about one certificate. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  sha256: string;
}

/** Decodes a DER certificate; throws an Error naming the problem when it does not parse. */
export function summarizeCertificate(der: Uint8Array): CertificateSummary {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (e) {
    throw new Error(`not a valid X.509 certificate (${(e as Error).message})`, { cause: e });
  }
  return {
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/** Node prints names one attribute per line, most general first; operators read them on one line. */
function oneLineName(name: string): string {
  return name.split('\n').filter(Boolean).reverse().join(', ');
}

/** Whole days from `now` until `date` (negative once it has passed). */
export function daysUntil(date: Date, now: Date): number {
  return Math.floor((date.getTime() - now.getTime()) / 86_400_000);
}
