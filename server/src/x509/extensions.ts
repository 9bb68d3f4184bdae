/**
 * Decoders of the certificate extensions certops understands, shared by the
 * display and path validation. Each takes the extension's value (the content
 * of its OCTET STRING) as an element read in the certificate's mode.
 * Extensions certops does not know are never parsed: they stay opaque bytes.
 */
import { DerError, Reader, TAG, Tlv, bytesToBigInt, children, content, parseInner, readBitString, readBoolean, readIntegerBytes, readOid, readSmallInt } from '../der';
import { KEY_USAGE_BITS } from '../der/oids';
import { GeneralName, parseGeneralName, parseGeneralNames } from './names';

export const EXT = {
  SKI: '2.5.29.14',
  KU: '2.5.29.15',
  SAN: '2.5.29.17',
  IAN: '2.5.29.18',
  BC: '2.5.29.19',
  NC: '2.5.29.30',
  CRLDP: '2.5.29.31',
  POLICIES: '2.5.29.32',
  POLICY_MAPPINGS: '2.5.29.33',
  AKI: '2.5.29.35',
  POLICY_CONSTRAINTS: '2.5.29.36',
  EKU: '2.5.29.37',
  INHIBIT_ANY: '2.5.29.54',
  AIA: '1.3.6.1.5.5.7.1.1',
} as const;

/** Extension names for messages and display. */
export const EXTENSION_NAMES: Record<string, string> = {
  [EXT.SKI]: 'subjectKeyIdentifier',
  [EXT.KU]: 'keyUsage',
  [EXT.SAN]: 'subjectAltName',
  [EXT.IAN]: 'issuerAltName',
  [EXT.BC]: 'basicConstraints',
  [EXT.NC]: 'nameConstraints',
  [EXT.CRLDP]: 'cRLDistributionPoints',
  [EXT.POLICIES]: 'certificatePolicies',
  [EXT.POLICY_MAPPINGS]: 'policyMappings',
  [EXT.AKI]: 'authorityKeyIdentifier',
  [EXT.POLICY_CONSTRAINTS]: 'policyConstraints',
  [EXT.EKU]: 'extendedKeyUsage',
  [EXT.INHIBIT_ANY]: 'inhibitAnyPolicy',
  [EXT.AIA]: 'authorityInfoAccess',
};

/** Extensions this module processes, so a critical one is not "unknown". */
export const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set<string>(Object.values(EXT));

export interface GeneralSubtree {
  readonly base: GeneralName;
  /** minimum/maximum are not used in the profile; non-default values make the constraint invalid. */
  readonly hasMinMax: boolean;
}

export interface NameConstraints {
  readonly permitted: readonly GeneralSubtree[] | undefined;
  readonly excluded: readonly GeneralSubtree[] | undefined;
}

export interface AuthorityKeyId {
  readonly keyId: Uint8Array | undefined;
  readonly hasIssuer: boolean;
  readonly hasSerial: boolean;
}

export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLen: number | undefined;
}

export interface AccessDescriptions {
  readonly ocsp: string[];
  readonly caIssuers: string[];
}

export function decodeBasicConstraints(v: Tlv): BasicConstraints {
  const r = new Reader(v, 'BasicConstraints');
  const caT = r.optional(TAG.BOOLEAN);
  const plT = r.optional(TAG.INTEGER);
  r.end();
  let pathLen: number | undefined;
  if (plT) {
    const n = bytesToBigInt(readIntegerBytes(plT));
    if (n < 0n) throw new DerError(`negative pathLenConstraint ${n}`);
    if (n > 0xffffffffn) throw new DerError(`pathLenConstraint ${n} is too large`);
    pathLen = Number(n);
  }
  if (caT && !readBoolean(caT)) caT.sink?.add('cA FALSE is encoded explicitly (DER omits a DEFAULT value)', 'warning');
  return { ca: caT ? readBoolean(caT) : false, pathLen };
}

/** Bit i set when KEY_USAGE_BITS[i] is asserted. */
export function decodeKeyUsage(v: Tlv): number {
  const bs = readBitString(v);
  let bits = 0;
  for (let i = 0; i < KEY_USAGE_BITS.length; i++) {
    if ((bs.bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) bits |= 1 << i;
  }
  return bits;
}

export function decodeExtKeyUsage(v: Tlv): string[] {
  if (v.tag !== TAG.SEQUENCE) throw new DerError(`ExtKeyUsageSyntax must be a SEQUENCE, found tag 0x${v.tag.toString(16)}`);
  return children(v).map(readOid);
}

export function decodeSubjectAltName(v: Tlv): GeneralName[] {
  const names = parseGeneralNames(v);
  if (names.length === 0) throw new DerError('empty subjectAltName');
  return names;
}

function decodeSubtrees(t: Tlv): GeneralSubtree[] {
  return children(t).map((st) => {
    if (st.tag !== TAG.SEQUENCE) throw new DerError('GeneralSubtree must be a SEQUENCE');
    const r = new Reader(st, 'GeneralSubtree');
    const base = parseGeneralName(r.next());
    let hasMinMax = false;
    const min = r.optional(0x80);
    if (min && readSmallInt(min, 0x80) !== 0) hasMinMax = true;
    if (r.optional(0x81)) hasMinMax = true;
    r.end();
    return { base, hasMinMax };
  });
}

export function decodeNameConstraints(v: Tlv): NameConstraints {
  const r = new Reader(v, 'NameConstraints');
  const p = r.optional(0xa0);
  const e = r.optional(0xa1);
  r.end();
  return { permitted: p && decodeSubtrees(p), excluded: e && decodeSubtrees(e) };
}

export function decodeSubjectKeyId(v: Tlv): Uint8Array {
  if (v.tag !== TAG.OCTET_STRING) throw new DerError(`KeyIdentifier must be an OCTET STRING, found tag 0x${v.tag.toString(16)}`);
  return content(v);
}

export function decodeAuthorityKeyId(v: Tlv): AuthorityKeyId {
  const r = new Reader(v, 'AuthorityKeyIdentifier');
  const k = r.optional(0x80);
  const i = r.optional(0xa1);
  if (i) parseGeneralNames({ ...i, tag: TAG.SEQUENCE });
  const s = r.optional(0x82);
  if (s) readIntegerBytes(s, 0x82);
  r.end();
  return { keyId: k && content(k), hasIssuer: !!i, hasSerial: !!s };
}

function uriOf(g: GeneralName): string | undefined {
  return g.kind === 'uri' ? g.value : undefined;
}

export function decodeAuthorityInfoAccess(v: Tlv): AccessDescriptions {
  const ads = children(v);
  if (v.tag !== TAG.SEQUENCE) throw new DerError('AuthorityInfoAccessSyntax must be a SEQUENCE');
  if (ads.length === 0) throw new DerError('empty AuthorityInfoAccess');
  const out: AccessDescriptions = { ocsp: [], caIssuers: [] };
  for (const ad of ads) {
    const r = new Reader(ad, 'AccessDescription');
    const method = readOid(r.next(TAG.OID));
    const uri = uriOf(parseGeneralName(r.next()));
    r.end();
    if (uri === undefined) continue;
    if (method === '1.3.6.1.5.5.7.48.1') out.ocsp.push(uri);
    else if (method === '1.3.6.1.5.5.7.48.2') out.caIssuers.push(uri);
  }
  return out;
}

/**
 * The URIs of cRLDistributionPoints' fullName forms. The structure is read at
 * its fixed depth (DistributionPoint, [0] name, [0] fullName, GeneralNames),
 * so no input can make the reader recurse.
 */
export function decodeCrlDistributionPoints(v: Tlv): string[] {
  if (v.tag !== TAG.SEQUENCE) throw new DerError('CRLDistributionPoints must be a SEQUENCE');
  const out: string[] = [];
  for (const dp of children(v)) {
    const r = new Reader(dp, 'DistributionPoint');
    const name = r.optional(0xa0);
    if (!name) continue;
    const full = new Reader(name, 'DistributionPointName').optional(0xa0);
    if (!full) continue;
    for (const g of children(full)) {
      const uri = uriOf(parseGeneralName(g));
      if (uri !== undefined) out.push(uri);
    }
  }
  return out;
}

/** Checks an extension whose content certops only needs to be a SEQUENCE (policies, policy constraints). */
export function decodeSequence(v: Tlv): void {
  if (v.tag !== TAG.SEQUENCE) throw new DerError(`expected a SEQUENCE, found tag 0x${v.tag.toString(16)}`);
  children(v);
}

export { parseInner };
