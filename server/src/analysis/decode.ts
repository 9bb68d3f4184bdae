import { checkPrimeSync } from 'node:crypto';
import { Tlv, children, content, integerBits, readOid, readTlv } from '../der';
import { berToDer, isIndefinite } from '../der/ber';
import { CURVES } from '../der/oids';
import type { PemBlock } from '../pem/scanner';
import type { BlockContent, BlockKind } from './model';
import { parseCertificate } from './certificate';
import { describeDecodeError } from './fields';
import { parsePrivateKey, parsePublicKey } from './keys';
import { parseCrl, parseCsr, parseParameters, parsePkcs7 } from './objects';

const KINDS: Record<string, BlockKind> = {
  CERTIFICATE: 'certificate',
  'X509 CERTIFICATE': 'certificate',
  'TRUSTED CERTIFICATE': 'certificate',
  'X509 CRL': 'crl',
  'CERTIFICATE REQUEST': 'csr',
  'NEW CERTIFICATE REQUEST': 'csr',
  'PRIVATE KEY': 'privateKey',
  'RSA PRIVATE KEY': 'privateKey',
  'EC PRIVATE KEY': 'privateKey',
  'DSA PRIVATE KEY': 'privateKey',
  'ENCRYPTED PRIVATE KEY': 'privateKey',
  'OPENSSH PRIVATE KEY': 'privateKey',
  'PUBLIC KEY': 'publicKey',
  'RSA PUBLIC KEY': 'publicKey',
  PKCS7: 'pkcs7',
  CMS: 'pkcs7',
  'EC PARAMETERS': 'parameters',
  'DH PARAMETERS': 'parameters',
  'X9.42 DH PARAMETERS': 'parameters',
  'DSA PARAMETERS': 'parameters',
};

/** What a PEM label holds; unknown labels are `unknown`, which is not an error. */
export function kindOfLabel(label: string): BlockKind {
  return KINDS[label] ?? 'unknown';
}

// Decoding is the expensive part of an analysis; an edit usually leaves all
// but one block untouched, so results are kept per block content.
const CACHE_LIMIT = 20_000;
// By label, then by body (or headers and body): the scanner hands out the same
// body string for an unchanged block, whose hash V8 has already computed, so a
// lookup costs no copy of the base64.
const cache = new Map<string, Map<string, BlockContent>>();
// Insertion order across labels, to evict the oldest entry.
const order: [Map<string, BlockContent>, string][] = [];
let orderHead = 0;

/** Statistics for tests and benchmarks: how many decodes were served from the cache. */
export const decodeStats = { hits: 0, misses: 0 };

/**
 * Decodes a block's DER according to its label. Results are cached by
 * label, headers and base64 body, so unchanged blocks are not decoded again;
 * callers must treat the returned objects as immutable.
 */
export function decodeBlock(block: PemBlock): BlockContent {
  const kind = kindOfLabel(block.label);
  if (block.der.length === 0 || kind === 'unknown') return { kind, problems: [] };
  // The base64 itself is the key: hashing it would cost more than the Map's own string hashing.
  const key = block.headers.length ? `${block.headers.join('\0')}\0\0${block.body}` : block.body;
  let byBody = cache.get(block.label);
  if (!byBody) cache.set(block.label, (byBody = new Map()));
  const hit = byBody.get(key);
  if (hit) {
    decodeStats.hits++;
    return hit;
  }
  decodeStats.misses++;
  const content = decodeUncached(kind, block);
  if (order.length - orderHead >= CACHE_LIMIT) evictOldest();
  byBody.set(key, content);
  order.push([byBody, key]);
  return content;
}

function evictOldest(): void {
  const [map, key] = order[orderHead++];
  map.delete(key);
  if (orderHead > CACHE_LIMIT) {
    order.splice(0, orderHead);
    orderHead = 0;
  }
}

function decodeUncached(kind: BlockKind, block: PemBlock): BlockContent {
  try {
    switch (kind) {
      case 'certificate':
        return { kind, problems: [], certificate: parseCertificate(block.der) };
      case 'privateKey':
        return { kind, problems: [], privateKey: parsePrivateKey(block.label, block.der, block.headers) };
      case 'publicKey':
        return { kind, problems: [], publicKey: parsePublicKey(block.label, block.der) };
      case 'csr':
        return { kind, problems: [], csr: parseCsr(block.der) };
      case 'crl':
        return { kind, problems: [], crl: parseCrl(block.der) };
      case 'pkcs7':
        return { kind, problems: [], pkcs7: parsePkcs7(block.der) };
      case 'parameters':
        return { kind, problems: [], parameters: parseParameters(block.label, block.der) };
      default:
        return { kind, problems: [] };
    }
  } catch (e) {
    return { kind, problems: [`the content does not parse as ${block.label} (${describeDecodeError(e)})`] };
  }
}

/**
 * The PEM label a lone DER (or BER PKCS#7) object would carry, judged from
 * its structure, or undefined when it looks like none of the objects certops
 * decodes. The object is not decoded here: a damaged certificate is still
 * recognised as a certificate, so its decoding problem can be reported.
 */
export function labelOfDer(der: Buffer): string | undefined {
  try {
    return classifyDer(der);
  } catch {
    return undefined;
  }
}

const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const OID = 0x06;
const SEQUENCE = 0x30;

function classifyDer(input: Buffer): string | undefined {
  if (input[0] === OID) {
    // A named curve on its own, as `openssl ecparam -outform DER` writes it.
    const t = readTlv(input, 0);
    return t.end === input.length && CURVES[readOid(t)] ? 'EC PARAMETERS' : undefined;
  }
  const der = isIndefinite(input) ? berToDer(input, 'PKCS#7') : input;
  const root = readTlv(der, 0);
  if (root.tag !== SEQUENCE) return undefined;
  const c = children(root);
  const tags = c.map((t) => t.tag);
  const isAlgorithmId = (t: Tlv | undefined) => t?.tag === SEQUENCE && children(t)[0]?.tag === OID;
  if (tags[0] === OID) return readOid(c[0]).startsWith('1.2.840.113549.1.7.') ? 'PKCS7' : undefined;
  if (tags[0] === SEQUENCE) {
    if (c.length === 3 && tags[1] === SEQUENCE && tags[2] === BIT_STRING) return signedObjectLabel(c[0]);
    if (c.length === 2 && tags[1] === BIT_STRING && isAlgorithmId(c[0])) return 'PUBLIC KEY';
    if (c.length === 2 && tags[1] === OCTET_STRING && isAlgorithmId(c[0])) return 'ENCRYPTED PRIVATE KEY';
    return undefined;
  }
  if (tags[0] !== INTEGER) return undefined;
  if (c.length >= 3 && isAlgorithmId(c[1]) && tags[2] === OCTET_STRING) return 'PRIVATE KEY';
  if (tags[1] === OCTET_STRING) return 'EC PRIVATE KEY';
  let ints = 0;
  while (tags[ints] === INTEGER) ints++;
  // RSAPrivateKey: version, n, e, d, p, q, dP, dQ, qInv (and otherPrimeInfos for multi-prime keys).
  if (ints === 9 && (c.length === 9 || tags[9] === SEQUENCE)) return 'RSA PRIVATE KEY';
  if (ints === 6 && c.length === 6 && isZero(c[0])) return 'DSA PRIVATE KEY';
  // Dss-Parms: p, q (160 to 256 bits), g (as large as p).
  if (ints === 3 && c.length === 3 && integerBits(content(c[1])) <= 512 && integerBits(content(c[2])) > 512) return 'DSA PARAMETERS';
  // X9.42: p, g, q, then an optional j and validation parameters.
  if (ints >= 3 && integerBits(content(c[2])) > 64) return 'X9.42 DH PARAMETERS';
  // PKCS#3: p, g and an optional privateValueLength.
  if (ints === 3 && c.length === 3) return 'DH PARAMETERS';
  if (ints === 2 && c.length === 2) return rsaOrDh(c[0], c[1]);
  return undefined;
}

/** Certificate, CSR or CRL: the three signed SEQUENCE { tbs, algorithm, signature } objects. */
function signedObjectLabel(tbs: Tlv): string | undefined {
  const f = children(tbs);
  if (f[0]?.tag === 0xa0) return 'CERTIFICATE'; // an explicit version: v2 or v3 certificate
  // CertificationRequestInfo: version, subject, subjectPKInfo, [0] attributes.
  if (f.length === 4 && f[0].tag === INTEGER && f[1].tag === SEQUENCE && f[2].tag === SEQUENCE && f[3].tag === 0xa0) return 'CERTIFICATE REQUEST';
  // A TBSCertList has thisUpdate as a direct child; a certificate keeps its times inside validity.
  if (f.some((t) => t.tag === 0x17 || t.tag === 0x18)) return 'X509 CRL';
  return f.length >= 6 ? 'CERTIFICATE' : undefined;
}

/**
 * SEQUENCE { INTEGER, INTEGER } is an RSAPublicKey (n, e) or PKCS#3 DH
 * parameters (p, g). An RSA exponent is odd and almost always 65537; a DH
 * generator is small, usually 2. Only an odd small second value (e = 3 or
 * g = 5) needs the primality of the first (p is prime, n is not), tested with
 * two Miller-Rabin rounds on at most 8192 bits.
 */
function rsaOrDh(first: Tlv, second: Tlv): string {
  const g = content(second);
  if ((g[g.length - 1] & 1) === 0) return 'DH PARAMETERS';
  const p = content(first);
  if (integerBits(g) > 8 || integerBits(p) > 8192) return 'RSA PUBLIC KEY';
  return checkPrimeSync(p, { checks: 2 }) ? 'DH PARAMETERS' : 'RSA PUBLIC KEY';
}

function isZero(t: Tlv): boolean {
  return content(t).every((b) => b === 0);
}
