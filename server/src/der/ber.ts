/**
 * BER as far as certificate containers need it, beside the DER reader in
 * index.ts. Windows exports `.p7b` files and `openssl cms -stream` writes
 * CMS with indefinite lengths and constructed OCTET STRINGs; the certificates
 * inside are still DER. `berToDer` rewrites such a wrapper with definite
 * lengths so the DER reader can walk it. It descends into elements of
 * indefinite length and into the first levels of the wrapper; anything else,
 * and anything in which nothing changed, is copied byte for byte, so the
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

/**
 * Definite-length constructed elements this shallow are looked into as well,
 * since an encoder may mix definite and indefinite lengths in the wrapper
 * (ContentInfo, content, SignedData and its fields); deeper ones, such as the
 * certificates of a SignedData, are copied as they are.
 */
const WRAPPER_DEPTH = 4;

interface Element {
  /** The tag after normalisation (a constructed OCTET STRING becomes primitive). */
  tag: number;
  /** Content octets after normalisation, as pieces of the input or rewritten encodings. */
  content: Buffer[];
  contentLength: number;
  /** The whole element after normalisation: the input's own bytes when nothing in it changed. */
  whole: Buffer[];
  wholeLength: number;
  /** Offset just after the element in the input, end-of-contents included. */
  end: number;
  changed: boolean;
}

/**
 * The first element of `buf` re-encoded with definite lengths; constructed
 * OCTET STRINGs become primitive ones. Returns `buf` itself when nothing
 * needed rewriting (DER input). Throws a DerError naming `what` and the
 * problem when the BER is broken or exceeds `limits`.
 */
export function berToDer(buf: Buffer, what: string, limits: BerLimits = BER_LIMITS): Buffer {
  if (buf.length < 2 || (buf[0] & 0x20) === 0) return buf;
  const el = readElement(buf, 0, buf.length, 0, what, limits, { elements: 0 });
  return el.changed ? Buffer.concat(el.whole) : buf;
}

function readElement(buf: Buffer, pos: number, limit: number, depth: number, what: string, limits: BerLimits, state: { elements: number }): Element {
  if (++state.elements > limits.maxElements) throw new DerError(`${what}: more than ${limits.maxElements} BER elements`);
  if (pos + 2 > limit) throw new DerError(`${what}: truncated BER element at offset ${pos}`);
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`${what}: multi-byte BER tag at offset ${pos}`);
  const first = buf[pos + 1];
  let body = pos + 2;
  // undefined: an indefinite length, ended by an end-of-contents marker.
  let end: number | undefined;
  if (first === 0x80) {
    if ((tag & 0x20) === 0) throw new DerError(`${what}: primitive BER element with indefinite length at offset ${pos}`);
  } else {
    let len = first;
    if (first & 0x80) {
      const n = first & 0x7f;
      if (n > 4) throw new DerError(`${what}: BER length of ${n} octets at offset ${pos}`);
      if (body + n > limit) throw new DerError(`${what}: truncated BER length at offset ${pos}`);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[body + i];
      body += n;
    }
    end = body + len;
    if (end > limit) throw new DerError(`${what}: BER element at offset ${pos} runs past the end of its container`);
    if (tag !== 0x24 && ((tag & 0x20) === 0 || depth >= WRAPPER_DEPTH)) return unchanged(buf, tag, pos, body, end);
  }
  if (depth + 1 > limits.maxDepth) throw new DerError(`${what}: BER nested deeper than ${limits.maxDepth} levels`);
  const kids: Element[] = [];
  let p = body;
  for (;;) {
    if (end !== undefined) {
      if (p >= end) break;
    } else {
      if (p + 2 > limit) throw new DerError(`${what}: BER element at offset ${pos} has no end-of-contents marker`);
      if (buf[p] === 0 && buf[p + 1] === 0) {
        p += 2;
        break;
      }
    }
    const child = readElement(buf, p, end ?? limit, depth + 1, what, limits, state);
    kids.push(child);
    p = child.end;
  }
  const octets = tag === 0x24;
  if (end !== undefined && !octets && !kids.some((k) => k.changed)) return unchanged(buf, tag, pos, body, end);
  const content: Buffer[] = [];
  let contentLength = 0;
  for (const k of kids) {
    if (octets) {
      // The pieces of a constructed OCTET STRING are joined into one primitive string.
      if (k.tag !== 0x04) throw new DerError(`${what}: a constructed OCTET STRING holds something other than OCTET STRINGs`);
      content.push(...k.content);
      contentLength += k.contentLength;
    } else {
      content.push(...k.whole);
      contentLength += k.wholeLength;
    }
  }
  const newTag = octets ? 0x04 : tag;
  const head = header(newTag, contentLength);
  return { tag: newTag, content, contentLength, whole: [head, ...content], wholeLength: head.length + contentLength, end: end ?? p, changed: true };
}

/** An element copied byte for byte. */
function unchanged(buf: Buffer, tag: number, pos: number, body: number, end: number): Element {
  return { tag, content: [buf.subarray(body, end)], contentLength: end - body, whole: [buf.subarray(pos, end)], wholeLength: end - pos, end, changed: false };
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
