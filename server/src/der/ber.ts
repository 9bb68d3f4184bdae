/**
 * BER as far as certificate containers need it, beside the DER reader in
 * index.ts. Windows exports `.p7b` files and `openssl cms -stream` writes
 * CMS with indefinite lengths and constructed OCTET STRINGs; the certificates
 * inside are still DER. `berToDer` rewrites such a wrapper with definite
 * lengths so the DER reader can walk it. It descends only into elements of
 * indefinite length: a definite-length element is copied byte for byte, so the
 * certificates inside keep the exact encoding their signatures and
 * fingerprints are computed over.
 *
 * Also here: the two-line DER writer used to assemble a SubjectPublicKeyInfo
 * from key parts.
 */
import { DerError } from './index';

/** How much BER one call may read. */
export interface BerLimits {
  /** Nesting of indefinite-length elements. */
  maxDepth: number;
  /** Elements read in total (each definite-length element counts once). */
  maxElements: number;
}

/** A PKCS#7 wrapper nests about eight deep; certificate stores hold thousands of certificates, not hundreds of thousands. */
export const BER_LIMITS: BerLimits = { maxDepth: 32, maxElements: 200_000 };

/** Whether the element at the start of `buf` has an indefinite length (BER, never DER). */
export function isIndefinite(buf: Buffer): boolean {
  return buf.length >= 2 && (buf[0] & 0x20) !== 0 && buf[1] === 0x80;
}

interface Element {
  tag: number;
  /** The encoding after normalisation: content octets, as pieces of the input or rewritten headers. */
  content: Buffer[];
  contentLength: number;
  /** Offset just after the element in the input, end-of-contents included. */
  end: number;
}

/**
 * The first element of `buf` re-encoded with definite lengths; constructed
 * OCTET STRINGs become primitive ones. Returns `buf` itself when its first
 * element already has a definite length. Throws a DerError naming `what`
 * and the problem when the BER is broken or exceeds `limits`.
 */
export function berToDer(buf: Buffer, what: string, limits: BerLimits = BER_LIMITS): Buffer {
  if (!isIndefinite(buf)) return buf;
  const state = { elements: 0 };
  const el = readElement(buf, 0, buf.length, 0, what, limits, state);
  return Buffer.concat([header(el.tag, el.contentLength), ...el.content]);
}

function readElement(buf: Buffer, pos: number, limit: number, depth: number, what: string, limits: BerLimits, state: { elements: number }): Element {
  if (++state.elements > limits.maxElements) throw new DerError(`${what}: more than ${limits.maxElements} BER elements`);
  if (pos + 2 > limit) throw new DerError(`${what}: truncated BER element at offset ${pos}`);
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`${what}: multi-byte BER tag at offset ${pos}`);
  const first = buf[pos + 1];
  if (first !== 0x80) {
    let len = first;
    let body = pos + 2;
    if (first & 0x80) {
      const n = first & 0x7f;
      if (n > 4) throw new DerError(`${what}: BER length of ${n} octets at offset ${pos}`);
      if (body + n > limit) throw new DerError(`${what}: truncated BER length at offset ${pos}`);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[body + i];
      body += n;
    }
    if (body + len > limit) throw new DerError(`${what}: BER element at offset ${pos} runs past the end of its container`);
    if (tag === 0x24) return flattenOctets(buf, tag, body, body + len, depth, what, limits, state);
    return { tag, content: [buf.subarray(body, body + len)], contentLength: len, end: body + len };
  }
  if ((tag & 0x20) === 0) throw new DerError(`${what}: primitive BER element with indefinite length at offset ${pos}`);
  if (depth + 1 > limits.maxDepth) throw new DerError(`${what}: BER nested deeper than ${limits.maxDepth} levels`);
  const content: Buffer[] = [];
  let contentLength = 0;
  let p = pos + 2;
  for (;;) {
    if (p + 2 > limit) throw new DerError(`${what}: BER element at offset ${pos} has no end-of-contents marker`);
    if (buf[p] === 0 && buf[p + 1] === 0) {
      p += 2;
      break;
    }
    const child = readElement(buf, p, limit, depth + 1, what, limits, state);
    if (tag === 0x24) {
      // The pieces of a constructed OCTET STRING are joined into one primitive string.
      if (child.tag !== 0x04) throw new DerError(`${what}: a constructed OCTET STRING holds something other than OCTET STRINGs`);
      content.push(...child.content);
    } else content.push(header(child.tag, child.contentLength), ...child.content);
    contentLength += tag === 0x24 ? child.contentLength : headerLength(child.contentLength) + child.contentLength;
    p = child.end;
  }
  return { tag: tag === 0x24 ? 0x04 : tag, content, contentLength, end: p };
}

/** A definite-length constructed OCTET STRING: its pieces joined. */
function flattenOctets(buf: Buffer, tag: number, body: number, end: number, depth: number, what: string, limits: BerLimits, state: { elements: number }): Element {
  if (depth + 1 > limits.maxDepth) throw new DerError(`${what}: BER nested deeper than ${limits.maxDepth} levels`);
  const content: Buffer[] = [];
  let contentLength = 0;
  for (let p = body; p < end; ) {
    const child = readElement(buf, p, end, depth + 1, what, limits, state);
    if (child.tag !== 0x04) throw new DerError(`${what}: a constructed OCTET STRING holds something other than OCTET STRINGs`);
    content.push(...child.content);
    contentLength += child.contentLength;
    p = child.end;
  }
  return { tag: tag === 0x24 ? 0x04 : tag, content, contentLength, end };
}

function headerLength(length: number): number {
  if (length < 0x80) return 2;
  let n = 0;
  for (let l = length; l > 0; l = Math.floor(l / 256)) n++;
  return 2 + n;
}

/** The identifier and minimal definite length octets of an element. */
export function header(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const octets: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) octets.unshift(l & 0xff);
  return Buffer.from([tag, 0x80 | octets.length, ...octets]);
}

/** One DER element from its tag and content pieces. */
export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const length = parts.reduce((n, p) => n + p.length, 0);
  return Buffer.concat([header(tag, length), ...parts]);
}
