import { hash } from 'node:crypto';
import { EKU_NAMES, HASH_ALGORITHMS, KEY_USAGE_BITS, SIGNATURE_ALGORITHMS } from '../der/oids';
import { Tlv, children, content, encoded, expect, integerHex, readBitString, readBoolean, readOid, readSmallInt, readTime, readTlv } from '../der';
import { nameAttribute, nameToString } from './names';
import { describeSpki } from './spki';
import { CertificateInfo, RAW, SubjectAltName } from './model';

/**
 * Decodes a DER certificate into the data model. `buf` may hold trailing data
 * (OpenSSL's TRUSTED CERTIFICATE appends trust settings), only the first
 * element is read. Throws an Error naming the problem when it does not parse.
 */
export function parseCertificate(buf: Buffer): CertificateInfo {
  const root = readTlv(buf, 0);
  expect(root, 0x30, 'Certificate');
  const der = encoded(root);
  const [tbs, sigAlg, sig] = children(root);
  expect(tbs, 0x30, 'TBSCertificate');
  expect(sigAlg, 0x30, 'signatureAlgorithm');
  expect(sig, 0x03, 'signature');
  const f = children(tbs);
  let i = 0;
  let version = 1;
  if (f[0]?.tag === 0xa0) {
    version = readSmallInt(children(f[0])[0]) + 1;
    i++;
  }
  const serial = expect(f[i++], 0x02, 'serialNumber');
  i++; // the inner signature algorithm repeats the outer one
  const issuer = expect(f[i++], 0x30, 'issuer');
  const validity = children(expect(f[i++], 0x30, 'validity'));
  const subject = expect(f[i++], 0x30, 'subject');
  const spki = expect(f[i++], 0x30, 'subjectPublicKeyInfo');
  const ext = f.slice(i).find((t) => t.tag === 0xa3);
  const subjectName = encoded(subject);
  const issuerName = encoded(issuer);
  const { name: signatureAlgorithm, hash: signatureHash } = signatureAlgorithmOf(sigAlg);
  const publicKey = describeSpki(spki);
  const info: CertificateInfo = {
    version,
    subject: nameToString(subject),
    issuer: nameToString(issuer),
    commonName: nameAttribute(subject, '2.5.4.3'),
    serialNumber: integerHex(serial),
    notBefore: new Date(readTime(validity[0]) * 1000),
    notAfter: new Date(readTime(validity[1]) * 1000),
    sans: [],
    publicKey,
    signatureAlgorithm,
    signatureHash,
    sha256: hash('sha256', der, 'hex'),
    sha1: hash('sha1', der, 'hex'),
    spkiSha256: publicKey.spkiSha256,
    authorityInfoAccess: { ocsp: [], caIssuers: [] },
    crlDistributionPoints: [],
    selfIssued: subjectName.equals(issuerName),
    isCA: false,
    [RAW]: { der, tbs: encoded(tbs), signature: readBitString(sig).bytes, subjectName, issuerName, spki: encoded(spki) },
  };
  if (ext) readExtensions(children(ext)[0], info);
  info.isCA = info.basicConstraints?.ca === true && (!info.keyUsage || info.keyUsage.includes('keyCertSign'));
  if (info.version < 3 && info.selfIssued) info.isCA = true; // v1 roots predate basicConstraints
  return info;
}

/** Name and hash of an AlgorithmIdentifier used for signatures (RSASSA-PSS reads its parameters). */
export function signatureAlgorithmOf(algId: Tlv): { name: string; hash?: string } {
  const [algOid, params] = children(algId);
  const id = readOid(algOid);
  const known = SIGNATURE_ALGORITHMS[id];
  if (!known) return { name: id };
  if (known.name !== 'rsassaPss') return known;
  let hash = 'sha1'; // RFC 4055 default
  const hashParam = params?.tag === 0x30 ? children(params).find((t) => t.tag === 0xa0) : undefined;
  if (hashParam) hash = HASH_ALGORITHMS[readOid(children(children(hashParam)[0])[0])] ?? 'unknown';
  return { name: `rsassaPss-${hash}`, hash };
}

/** Reads GeneralNames into SAN entries. */
export function generalNames(seq: Tlv): SubjectAltName[] {
  const out: SubjectAltName[] = [];
  for (const gn of children(seq)) {
    switch (gn.tag) {
      case 0x82:
        out.push({ type: 'dns', value: gn.buf.toString('latin1', gn.body, gn.end) });
        break;
      case 0x81:
        out.push({ type: 'email', value: gn.buf.toString('latin1', gn.body, gn.end) });
        break;
      case 0x86:
        out.push({ type: 'uri', value: gn.buf.toString('latin1', gn.body, gn.end) });
        break;
      case 0x87:
        out.push({ type: 'ip', value: ipString(content(gn)) });
        break;
      case 0xa4:
        out.push({ type: 'dirName', value: nameToString(children(gn)[0]) });
        break;
      default:
        out.push({ type: 'other', value: encoded(gn).toString('hex') });
    }
  }
  return out;
}

function readExtensions(seq: Tlv, info: CertificateInfo): void {
  for (const e of children(seq)) {
    const parts = children(e);
    const id = readOid(parts[0]);
    const value = parts[parts.length - 1];
    const inner = readTlv(value.buf, value.body, value.end);
    switch (id) {
      case '2.5.29.17':
        info.sans = generalNames(inner);
        break;
      case '2.5.29.19': {
        const bc = children(inner);
        const ca = bc[0]?.tag === 0x01 && readBoolean(bc[0]);
        const pl = bc.find((t) => t.tag === 0x02);
        info.basicConstraints = pl ? { ca, pathLen: readSmallInt(pl) } : { ca };
        break;
      }
      case '2.5.29.15': {
        const bits = readBitString(inner).bytes;
        info.keyUsage = KEY_USAGE_BITS.filter((_, n) => n >> 3 < bits.length && (bits[n >> 3] & (0x80 >> (n & 7))) !== 0);
        break;
      }
      case '2.5.29.37':
        info.extendedKeyUsage = children(inner).map((t) => EKU_NAMES[readOid(t)] ?? readOid(t));
        break;
      case '2.5.29.14':
        info.subjectKeyId = content(inner).toString('hex');
        break;
      case '2.5.29.35': {
        const keyId = children(inner).find((t) => t.tag === 0x80);
        if (keyId) info.authorityKeyId = content(keyId).toString('hex');
        break;
      }
      case '1.3.6.1.5.5.7.1.1':
        for (const ad of children(inner)) {
          const [method, location] = children(ad);
          if (location.tag !== 0x86) continue;
          const uri = location.buf.toString('latin1', location.body, location.end);
          const m = readOid(method);
          if (m === '1.3.6.1.5.5.7.48.1') info.authorityInfoAccess.ocsp.push(uri);
          else if (m === '1.3.6.1.5.5.7.48.2') info.authorityInfoAccess.caIssuers.push(uri);
        }
        break;
      case '2.5.29.31':
        collectUris(inner, info.crlDistributionPoints);
        break;
    }
  }
}

function collectUris(t: Tlv, out: string[]): void {
  if (t.tag === 0x86) out.push(t.buf.toString('latin1', t.body, t.end));
  else if (t.tag & 0x20) for (const c of children(t)) collectUris(c, out);
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
