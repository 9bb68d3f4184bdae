import { hash } from 'node:crypto';
import { CURVES, KEY_ALGORITHMS } from '../der/oids';
import { Tlv, children, content, encoded, expect, integerBits, readBitString, readOid, readTlv } from '../der';
import type { PublicKeyInfo } from './model';

/** Hex SHA-256. */
export function sha256(data: Buffer): string {
  return hash('sha256', data, 'hex');
}

/**
 * Facts about a DER SubjectPublicKeyInfo (an element or its encoding), read
 * without building a KeyObject. Facts that do not decode are left out.
 */
export function describeSpki(input: Tlv | Buffer): PublicKeyInfo {
  const spki = Buffer.isBuffer(input) ? readTlv(input, 0) : input;
  const info: PublicKeyInfo = { algorithm: 'unknown', spkiSha256: sha256(encoded(spki)) };
  try {
    describeInto(spki, info);
  } catch (e) {
    if (!Buffer.isBuffer(input)) throw e;
  }
  return info;
}

function describeInto(spki: Tlv, info: PublicKeyInfo): void {
  const [algId, key] = children(expect(spki, 0x30, 'SubjectPublicKeyInfo'));
  const [algOid, params] = children(expect(algId, 0x30, 'AlgorithmIdentifier'));
  const id = readOid(algOid);
  const algorithm = KEY_ALGORITHMS[id] ?? id;
  info.algorithm = algorithm;
  expect(key, 0x03, 'subjectPublicKey');
  if (algorithm === 'RSA' || algorithm === 'RSA-PSS') {
    const bits = readBitString(key).bytes;
    const seq = readTlv(bits, 0);
    const [n] = children(seq);
    info.bits = integerBits(content(n));
  } else if (algorithm === 'EC' && params?.tag === 0x06) {
    const curveOid = readOid(params);
    info.curve = CURVES[curveOid]?.name ?? curveOid;
    info.bits = CURVES[curveOid]?.bits;
  } else if (algorithm === 'Ed25519' || algorithm === 'X25519') info.bits = 256;
  else if (algorithm === 'Ed448' || algorithm === 'X448') info.bits = 448;
  else if (algorithm === 'DSA' && params?.tag === 0x30) info.bits = integerBits(content(children(params)[0]));
}

/** A one-line description such as `RSA 2048` or `EC P-256`. */
export function keyLabel(k: { algorithm?: string; type?: string; bits?: number; curve?: string }): string {
  const alg = k.algorithm ?? k.type ?? 'key';
  if (k.curve) return `${alg} ${k.curve}`;
  if (/^(Ed|X)(25519|448)$/.test(alg)) return alg;
  return k.bits ? `${alg} ${k.bits}` : alg;
}

/** Whether a key is below the sizes certops accepts (RSA/DSA < 2048, EC < 256). */
export function isWeakKey(k: { algorithm?: string; type?: string; bits?: number }): boolean {
  const alg = k.algorithm ?? k.type;
  if (!k.bits) return false;
  if (alg === 'RSA' || alg === 'RSA-PSS' || alg === 'DSA') return k.bits < 2048;
  if (alg === 'EC') return k.bits < 256;
  return false;
}
