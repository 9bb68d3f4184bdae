/**
 * The one signature verifier, on TBS bytes with Node's crypto, synchronously,
 * and the public-key policy (key sizes and curves the Web PKI accepts). Path
 * validation runs it under the Web PKI policy; chain analysis with `weak`
 * allowed, so that a SHA-1 or MD5 signature that verifies is reported as weak
 * rather than as a broken chain.
 */
import { KeyObject, constants, createPublicKey, verify } from 'node:crypto';
import { DerError, Reader, TAG, parseOne, readOid, readSmallInt } from '../der';
import { CURVES, HASH_ALGORITHMS, KEY_ALGORITHMS, SIGNATURE_ALGORITHMS } from '../der/oids';
import { AlgorithmIdentifier } from './certificate';

// The named tables list more than the Web PKI accepts; these narrow them.
const HASH_LEN: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 };
const ACCEPTED_CURVES = new Set(['P-256', 'P-384', 'P-521']);

const NULL_PARAMS = '0500';
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : '');

/** A signature scheme Node can run, or a reason it is refused. */
export type Scheme =
  | { ok: true; hash: string | null; key: 'rsa' | 'rsa-pss' | 'ec' | 'dsa' | 'ed25519' | 'ed448'; pssSalt?: number }
  | { ok: false; reason: string };

/** `weak`: also run the hashes and schemes the Web PKI refuses (SHA-1, MD5, DSA, any PSS salt), for reporting. */
export interface SchemeOptions {
  readonly weak?: boolean;
}

// Hashes Node's OpenSSL can still run, for the weak policy.
const NODE_HASHES = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

function pssParams(params: Uint8Array | undefined, opts: SchemeOptions = {}): Scheme {
  if (!params) return { ok: false, reason: 'RSASSA-PSS without parameters' };
  const r = new Reader(parseOne(params));
  let hash = 'sha1';
  let mgfHash = 'sha1';
  let salt = 20;
  const h = r.optional(0xa0);
  if (h) {
    const hr = new Reader(h);
    const alg = new Reader(hr.next(TAG.SEQUENCE));
    hash = HASH_ALGORITHMS[readOid(alg.next(TAG.OID))] ?? 'unsupported';
  }
  const m = r.optional(0xa1);
  if (m) {
    const mr = new Reader(new Reader(m).next(TAG.SEQUENCE));
    if (readOid(mr.next(TAG.OID)) !== '1.2.840.113549.1.1.8') return { ok: false, reason: 'PSS mask generation is not MGF1' };
    const inner = new Reader(mr.next(TAG.SEQUENCE));
    mgfHash = HASH_ALGORITHMS[readOid(inner.next(TAG.OID))] ?? 'unsupported';
  }
  const s = r.optional(0xa2);
  if (s) salt = readSmallInt(new Reader(s).next(TAG.INTEGER));
  const t = r.optional(0xa3);
  if (t && readSmallInt(new Reader(t).next(TAG.INTEGER)) !== 1) return { ok: false, reason: 'PSS trailer field is not 1' };
  r.end();
  if (opts.weak && NODE_HASHES.has(hash)) return { ok: true, hash, key: 'rsa', pssSalt: salt };
  if (!HASH_LEN[hash]) return { ok: false, reason: `PSS with ${hash}` };
  if (mgfHash !== hash) return { ok: false, reason: 'PSS MGF1 hash differs from the message hash' };
  if (salt !== HASH_LEN[hash]) return { ok: false, reason: 'PSS salt length differs from the hash length' };
  return { ok: true, hash, key: 'rsa', pssSalt: salt };
}

/** Maps a signatureAlgorithm to a scheme; SHA-1, MD5 and DSA are refused unless `opts.weak`. */
export function signatureScheme(alg: AlgorithmIdentifier, opts: SchemeOptions = {}): Scheme {
  const { name = '', hash = '' } = SIGNATURE_ALGORITHMS[alg.oid] ?? {};
  try {
    if (opts.weak && NODE_HASHES.has(hash)) {
      if (/RSA/.test(name)) return { ok: true, hash, key: 'rsa' };
      if (name.startsWith('ecdsa-')) return { ok: true, hash, key: 'ec' };
      if (name.startsWith('dsa')) return { ok: true, hash, key: 'dsa' };
    }
    if (HASH_LEN[hash] && name.endsWith('WithRSAEncryption')) {
      // RFC 4055 wants NULL; absent parameters are tolerated because some encoders omit them.
      if (alg.params && hex(alg.params) !== NULL_PARAMS) return { ok: false, reason: 'RSA parameters must be NULL' };
      return { ok: true, hash, key: 'rsa' };
    }
    if (HASH_LEN[hash] && name.startsWith('ecdsa-with-')) {
      if (alg.params) return { ok: false, reason: 'ECDSA parameters must be absent' };
      return { ok: true, hash, key: 'ec' };
    }
    if (name === 'rsassaPss') return pssParams(alg.params, opts);
    if (name === 'Ed25519' || name === 'Ed448') {
      if (alg.params) return { ok: false, reason: 'EdDSA parameters must be absent' };
      return { ok: true, hash: null, key: name === 'Ed25519' ? 'ed25519' : 'ed448' };
    }
  } catch (e) {
    if (e instanceof DerError) return { ok: false, reason: `bad algorithm parameters: ${e.message}` };
    throw e;
  }
  return { ok: false, reason: `unsupported signature algorithm ${alg.oid}` };
}

/** Why a subject public key is refused, or undefined when it is acceptable. */
export function keyPolicyProblem(spkiAlg: AlgorithmIdentifier, key: KeyObject | undefined): { code: 'weak-key' | 'unsupported-algorithm'; message: string } | undefined {
  const keyAlg = KEY_ALGORITHMS[spkiAlg.oid];
  if (keyAlg === 'RSA' || keyAlg === 'RSA-PSS') {
    const bits = key?.asymmetricKeyDetails?.modulusLength;
    if (!bits) return { code: 'unsupported-algorithm', message: 'unreadable RSA key' };
    if (bits < 2048) return { code: 'weak-key', message: `RSA key of ${bits} bits (at least 2048 required)` };
    if (bits % 8) return { code: 'weak-key', message: `RSA modulus of ${bits} bits is not a multiple of 8` };
    return undefined;
  }
  if (keyAlg === 'EC') {
    let curve: string | undefined;
    try {
      const t = spkiAlg.params && parseOne(spkiAlg.params);
      curve = t && t.tag === TAG.OID ? CURVES[readOid(t)]?.name : undefined;
    } catch {
      curve = undefined;
    }
    if (!curve || !ACCEPTED_CURVES.has(curve)) return { code: 'weak-key', message: 'EC key is not on a named P-256, P-384 or P-521 curve' };
    return undefined;
  }
  if (keyAlg === 'Ed25519' || keyAlg === 'Ed448') return undefined;
  return { code: 'unsupported-algorithm', message: `public key algorithm ${spkiAlg.oid} is not accepted` };
}

const keyCache = new WeakMap<Uint8Array, KeyObject | null>();

/** The issuer key as a KeyObject, or null when Node cannot load it. Cached per SPKI buffer. */
export function publicKey(spki: Uint8Array): KeyObject | null {
  let k = keyCache.get(spki);
  if (k === undefined) {
    try {
      k = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    } catch {
      k = null;
    }
    keyCache.set(spki, k);
  }
  return k;
}

function keyMatches(scheme: Extract<Scheme, { ok: true }>, key: KeyObject): boolean {
  const t = key.asymmetricKeyType;
  if (scheme.key === 'rsa') return t === 'rsa' || (t === 'rsa-pss' && scheme.pssSalt !== undefined);
  return t === scheme.key;
}

/** Verifies `signature` over `data` with the key in `spki`; returns a failure message or undefined. */
export function verifySignature(alg: AlgorithmIdentifier, spki: Uint8Array, data: Uint8Array, signature: Uint8Array, opts: SchemeOptions = {}): string | undefined {
  const scheme = signatureScheme(alg, opts);
  if (!scheme.ok) return scheme.reason;
  const key = publicKey(spki);
  if (!key) return 'the issuer public key cannot be loaded';
  if (!keyMatches(scheme, key)) return `a ${key.asymmetricKeyType} key cannot verify a ${scheme.key} signature`;
  try {
    const ok = scheme.pssSalt !== undefined
      ? verify(scheme.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSalt }, signature)
      : verify(scheme.hash, data, key, signature);
    return ok ? undefined : 'signature does not verify';
  } catch (e) {
    return `signature check failed: ${(e as Error).message}`;
  }
}
