/**
 * Stable failure codes. Tools, diagnostics and tests match on these strings,
 * so a code is never renamed or reused for a different reason.
 */
export const ERROR_CODES = {
  /** A certificate, CRL or input is not well-formed DER/PEM X.509. */
  MALFORMED: 'malformed',
  /** Version, serial number, empty names or mismatched signature algorithm fields break the RFC 5280 profile. */
  PROFILE_VIOLATION: 'profile-violation',
  /** An extension is missing where required, present where forbidden, has the wrong criticality or inconsistent content. */
  INVALID_EXTENSION: 'invalid-extension',
  /** A critical extension this validator does not process. */
  UNKNOWN_CRITICAL_EXTENSION: 'unknown-critical-extension',
  /** Signature or public key algorithm not accepted (e.g. SHA-1, DSA). */
  UNSUPPORTED_ALGORITHM: 'unsupported-algorithm',
  /** RSA under 2048 bits or not a multiple of 8, EC keys off the P-256/384/521 named curves. */
  WEAK_KEY: 'weak-key',
  SIGNATURE_INVALID: 'signature-invalid',
  EXPIRED: 'expired',
  NOT_YET_VALID: 'not-yet-valid',
  /** An issuer lacks basicConstraints cA=TRUE. */
  ISSUER_NOT_CA: 'issuer-not-ca',
  PATH_LENGTH_EXCEEDED: 'path-length-exceeded',
  /** keyUsage forbids the use: an issuer without keyCertSign, a leaf with keyCertSign, a missing requested bit. */
  KEY_USAGE: 'key-usage',
  EKU_MISMATCH: 'eku-mismatch',
  NAME_CONSTRAINT_VIOLATION: 'name-constraint-violation',
  HOSTNAME_MISMATCH: 'hostname-mismatch',
  /** No issuer for some certificate could be found among the roots and intermediates. */
  NO_PATH: 'no-path',
  /** The path ends in a self-signed certificate that is not a trust anchor. */
  UNTRUSTED: 'untrusted',
  REVOKED: 'revoked',
  /** A CRL from the issuer is unusable (bad signature, no cRLSign, missing or critical CRL number...). */
  CRL_INVALID: 'crl-invalid',
  /** The path would need more intermediates than `maxDepth` allows. */
  DEPTH_EXCEEDED: 'depth-exceeded',
  /** Path building or name-constraint checking hit its work bound (hostile input). */
  WORK_LIMIT_EXCEEDED: 'work-limit-exceeded',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export interface ValidationError {
  code: ErrorCode;
  message: string;
}

export function err(code: ErrorCode, message: string): ValidationError {
  return { code, message };
}
