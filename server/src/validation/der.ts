/**
 * A strict DER reader: only what X.509 certificates and CRLs need. It refuses
 * indefinite lengths, non-minimal length encodings and multi-byte tags, since
 * a certificate that is not DER cannot have a well-defined signature input.
 */

/** Raised for any encoding the reader refuses; callers map it to `malformed`. */
export class DerError extends Error {}

/** One tag-length-value element, as offsets into the buffer it came from. */
export interface Tlv {
  /** The identifier octet: class, constructed bit and tag number. */
  readonly tag: number;
  readonly buf: Uint8Array;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly valueStart: number;
  /** Offset just after the content. */
  readonly end: number;
}

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
  UNIVERSAL: 0x1c,
  BMP: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export function value(t: Tlv): Uint8Array {
  return t.buf.subarray(t.valueStart, t.end);
}

export function raw(t: Tlv): Uint8Array {
  return t.buf.subarray(t.start, t.end);
}

/** Reads the element at `pos`, which must lie entirely before `limit`. */
export function readTlv(buf: Uint8Array, pos: number, limit: number = buf.length): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated element');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used in X.509');
  let len = buf[pos + 1];
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length');
    if (n > 4) throw new DerError('length too large');
    if (p + n > limit) throw new DerError('truncated length');
    if (buf[p] === 0) throw new DerError('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    if (len < 0x80) throw new DerError('non-minimal length');
    p += n;
  }
  if (p + len > limit) throw new DerError('truncated content');
  return { tag, buf, start: pos, valueStart: p, end: p + len };
}

/** Parses a whole buffer as exactly one element. */
export function parseOne(buf: Uint8Array): Tlv {
  const t = readTlv(buf, 0, buf.length);
  if (t.end !== buf.length) throw new DerError('trailing data');
  return t;
}

/** Sequential reader over the content of a constructed element. */
export class Reader {
  private pos: number;
  constructor(private readonly parent: Tlv) {
    if ((parent.tag & 0x20) === 0) throw new DerError('expected a constructed element');
    this.pos = parent.valueStart;
  }
  done(): boolean {
    return this.pos >= this.parent.end;
  }
  peekTag(): number | undefined {
    return this.done() ? undefined : this.parent.buf[this.pos];
  }
  next(expected?: number): Tlv {
    if (this.done()) throw new DerError('missing element');
    const t = readTlv(this.parent.buf, this.pos, this.parent.end);
    if (expected !== undefined && t.tag !== expected) {
      throw new DerError(`expected tag 0x${expected.toString(16)}, got 0x${t.tag.toString(16)}`);
    }
    this.pos = t.end;
    return t;
  }
  /** Reads the next element only if it carries `tag`. */
  optional(tag: number): Tlv | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }
  end(): void {
    if (!this.done()) throw new DerError('unexpected trailing element');
  }
}

export function children(t: Tlv): Tlv[] {
  const r = new Reader(t);
  const out: Tlv[] = [];
  while (!r.done()) out.push(r.next());
  return out;
}

export function readOid(t: Tlv): string {
  if (t.tag !== TAG.OID) throw new DerError('expected an OID');
  const v = value(t);
  if (v.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let acc = 0;
  let first = true;
  for (let i = 0; i < v.length; i++) {
    if (acc === 0 && v[i] === 0x80) throw new DerError('non-minimal OID arc');
    acc = acc * 128 + (v[i] & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 256) throw new DerError('OID arc too large');
    if ((v[i] & 0x80) === 0) {
      if (first) {
        const a = acc < 40 ? 0 : acc < 80 ? 1 : 2;
        parts.push(a, acc - a * 40);
        first = false;
      } else parts.push(acc);
      acc = 0;
    } else if (i === v.length - 1) throw new DerError('truncated OID');
  }
  return parts.join('.');
}

export function readBoolean(t: Tlv): boolean {
  const v = value(t);
  if (t.tag !== TAG.BOOLEAN || v.length !== 1) throw new DerError('bad BOOLEAN');
  if (v[0] === 0xff) return true;
  if (v[0] === 0x00) return false;
  throw new DerError('BOOLEAN must be 0x00 or 0xFF in DER');
}

/** The content octets of an INTEGER, after checking minimal two's-complement form. */
export function readIntegerBytes(t: Tlv, tag: number = TAG.INTEGER): Uint8Array {
  const v = value(t);
  if (t.tag !== tag || v.length === 0) throw new DerError('bad INTEGER');
  if (v.length > 1 && ((v[0] === 0 && (v[1] & 0x80) === 0) || (v[0] === 0xff && (v[1] & 0x80) !== 0))) {
    throw new DerError('non-minimal INTEGER');
  }
  return v;
}

/** A small non-negative INTEGER such as a version or a path length. */
export function readSmallInt(t: Tlv, tag: number = TAG.INTEGER): number {
  const v = readIntegerBytes(t, tag);
  if (v[0] & 0x80) throw new DerError('negative INTEGER');
  if (v.length > 6) throw new DerError('INTEGER too large');
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

export interface BitString {
  bytes: Uint8Array;
  unused: number;
}

export function readBitString(t: Tlv, tag: number = TAG.BIT_STRING): BitString {
  const v = value(t);
  if (t.tag !== tag || v.length === 0) throw new DerError('bad BIT STRING');
  const unused = v[0];
  if (unused > 7 || (v.length === 1 && unused !== 0)) throw new DerError('bad BIT STRING padding');
  if (unused && (v[v.length - 1] & ((1 << unused) - 1)) !== 0) throw new DerError('non-zero BIT STRING padding');
  return { bytes: v.subarray(1), unused };
}

const digits = (s: string, re: RegExp): boolean => re.test(s);

/** UTCTime or GeneralizedTime in the RFC 5280 profile (Z, seconds, no fraction), as epoch seconds. */
export function readTime(t: Tlv): number {
  const s = Buffer.from(value(t)).toString('latin1');
  let year: number;
  let rest: string;
  if (t.tag === TAG.UTC_TIME) {
    if (!digits(s, /^\d{12}Z$/)) throw new DerError('bad UTCTime');
    const yy = Number(s.slice(0, 2));
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = s.slice(2);
  } else if (t.tag === TAG.GENERALIZED_TIME) {
    if (!digits(s, /^\d{14}Z$/)) throw new DerError('bad GeneralizedTime');
    year = Number(s.slice(0, 4));
    rest = s.slice(4);
  } else throw new DerError('expected a time');
  const [mo, d, h, mi, se] = [0, 2, 4, 6, 8].map((i) => Number(rest.slice(i, i + 2)));
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) throw new DerError('time out of range');
  const ms = Date.UTC(year, mo - 1, d, h, mi, se);
  if (new Date(ms).getUTCDate() !== d) throw new DerError('day out of range');
  // Date.UTC maps years 0..99 into the 1900s; fix those explicitly.
  const date = new Date(ms);
  if (year < 100) date.setUTCFullYear(year);
  return Math.floor(date.getTime() / 1000);
}
