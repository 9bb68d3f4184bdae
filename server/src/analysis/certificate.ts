/**
 * The display view of a certificate: `CertificateInfo` (JSON-ready, for the
 * hover, diagnostics and `certops inspect --json`) derived from the one
 * decoded model of server/src/x509, which it carries under RAW so that chain
 * checks and path validation never parse the certificate again.
 */
import { hash } from 'node:crypto';
import { EKU_NAMES, HASH_ALGORITHMS, KEY_USAGE_BITS, SIGNATURE_ALGORITHMS } from '../der/oids';
import { Sink, Tlv, asBuffer, bytesToBigInt, children, readOid } from '../der';
import { DecodedCertificate, decodeCertificate, parseAlgorithm } from '../x509/certificate';
import { EXTENSION_NAMES, UNDERSTOOD_EXTENSIONS } from '../x509/extensions';
import { GeneralName, OID_CN, escapeIa5, firstText, nameToString, parseGeneralNames } from '../x509/names';
import { describeSpki } from './spki';
import { CertificateInfo, RAW, SubjectAltName } from './model';

/** How many octets of an unknown extension the display shows. */
const PREVIEW_OCTETS = 16;

/**
 * Decodes a DER certificate into the data model. `buf` may carry OpenSSL's
 * trust settings after the certificate (TRUSTED CERTIFICATE); any other
 * trailing data, and every other deviation, is listed in `problems`. Throws
 * an Error naming the problem only when nothing can be shown.
 */
export function parseCertificate(buf: Buffer): CertificateInfo {
  return certificateInfo(decodeCertificate(buf), buf);
}

/**
 * The display view of a decoded certificate. `input` is the bytes it was
 * decoded from: kept as RAW.der, trailing octets included, so that a strict
 * reader handed them refuses what the model flagged.
 */
export function certificateInfo(c: DecodedCertificate, input: Uint8Array = c.der): CertificateInfo {
  const der = asBuffer(c.der);
  const alg = c.signatureAlg ? signatureAlgorithmName(c.signatureAlg.oid, c.signatureAlg.params) : { name: '(invalid)' };
  const publicKey = describeSpki(asBuffer(c.spki));
  const ku = c.keyUsage;
  const info: CertificateInfo = {
    version: c.version ?? 0,
    subject: c.subject ? nameToString(c.subject) : '',
    issuer: c.issuer ? nameToString(c.issuer) : '',
    commonName: c.subject && firstText(c.subject, OID_CN),
    serialNumber: serialText(c.serial),
    notBefore: c.notBefore === undefined ? undefined : new Date(c.notBefore * 1000),
    notAfter: c.notAfter === undefined ? undefined : new Date(c.notAfter * 1000),
    sans: (c.subjectAltName ?? []).map(sanEntry),
    publicKey,
    signatureAlgorithm: alg.name,
    signatureHash: alg.hash,
    sha256: c.fingerprint,
    sha1: hash('sha1', der, 'hex'),
    spkiSha256: publicKey.spkiSha256,
    authorityInfoAccess: { ocsp: [...(c.authorityInfoAccess?.ocsp ?? [])], caIssuers: [...(c.authorityInfoAccess?.caIssuers ?? [])] },
    crlDistributionPoints: [...(c.crlDistributionPoints ?? [])],
    selfIssued: c.subject !== undefined && c.issuer !== undefined && c.subject.key === c.issuer.key,
    isCA: false,
    problems: c.problems.map((p) => ({ ...p })),
    [RAW]: {
      der: asBuffer(input),
      tbs: asBuffer(c.tbs),
      signature: asBuffer(c.signature.bytes),
      subjectName: Buffer.from(c.subject?.key ?? `invalid:${c.fingerprint}`),
      issuerName: Buffer.from(c.issuer?.key ?? `invalid-issuer:${c.fingerprint}`),
      spki: asBuffer(c.spki),
      cert: c,
    },
  };
  if (c.basicConstraints) info.basicConstraints = c.basicConstraints.pathLen === undefined ? { ca: c.basicConstraints.ca } : { ...c.basicConstraints };
  if (ku !== undefined) info.keyUsage = KEY_USAGE_BITS.filter((_, n) => (ku & (1 << n)) !== 0);
  if (c.extKeyUsage) info.extendedKeyUsage = c.extKeyUsage.map((o) => EKU_NAMES[o] ?? o);
  if (c.subjectKeyId) info.subjectKeyId = Buffer.from(c.subjectKeyId).toString('hex');
  if (c.authorityKeyId?.keyId) info.authorityKeyId = Buffer.from(c.authorityKeyId.keyId).toString('hex');
  const unknown = c.extensions.filter((e) => !UNDERSTOOD_EXTENSIONS.has(e.oid));
  if (unknown.length) {
    info.otherExtensions = unknown.map((e) => ({
      oid: e.oid,
      ...(c.problems.some((p) => p.field === `${e.oid} critical` && p.severity === 'error') ? {} : { critical: e.critical }),
      length: e.value.length,
      preview: Buffer.from(e.value.subarray(0, PREVIEW_OCTETS)).toString('hex') + (e.value.length > PREVIEW_OCTETS ? '…' : ''),
    }));
  }
  info.isCA = info.basicConstraints?.ca === true && (!info.keyUsage || info.keyUsage.includes('keyCertSign'));
  if (info.version > 0 && info.version < 3 && info.selfIssued) info.isCA = true; // v1 roots predate basicConstraints
  return info;
}

/** The serial number as lowercase hex of its magnitude, with a minus sign when (non-conformingly) negative. */
function serialText(serial: Uint8Array): string {
  const n = bytesToBigInt(serial);
  const hex = (n < 0n ? -n : n).toString(16);
  return (n < 0n ? '-' : '') + (hex.length % 2 ? '0' + hex : hex);
}

/** Display name and hash of a signature algorithm (RSASSA-PSS reads its hash from the parameters). */
function signatureAlgorithmName(oid: string, params: Uint8Array | undefined): { name: string; hash?: string } {
  const known = SIGNATURE_ALGORITHMS[oid];
  if (!known) return { name: oid };
  if (known.name !== 'rsassaPss') return known;
  let h = 'sha1'; // RFC 4055 default
  try {
    const sink = new Sink();
    const p = params && children({ tag: 0x30, buf: Buffer.from(params), start: 0, body: 0, end: params.length, strict: false, sink });
    const seq = p?.[0] && p[0].tag === 0x30 ? children(p[0]).find((t) => t.tag === 0xa0) : undefined;
    if (seq) h = HASH_ALGORITHMS[readOid(children(children(seq)[0])[0])] ?? 'unknown';
  } catch {
    h = 'unknown';
  }
  return { name: `rsassaPss-${h}`, hash: h };
}

/** Name and hash of an AlgorithmIdentifier used for signatures, for CSRs and CRLs. */
export function signatureAlgorithmOf(algId: Tlv): { name: string; hash?: string } {
  const a = parseAlgorithm({ ...algId, strict: false });
  return signatureAlgorithmName(a.oid, a.params);
}

function sanEntry(g: GeneralName): SubjectAltName {
  switch (g.kind) {
    case 'dns':
    case 'email':
    case 'uri':
      // IA5String: octets above 0x7F (recorded as a problem) are shown escaped, never as some charset's guess.
      return { type: g.kind, value: escapeIa5(Buffer.from(g.value, 'latin1')) };
    case 'ip':
      return { type: 'ip', value: ipString(Buffer.from(g.value)) };
    case 'dn':
      return { type: 'dirName', value: nameToString(g.value) };
    default:
      return { type: 'other', value: Buffer.from(g.raw).toString('hex') };
  }
}

/** Reads GeneralNames (a CSR's requested SANs) into SAN entries. */
export function generalNames(seq: Tlv): SubjectAltName[] {
  return parseGeneralNames({ ...seq, strict: true, sink: new Sink() }).map(sanEntry);
}

/** An extension's display name. */
export function extensionName(oid: string): string {
  return EXTENSION_NAMES[oid] ?? oid;
}

/** Dotted IPv4 or compressed IPv6 text of an address in network order. */
export function ipString(b: Buffer): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length !== 16) return b.toString('hex');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  let best = -1;
  let bestLen = 0;
  for (let s = 0; s < 8; ) {
    let e = s;
    while (e < 8 && groups[e] === 0) e++;
    if (e - s > bestLen && e - s > 1) {
      best = s;
      bestLen = e - s;
    }
    s = e === s ? s + 1 : e;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
