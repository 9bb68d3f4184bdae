import type { PemBlock } from '../pem/scanner';
import type { BlockContent, BlockKind } from './model';
import { parseCertificate } from './certificate';
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
    return { kind, problems: [`the content does not parse as ${block.label} (${(e as Error).message})`] };
  }
}
