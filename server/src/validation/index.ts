/**
 * RFC 5280 §6 certification path validation, pure and synchronous (no
 * network, no VS Code). The profile is the Web PKI one: RFC 5280 plus the
 * CA/Browser Forum rules, with host names checked per RFC 6125/9525.
 *
 * Failure codes (stable, kebab-case; see ERROR_CODES):
 *   malformed                  certificate/CRL/input is not well-formed X.509
 *   profile-violation          v1/v2 certificate, bad serial, empty issuer/CA subject, signature algorithm fields differ
 *   invalid-extension          extension missing/forbidden, wrong criticality or inconsistent content
 *   unknown-critical-extension critical extension that is not processed
 *   unsupported-algorithm      signature or key algorithm not accepted (SHA-1, DSA, ...)
 *   weak-key                   RSA < 2048 bits or not a multiple of 8; EC off P-256/384/521
 *   signature-invalid          a signature does not verify with the issuer key
 *   expired / not-yet-valid    validity period, compared to the second (validation time floored)
 *   issuer-not-ca              an issuer without basicConstraints cA=TRUE
 *   path-length-exceeded       pathLenConstraint violated (self-issued intermediates not counted)
 *   key-usage                  keyCertSign missing on an issuer, present on the leaf, or a requested bit missing
 *   eku-mismatch               extendedKeyUsage does not allow the requested purpose
 *   name-constraint-violation  a name falls outside permitted or inside excluded subtrees
 *   hostname-mismatch          the peer name is not covered by the leaf's subjectAltName
 *   no-path                    no issuer found for some certificate
 *   untrusted                  the path ends at a self-signed certificate that is not a trust anchor
 *   revoked                    a supplied CRL lists the certificate
 *   crl-invalid                a supplied CRL from the issuer cannot be used
 *   depth-exceeded             more intermediates than maxDepth would be needed
 *   work-limit-exceeded        path building/name constraints hit their work bound (hostile input)
 */
import { createHash } from 'node:crypto';
import { Certificate, DecodedCertificate, parseCertificate, strictCertificate, toDer } from '../x509/certificate';
import { ERROR_CODES as E, ErrorCode, ValidationError, err } from './codes';
import { Crl, parseCrl } from './crl';
import { PeerName, matchesHostname } from './hostname';
import { LIMITS, buildPath, issuedBy } from './path';
import { EKU_OIDS, Role, caProblems, commonNameProblems, leafProblems } from './profile';

export { ERROR_CODES } from './codes';
export type { ErrorCode, ValidationError } from './codes';
export type { DecodedCertificate } from '../x509/certificate';
export type { Certificate } from '../x509/certificate';
export { parseCertificate, toDer, hasKeyUsage } from '../x509/certificate';
export { KEY_USAGE_BITS as KU_BITS } from '../der/oids';
export { matchesHostname, parseIp, isValidDnsName } from './hostname';
export type { PeerName } from './hostname';
export { isSelfIssued, basicConstraints, isCa, EKU_OIDS } from './profile';
export type { Role } from './profile';
export { LIMITS } from './path';
export { DerError } from '../der';

export interface ValidationOptions {
  /** The end-entity certificate, DER or PEM. */
  leaf: CertificateInput;
  /** Trust anchors (PEM or DER); the caller supplies the system store when it wants it. */
  roots: CertificateInput[];
  /** Untrusted certificates that may be used to build the path. */
  intermediates: CertificateInput[];
  /** Identity the leaf must cover; null/undefined skips the check. */
  peerName?: PeerName | null;
  /** Validation time; defaults to now. Fractions of a second are floored. */
  at?: Date | null;
  /** Purposes by name ('serverAuth', 'clientAuth', ...) or OID; empty/undefined means any. */
  extendedKeyUsage?: string[];
  /** keyUsage bits the leaf must assert when it has a keyUsage extension (e.g. 'digitalSignature'). */
  keyUsage?: string[];
  /** Maximum number of non-self-issued intermediates; default 8. */
  maxDepth?: number | null;
  /** CRLs (PEM or DER) to check revocation against. */
  crls?: (Uint8Array | string)[];
}

export interface ValidationResult {
  valid: boolean;
  /** SHA-256 (lowercase hex) of each certificate of the path found, leaf first; just the leaf when none was found. */
  chain: string[];
  errors: { code: string; message: string }[];
}

/**
 * A certificate as DER, PEM, or already decoded by server/src/x509 (as the
 * display model carries it), so that a caller holding the model does not
 * parse the certificate again.
 */
export type CertificateInput = Uint8Array | string | DecodedCertificate;

function isDecoded(input: CertificateInput): input is DecodedCertificate {
  return typeof input === 'object' && 'problems' in input && 'fingerprint' in input;
}

/** Parses a certificate from PEM or DER (or narrows a decoded one); throws DerError when it is not well-formed. */
export function loadCertificate(input: CertificateInput): Certificate {
  return isDecoded(input) ? strictCertificate(input) : parseCertificate(toDer(input));
}

function tryLoad(inputs: readonly CertificateInput[]): Certificate[] {
  const out: Certificate[] = [];
  for (const i of inputs) {
    try {
      out.push(loadCertificate(i));
    } catch {
      // An unparseable extra certificate must not break paths that do not need it.
    }
  }
  return out;
}

function dedupe(errors: ValidationError[]): ValidationError[] {
  const seen = new Set<string>();
  return errors.filter((e) => (seen.has(e.code + e.message) ? false : (seen.add(e.code + e.message), true)));
}

/**
 * Whether `issuer` issued `subject`: names chain and the signature verifies.
 * Returns undefined on success, or the reason.
 */
export function issued(issuer: Certificate, subject: Certificate): { code: ErrorCode; message: string } | undefined {
  const why = issuedBy(issuer, subject);
  if (!why) return undefined;
  return err(why === 'issuer name does not match' ? E.NO_PATH : E.SIGNATURE_INVALID, why);
}

/**
 * The problems of one certificate in a given role, without any path context:
 * the same profile checks validatePath applies (validity, extensions, keys,
 * basicConstraints/keyUsage for issuers), for file-order chain diagnostics.
 */
export function certificateProblems(cert: Certificate, role: Role, opts: { at?: Date | null; extendedKeyUsage?: string[] } = {}): ValidationError[] {
  const policy = {
    at: Math.floor((opts.at ?? new Date()).getTime() / 1000),
    eku: (opts.extendedKeyUsage ?? []).map((n) => EKU_OIDS[n] ?? n),
    keyUsage: [],
  };
  return role === 'leaf' ? leafProblems(cert, policy) : caProblems(cert, role, policy);
}

/** Validates the leaf against the roots per RFC 5280 §6 and the Web PKI profile. */
export function validatePath(opts: ValidationOptions): ValidationResult {
  let leafDer: Uint8Array;
  let leaf: Certificate;
  // A decoded model is used as it is: its problems decide whether it is malformed.
  if (isDecoded(opts.leaf)) {
    try {
      leaf = strictCertificate(opts.leaf);
    } catch (e) {
      return { valid: false, chain: [opts.leaf.fingerprint], errors: [err(E.MALFORMED, `leaf: ${(e as Error).message}`)] };
    }
    return validateParsed(leaf, opts);
  }
  try {
    leafDer = toDer(opts.leaf);
  } catch (e) {
    return { valid: false, chain: [], errors: [err(E.MALFORMED, `leaf: ${(e as Error).message}`)] };
  }
  try {
    leaf = parseCertificate(leafDer);
  } catch (e) {
    // Any failure to decode, not only DerError, means the input is not a usable certificate.
    const fp = createHash('sha256').update(leafDer).digest('hex');
    return { valid: false, chain: [fp], errors: [err(E.MALFORMED, `leaf: ${(e as Error).message}`)] };
  }
  return validateParsed(leaf, opts);
}

function validateParsed(leaf: Certificate, opts: ValidationOptions): ValidationResult {
  const crls: Crl[] = [];
  const errors: ValidationError[] = [];
  for (const c of opts.crls ?? []) {
    try {
      crls.push(parseCrl(toDer(c, 'X509 CRL')));
    } catch (e) {
      errors.push(err(E.CRL_INVALID, `unparseable CRL: ${(e as Error).message}`));
    }
  }
  const at = Math.floor((opts.at ?? new Date()).getTime() / 1000);
  const eku = (opts.extendedKeyUsage ?? []).map((n) => EKU_OIDS[n] ?? n);
  const policy = { at, eku, keyUsage: opts.keyUsage ?? [] };
  const anchors = tryLoad(opts.roots);
  const intermediates = tryLoad(opts.intermediates);
  const leafIsAnchor = anchors.some((a) => a.fingerprint === leaf.fingerprint);
  errors.push(...leafProblems(leaf, policy, leafIsAnchor));
  if (opts.peerName) {
    errors.push(...commonNameProblems(leaf));
    if (!leaf.subjectAltName) errors.push(err(E.HOSTNAME_MISMATCH, 'the leaf has no subjectAltName'));
    else if (!matchesHostname(leaf, opts.peerName)) {
      errors.push(err(E.HOSTNAME_MISMATCH, `${opts.peerName.value} is not among the leaf's subjectAltName entries`));
    }
  }
  let chain = [leaf.fingerprint];
  if (!leafIsAnchor) {
    const maxDepth = opts.maxDepth ?? LIMITS.defaultMaxDepth;
    const built = buildPath({ leaf, anchors, intermediates, policy, maxDepth, crls });
    if (built.path) chain = built.path.map((c) => c.fingerprint);
    else errors.push(...built.errors);
  }
  const out = dedupe(errors);
  return { valid: out.length === 0, chain, errors: out };
}
