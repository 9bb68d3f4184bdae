/** CSRs, CRLs, PKCS#7 bundles and domain parameters: the blocks that are neither certificates nor keys. */
import { DerError, Tlv, content, encoded, integerBits, readBitString, readOid, readTime, readTlv } from '../der';
import { berToDer } from '../der/ber';
import { nameAttribute, nameToString } from './names';
import { describeSpki } from './spki';
import { describeDecodeError, field, fieldsOf, rootOf, tagName } from './fields';
import { ecParameters } from './keys';
import { generalNames, parseCertificate, signatureAlgorithmOf } from './certificate';
import { parseAlgorithm } from '../x509/certificate';
import { verifySignature as verifyWith } from '../x509/signature';
import type { CrlInfo, CsrInfo, ParametersInfo, Pkcs7Info, SubjectAltName } from './model';

/** Verifies `signature` over `data` with a DER SPKI through the one verifier (weak algorithms run: the hover names them). */
export function verifySignature(data: Buffer, signature: Buffer, spki: Buffer, algId: Tlv): boolean {
  try {
    return verifyWith(parseAlgorithm({ ...algId, strict: false }), spki, data, signature, { weak: true }) === undefined;
  } catch {
    return false;
  }
}

/** Decodes a PKCS#10 certificate request and checks its self-signature. */
export function parseCsr(der: Buffer): CsrInfo {
  const f = fieldsOf(rootOf(der, 0x30, 'CertificationRequest'), 'CertificationRequest');
  const info = field(f, 0, 0x30, 'CertificationRequest', 'certificationRequestInfo');
  const sigAlg = field(f, 1, 0x30, 'CertificationRequest', 'signatureAlgorithm');
  const sig = field(f, 2, 0x03, 'CertificationRequest', 'signature');
  const what = 'CertificationRequestInfo';
  const fields = fieldsOf(info, what);
  field(fields, 0, 0x02, what, 'version');
  const subject = field(fields, 1, 0x30, what, 'subject');
  const spki = field(fields, 2, 0x30, what, 'subjectPKInfo');
  const attrs = fields[3];
  let sans: SubjectAltName[] = [];
  if (attrs?.tag === 0xa0) {
    for (const attr of fieldsOf(attrs, `${what} attributes`)) {
      const a = fieldsOf(attr, 'CSR attribute');
      if (readOid(field(a, 0, 0x06, 'CSR attribute', 'type')) !== '1.2.840.113549.1.9.14') continue;
      const extensions = fieldsOf(field(a, 1, 0x31, 'CSR extensionRequest', 'values'), 'CSR extensionRequest')[0];
      if (!extensions) continue;
      for (const e of fieldsOf(extensions, 'CSR extensionRequest')) {
        const parts = fieldsOf(e, 'CSR extension');
        if (readOid(field(parts, 0, 0x06, 'CSR extension', 'extnID')) !== '2.5.29.17') continue;
        const value = field(parts, parts.length - 1, 0x04, 'CSR subjectAltName extension', 'extnValue');
        sans = generalNames(rootOf(content(value), 0x30, 'CSR subjectAltName'));
      }
    }
  }
  const alg = signatureAlgorithmOf(sigAlg);
  return {
    subject: nameToString(subject),
    commonName: nameAttribute(subject, '2.5.4.3'),
    sans,
    publicKey: describeSpki(spki),
    signatureAlgorithm: alg.name,
    signatureValid: verifySignature(encoded(info), readBitString(sig).bytes, encoded(spki), sigAlg),
  };
}

/** Decodes an X.509 CRL (without checking its signature: the issuer may not be at hand). */
export function parseCrl(der: Buffer): CrlInfo {
  const outer = fieldsOf(rootOf(der, 0x30, 'CertificateList'), 'CertificateList');
  const tbs = field(outer, 0, 0x30, 'CertificateList', 'tbsCertList');
  const sigAlg = field(outer, 1, 0x30, 'CertificateList', 'signatureAlgorithm');
  const what = 'TBSCertList';
  const f = fieldsOf(tbs, what);
  let i = f[0]?.tag === 0x02 ? 1 : 0;
  field(f, i++, 0x30, what, 'signature');
  const issuer = field(f, i++, 0x30, what, 'issuer');
  const thisUpdate = new Date(readTime(timeField(f, i++, what, 'thisUpdate')) * 1000);
  let nextUpdate: Date | undefined;
  if (f[i] && (f[i].tag === 0x17 || f[i].tag === 0x18)) nextUpdate = new Date(readTime(f[i++]) * 1000);
  const revoked = f[i]?.tag === 0x30 ? fieldsOf(f[i], `${what} revokedCertificates`).length : 0;
  return { issuer: nameToString(issuer), thisUpdate, nextUpdate, revokedCount: revoked, signatureAlgorithm: signatureAlgorithmOf(sigAlg).name };
}

function timeField(list: Tlv[], i: number, what: string, name: string): Tlv {
  const t = list[i];
  if (!t) throw new DerError(`${what}: ${name} is missing`);
  if (t.tag !== 0x17 && t.tag !== 0x18) throw new DerError(`${what}: ${name} is ${tagName(t.tag)}, not a UTCTime or GeneralizedTime`);
  return t;
}

/** At most this many certificates are decoded from one PKCS#7; a trust store export holds a few hundred. */
export const PKCS7_MAX_CERTIFICATES = 50_000;

const PKCS7_TYPES: Record<string, string> = {
  '1.2.840.113549.1.7.1': 'data',
  '1.2.840.113549.1.7.3': 'envelopedData',
  '1.2.840.113549.1.7.5': 'digestedData',
  '1.2.840.113549.1.7.6': 'encryptedData',
  '1.2.840.113549.1.9.16.1.2': 'authenticatedData',
};

/**
 * Decodes the certificates inside a PKCS#7 / CMS SignedData, in DER or in
 * BER with indefinite lengths (Windows `.p7b` exports, streamed CMS). Only
 * X.509 certificates are decoded; other CertificateChoices (attribute
 * certificates) are skipped.
 */
export function parsePkcs7(input: Buffer): Pkcs7Info {
  const der = berToDer(input, 'PKCS#7 ContentInfo');
  const info = fieldsOf(rootOf(der, 0x30, 'PKCS#7 ContentInfo'), 'PKCS#7 ContentInfo');
  const type = field(info, 0, 0x06, 'PKCS#7 ContentInfo', 'contentType');
  const id = readOid(type);
  if (id !== '1.2.840.113549.1.7.2') throw new DerError(`PKCS#7 ContentInfo: the content is ${PKCS7_TYPES[id] ?? id}, not SignedData, so it carries no certificates`);
  const explicit = fieldsOf(field(info, 1, 0xa0, 'PKCS#7 ContentInfo', 'content'), 'PKCS#7 content');
  const fields = fieldsOf(field(explicit, 0, 0x30, 'PKCS#7 content', 'SignedData'), 'SignedData');
  field(fields, 0, 0x02, 'SignedData', 'version');
  const certs = fields.find((t) => t.tag === 0xa0);
  const crls = fields.find((t) => t.tag === 0xa1);
  const certificates: Pkcs7Info['certificates'] = [];
  if (certs) {
    const choices = fieldsOf(certs, 'SignedData certificates');
    if (choices.length > PKCS7_MAX_CERTIFICATES) throw new DerError(`SignedData: ${choices.length} certificates, more than the ${PKCS7_MAX_CERTIFICATES} certops reads`);
    choices.forEach((c: Tlv, i) => {
      if (c.tag !== 0x30) return;
      try {
        certificates.push(parseCertificate(encoded(c)));
      } catch (e) {
        throw new DerError(`SignedData certificate ${i + 1} of ${choices.length}: ${describeDecodeError(e)}`);
      }
    });
  }
  return { certificates, crlCount: crls ? fieldsOf(crls, 'SignedData crls').length : 0 };
}

/**
 * Decodes EC PARAMETERS (a named curve or explicit parameters), DH
 * PARAMETERS (PKCS#3: p, g, optional private value length), X9.42 DH
 * PARAMETERS (p, g, q, ...) or DSA PARAMETERS (p, q, g): the size is that of
 * the prime p.
 */
export function parseParameters(label: string, der: Buffer): ParametersInfo {
  if (label === 'EC PARAMETERS') {
    const t = readTlv(der, 0);
    if (t.tag !== 0x06 && t.tag !== 0x30) throw new DerError(`ECParameters: expected a named curve OID or explicit parameters, found ${tagName(t.tag)}`);
    const { curve, bits } = ecParameters(t, 'ECParameters');
    return { kind: 'EC', curve, bits };
  }
  if (label === 'DSA PARAMETERS') {
    const f = fieldsOf(rootOf(der, 0x30, 'Dss-Parms'), 'Dss-Parms');
    const p = field(f, 0, 0x02, 'Dss-Parms', 'p');
    field(f, 1, 0x02, 'Dss-Parms', 'q');
    field(f, 2, 0x02, 'Dss-Parms', 'g');
    return { kind: 'DSA', bits: integerBits(content(p)) };
  }
  const what = label === 'X9.42 DH PARAMETERS' ? 'X9.42 DomainParameters' : 'DHParameter';
  const f = fieldsOf(rootOf(der, 0x30, what), what);
  const p = field(f, 0, 0x02, what, 'prime p');
  field(f, 1, 0x02, what, 'generator g');
  if (label === 'X9.42 DH PARAMETERS') field(f, 2, 0x02, what, 'subgroup order q');
  const bits = integerBits(content(p));
  if (bits === 0) throw new DerError(`${what}: the prime p is zero`);
  return { kind: 'DH', bits };
}
