/**
 * Per-certificate checks that do not depend on the rest of the path: the
 * RFC 5280 profile plus the CA/Browser Forum rules the Web PKI relies on.
 * A certificate is checked in one of three roles, since the rules differ for
 * the leaf, for intermediates and for trust anchors.
 */
import { EKU_NAMES } from '../der/oids';
import { Certificate, EXT, UNDERSTOOD_EXTENSIONS, extension, hasKeyUsage } from '../x509/certificate';
import { ERROR_CODES as E, ValidationError, err } from './codes';
import { constraintsProblem } from './constraints';
import { formatIp, parseIpLenient, referenceHostname } from './hostname';
import { OID_CN, attributes, nameIsEmpty, namesEqual } from '../x509/names';
import { keyPolicyProblem, publicKey, signatureScheme } from '../x509/signature';
import { PublicSuffixList, isPublicSuffix, systemPublicSuffixList } from './suffix';

export type Role = 'leaf' | 'intermediate' | 'anchor';

/** Extended key usage OIDs by name ('serverAuth', ...), for callers that name the purpose they want. */
export const EKU_OIDS: Record<string, string> = Object.fromEntries(Object.entries(EKU_NAMES).map(([oid, name]) => [name, oid]));
export const ANY_EKU = '2.5.29.37.0';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/** Whether subject and issuer names are equal (RFC 5280 "self-issued"). */
export function isSelfIssued(cert: Certificate): boolean {
  return namesEqual(cert.subject, cert.issuer);
}

/** The cA flag and path length, or undefined when basicConstraints is absent. */
export function basicConstraints(cert: Certificate): { ca: boolean; pathLen: number | undefined } | undefined {
  return cert.basicConstraints;
}

export function isCa(cert: Certificate): boolean {
  return cert.basicConstraints?.ca === true;
}

export interface PolicyOptions {
  /** Validation time in whole epoch seconds (fractions floored). */
  readonly at: number;
  /** Required EKU OIDs; empty means any purpose. */
  readonly eku: readonly string[];
  /** keyUsage bits the leaf must assert when it has a keyUsage extension. */
  readonly keyUsage: readonly string[];
}

/** Problems shared by every role: encoding profile, key and signature algorithms, extensions. */
function commonProblems(c: Certificate, role: Role): ValidationError[] {
  const out: ValidationError[] = [];
  if (c.version !== 3) out.push(err(E.PROFILE_VIOLATION, `version ${c.version} certificate (only v3 is accepted)`));
  const s = c.serial;
  // Trust anchors are trusted by configuration; old roots (serial 0 and the like) stay usable.
  if (role === 'anchor') { /* serial profile not enforced */ } else if (s[0] & 0x80) out.push(err(E.PROFILE_VIOLATION, 'negative serial number'));
  else if (s.every((b) => b === 0)) out.push(err(E.PROFILE_VIOLATION, 'zero serial number'));
  else if (s.length - (s[0] === 0 ? 1 : 0) > 20) out.push(err(E.PROFILE_VIOLATION, 'serial number longer than 20 octets'));
  if (!Buffer.from(c.signatureAlg.der).equals(Buffer.from(c.tbsSignatureAlg.der))) {
    out.push(err(E.PROFILE_VIOLATION, 'signatureAlgorithm differs from the TBS signature field'));
  }
  if (nameIsEmpty(c.issuer)) out.push(err(E.PROFILE_VIOLATION, 'empty issuer name'));
  if (role !== 'leaf' && nameIsEmpty(c.subject)) out.push(err(E.PROFILE_VIOLATION, 'CA certificate with an empty subject'));
  if (c.duplicateExtensions) out.push(err(E.MALFORMED, 'an extension appears more than once'));
  for (const x of c.extensions) {
    if (x.critical && !UNDERSTOOD_EXTENSIONS.has(x.oid)) out.push(err(E.UNKNOWN_CRITICAL_EXTENSION, `unknown critical extension ${x.oid}`));
  }
  const crit = (oid: string, want: boolean, label: string) => {
    const x = extension(c, oid);
    if (x && x.critical !== want) out.push(err(E.INVALID_EXTENSION, `${label} must be ${want ? '' : 'non-'}critical`));
  };
  crit(EXT.SKI, false, 'subjectKeyIdentifier');
  crit(EXT.AKI, false, 'authorityKeyIdentifier');
  crit(EXT.AIA, false, 'authorityInfoAccess');
  crit(EXT.POLICY_CONSTRAINTS, true, 'policyConstraints');
  crit(EXT.POLICY_MAPPINGS, true, 'policyMappings');
  crit(EXT.INHIBIT_ANY, true, 'inhibitAnyPolicy');
  const aki = c.authorityKeyId;
  if (aki) {
    if (!aki.keyId) out.push(err(E.INVALID_EXTENSION, 'authorityKeyIdentifier without keyIdentifier'));
    if (aki.hasIssuer || aki.hasSerial) out.push(err(E.INVALID_EXTENSION, 'authorityKeyIdentifier must not carry authorityCertIssuer/SerialNumber'));
  }
  const key = keyPolicyProblem(c.spkiAlg, publicKey(c.spki) ?? undefined);
  if (key) out.push(err(key.code, key.message));
  if (role !== 'anchor') {
    const sch = signatureScheme(c.signatureAlg);
    if (!sch.ok) out.push(err(E.UNSUPPORTED_ALGORITHM, sch.reason));
  }
  return out;
}

export function validityProblems(c: Certificate, at: number): ValidationError[] {
  if (at < c.notBefore) return [err(E.NOT_YET_VALID, `not valid before ${new Date(c.notBefore * 1000).toISOString()}`)];
  if (at > c.notAfter) return [err(E.EXPIRED, `expired at ${new Date(c.notAfter * 1000).toISOString()}`)];
  return [];
}

function ekuProblems(c: Certificate, wanted: readonly string[], leaf: boolean): ValidationError[] {
  if (!c.extKeyUsage || wanted.length === 0) return [];
  const have = new Set(c.extKeyUsage);
  // The CA/B Forum forbids anyExtendedKeyUsage in subscriber certificates, so it only stands in for a purpose on CAs.
  const missing = wanted.filter((w) => !have.has(w) && (leaf || !have.has(ANY_EKU)));
  return missing.length ? [err(E.EKU_MISMATCH, `extendedKeyUsage lacks ${missing.join(', ')}`)] : [];
}

/** Checks that apply to the end-entity certificate. */
export function leafProblems(c: Certificate, opts: PolicyOptions, asAnchor = false): ValidationError[] {
  const out = commonProblems(c, 'leaf');
  out.push(...validityProblems(c, opts.at));
  if (!c.authorityKeyId && !asAnchor && !isSelfIssued(c)) out.push(err(E.INVALID_EXTENSION, 'authorityKeyIdentifier is missing'));
  // RFC 5280 lets a CA certificate be the target of a path, but only a consistent one (§4.2.1.3, §4.2.1.9).
  const ca = c.basicConstraints?.ca === true;
  if (ca && c.keyUsage !== undefined && !hasKeyUsage(c, 'keyCertSign')) out.push(err(E.INVALID_EXTENSION, 'basicConstraints cA=TRUE without keyCertSign'));
  // CA/B Forum BR 7.1.2.7.8: a TLS server certificate is a subscriber certificate, never a CA (RFC 5280 alone would allow it).
  else if (ca && !asAnchor && opts.eku.includes(SERVER_AUTH)) out.push(err(E.INVALID_EXTENSION, 'a CA certificate (basicConstraints cA=TRUE) as the TLS server certificate'));
  if (!ca && hasKeyUsage(c, 'keyCertSign')) out.push(err(E.KEY_USAGE, 'keyCertSign asserted without basicConstraints cA=TRUE'));
  if (c.keyUsage !== undefined) {
    const missing = opts.keyUsage.filter((k) => !hasKeyUsage(c, k as 'digitalSignature'));
    if (missing.length) out.push(err(E.KEY_USAGE, `keyUsage lacks ${missing.join(', ')}`));
  }
  if (c.nameConstraints) out.push(err(E.INVALID_EXTENSION, 'nameConstraints in an end-entity certificate'));
  const san = extension(c, EXT.SAN);
  if (san) {
    const empty = nameIsEmpty(c.subject);
    if (empty && !san.critical) out.push(err(E.INVALID_EXTENSION, 'subjectAltName must be critical when the subject is empty'));
    if (!empty && san.critical) out.push(err(E.INVALID_EXTENSION, 'subjectAltName must not be critical when the subject is non-empty'));
  } else if (nameIsEmpty(c.subject)) out.push(err(E.PROFILE_VIOLATION, 'empty subject without subjectAltName'));
  // CA/B Forum BR 3.2.2.6: no wildcard over a registry-controlled or public suffix.
  const psl = systemPublicSuffixList();
  for (const g of psl ? (c.subjectAltName ?? []) : []) {
    if (g.kind === 'dns' && g.value.startsWith('*.') && isPublicSuffix(g.value.slice(2), psl as PublicSuffixList)) {
      out.push(err(E.INVALID_EXTENSION, `wildcard dNSName "${g.value}" covers the public suffix ${g.value.slice(2)}`));
    }
  }
  const eku = extension(c, EXT.EKU);
  if (eku?.critical) out.push(err(E.INVALID_EXTENSION, 'extendedKeyUsage must not be critical in an end-entity certificate'));
  if (c.extKeyUsage?.includes(ANY_EKU)) out.push(err(E.EKU_MISMATCH, 'anyExtendedKeyUsage is forbidden in subscriber certificates'));
  out.push(...ekuProblems(c, opts.eku, true));
  return out;
}

/**
 * CA/B Forum BR 7.1.4.3: a subject CN repeating a subjectAltName entry must
 * be a character-for-character copy of it (the dNSName as encoded, the
 * canonical text of the iPAddress). A CN that spells the same host or address
 * differently (case, U-label, leading zeros, hex, uncompressed IPv6) is
 * refused, since other software may read it as a different identity. CNs
 * naming nothing in the SAN are descriptive and left to the SAN-only rule.
 */
export function commonNameProblems(c: Certificate): ValidationError[] {
  const out: ValidationError[] = [];
  const san = c.subjectAltName ?? [];
  for (const a of attributes(c.subject, OID_CN)) {
    const cn = a.text;
    if (cn === undefined) continue;
    const ips = parseIpLenient(cn);
    for (const g of san) {
      if (g.kind === 'ip' && ips.some((ip) => Buffer.from(ip).equals(Buffer.from(g.value))) && formatIp(g.value) !== cn) {
        out.push(err(E.PROFILE_VIOLATION, `subject CN "${cn}" spells subjectAltName address ${formatIp(g.value)} differently`));
      }
      if (g.kind === 'dns' && g.value !== cn && referenceHostname(cn) === g.value.toLowerCase()) {
        out.push(err(E.PROFILE_VIOLATION, `subject CN "${cn}" is not a character-for-character copy of dNSName "${g.value}"`));
      }
    }
  }
  return out;
}

/** Checks that apply to a certificate acting as an issuer (intermediate or trust anchor). */
export function caProblems(c: Certificate, role: 'intermediate' | 'anchor', opts: PolicyOptions): ValidationError[] {
  const out = commonProblems(c, role);
  out.push(...validityProblems(c, opts.at));
  const bc = extension(c, EXT.BC);
  if (!bc || !c.basicConstraints?.ca) out.push(err(E.ISSUER_NOT_CA, 'issuer lacks basicConstraints cA=TRUE'));
  else if (!bc.critical) out.push(err(E.INVALID_EXTENSION, 'basicConstraints must be critical in a CA certificate'));
  // RFC 5280 §6.1.4(n) only constrains keyUsage when it is present.
  if (c.keyUsage !== undefined && !hasKeyUsage(c, 'keyCertSign')) out.push(err(E.KEY_USAGE, 'issuer keyUsage lacks keyCertSign'));
  if (!c.subjectKeyId) out.push(err(E.INVALID_EXTENSION, 'CA certificate without subjectKeyIdentifier'));
  if (!c.authorityKeyId && !isSelfIssued(c) && role !== 'anchor') out.push(err(E.INVALID_EXTENSION, 'authorityKeyIdentifier is missing'));
  // CA/B Forum BR 7.1.2.1.2: a root for TLS server authentication carries no extendedKeyUsage.
  if (role === 'anchor' && c.extKeyUsage && opts.eku.includes(SERVER_AUTH)) out.push(err(E.INVALID_EXTENSION, 'a trust anchor with extendedKeyUsage, which TLS server roots must not carry'));
  if (role === 'anchor' && isSelfIssued(c) && c.authorityKeyId?.keyId && c.subjectKeyId &&
    !Buffer.from(c.authorityKeyId.keyId).equals(Buffer.from(c.subjectKeyId))) {
    out.push(err(E.INVALID_EXTENSION, 'self-issued root whose authorityKeyIdentifier differs from its subjectKeyIdentifier'));
  }
  if (c.nameConstraints) {
    const p = constraintsProblem(c.nameConstraints);
    if (p) out.push(err(E.INVALID_EXTENSION, p));
  }
  out.push(...ekuProblems(c, opts.eku, false));
  return out;
}
