/**
 * Private and public key blocks. Private keys are parsed only to learn their
 * type and size and to derive the public key's SPKI hash for matching; no
 * private value is returned, logged or kept.
 */
import { KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { CURVES, KEY_ALGORITHMS } from '../der/oids';
import { children, content, integerBits, readOid, readRoot, readTlv } from '../der';
import { describeSpki, sha256 } from './spki';
import type { PrivateKeyInfo, PublicKeyBlockInfo } from './model';

const CIPHERS: Record<string, string> = {
  '2.16.840.1.101.3.4.1.2': 'AES-128-CBC',
  '2.16.840.1.101.3.4.1.22': 'AES-192-CBC',
  '2.16.840.1.101.3.4.1.42': 'AES-256-CBC',
  '1.2.840.113549.3.7': 'DES-EDE3-CBC',
  '1.3.14.3.2.7': 'DES-CBC',
};

/** Decodes a private key block by its label and RFC 1421 headers. Throws when the DER does not fit the label. */
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
      const [, n] = children(readRoot(der));
      return withSpki({ type: 'RSA', format: 'pkcs1', encrypted: false, bits: integerBits(content(n)) }, der, 'pkcs1');
    }
    case 'EC PRIVATE KEY': {
      const params = children(readRoot(der)).find((t) => t.tag === 0xa0);
      const curveOid = params ? readOid(children(params)[0]) : '';
      const curve = CURVES[curveOid];
      return withSpki({ type: 'EC', format: 'sec1', encrypted: false, curve: curve?.name ?? (curveOid || undefined), bits: curve?.bits }, der, 'sec1');
    }
    case 'DSA PRIVATE KEY': {
      const [, p] = children(readRoot(der));
      const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs1' } as never);
      return { type: 'DSA', format: 'dsa', encrypted: false, bits: integerBits(content(p)), spkiSha256: spkiOf(key) };
    }
    default:
      return parsePkcs8(der);
  }
}

function parsePkcs8(der: Buffer): PrivateKeyInfo {
  const [, algId, key] = children(readRoot(der));
  const [algOid, params] = children(algId);
  const id = readOid(algOid);
  const info: PrivateKeyInfo = { type: KEY_ALGORITHMS[id] ?? id, format: 'pkcs8', encrypted: false };
  if (info.type === 'RSA' || info.type === 'RSA-PSS') {
    const inner = content(key);
    info.bits = integerBits(content(children(readRoot(inner))[1]));
  } else if (info.type === 'EC' && params?.tag === 0x06) {
    const c = CURVES[readOid(params)];
    info.curve = c?.name ?? readOid(params);
    info.bits = c?.bits;
  } else if (info.type === 'Ed25519' || info.type === 'X25519') info.bits = 256;
  else if (info.type === 'Ed448' || info.type === 'X448') info.bits = 448;
  else if (info.type === 'DSA' && params?.tag === 0x30) info.bits = integerBits(content(children(params)[0]));
  return withSpki(info, der, 'pkcs8');
}

function parseEncryptedPkcs8(der: Buffer): PrivateKeyInfo {
  const [algId] = children(readRoot(der));
  const [algOid, params] = children(algId);
  let encryption = readOid(algOid);
  if (encryption === '1.2.840.113549.1.5.13' && params) {
    const [, enc] = children(params);
    const cipher = readOid(children(enc)[0]);
    encryption = `PBES2 ${CIPHERS[cipher] ?? cipher}`;
  }
  return { type: 'unknown', format: 'encrypted-pkcs8', encrypted: true, encryption };
}

function withSpki(info: PrivateKeyInfo, der: Buffer, type: 'pkcs1' | 'pkcs8' | 'sec1'): PrivateKeyInfo {
  const key = createPrivateKey({ key: der, format: 'der', type });
  info.spkiSha256 = spkiOf(key);
  return info;
}

function spkiOf(key: KeyObject): string {
  return sha256(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

/** OpenSSH's own format keeps the public key in clear even when the private part is encrypted. */
function parseOpenSsh(der: Buffer): PrivateKeyInfo {
  const magic = 'openssh-key-v1\0';
  if (der.toString('latin1', 0, magic.length) !== magic) throw new Error('not an openssh-key-v1 key');
  const r = new SshReader(der, magic.length);
  const cipher = r.string().toString('latin1');
  r.string(); // kdf name
  r.string(); // kdf options
  if (r.uint32() < 1) throw new Error('the OpenSSH key holds no keys');
  const blob = new SshReader(r.string(), 0);
  const keyType = blob.string().toString('latin1');
  const encrypted = cipher !== 'none';
  const info: PrivateKeyInfo = { type: keyType, format: 'openssh', encrypted, encryption: encrypted ? cipher : undefined };
  let jwk: Record<string, string> | undefined;
  if (keyType === 'ssh-rsa') {
    const e = unsigned(blob.string());
    const n = unsigned(blob.string());
    info.type = 'RSA';
    info.bits = integerBits(n);
    jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
  } else if (keyType === 'ssh-ed25519') {
    info.type = 'Ed25519';
    info.bits = 256;
    jwk = { kty: 'OKP', crv: 'Ed25519', x: blob.string().toString('base64url') };
  } else if (keyType.startsWith('ecdsa-sha2-nistp')) {
    const size = Number(keyType.slice('ecdsa-sha2-nistp'.length));
    blob.string();
    const q = blob.string();
    const len = (q.length - 1) / 2;
    info.type = 'EC';
    info.curve = `P-${size}`;
    info.bits = size;
    jwk = { kty: 'EC', crv: `P-${size}`, x: q.subarray(1, 1 + len).toString('base64url'), y: q.subarray(1 + len).toString('base64url') };
  }
  if (jwk) info.spkiSha256 = sha256(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
  return info;
}

function unsigned(b: Buffer): Buffer {
  let s = 0;
  while (s < b.length - 1 && b[s] === 0) s++;
  return b.subarray(s);
}

class SshReader {
  constructor(
    private readonly buf: Buffer,
    private pos: number,
  ) {}
  uint32(): number {
    if (this.pos + 4 > this.buf.length) throw new Error('OpenSSH key truncated');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  string(): Buffer {
    const n = this.uint32();
    if (this.pos + n > this.buf.length) throw new Error('OpenSSH key truncated');
    const s = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/** Decodes a PUBLIC KEY (SPKI) or RSA PUBLIC KEY (PKCS#1) block. */
export function parsePublicKey(label: string, der: Buffer): PublicKeyBlockInfo {
  if (label === 'RSA PUBLIC KEY') {
    const [n] = children(readRoot(der));
    const spki = createPublicKey({ key: der, format: 'der', type: 'pkcs1' }).export({ type: 'spki', format: 'der' });
    return { algorithm: 'RSA', bits: integerBits(content(n)), spkiSha256: sha256(spki), format: 'pkcs1' };
  }
  const root = readTlv(der, 0);
  return { ...describeSpki(root), format: 'spki' };
}
