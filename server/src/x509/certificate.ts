/**
 * The one certificate decoder and model. Every face (hover, diagnostics, the
 * CLI, chain analysis, path validation) reads certificates through
 * `decodeCertificate`, which parses the DER once, strictly, and records each
 * deviation it tolerated as a `Problem` naming the field and what is wrong:
 *
 * - `error`: the certificate is not well-formed DER/X.509 (a time that names
 *   no instant, a non-minimal length, trailing data, a known extension that
 *   does not decode). The field stays undefined when its value is unknown,
 *   never guessed; path validation refuses the certificate (`malformed`).
 * - `warning`: well-formed but non-conforming (a negative serial number,
 *   inner and outer signature algorithms that differ).
 *
 * Only a broken outer structure (no TBSCertificate, no serial number) makes
 * the decoder throw, since then nothing can be shown. Extensions certops does
 * not know are kept as opaque bytes and never parsed.
 */
import { hash } from 'node:crypto';
import {
  BitString, DerError, Problem, Reader, Sink, TAG, Tlv, asBuffer, bytesToBigInt, children, content, encoded, parseInner,
  readBitString, readBoolean, readIntegerBytes, readOid, readSmallInt, readTime, readTlv,
} from '../der';
import { KEY_USAGE_BITS, SIGNATURE_ALGORITHMS } from '../der/oids';
import {
  AccessDescriptions, AuthorityKeyId, BasicConstraints, EXT, EXTENSION_NAMES, NameConstraints, decodeAuthorityInfoAccess,
  decodeAuthorityKeyId, decodeBasicConstraints, decodeCrlDistributionPoints, decodeExtKeyUsage, decodeKeyUsage, decodeNameConstraints,
  decodeSequence, decodeSubjectAltName, decodeSubjectKeyId,
} from './extensions';
import { GeneralName, Name, parseName } from './names';

export { EXT, UNDERSTOOD_EXTENSIONS } from './extensions';
export type { AuthorityKeyId, GeneralSubtree, NameConstraints } from './extensions';
export type { Problem } from '../der';

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
  /** The content of the extnValue OCTET STRING, undecoded. */
  readonly value: Uint8Array;
}

/** A certificate that decoded without any `error` problem: what path validation works on. */
export interface Certificate {
  /** The certificate's own encoding (without any trailing data). */
  readonly der: Uint8Array;
  /** Lowercase hex SHA-256 of the DER. */
  readonly fingerprint: string;
  readonly tbs: Uint8Array;
  /** 1, 2 or 3. */
  readonly version: number;
  /** The serial number's INTEGER content octets (two's complement). */
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
  readonly basicConstraints: BasicConstraints | undefined;
  /** Bit i set when KEY_USAGE_BITS[i] is asserted. */
  readonly keyUsage: number | undefined;
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectAltName: readonly GeneralName[] | undefined;
  readonly nameConstraints: NameConstraints | undefined;
  readonly subjectKeyId: Uint8Array | undefined;
  readonly authorityKeyId: AuthorityKeyId | undefined;
  readonly authorityInfoAccess: AccessDescriptions | undefined;
  readonly crlDistributionPoints: readonly string[] | undefined;
  /** Every deviation found, in the order read. */
  readonly problems: readonly Problem[];
}

/** Fields whose value may be unknown (undefined) when their encoding is broken. */
type Doubtful = 'version' | 'issuer' | 'subject' | 'notBefore' | 'notAfter' | 'spkiAlg' | 'tbsSignatureAlg' | 'signatureAlg';

/** A decoded certificate: like `Certificate`, but a field whose encoding is broken is undefined (see `problems`). */
export type DecodedCertificate = Omit<Certificate, Doubtful> & { [K in Doubtful]: Certificate[K] | undefined };

export function parseAlgorithm(t: Tlv): AlgorithmIdentifier {
  const r = new Reader(t, 'AlgorithmIdentifier');
  const oid = readOid(r.next(TAG.OID));
  const params = r.done() ? undefined : encoded(r.next());
  r.end();
  return { oid, params, der: encoded(t) };
}

/** Octets that may follow a certificate: OpenSSL's trust settings (X509_CERT_AUX) in a TRUSTED CERTIFICATE. */
function isCertAux(buf: Buffer, pos: number): boolean {
  try {
    const t = readTlv(buf, pos, buf.length, true);
    if (t.end !== buf.length || t.tag !== TAG.SEQUENCE) return false;
    const first = t.body < t.end ? buf[t.body] : undefined;
    // A second certificate starts SEQUENCE { SEQUENCE {...} } too, but its first field is [0] or INTEGER, not OIDs.
    if (first === TAG.SEQUENCE) return children(readTlv(buf, t.body, t.end, true)).every((c) => c.tag === TAG.OID);
    return first === undefined || first === 0xa0 || first === TAG.UTF8 || first === TAG.OCTET_STRING || first === 0xa1;
  } catch {
    return false;
  }
}

const algorithmName = (a: AlgorithmIdentifier | undefined) => (a ? (SIGNATURE_ALGORITHMS[a.oid]?.name ?? a.oid) : '?');

/**
 * Decodes a DER certificate. `bytes` may carry OpenSSL's trust settings after
 * the certificate; any other trailing data is an `error` problem. Throws a
 * DerError naming the problem when the outer structure is too broken to show
 * anything.
 */
export function decodeCertificate(bytes: Uint8Array): DecodedCertificate {
  const buf = asBuffer(bytes);
  const sink = new Sink();
  sink.field = 'Certificate';
  const top = readTlv(buf, 0, buf.length, true, sink);
  if (top.tag !== TAG.SEQUENCE) throw new DerError(`Certificate: expected a SEQUENCE, found tag 0x${top.tag.toString(16)}`);
  if (top.end !== buf.length && !isCertAux(buf, top.end)) sink.add(`${buf.length - top.end} octets of trailing data after the certificate`);
  const cr = new Reader(top, 'Certificate');
  const tbsT = cr.next(TAG.SEQUENCE, 'tbsCertificate');
  /** Runs one field's decoder; a failure is recorded against the field and leaves its value undefined. */
  const field = <T>(name: string, f: () => T): T | undefined => {
    const before = sink.field;
    sink.field = name;
    try {
      return f();
    } catch (e) {
      sink.add(e instanceof DerError ? e.message : 'does not decode');
      return undefined;
    } finally {
      sink.field = before;
    }
  };
  const signatureAlg = field('signatureAlgorithm', () => parseAlgorithm(cr.next(TAG.SEQUENCE, '')));
  const signature = field('signatureValue', () => readBitString(cr.next(TAG.BIT_STRING, ''))) ?? { bytes: Buffer.alloc(0), unused: 0 };
  field('Certificate', () => cr.end());

  const r = new Reader(tbsT, 'tbsCertificate');
  let version = field('version', () => {
    const vt = r.optional(0xa0);
    if (!vt) return 1;
    const vr = new Reader(vt, 'version');
    if (vr.done()) throw new DerError('the explicit [0] version is empty');
    const n = readSmallInt(vr.next(TAG.INTEGER)) + 1;
    vr.end();
    if (n === 1) sink.add('version 1 is encoded explicitly (DER omits a DEFAULT value)');
    if (n > 3) throw new DerError(`unknown version ${n} (INTEGER ${n - 1})`);
    return n;
  });
  if (version === undefined && r.peekTag() === 0xa0) r.next();
  sink.field = 'serialNumber';
  const serial = readIntegerBytes(r.next(TAG.INTEGER, 'serialNumber'));
  if (serial[0] & 0x80) sink.add(`negative serial number ${bytesToBigInt(serial)} (RFC 5280 requires a positive integer)`, 'warning');
  const tbsSignatureAlg = field('signature', () => parseAlgorithm(r.next(TAG.SEQUENCE, '')));
  if (tbsSignatureAlg && signatureAlg && !Buffer.from(tbsSignatureAlg.der).equals(Buffer.from(signatureAlg.der))) {
    sink.add(`the TBS signature algorithm (${algorithmName(tbsSignatureAlg)}) differs from the outer signatureAlgorithm (${algorithmName(signatureAlg)})`, 'warning', 'signature');
  }
  const issuer = field('issuer', () => parseName(r.next(TAG.SEQUENCE, '')));
  let notBefore: number | undefined;
  let notAfter: number | undefined;
  field('validity', () => {
    const vr = new Reader(r.next(TAG.SEQUENCE, ''), 'validity');
    notBefore = field('validity.notBefore', () => readTime(vr.next(undefined, '')));
    notAfter = field('validity.notAfter', () => readTime(vr.next(undefined, '')));
    vr.end();
  });
  const subject = field('subject', () => parseName(r.next(TAG.SEQUENCE, '')));
  sink.field = 'subjectPublicKeyInfo';
  const spkiT = r.next(TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const spkiAlg = field('subjectPublicKeyInfo', () => {
    const sr = new Reader(spkiT, 'subjectPublicKeyInfo');
    const alg = parseAlgorithm(sr.next(TAG.SEQUENCE));
    readBitString(sr.next(TAG.BIT_STRING));
    sr.end();
    return alg;
  });
  field('issuerUniqueID', () => {
    const issuerUid = r.optional(0x81);
    const subjectUid = r.optional(0x82);
    if ((issuerUid || subjectUid) && version !== undefined && version < 2) throw new DerError('unique identifiers need version 2 or 3');
  });
  const extensions: Extension[] = [];
  field('extensions', () => {
    const et = r.optional(0xa3);
    r.end();
    if (!et) return;
    if (version !== undefined && version !== 3) sink.add('extensions need version 3');
    const er = new Reader(et, 'extensions');
    const list = er.next(TAG.SEQUENCE);
    er.end();
    for (const e of children(list)) {
      const xr = new Reader(e, 'Extension');
      const oid = readOid(xr.next(TAG.OID));
      const ct = xr.optional(TAG.BOOLEAN);
      const critical = ct ? field(`${EXTENSION_NAMES[oid] ?? oid} critical`, () => readBoolean(ct)) : false;
      if (ct && critical === false) sink.add(`${EXTENSION_NAMES[oid] ?? oid}: critical FALSE is encoded explicitly (DER omits a DEFAULT value)`, 'warning');
      const v = content(xr.next(TAG.OCTET_STRING, 'extnValue'));
      xr.end();
      extensions.push({ oid, critical: critical ?? true, value: v });
    }
    if (extensions.length === 0) throw new DerError('the extensions SEQUENCE is empty');
  });
  const seen = new Set<string>();
  let duplicateExtensions = false;
  for (const e of extensions) {
    if (seen.has(e.oid)) {
      duplicateExtensions = true;
      sink.add(`${EXTENSION_NAMES[e.oid] ?? e.oid} appears more than once`, 'error', 'extensions');
    }
    seen.add(e.oid);
  }
  /** Decodes a known extension's value in the certificate's mode; undefined when absent or broken. */
  const ext = <T>(oid: string, f: (v: Tlv) => T): T | undefined => {
    const x = extensions.find((e) => e.oid === oid);
    if (!x) return undefined;
    return field(EXTENSION_NAMES[oid], () => {
      const holder = readTlvOfValue(x.value, sink);
      return f(holder);
    });
  };
  const basicConstraints = ext(EXT.BC, decodeBasicConstraints);
  const keyUsage = ext(EXT.KU, decodeKeyUsage);
  const extKeyUsage = ext(EXT.EKU, decodeExtKeyUsage);
  const subjectAltName = ext(EXT.SAN, decodeSubjectAltName);
  const nameConstraints = ext(EXT.NC, decodeNameConstraints);
  const subjectKeyId = ext(EXT.SKI, decodeSubjectKeyId);
  const authorityKeyId = ext(EXT.AKI, decodeAuthorityKeyId);
  const authorityInfoAccess = ext(EXT.AIA, decodeAuthorityInfoAccess);
  const crlDistributionPoints = ext(EXT.CRLDP, decodeCrlDistributionPoints);
  ext(EXT.POLICIES, decodeSequence);
  ext(EXT.POLICY_CONSTRAINTS, decodeSequence);

  const der = encoded(top);
  if (version === undefined && extensions.length) version = 3;
  return {
    der,
    fingerprint: hash('sha256', der, 'hex'),
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
    keyUsage,
    extKeyUsage,
    subjectAltName,
    nameConstraints,
    subjectKeyId,
    authorityKeyId,
    authorityInfoAccess,
    crlDistributionPoints,
    problems: sink.problems,
  };
}

/** An extension value as one element read in recording mode; an empty value or extra octets are problems. */
function readTlvOfValue(value: Uint8Array, sink: Sink): Tlv {
  const buf = asBuffer(value);
  if (buf.length === 0) throw new DerError('the extension value is empty');
  return parseInner({ tag: TAG.OCTET_STRING, buf, start: 0, body: 0, end: buf.length, strict: true, sink });
}

/** The problems that make a certificate malformed (not well-formed DER/X.509). */
export function errorsOf(c: { problems: readonly Problem[] }): Problem[] {
  return c.problems.filter((p) => p.severity === 'error');
}

/** A problem as one line: "validity.notAfter: UTCTime "…": month 13 is out of range". */
export function problemText(p: Problem): string {
  return p.field ? `${p.field}: ${p.message}` : p.message;
}

/** Narrows a decoded certificate to one path validation accepts; throws DerError with the first error. */
export function strictCertificate(c: DecodedCertificate): Certificate {
  const e = errorsOf(c)[0];
  if (e) throw new DerError(problemText(e));
  return c as Certificate;
}

/** Parses a DER certificate; throws DerError when it is not a well-formed X.509 certificate. */
export function parseCertificate(der: Uint8Array): Certificate {
  return strictCertificate(decodeCertificate(der));
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

export function hasKeyUsage(c: Pick<Certificate, 'keyUsage'>, name: KeyUsageName): boolean {
  return c.keyUsage !== undefined && (c.keyUsage & (1 << KEY_USAGE_BITS.indexOf(name))) !== 0;
}

export function extension(c: Pick<Certificate, 'extensions'>, oid: string): Extension | undefined {
  return c.extensions.find((e) => e.oid === oid);
}

