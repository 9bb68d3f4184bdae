/**
 * Private and public key blocks. Private keys are parsed only to learn their
 * type and size and to derive the public key's SPKI hash for matching; no
 * private value is returned, logged or kept.
 * Every failure is a DerError naming the structure and what is wrong with it
 * (see fields.ts).
 */
import { KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { CURVES, KEY_ALGORITHMS } from '../der/oids';
import { DerError, Tlv, content, integerBits, readOid } from '../der';
import { tlv } from '../der/ber';
import { field, fieldsOf, rootOf, tagName } from './fields';
import { describeSpki, sha256 } from './spki';
import type { PrivateKeyInfo, PublicKeyBlockInfo } from './model';

const CIPHERS: Record<string, string> = {
  '2.16.840.1.101.3.4.1.2': 'AES-128-CBC',
  '2.16.840.1.101.3.4.1.22': 'AES-192-CBC',
  '2.16.840.1.101.3.4.1.42': 'AES-256-CBC',
  '2.16.840.1.101.3.4.1.6': 'AES-128-GCM',
  '2.16.840.1.101.3.4.1.46': 'AES-256-GCM',
  '1.2.840.113549.3.7': 'DES-EDE3-CBC',
  '1.3.14.3.2.7': 'DES-CBC',
  '1.2.840.113549.3.2': 'RC2-CBC',
};

// PKCS#5 v1 and PKCS#12 schemes, still written by older tools and Windows exports.
const PBE_SCHEMES: Record<string, string> = {
  '1.2.840.113549.1.5.3': 'pbeWithMD5AndDES-CBC',
  '1.2.840.113549.1.5.10': 'pbeWithSHA1AndDES-CBC',
  '1.2.840.113549.1.12.1.1': 'pbeWithSHAAnd128BitRC4',
  '1.2.840.113549.1.12.1.3': 'pbeWithSHAAnd3-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.5': 'pbeWithSHAAnd128BitRC2-CBC',
  '1.2.840.113549.1.12.1.6': 'pbeWithSHAAnd40BitRC2-CBC',
};

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PRIME_FIELD = '1.2.840.10045.1.1';
const OID_CHAR2_FIELD = '1.2.840.10045.1.2';

/** An OBJECT IDENTIFIER field as dotted text. */
function oidField(list: Tlv[], i: number, what: string, name: string): string {
  const t = field(list, i, 0x06, what, name);
  if (t.end === t.body) throw new DerError(`${what}: ${name} is an empty OBJECT IDENTIFIER`);
  return readOid(t);
}

/** Bit size of an INTEGER field. */
function intBits(list: Tlv[], i: number, what: string, name: string): number {
  return integerBits(content(field(list, i, 0x02, what, name)));
}

/** An INTEGER element re-encoded minimally (without redundant leading zero octets), as OpenSSL writes it. */
function minimalInteger(t: Tlv): Buffer {
  const v = content(t);
  let s = 0;
  while (s < v.length - 1 && v[s] === 0 && (v[s + 1] & 0x80) === 0) s++;
  return tlv(0x02, v.subarray(s));
}

/** An unsigned big-endian value as a DER INTEGER. */
function unsignedInteger(v: Buffer): Buffer {
  let s = 0;
  while (s < v.length - 1 && v[s] === 0) s++;
  const digits = v.subarray(s);
  return tlv(0x02, digits.length && digits[0] & 0x80 ? Buffer.concat([Buffer.from([0]), digits]) : digits);
}

/** The SPKI SHA-256 of a DSA public key: what a certificate for the key carries. */
function dsaSpkiSha256(p: Buffer, q: Buffer, g: Buffer, y: Buffer): string {
  const algorithm = tlv(0x30, tlv(0x06, Buffer.from('2a8648ce380401', 'hex')) /* id-dsa, 1.2.840.10040.4.1 */, tlv(0x30, p, q, g));
  return sha256(tlv(0x30, algorithm, tlv(0x03, Buffer.from([0]), y)));
}

/** Curve name and field size of EC domain parameters: a named curve's OID, or explicit (RFC 3279) parameters. */
export function ecParameters(params: Tlv | undefined, what: string): { curve?: string; bits?: number } {
  if (!params || params.tag === 0x05) return {};
  if (params.tag === 0x06) {
    const id = oidField([params], 0, what, 'namedCurve');
    return { curve: CURVES[id]?.name ?? id, bits: CURVES[id]?.bits };
  }
  if (params.tag !== 0x30) throw new DerError(`${what}: EC parameters are ${tagName(params.tag)}, not a named curve or explicit parameters`);
  const f = fieldsOf(params, `${what} ECParameters`);
  const fieldId = fieldsOf(field(f, 1, 0x30, `${what} ECParameters`, 'fieldID'), `${what} FieldID`);
  const fieldType = oidField(fieldId, 0, `${what} FieldID`, 'fieldType');
  // The curve is not named after its field: a look-alike curve can share a named curve's prime.
  if (fieldType === OID_PRIME_FIELD) return { curve: 'explicit parameters', bits: intBits(fieldId, 1, `${what} FieldID`, 'prime') };
  if (fieldType === OID_CHAR2_FIELD) {
    const m = fieldsOf(field(fieldId, 1, 0x30, `${what} FieldID`, 'characteristic-two parameters'), `${what} FieldID`);
    const v = content(field(m, 0, 0x02, `${what} FieldID`, 'm'));
    return { curve: 'explicit parameters', bits: v.length <= 2 ? v.reduce((n, b) => n * 256 + b, 0) : undefined };
  }
  return { curve: 'explicit parameters' };
}

/** Decodes a private key block by its label and RFC 1421 headers. Throws a DerError when the DER does not fit the label. */
export function parsePrivateKey(label: string, der: Buffer, headers: [string, string][]): PrivateKeyInfo {
  const procType = headers.find(([k]) => k.toLowerCase() === 'proc-type')?.[1] ?? '';
  if (/ENCRYPTED/i.test(procType)) {
    const dek = headers.find(([k]) => k.toLowerCase() === 'dek-info')?.[1] ?? '';
    const type = /^(RSA|EC|DSA) /.exec(label)?.[1] ?? 'unknown';
    return { type, format: 'legacy-encrypted', encrypted: true, encryption: dek.split(',')[0] || 'unknown' };
  }
  switch (label) {
    case 'OPENSSH PRIVATE KEY':
      return parseOpenSsh(der);
    case 'ENCRYPTED PRIVATE KEY':
      return parseEncryptedPkcs8(der);
    case 'RSA PRIVATE KEY': {
      const f = fieldsOf(rootOf(der, 0x30, 'RSAPrivateKey'), 'RSAPrivateKey');
      field(f, 0, 0x02, 'RSAPrivateKey', 'version');
      const bits = intBits(f, 1, 'RSAPrivateKey', 'modulus');
      for (const [i, name] of ['publicExponent', 'privateExponent', 'prime1', 'prime2'].entries()) field(f, i + 2, 0x02, 'RSAPrivateKey', name);
      return withSpki({ type: 'RSA', format: 'pkcs1', encrypted: false, bits }, der, 'pkcs1', 'RSAPrivateKey', 'RSA');
    }
    case 'EC PRIVATE KEY': {
      const f = fieldsOf(rootOf(der, 0x30, 'ECPrivateKey'), 'ECPrivateKey');
      field(f, 0, 0x02, 'ECPrivateKey', 'version');
      field(f, 1, 0x04, 'ECPrivateKey', 'privateKey');
      const params = f.find((t) => t.tag === 0xa0);
      const { curve, bits } = params ? ecParameters(fieldsOf(params, 'ECPrivateKey parameters')[0], 'ECPrivateKey') : {};
      return withSpki({ type: 'EC', format: 'sec1', encrypted: false, curve, bits }, der, 'sec1', 'ECPrivateKey', 'EC');
    }
    case 'DSA PRIVATE KEY':
      return parseDsaPrivateKey(der);
    default:
      return parsePkcs8(der);
  }
}

/**
 * OpenSSL's traditional DSA key: SEQUENCE { version 0, p, q, g, y, x }.
 * Node reads it only from PEM, so the SPKI is built from p, q, g and y here;
 * the private value x is never touched.
 */
function parseDsaPrivateKey(der: Buffer): PrivateKeyInfo {
  const what = 'DSAPrivateKey';
  const f = fieldsOf(rootOf(der, 0x30, what), what);
  const names = ['version', 'p', 'q', 'g', 'y', 'x'];
  const [version, p, q, g, y] = names.map((name, i) => field(f, i, 0x02, what, name));
  if (content(version).some((b) => b !== 0)) throw new DerError(`${what}: version is not 0`);
  if (f.length > names.length) throw new DerError(`${what}: ${f.length - names.length} unexpected element(s) after x`);
  const bits = integerBits(content(p));
  if (bits === 0) throw new DerError(`${what}: p is zero`);
  return { type: 'DSA', format: 'dsa', encrypted: false, bits, spkiSha256: dsaSpkiSha256(minimalInteger(p), minimalInteger(q), minimalInteger(g), minimalInteger(y)) };
}

function parsePkcs8(der: Buffer): PrivateKeyInfo {
  const what = 'PrivateKeyInfo';
  const f = fieldsOf(rootOf(der, 0x30, what), what);
  field(f, 0, 0x02, what, 'version');
  const algId = fieldsOf(field(f, 1, 0x30, what, 'privateKeyAlgorithm'), `${what} privateKeyAlgorithm`);
  const id = oidField(algId, 0, `${what} privateKeyAlgorithm`, 'algorithm');
  const params = algId[1];
  const key = field(f, 2, 0x04, what, 'privateKey');
  const info: PrivateKeyInfo = { type: KEY_ALGORITHMS[id] ?? id, format: 'pkcs8', encrypted: false };
  if (info.type === 'RSA' || info.type === 'RSA-PSS') {
    const inner = fieldsOf(rootOf(content(key), 0x30, 'RSAPrivateKey'), 'RSAPrivateKey');
    info.bits = intBits(inner, 1, 'RSAPrivateKey', 'modulus');
  } else if (info.type === 'EC') Object.assign(info, ecParameters(params, what));
  else if (info.type === 'Ed25519' || info.type === 'X25519') info.bits = 256;
  else if (info.type === 'Ed448' || info.type === 'X448') info.bits = 448;
  else if ((info.type === 'DSA' || info.type === 'DH') && params?.tag === 0x30) info.bits = intBits(fieldsOf(params, `${what} ${info.type} parameters`), 0, `${what} ${info.type} parameters`, 'p');
  if (!KEY_ALGORITHMS[id]) return info; // no SPKI to derive for an algorithm certops does not know
  return withSpki(info, der, 'pkcs8', what, info.type);
}

function parseEncryptedPkcs8(der: Buffer): PrivateKeyInfo {
  const what = 'EncryptedPrivateKeyInfo';
  const f = fieldsOf(rootOf(der, 0x30, what), what);
  const algId = fieldsOf(field(f, 0, 0x30, what, 'encryptionAlgorithm'), `${what} encryptionAlgorithm`);
  field(f, 1, 0x04, what, 'encryptedData');
  const id = oidField(algId, 0, `${what} encryptionAlgorithm`, 'algorithm');
  let encryption = PBE_SCHEMES[id] ?? id;
  if (id === OID_PBES2) {
    const pbes2 = fieldsOf(field(algId, 1, 0x30, `${what} encryptionAlgorithm`, 'PBES2 parameters'), 'PBES2-params');
    const scheme = fieldsOf(field(pbes2, 1, 0x30, 'PBES2-params', 'encryptionScheme'), 'PBES2-params encryptionScheme');
    const cipher = oidField(scheme, 0, 'PBES2-params encryptionScheme', 'algorithm');
    encryption = `PBES2 ${CIPHERS[cipher] ?? cipher}`;
  }
  return { type: 'unknown', format: 'encrypted-pkcs8', encrypted: true, encryption };
}

/** Derives the SPKI hash with Node's crypto, turning its library errors into a sentence about the key. */
function withSpki(info: PrivateKeyInfo, der: Buffer, type: 'pkcs1' | 'pkcs8' | 'sec1', what: string, algorithm: string): PrivateKeyInfo {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: der, format: 'der', type });
  } catch {
    throw new DerError(`${what}: the values do not form a valid ${algorithm} private key`);
  }
  info.spkiSha256 = spkiOf(key);
  return info;
}

function spkiOf(key: KeyObject): string {
  return sha256(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

const ECDSA_SIZES: Record<string, number> = { 'ecdsa-sha2-nistp256': 256, 'ecdsa-sha2-nistp384': 384, 'ecdsa-sha2-nistp521': 521 };

/** OpenSSH's own format keeps the public key in clear even when the private part is encrypted. */
function parseOpenSsh(der: Buffer): PrivateKeyInfo {
  const magic = 'openssh-key-v1\0';
  if (der.toString('latin1', 0, magic.length) !== magic) throw new DerError('OpenSSH private key: the data does not start with "openssh-key-v1"');
  const r = new SshReader(der, magic.length, 'OpenSSH private key');
  const cipher = r.text('cipher name');
  r.string('KDF name');
  r.string('KDF options');
  const count = r.uint32('key count');
  if (count < 1) throw new DerError('OpenSSH private key: the file holds no keys');
  const blob = new SshReader(r.string('public key'), 0, 'OpenSSH public key');
  const keyType = blob.text('key type');
  const encrypted = cipher !== 'none';
  const info: PrivateKeyInfo = { type: keyType, format: 'openssh', encrypted, encryption: encrypted ? cipher : undefined };
  let jwk: Record<string, string> | undefined;
  if (keyType === 'ssh-rsa') {
    const e = unsigned(blob.string('RSA exponent'));
    const n = unsigned(blob.string('RSA modulus'));
    info.type = 'RSA';
    info.bits = integerBits(n);
    jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
  } else if (keyType === 'ssh-ed25519') {
    info.type = 'Ed25519';
    info.bits = 256;
    jwk = { kty: 'OKP', crv: 'Ed25519', x: blob.string('Ed25519 public key').toString('base64url') };
  } else if (ECDSA_SIZES[keyType]) {
    const size = ECDSA_SIZES[keyType];
    blob.string('curve name');
    const q = blob.string('EC point');
    const len = Math.ceil(size / 8);
    if (q.length !== 1 + 2 * len || q[0] !== 4) throw new DerError(`OpenSSH public key: the EC point is not an uncompressed P-${size} point`);
    info.type = 'EC';
    info.curve = `P-${size}`;
    info.bits = size;
    jwk = { kty: 'EC', crv: `P-${size}`, x: q.subarray(1, 1 + len).toString('base64url'), y: q.subarray(1 + len).toString('base64url') };
  } else if (keyType === 'ssh-dss') {
    const [p, q, g, y] = ['p', 'q', 'g', 'y'].map((n) => unsigned(blob.string(`DSA ${n}`)));
    info.type = 'DSA';
    info.bits = integerBits(p);
    info.spkiSha256 = dsaSpkiSha256(unsignedInteger(p), unsignedInteger(q), unsignedInteger(g), unsignedInteger(y));
  }
  if (jwk) {
    try {
      info.spkiSha256 = sha256(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
    } catch {
      throw new DerError(`OpenSSH public key: not a valid ${info.type} public key`);
    }
  }
  return info;
}

function unsigned(b: Buffer): Buffer {
  let s = 0;
  while (s < b.length - 1 && b[s] === 0) s++;
  return b.subarray(s);
}

/** The length-prefixed fields of OpenSSH's format (RFC 4251 strings). */
class SshReader {
  constructor(
    private readonly buf: Buffer,
    private pos: number,
    private readonly what: string,
  ) {}
  uint32(name: string): number {
    if (this.pos + 4 > this.buf.length) throw new DerError(`${this.what}: truncated before the ${name}`);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  string(name: string): Buffer {
    const n = this.uint32(name);
    if (this.pos + n > this.buf.length) throw new DerError(`${this.what}: the ${name} runs past the end of the data`);
    const s = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  /** A short name field; anything but printable ASCII is refused so it can be shown. */
  text(name: string): string {
    const b = this.string(name);
    if (b.length > 64 || b.some((c) => c < 0x20 || c > 0x7e)) throw new DerError(`${this.what}: the ${name} is not a short ASCII name`);
    return b.toString('latin1');
  }
}

/** Decodes a PUBLIC KEY (SPKI) or RSA PUBLIC KEY (PKCS#1) block. */
export function parsePublicKey(label: string, der: Buffer): PublicKeyBlockInfo {
  if (label === 'RSA PUBLIC KEY') {
    const what = 'RSAPublicKey';
    const f = fieldsOf(rootOf(der, 0x30, what), what);
    const bits = intBits(f, 0, what, 'modulus');
    field(f, 1, 0x02, what, 'publicExponent');
    let spki: Buffer;
    try {
      spki = createPublicKey({ key: der, format: 'der', type: 'pkcs1' }).export({ type: 'spki', format: 'der' });
    } catch {
      throw new DerError(`${what}: the values do not form a valid RSA public key`);
    }
    return { algorithm: 'RSA', bits, spkiSha256: sha256(spki), format: 'pkcs1' };
  }
  const root = rootOf(der, 0x30, 'SubjectPublicKeyInfo');
  const f = fieldsOf(root, 'SubjectPublicKeyInfo');
  const algId = fieldsOf(field(f, 0, 0x30, 'SubjectPublicKeyInfo', 'algorithm'), 'SubjectPublicKeyInfo algorithm');
  oidField(algId, 0, 'SubjectPublicKeyInfo algorithm', 'algorithm');
  field(f, 1, 0x03, 'SubjectPublicKeyInfo', 'subjectPublicKey');
  const info: PublicKeyBlockInfo = { ...describeSpki(root), format: 'spki' };
  if (info.algorithm === 'EC' && algId[1]?.tag === 0x30) Object.assign(info, ecParameters(algId[1], 'SubjectPublicKeyInfo'));
  return info;
}
