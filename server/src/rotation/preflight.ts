/**
 * Local preflight: everything about the new files that can be judged before
 * anything on the host changes. The engine's own decoder and validator do
 * the work (analyzeDocument, validatePath, matchesHostname); nothing here
 * parses DER by itself.
 */
import { isIP } from 'node:net';
import { analyzeDocument, AnalyzedBlock, CertificateInfo, decodeFileBytes, DocumentAnalysis, RAW } from '../analysis';
import { documentCertificates, servedCertificate } from '../analysis/match';
import { loadCertificate, matchesHostname, validatePath } from '../validation';

/** The files an operator hands to a rotation, as bytes; the key never leaves memory except to the host. */
export interface NewFiles {
  cert: Buffer;
  key?: Buffer;
  ca?: Buffer;
  /** Where each came from, for messages. */
  names: { cert: string; key?: string; ca?: string };
}

/** Public facts of a certificate, as rotation records them. */
export interface CertFacts {
  subject: string;
  sha256: string;
  spkiSha256: string;
  notBefore: string;
  notAfter: string;
  sans: string[];
}

/** One finding of a preflight. Errors refuse the rotation; warnings refuse it unless overridden. */
export interface Finding {
  severity: 'error' | 'warning';
  code:
    | 'cert-unreadable' | 'key-unreadable' | 'key-encrypted' | 'key-mismatch' | 'ca-unreadable'
    | 'chain-invalid' | 'name-mismatch' | 'not-yet-valid' | 'expired' | 'expires-earlier' | 'remote' | 'locked' | 'served-differs';
  message: string;
}

/** What the local preflight learnt. */
export interface LocalPreflight {
  findings: Finding[];
  /** The new leaf, when it parsed. */
  leaf?: CertFacts;
  /** SHA-256 of each certificate of the new certificate file, in file order. */
  certChain: string[];
  /** DER of the certificates in the new CA file, when one was given. */
  caCerts: Buffer[];
}

/** Facts of a decoded certificate, as recorded in plans and evidence. */
export function certFacts(c: CertificateInfo): CertFacts {
  return {
    subject: c.subject,
    sha256: c.sha256,
    spkiSha256: c.spkiSha256,
    notBefore: c.notBefore?.toISOString() ?? 'invalid',
    notAfter: c.notAfter?.toISOString() ?? 'invalid',
    sans: c.sans.map((s) => `${s.type.toUpperCase()}:${s.value}`),
  };
}

function analyse(bytes: Buffer): DocumentAnalysis {
  return analyzeDocument(decodeFileBytes(bytes));
}

function certificates(a: DocumentAnalysis): CertificateInfo[] {
  return a.blocks.filter((b): b is AnalyzedBlock & { certificate: CertificateInfo } => b.certificate !== undefined).map((b) => b.certificate);
}

/** The DER of every certificate of a file (a CA file may hold several anchors, as an overlap bundle does). */
export function certificatesDer(bytes: Buffer): Buffer[] {
  return certificates(analyse(bytes)).map((c) => c[RAW].der);
}

/** The certificate a server presents from a file and pairs the key with: the first of a PEM or DER file, the leaf of a PKCS#7. */
function servedLeaf(a: DocumentAnalysis): CertificateInfo | undefined {
  const certs = documentCertificates(a);
  const served = servedCertificate(certs);
  return served?.index === undefined ? undefined : certs[served.index].certificate;
}

/** The leaf of a certificate file, as a server reads it (see servedLeaf). */
export function leafOf(bytes: Buffer): CertificateInfo | undefined {
  return servedLeaf(analyse(bytes));
}

/**
 * Checks the new certificate, key and CA files: they parse, the key is the
 * certificate's, the certificate is valid now and covers `servername`.
 * Chain trust is judged by checkChain once the roots are known.
 */
export function localPreflight(files: NewFiles, opts: { servername?: string; now: Date }): LocalPreflight {
  const findings: Finding[] = [];
  const out: LocalPreflight = { findings, certChain: [], caCerts: [] };
  const certDoc = analyse(files.cert);
  // A certificate with a field that does not decode (an impossible date, say) is as unusable as one that does not parse.
  const broken = certDoc.blocks.find((b) => b.kind === 'certificate' && (!b.certificate || b.certificate.problems.some((p) => p.severity === 'error')));
  const leafCert = servedLeaf(certDoc);
  if (broken || !leafCert) {
    const problem = broken && (broken.problems[0] ?? broken.certificate?.problems.find((p) => p.severity === 'error')?.message);
    const why = broken ? `line ${broken.range.start.line + 1}: ${problem ?? 'not a valid certificate'}` : 'no certificate in the file';
    findings.push({ severity: 'error', code: 'cert-unreadable', message: `${files.names.cert}: ${why}` });
    return out;
  }
  out.leaf = certFacts(leafCert);
  out.certChain = certificates(certDoc).map((c) => c.sha256);
  if (certDoc.blocks.some((b) => b.kind === 'privateKey')) {
    findings.push({ severity: 'error', code: 'cert-unreadable', message: `${files.names.cert}: holds a private key; pass the key with --key and keep certificate files free of keys` });
  }

  if (files.key) {
    const keyBlock = analyse(files.key).blocks.find((b) => b.kind === 'privateKey');
    const key = keyBlock?.privateKey;
    if (!keyBlock || !key) {
      findings.push({ severity: 'error', code: 'key-unreadable', message: `${files.names.key}: ${keyBlock?.problems[0] ?? 'no private key in the file'}` });
    } else if (key.encrypted) {
      findings.push({ severity: 'error', code: 'key-encrypted', message: `${files.names.key}: the private key is encrypted; a server cannot load it unattended` });
    } else if (!key.spkiSha256) {
      findings.push({ severity: 'error', code: 'key-unreadable', message: `${files.names.key}: the public half of the key cannot be derived` });
    } else if (key.spkiSha256 !== leafCert.spkiSha256) {
      findings.push({
        severity: 'error',
        code: 'key-mismatch',
        message: `${files.names.key} is not the private key of ${files.names.cert} (key spki ${key.spkiSha256}, certificate spki ${leafCert.spkiSha256})`,
      });
    }
  }

  if (files.ca) {
    const caDoc = analyse(files.ca);
    const cas = certificates(caDoc);
    if (cas.length === 0 || caDoc.blocks.some((b) => b.kind === 'certificate' && !b.certificate)) {
      findings.push({ severity: 'error', code: 'ca-unreadable', message: `${files.names.ca}: not a readable CA certificate file` });
    }
    out.caCerts = cas.map((c) => c[RAW].der);
  }

  const now = opts.now.getTime();
  if (!leafCert.notBefore || !leafCert.notAfter) {
    findings.push({ severity: 'error', code: 'cert-unreadable', message: `${files.names.cert}: the validity dates of ${leafCert.subject} do not decode` });
    return out;
  }
  if (leafCert.notBefore.getTime() > now) {
    findings.push({ severity: 'error', code: 'not-yet-valid', message: `${files.names.cert}: not valid before ${leafCert.notBefore.toISOString()}` });
  }
  if (leafCert.notAfter.getTime() <= now) {
    findings.push({ severity: 'error', code: 'expired', message: `${files.names.cert}: expired ${leafCert.notAfter.toISOString()}` });
  }
  if (opts.servername) {
    const bare = opts.servername.replace(/^\[(.*)\]$/, '$1');
    const name = { kind: isIP(bare) ? ('IP' as const) : ('DNS' as const), value: bare };
    if (!matchesHostname(loadCertificate(leafCert[RAW].der), name)) {
      findings.push({ severity: 'error', code: 'name-mismatch', message: `${files.names.cert}: ${bare} is not among the certificate's subjectAltName entries (${out.leaf.sans.join(', ') || 'none'})` });
    }
  }
  return out;
}

/**
 * Path validation of the new certificate file for serverAuth: its other
 * certificates are intermediates; the roots are the CA file to be placed,
 * else the endpoint's current CA file, else the file's own self-signed root,
 * else `fallbackRoots` (the system store).
 */
export function checkChain(files: NewFiles, opts: { roots: { source: string; certs: Buffer[] }[]; fallback?: { source: string; certs: Buffer[] }; now: Date }): Finding | undefined {
  const certs = certificates(analyse(files.cert));
  const leaf = leafOf(files.cert);
  if (!leaf) return undefined;
  const others = certs.filter((c) => c.sha256 !== leaf.sha256);
  const ownRoots = others.filter((c) => c.selfIssued).map((c) => c[RAW].der);
  const candidates = [...opts.roots, { source: `the root in ${files.names.cert}`, certs: ownRoots }, ...(opts.fallback ? [opts.fallback] : [])].filter((r) => r.certs.length > 0);
  const chosen = candidates[0];
  if (!chosen) {
    return { severity: 'error', code: 'chain-invalid', message: `${files.names.cert}: no trust anchor to verify the chain against (pass --ca FILE)` };
  }
  const result = validatePath({
    leaf: leaf[RAW].der,
    intermediates: others.map((c) => c[RAW].der),
    roots: chosen.certs,
    at: opts.now,
    extendedKeyUsage: ['serverAuth'],
  });
  if (result.valid) return undefined;
  const first = result.errors[0];
  return { severity: 'error', code: 'chain-invalid', message: `${files.names.cert}: the chain does not verify against ${chosen.source}: ${first.code}: ${first.message}` };
}

/** A warning when the new certificate would expire before the one it replaces. */
export function checkExpiry(newLeaf: CertFacts, current: CertFacts | undefined): Finding | undefined {
  if (!current || Date.parse(newLeaf.notAfter) >= Date.parse(current.notAfter)) return undefined;
  return {
    severity: 'warning',
    code: 'expires-earlier',
    message: `the new certificate expires ${newLeaf.notAfter}, before the current one (${current.notAfter}); pass --allow-earlier-expiry to rotate anyway`,
  };
}
