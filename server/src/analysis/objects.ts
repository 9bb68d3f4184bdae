/** CSRs, CRLs, PKCS#7 bundles and domain parameters: the blocks that are neither certificates nor keys. */
import { constants, createPublicKey, verify } from 'node:crypto';
import { CURVES } from '../der/oids';
import { Tlv, children, content, encoded, expect, integerBits, readBitString, readOid, readRoot, readTime, readTlv } from '../der';
import { nameAttribute, nameToString } from './names';
import { describeSpki } from './spki';
import { generalNames, parseCertificate, signatureAlgorithmOf } from './certificate';
import type { CrlInfo, CsrInfo, ParametersInfo, Pkcs7Info, SubjectAltName } from './model';

/** Verifies `signature` over `data` with a DER SPKI, for the signature algorithm named by the data model. */
export function verifySignature(data: Buffer, signature: Buffer, spki: Buffer, alg: { name: string; hash?: string }): boolean {
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    if (alg.name.startsWith('rsassaPss')) {
      return verify(alg.hash ?? 'sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature);
    }
    return verify(alg.name === 'Ed25519' || alg.name === 'Ed448' ? null : (alg.hash ?? null), data, key, signature);
  } catch {
    return false;
  }
}

/** Decodes a PKCS#10 certificate request and checks its self-signature. */
export function parseCsr(der: Buffer): CsrInfo {
  const [info, sigAlg, sig] = children(readRoot(der));
  const [, subject, spki, attrs] = children(expect(info, 0x30, 'CertificationRequestInfo'));
  expect(subject, 0x30, 'subject');
  expect(spki, 0x30, 'subjectPublicKeyInfo');
  let sans: SubjectAltName[] = [];
  if (attrs?.tag === 0xa0) {
    for (const attr of children(attrs)) {
      const [type, values] = children(attr);
      if (readOid(type) !== '1.2.840.113549.1.9.14') continue;
      const extensions = children(values)[0];
      for (const e of children(extensions)) {
        const parts = children(e);
        if (readOid(parts[0]) !== '2.5.29.17') continue;
        const value = parts[parts.length - 1];
        sans = generalNames(readTlv(der, value.body, value.end));
      }
    }
  }
  const alg = signatureAlgorithmOf(expect(sigAlg, 0x30, 'signatureAlgorithm'));
  return {
    subject: nameToString(subject),
    commonName: nameAttribute(subject, '2.5.4.3'),
    sans,
    publicKey: describeSpki(spki),
    signatureAlgorithm: alg.name,
    signatureValid: verifySignature(encoded(info), readBitString(expect(sig, 0x03, 'signature')).bytes, encoded(spki), alg),
  };
}

/** Decodes an X.509 CRL (without checking its signature: the issuer may not be at hand). */
export function parseCrl(der: Buffer): CrlInfo {
  const [tbs, sigAlg] = children(readRoot(der));
  const f = children(expect(tbs, 0x30, 'TBSCertList'));
  let i = f[0]?.tag === 0x02 ? 1 : 0;
  i++; // signature algorithm
  const issuer = expect(f[i++], 0x30, 'issuer');
  const thisUpdate = new Date(readTime(f[i++]) * 1000);
  let nextUpdate: Date | undefined;
  if (f[i] && (f[i].tag === 0x17 || f[i].tag === 0x18)) nextUpdate = new Date(readTime(f[i++]) * 1000);
  const revoked = f[i]?.tag === 0x30 ? children(f[i]).length : 0;
  return { issuer: nameToString(issuer), thisUpdate, nextUpdate, revokedCount: revoked, signatureAlgorithm: signatureAlgorithmOf(sigAlg).name };
}

/** Decodes the certificates inside a PKCS#7 / CMS SignedData. */
export function parsePkcs7(der: Buffer): Pkcs7Info {
  const [type, explicit] = children(readRoot(der));
  if (readOid(type) !== '1.2.840.113549.1.7.2') throw new Error('only PKCS#7 SignedData is supported');
  const signedData = children(expect(explicit, 0xa0, 'content'))[0];
  const fields = children(expect(signedData, 0x30, 'SignedData'));
  const certs = fields.find((t) => t.tag === 0xa0);
  const crls = fields.find((t) => t.tag === 0xa1);
  return {
    certificates: certs ? children(certs).map((c: Tlv) => parseCertificate(encoded(c))) : [],
    crlCount: crls ? children(crls).length : 0,
  };
}

/** Decodes EC PARAMETERS (a named curve or explicit parameters) or DH PARAMETERS (prime size). */
export function parseParameters(label: string, der: Buffer): ParametersInfo {
  if (label === 'EC PARAMETERS') {
    const t = readTlv(der, 0);
    if (t.tag === 0x06) {
      const id = readOid(t);
      return { kind: 'EC', curve: CURVES[id]?.name ?? id, bits: CURVES[id]?.bits };
    }
    expect(t, 0x30, 'ECParameters');
    return { kind: 'EC', curve: 'explicit parameters' };
  }
  const [p] = children(readRoot(der));
  return { kind: 'DH', bits: integerBits(content(expect(p, 0x02, 'prime'))) };
}
