import { readFileSync, statSync } from 'node:fs';
import { scanPem } from '../pem/scanner';
import { decodeFileBytes } from '../pem/text';
import { decodeBlock } from './decode';
import { checkIssued } from './issuance';
import { CertificateInfo, RAW } from './model';

/** Where Debian, Ubuntu and Alpine keep the system roots. */
export const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Trust anchors indexed by subject name, to answer "is this certificate's issuer trusted?". */
export class TrustStore {
  private readonly bySubject = new Map<string, CertificateInfo[]>();
  /** Files that could not be read, with the reason. */
  readonly errors: string[] = [];

  constructor(certificates: CertificateInfo[] = []) {
    for (const c of certificates) this.add(c);
  }

  /** Adds an anchor. */
  add(c: CertificateInfo): void {
    const k = c[RAW].subjectName.toString('latin1');
    const list = this.bySubject.get(k);
    if (list) list.push(c);
    else this.bySubject.set(k, [c]);
  }

  /** Number of distinct subject names. */
  get size(): number {
    return this.bySubject.size;
  }

  /** The anchor that issued `cert` (names, key ids and signature agree), if any. */
  findIssuer(cert: CertificateInfo): CertificateInfo | undefined {
    return this.bySubject.get(cert[RAW].issuerName.toString('latin1'))?.find((c) => checkIssued(c, cert) === 'ok');
  }

  /** Whether `cert` itself is one of the anchors. */
  contains(cert: CertificateInfo): boolean {
    return this.bySubject.get(cert[RAW].subjectName.toString('latin1'))?.some((c) => c.sha256 === cert.sha256) ?? false;
  }
}

const loaded = new Map<string, { stamp: string; certs: CertificateInfo[] | string }>();

/** Reads PEM bundles into a trust store; files are re-read only when their size or mtime changes. Never throws. */
export function loadTrustStore(files: string[]): TrustStore {
  const store = new TrustStore();
  for (const file of files) {
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.size}:${st.mtimeMs}`;
    } catch (e) {
      store.errors.push(`${file}: ${(e as Error).message}`);
      continue;
    }
    let entry = loaded.get(file);
    if (!entry || entry.stamp !== stamp) {
      try {
        const certs = scanPem(decodeFileBytes(readFileSync(file)))
          .map((b) => decodeBlock(b).certificate)
          .filter((c): c is CertificateInfo => c !== undefined);
        entry = { stamp, certs };
      } catch (e) {
        entry = { stamp, certs: (e as Error).message };
      }
      loaded.set(file, entry);
    }
    if (typeof entry.certs === 'string') store.errors.push(`${file}: ${entry.certs}`);
    else for (const c of entry.certs) store.add(c);
  }
  return store;
}
