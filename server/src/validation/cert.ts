/**
 * The certificate model: one parse of the DER into the fields path validation
 * needs, with the extensions it understands decoded up front. Anything that
 * is not valid DER, or a known extension whose content does not decode, makes
 * the whole certificate malformed.
 */
import { createHash } from 'node:crypto';
import {
  BitString, DerError, Reader, TAG, Tlv, children, content, encoded, parseOne, readBitString, readBoolean,
  readIntegerBytes, readOid, readSmallInt, readTime,
} from '../der';
import { KEY_USAGE_BITS } from '../der/oids';
import { GeneralName, Name, parseGeneralName, parseGeneralNames, parseName } from './names';

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

/** Extensions this module processes, so a critical one is not "unknown". */
export const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set<string>(Object.values(EXT));

export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

export interface AlgorithmIdentifier {
  readonly oid: string;
  /** DER of the parameters, absent when the field is omitted. */
  readonly params: Uint8Array | undefined;
  readonly der: Uint8Array;
}

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

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

export interface Certificate {
  readonly der: Uint8Array;
  /** Lowercase hex SHA-256 of the DER. */
  readonly fingerprint: string;
  readonly tbs: Uint8Array;
  /** 1, 2 or 3. */
  readonly version: number;
  readonly serial: Uint8Array;
  readonly tbsSignatureAlg: AlgorithmIdentifier;
  readonly signatureAlg: AlgorithmIdentifier;
  readonly signature: BitString;
  readonly issuer: Name;
  readonly subject: Name;
  /** Epoch seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly spki: Uint8Array;
  readonly spkiAlg: AlgorithmIdentifier;
  readonly extensions: readonly Extension[];
  readonly duplicateExtensions: boolean;
  readonly basicConstraints: { ca: boolean; pathLen: number | undefined } | undefined;
  /** Bit i set when KEY_USAGE_BITS[i] is asserted. */
  readonly keyUsage: number | undefined;
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectAltName: readonly GeneralName[] | undefined;
  readonly nameConstraints: NameConstraints | undefined;
  readonly subjectKeyId: Uint8Array | undefined;
  readonly authorityKeyId: AuthorityKeyId | undefined;
}

export function parseAlgorithm(t: Tlv): AlgorithmIdentifier {
  const r = new Reader(t);
  const oid = readOid(r.next(TAG.OID));
  const params = r.done() ? undefined : encoded(r.next());
  r.end();
  return { oid, params, der: encoded(t) };
}

function decodeKeyUsage(v: Uint8Array): number {
  const bs = readBitString(parseOne(v));
  let bits = 0;
  for (let i = 0; i < KEY_USAGE_BITS.length; i++) {
    if ((bs.bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) bits |= 1 << i;
  }
  return bits;
}

function decodeSubtrees(t: Tlv): GeneralSubtree[] {
  return children(t).map((st) => {
    if (st.tag !== TAG.SEQUENCE) throw new DerError('GeneralSubtree must be a SEQUENCE');
    const r = new Reader(st);
    const base = parseGeneralName(r.next());
    let hasMinMax = false;
    const min = r.optional(0x80);
    if (min && readSmallInt(min, 0x80) !== 0) hasMinMax = true;
    if (r.optional(0x81)) hasMinMax = true;
    r.end();
    return { base, hasMinMax };
  });
}

function decodeNameConstraints(v: Uint8Array): NameConstraints {
  const r = new Reader(parseOne(v));
  const p = r.optional(0xa0);
  const e = r.optional(0xa1);
  r.end();
  return { permitted: p && decodeSubtrees(p), excluded: e && decodeSubtrees(e) };
}

function decodeAki(v: Uint8Array): AuthorityKeyId {
  const r = new Reader(parseOne(v));
  const k = r.optional(0x80);
  const i = r.optional(0xa1);
  if (i) parseGeneralNames({ ...i, tag: TAG.SEQUENCE });
  const s = r.optional(0x82);
  if (s) readIntegerBytes(s, 0x82);
  r.end();
  return { keyId: k && content(k), hasIssuer: !!i, hasSerial: !!s };
}

function decodeAia(v: Uint8Array): void {
  const seq = parseOne(v);
  const ads = children(seq);
  if (ads.length === 0) throw new DerError('empty AuthorityInfoAccess');
  for (const ad of ads) {
    const r = new Reader(ad);
    readOid(r.next(TAG.OID));
    parseGeneralName(r.next());
    r.end();
  }
}

/** Parses a DER certificate; throws DerError when it is not a well-formed X.509 certificate. */
export function parseCertificate(der: Uint8Array): Certificate {
  const top = parseOne(der);
  const cr = new Reader(top);
  const tbsT = cr.next(TAG.SEQUENCE);
  const signatureAlg = parseAlgorithm(cr.next(TAG.SEQUENCE));
  const signature = readBitString(cr.next(TAG.BIT_STRING));
  cr.end();

  const r = new Reader(tbsT);
  let version = 1;
  const vt = r.optional(0xa0);
  if (vt) {
    const vr = new Reader(vt);
    version = readSmallInt(vr.next(TAG.INTEGER)) + 1;
    vr.end();
    if (version === 1) throw new DerError('explicit default version');
    if (version > 3) throw new DerError('unknown version');
  }
  const serial = readIntegerBytes(r.next(TAG.INTEGER));
  const tbsSignatureAlg = parseAlgorithm(r.next(TAG.SEQUENCE));
  const issuer = parseName(r.next(TAG.SEQUENCE));
  const vr = new Reader(r.next(TAG.SEQUENCE));
  const notBefore = readTime(vr.next());
  const notAfter = readTime(vr.next());
  vr.end();
  const subject = parseName(r.next(TAG.SEQUENCE));
  const spkiT = r.next(TAG.SEQUENCE);
  const sr = new Reader(spkiT);
  const spkiAlg = parseAlgorithm(sr.next(TAG.SEQUENCE));
  readBitString(sr.next(TAG.BIT_STRING));
  sr.end();
  const issuerUid = r.optional(0x81);
  const subjectUid = r.optional(0x82);
  if ((issuerUid || subjectUid) && version < 2) throw new DerError('unique identifiers need version 2 or 3');
  const extensions: Extension[] = [];
  const et = r.optional(0xa3);
  r.end();
  if (et) {
    if (version !== 3) throw new DerError('extensions need version 3');
    const er = new Reader(et);
    const list = er.next(TAG.SEQUENCE);
    er.end();
    for (const e of children(list)) {
      const xr = new Reader(e);
      const oid = readOid(xr.next(TAG.OID));
      const ct = xr.optional(TAG.BOOLEAN);
      const critical = ct ? readBoolean(ct) : false;
      const v = content(xr.next(TAG.OCTET_STRING));
      xr.end();
      extensions.push({ oid, critical, value: v });
    }
    if (extensions.length === 0) throw new DerError('empty extensions');
  }
  const seen = new Set<string>();
  let duplicateExtensions = false;
  for (const e of extensions) {
    if (seen.has(e.oid)) duplicateExtensions = true;
    seen.add(e.oid);
  }
  const ext = (oid: string) => extensions.find((e) => e.oid === oid);

  let basicConstraints: Certificate['basicConstraints'];
  const bc = ext(EXT.BC);
  if (bc) {
    const br = new Reader(parseOne(bc.value));
    const caT = br.optional(TAG.BOOLEAN);
    const plT = br.optional(TAG.INTEGER);
    br.end();
    basicConstraints = { ca: caT ? readBoolean(caT) : false, pathLen: plT ? readSmallInt(plT) : undefined };
  }
  const ku = ext(EXT.KU);
  const eku = ext(EXT.EKU);
  let extKeyUsage: string[] | undefined;
  if (eku) {
    extKeyUsage = children(parseOne(eku.value)).map(readOid);
  }
  const san = ext(EXT.SAN);
  const nc = ext(EXT.NC);
  const ski = ext(EXT.SKI);
  const aki = ext(EXT.AKI);
  const aia = ext(EXT.AIA);
  if (aia) decodeAia(aia.value);
  let subjectKeyId: Uint8Array | undefined;
  if (ski) {
    const t = parseOne(ski.value);
    if (t.tag !== TAG.OCTET_STRING) throw new DerError('SKI must be an OCTET STRING');
    subjectKeyId = content(t);
  }
  const sanValue = san ? parseGeneralNames(parseOne(san.value)) : undefined;
  if (sanValue && sanValue.length === 0) throw new DerError('empty subjectAltName');
  for (const p of [EXT.POLICIES, EXT.POLICY_CONSTRAINTS, EXT.CRLDP]) {
    const x = ext(p);
    if (x && parseOne(x.value).tag !== TAG.SEQUENCE) throw new DerError(`extension ${p} is not a SEQUENCE`);
  }

  return {
    der,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    tbs: encoded(tbsT),
    version,
    serial,
    tbsSignatureAlg,
    signatureAlg,
    signature,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: encoded(spkiT),
    spkiAlg,
    extensions,
    duplicateExtensions,
    basicConstraints,
    keyUsage: ku ? decodeKeyUsage(ku.value) : undefined,
    extKeyUsage,
    subjectAltName: sanValue,
    nameConstraints: nc ? decodeNameConstraints(nc.value) : undefined,
    subjectKeyId,
    authorityKeyId: aki ? decodeAki(aki.value) : undefined,
  };
}

/** Accepts DER bytes or a PEM string/bytes holding one CERTIFICATE block (the first one is used). */
export function toDer(input: Uint8Array | string, label = 'CERTIFICATE'): Uint8Array {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : undefined;
  if (text === undefined) return input as Uint8Array;
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`);
  const m = re.exec(text);
  if (!m) throw new DerError(`no ${label} PEM block`);
  return new Uint8Array(Buffer.from(m[1].replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'));
}

function looksLikePem(b: Uint8Array): boolean {
  return b.length > 10 && Buffer.from(b.subarray(0, 64)).toString('latin1').includes('-----BEGIN');
}

export function hasKeyUsage(c: Certificate, name: KeyUsageName): boolean {
  return c.keyUsage !== undefined && (c.keyUsage & (1 << KEY_USAGE_BITS.indexOf(name))) !== 0;
}

export function extension(c: Certificate, oid: string): Extension | undefined {
  return c.extensions.find((e) => e.oid === oid);
}
