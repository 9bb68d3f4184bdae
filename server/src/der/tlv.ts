/** The core of the DER reader: elements, modes, structure, integers, OIDs, booleans, bit strings (see ./index). */
/** Raised for any encoding the reader refuses; validation maps it to `malformed`. */
export class DerError extends Error {}

/** How far a certificate deviates: `error` = not well-formed (validation refuses it), `warning` = well-formed but non-conforming. */
export type Severity = 'error' | 'warning';

/** One deviation a recording read tolerated, with the field it was found in. */
export interface Problem {
  /** The field, in RFC 5280's words (`validity.notAfter`, `basicConstraints`, `subject`). */
  readonly field: string;
  readonly message: string;
  readonly severity: Severity;
}

/**
 * Collects the deviations of a recording read. `field` names the part being
 * read, so that the helpers below, which know nothing of certificates, still
 * produce messages that say where the problem is.
 */
export class Sink {
  readonly problems: Problem[] = [];
  field = '';
  add(message: string, severity: Severity = 'error', field = this.field): void {
    if (this.problems.length < 64 && !this.problems.some((p) => p.field === field && p.message === message)) {
      this.problems.push({ field, message, severity });
    }
  }
}

/** One tag-length-value element, as offsets into the buffer it came from. */
export interface Tlv {
  /** The identifier octet: class, constructed bit and tag number. */
  readonly tag: number;
  readonly buf: Buffer;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly body: number;
  /** Offset just after the content. */
  readonly end: number;
  /** Whether DER's rules are enforced on this element and everything read from it. */
  readonly strict: boolean;
  /**
   * When set, DER-only deviations (non-minimal lengths and integers, BOOLEAN
   * octets other than 00/FF, non-zero padding, time format variants) are
   * recorded here instead of thrown, since the value they encode is still
   * unambiguous. Whatever leaves the value unknown always throws.
   */
  readonly sink?: Sink;
}

/** A DER-only deviation: recorded, thrown or ignored according to the element's mode. */
export function deviation(t: Tlv, message: string): void {
  if (t.sink) t.sink.add(message);
  else if (t.strict) throw new DerError(message);
}

/** Universal tags X.509 uses. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8: 0x0c,
  PRINTABLE: 0x13,
  T61: 0x14,
  IA5: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE: 0x1a,
  UNIVERSAL: 0x1c,
  BMP: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads the element at `pos`, which must lie entirely before `limit`. */
export function readTlv(buf: Buffer, pos: number, limit: number = buf.length, strict = false, sink?: Sink): Tlv {
  if (pos + 2 > limit) throw new DerError(pos >= limit ? 'missing element' : `truncated element at offset ${pos}`);
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at offset ${pos} (not used in X.509)`);
  let len = buf[pos + 1];
  let body = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError(`indefinite length at offset ${pos} (BER, not DER)`);
    if (n > 4) throw new DerError(`length field of ${n} octets at offset ${pos} is too long`);
    if (body + n > limit) throw new DerError(`truncated length at offset ${pos}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i];
    body += n;
    const t = { tag, buf, start: pos, body, end: body + len, strict, sink };
    if (buf[pos + 2] === 0 || len < 0x80) deviation(t, `non-minimal length encoding at offset ${pos}`);
  }
  if (body + len > limit) throw new DerError(`element at offset ${pos} claims ${len} octets but only ${Math.max(0, limit - body)} remain`);
  return { tag, buf, start: pos, body, end: body + len, strict, sink };
}

/** Wraps bytes in a Buffer view without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Parses a whole buffer as exactly one element, strictly (or recording deviations in `sink`). */
export function parseOne(bytes: Uint8Array, sink?: Sink): Tlv {
  // A Buffer view (no copy) lets the helpers use Buffer's decoders without a check per call.
  const buf = asBuffer(bytes);
  const t = readTlv(buf, 0, buf.length, true, sink);
  if (t.end !== buf.length) throw new DerError(`${buf.length - t.end} octets of trailing data`);
  return t;
}

/** The element's content as a standalone element of its own (an extension's OCTET STRING value), same mode. */
export function parseInner(t: Tlv): Tlv {
  const inner = readTlv(t.buf, t.body, t.end, t.strict, t.sink);
  if (inner.end !== t.end) throw new DerError(`${t.end - inner.end} octets of trailing data`);
  return inner;
}

/** Reads the first element of `buf` tolerantly (trailing data allowed) and checks its tag. */
export function readRoot(buf: Buffer, tag = TAG.SEQUENCE): Tlv {
  const t = readTlv(buf, 0);
  if (t.tag !== tag) throw new DerError(`expected DER tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** Asserts an element's tag, with a message naming what was expected. */
export function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) throw new DerError(`${what} is missing`);
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** Content octets of an element. */
export function content(t: Tlv): Buffer {
  return t.buf.subarray(t.body, t.end);
}

/** The whole encoding of an element, tag and length included. */
export function encoded(t: Tlv): Buffer {
  return t.buf.subarray(t.start, t.end);
}

/** Sequential reader over the content of a constructed element. */
export class Reader {
  private pos: number;
  constructor(private readonly parent: Tlv, private readonly what = 'element') {
    if ((parent.tag & 0x20) === 0) throw new DerError(`${what}: expected a constructed element, found tag 0x${parent.tag.toString(16)}`);
    this.pos = parent.body;
  }
  done(): boolean {
    return this.pos >= this.parent.end;
  }
  peekTag(): number | undefined {
    return this.done() ? undefined : this.parent.buf[this.pos];
  }
  next(expected?: number, name?: string): Tlv {
    // An empty `name` leaves the prefix to the caller (a recording read names the field itself).
    const what = name === '' ? '' : `${name ?? this.what}: `;
    if (this.done()) throw new DerError(`${what}missing element`);
    const t = readTlv(this.parent.buf, this.pos, this.parent.end, this.parent.strict, this.parent.sink);
    // Past the element even when its tag is wrong, so a recording read can go on with the next field.
    this.pos = t.end;
    if (expected !== undefined && t.tag !== expected) {
      throw new DerError(`${what}expected tag 0x${expected.toString(16)}, found 0x${t.tag.toString(16)}`);
    }
    return t;
  }
  /** Reads the next element only if it carries `tag`. */
  optional(tag: number): Tlv | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }
  end(): void {
    if (!this.done()) throw new DerError(`${this.what}: unexpected element with tag 0x${this.parent.buf[this.pos].toString(16)} at the end`);
  }
}

/** The elements directly inside a constructed element. */
export function children(t: Tlv): Tlv[] {
  if ((t.strict || t.sink) && (t.tag & 0x20) === 0) throw new DerError(`expected a constructed element, found tag 0x${t.tag.toString(16)}`);
  const out: Tlv[] = [];
  for (let pos = t.body; pos < t.end; ) {
    const c = readTlv(t.buf, pos, t.end, t.strict, t.sink);
    out.push(c);
    pos = c.end;
  }
  return out;
}

/** Longest OID arc read (in octets): enough for any UUID arc, small enough to keep BigInt cheap. */
const MAX_ARC_OCTETS = 32;

/** Dotted form of an OBJECT IDENTIFIER; arcs of any size are exact (BigInt beyond 2^53). */
export function readOid(t: Tlv): string {
  const { buf } = t;
  if ((t.strict || t.sink) && t.tag !== TAG.OID) throw new DerError(`expected an OBJECT IDENTIFIER, found tag 0x${t.tag.toString(16)}`);
  if (t.body === t.end) throw new DerError('empty OBJECT IDENTIFIER');
  if (buf[t.end - 1] & 0x80) throw new DerError('truncated OBJECT IDENTIFIER (last arc unfinished)');
  const parts: string[] = [];
  for (let i = t.body; i < t.end; ) {
    if (buf[i] === 0x80) deviation(t, 'non-minimal OBJECT IDENTIFIER arc');
    let j = i;
    while (buf[j] & 0x80) j++;
    if (j - i + 1 > MAX_ARC_OCTETS) throw new DerError(`OBJECT IDENTIFIER arc of ${j - i + 1} octets is too long`);
    let arc: number | bigint;
    if (j - i < 7) {
      let n = 0;
      for (let k = i; k <= j; k++) n = n * 128 + (buf[k] & 0x7f);
      arc = n;
    } else {
      let n = 0n;
      for (let k = i; k <= j; k++) n = n * 128n + BigInt(buf[k] & 0x7f);
      arc = n;
    }
    if (parts.length === 0) {
      const first = arc < 80 ? Math.floor(Number(arc) / 40) : 2;
      parts.push(String(first), typeof arc === 'bigint' ? String(arc - BigInt(first * 40)) : String(arc - first * 40));
    } else parts.push(String(arc));
    i = j + 1;
  }
  return parts.join('.');
}

/** A BOOLEAN. Exactly one content octet is required in every mode; DER wants 00 or FF, BER reads any non-zero as true. */
export function readBoolean(t: Tlv): boolean {
  if ((t.strict || t.sink) && t.tag !== TAG.BOOLEAN) throw new DerError(`expected a BOOLEAN, found tag 0x${t.tag.toString(16)}`);
  if (t.end - t.body !== 1) throw new DerError(`BOOLEAN with ${t.end - t.body} content octets (exactly one is required)`);
  const v = t.buf[t.body];
  if (v !== 0 && v !== 0xff) deviation(t, `BOOLEAN octet 0x${v.toString(16).padStart(2, '0')} (DER requires 00 or FF)`);
  return v !== 0;
}

/** The content octets of an INTEGER; checks the tag and minimal two's-complement form. */
export function readIntegerBytes(t: Tlv, tag: number = TAG.INTEGER): Buffer {
  const v = content(t);
  if (!t.strict && !t.sink) return v;
  if (t.tag !== tag) throw new DerError(`expected an INTEGER, found tag 0x${t.tag.toString(16)}`);
  if (v.length === 0) throw new DerError('empty INTEGER');
  if (v.length > 1 && ((v[0] === 0 && (v[1] & 0x80) === 0) || (v[0] === 0xff && (v[1] & 0x80) !== 0))) {
    deviation(t, 'non-minimal INTEGER encoding');
  }
  return v;
}

/** Two's-complement big-endian octets as a signed BigInt. */
export function bytesToBigInt(v: Uint8Array): bigint {
  if (v.length === 0) return 0n;
  let n = BigInt('0x' + Buffer.from(v).toString('hex'));
  if (v[0] & 0x80) n -= 1n << BigInt(v.length * 8);
  return n;
}

/** An INTEGER of any size, signed and exact. */
export function readBigInt(t: Tlv, tag: number = TAG.INTEGER): bigint {
  return bytesToBigInt(readIntegerBytes(t, tag));
}

/**
 * A small non-negative INTEGER such as a version or a path length. Negative
 * and oversized values throw with the exact value in the message rather than
 * being read as something else.
 */
export function readSmallInt(t: Tlv, tag: number = TAG.INTEGER): number {
  const v = readIntegerBytes(t, tag);
  if (v.length === 0) throw new DerError('empty INTEGER');
  const n = bytesToBigInt(v);
  if (n < 0n) throw new DerError(`negative value ${n}`);
  if (n > 0xffffffffn) throw new DerError(`value ${n} is too large`);
  return Number(n);
}

/** Lowercase hex of an INTEGER's octets without leading zero padding (at least one digit pair). */
export function integerHex(t: Tlv): string {
  let s = t.body;
  while (s < t.end - 1 && t.buf[s] === 0) s++;
  return t.buf.toString('hex', s, t.end);
}

/** Bit length of an unsigned big-endian integer (e.g. an RSA modulus). */
export function integerBits(v: Uint8Array): number {
  let s = 0;
  while (s < v.length && v[s] === 0) s++;
  if (s === v.length) return 0;
  return (v.length - s - 1) * 8 + (32 - Math.clz32(v[s]));
}

/** A BIT STRING's bits and its count of unused bits in the last octet. */
export interface BitString {
  bytes: Buffer;
  unused: number;
}

/** A BIT STRING; checks the tag and that the padding is well-formed (and, for DER, zero). */
export function readBitString(t: Tlv, tag: number = TAG.BIT_STRING): BitString {
  const { buf, body, end } = t;
  const unused = buf[body];
  if (t.strict || t.sink) {
    if (t.tag !== tag) throw new DerError(`expected a BIT STRING, found tag 0x${t.tag.toString(16)}`);
    if (end === body) throw new DerError('empty BIT STRING (the unused-bits octet is missing)');
    if (unused > 7) throw new DerError(`BIT STRING with ${unused} unused bits (at most 7)`);
    if (end - body === 1 && unused !== 0) throw new DerError('empty BIT STRING with unused bits');
    if (unused && (buf[end - 1] & ((1 << unused) - 1)) !== 0) deviation(t, 'non-zero BIT STRING padding bits');
  }
  return { bytes: buf.subarray(body + 1, end), unused: end === body ? 0 : unused };
}
