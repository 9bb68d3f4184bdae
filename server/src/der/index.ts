/**
 * The one DER reader behind both the display side and path validation. Node's
 * X509Certificate hides key usage bits, key identifiers, path length, CRL
 * distribution points and the signature algorithm, and parsing with
 * @peculiar/x509 costs ~4x more per certificate; walking the DER directly is
 * what keeps a 10,000-certificate bundle fast.
 *
 * An element is read strictly or tolerantly, and its children inherit the
 * mode, so one set of helpers serves both sides. Validation reads strictly
 * (through `parseOne`), since a certificate that is not DER has no
 * well-defined signature input: minimal lengths, INTEGERs and OID arcs, the
 * RFC 5280 time profile. The display side reads tolerantly, so a hover still
 * shows the certificates real encoders got slightly wrong.
 */

/** Raised for any encoding the reader refuses; validation maps it to `malformed`. */
export class DerError extends Error {}

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
  UNIVERSAL: 0x1c,
  BMP: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads the element at `pos`, which must lie entirely before `limit`. */
export function readTlv(buf: Buffer, pos: number, limit: number = buf.length, strict = false): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated element');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used in X.509');
  let len = buf[pos + 1];
  let body = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length');
    if (n > 4) throw new DerError('length too large');
    if (body + n > limit) throw new DerError('truncated length');
    if (strict && buf[body] === 0) throw new DerError('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i];
    if (strict && len < 0x80) throw new DerError('non-minimal length');
    body += n;
  }
  if (body + len > limit) throw new DerError('truncated content');
  return { tag, buf, start: pos, body, end: body + len, strict };
}

/** Parses a whole buffer as exactly one element, strictly. */
export function parseOne(bytes: Uint8Array): Tlv {
  // A Buffer view (no copy) lets the helpers use Buffer's decoders without a check per call.
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t = readTlv(buf, 0, buf.length, true);
  if (t.end !== buf.length) throw new DerError('trailing data');
  return t;
}

/** Reads the first element of `buf` tolerantly (trailing data allowed) and checks its tag. */
export function readRoot(buf: Buffer, tag = TAG.SEQUENCE): Tlv {
  const t = readTlv(buf, 0);
  if (t.tag !== tag) throw new DerError(`expected DER tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** Asserts an element's tag, with a message naming what was expected. */
export function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: unexpected DER structure`);
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
  constructor(private readonly parent: Tlv) {
    if ((parent.tag & 0x20) === 0) throw new DerError('expected a constructed element');
    this.pos = parent.body;
  }
  done(): boolean {
    return this.pos >= this.parent.end;
  }
  peekTag(): number | undefined {
    return this.done() ? undefined : this.parent.buf[this.pos];
  }
  next(expected?: number): Tlv {
    if (this.done()) throw new DerError('missing element');
    const t = readTlv(this.parent.buf, this.pos, this.parent.end, this.parent.strict);
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

/** The elements directly inside a constructed element. */
export function children(t: Tlv): Tlv[] {
  if (t.strict && (t.tag & 0x20) === 0) throw new DerError('expected a constructed element');
  const out: Tlv[] = [];
  for (let pos = t.body; pos < t.end; ) {
    const c = readTlv(t.buf, pos, t.end, t.strict);
    out.push(c);
    pos = c.end;
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER. */
export function readOid(t: Tlv): string {
  const { buf, strict } = t;
  if (strict && t.tag !== TAG.OID) throw new DerError('expected an OID');
  if (strict && t.body === t.end) throw new DerError('empty OID');
  const parts: number[] = [];
  let acc = 0;
  for (let i = t.body; i < t.end; i++) {
    if (strict && acc === 0 && buf[i] === 0x80) throw new DerError('non-minimal OID arc');
    acc = acc * 128 + (buf[i] & 0x7f);
    if (strict && acc > Number.MAX_SAFE_INTEGER / 256) throw new DerError('OID arc too large');
    if ((buf[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = acc < 80 ? Math.floor(acc / 40) : 2;
        parts.push(first, acc - first * 40);
      } else parts.push(acc);
      acc = 0;
    } else if (strict && i === t.end - 1) throw new DerError('truncated OID');
  }
  return parts.join('.');
}

/** A BOOLEAN; tolerant reading takes any non-zero octet as true,ER does. */
export function readBoolean(t: Tlv): boolean {
  const v = t.buf[t.body];
  if (!t.strict) return v !== 0;
  if (t.tag !== TAG.BOOLEAN || t.end - t.body !== 1) throw new DerError('bad BOOLEAN');
  if (v === 0xff) return true;
  if (v === 0x00) return false;
  throw new DerError('BOOLEAN must be 0x00 or 0xFF in DER');
}

/** The content octets of an INTEGER; strict reading checks the tag and minimal two's-complement form. */
export function readIntegerBytes(t: Tlv, tag: number = TAG.INTEGER): Buffer {
  const v = content(t);
  if (!t.strict) return v;
  if (t.tag !== tag || v.length === 0) throw new DerError('bad INTEGER');
  if (v.length > 1 && ((v[0] === 0 && (v[1] & 0x80) === 0) || (v[0] === 0xff && (v[1] & 0x80) !== 0))) {
    throw new DerError('non-minimal INTEGER');
  }
  return v;
}

/** A small non-negative INTEGER such as a version or a path length. */
export function readSmallInt(t: Tlv, tag: number = TAG.INTEGER): number {
  if (t.strict) {
    const v = readIntegerBytes(t, tag);
    if (v[0] & 0x80) throw new DerError('negative INTEGER');
    if (v.length > 6) throw new DerError('INTEGER too large');
  }
  let n = 0;
  for (let i = t.body; i < t.end; i++) n = n * 256 + t.buf[i];
  return n;
}

/** Lowercase hex of an INTEGER without leading zero padding (at least one digit pair). */
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

/** A BIT STRING; strict reading checks the tag and that the padding is well-formed and zero. */
export function readBitString(t: Tlv, tag: number = TAG.BIT_STRING): BitString {
  const { buf, body, end } = t;
  const unused = buf[body];
  if (t.strict) {
    if (t.tag !== tag || end === body) throw new DerError('bad BIT STRING');
    if (unused > 7 || (end - body === 1 && unused !== 0)) throw new DerError('bad BIT STRING padding');
    if (unused && (buf[end - 1] & ((1 << unused) - 1)) !== 0) throw new DerError('non-zero BIT STRING padding');
  }
  return { bytes: buf.subarray(body + 1, end), unused };
}

const UTC_TIME = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.\d+)?Z$/;

/**
 * UTCTime or GeneralizedTime as epoch seconds. Strict reading holds to the
 * RFC 5280 profile (Z, seconds, no fraction, fields in range); tolerant
 * reading also takes UTCTime without seconds and GeneralizedTime with a
 * fraction (dropped), which some encoders produce.
 */
export function readTime(t: Tlv): number {
  const utc = t.tag === TAG.UTC_TIME;
  if (!utc && t.tag !== TAG.GENERALIZED_TIME) throw new DerError('expected a time');
  const s = t.buf.toString('latin1', t.body, t.end);
  const m = (utc ? UTC_TIME : GENERALIZED_TIME).exec(s);
  if (!m || (t.strict && (m[6] === undefined || m[7] !== undefined))) {
    throw new DerError(`bad ${utc ? 'UTCTime' : 'GeneralizedTime'} "${s}"`);
  }
  let year = Number(m[1]);
  if (utc) year += year < 50 ? 2000 : 1900;
  const mo = +m[2];
  const d = +m[3];
  const h = +m[4];
  const mi = +m[5];
  const se = m[6] === undefined ? 0 : +m[6];
  let ms = Date.UTC(year, mo - 1, d, h, mi, se);
  // Date.UTC maps years 0..99 into the 1900s.
  if (year < 100) ms = new Date(ms).setUTCFullYear(year);
  if (t.strict && (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59 || new Date(ms).getUTCDate() !== d)) {
    throw new DerError('time out of range');
  }
  return ms / 1000;
}

/**
 * A directory string as text. BMPString is UTF-16BE, UniversalString UTF-32BE,
 * TeletexString in practice Latin-1. The 7-bit types (Printable, IA5, Visible)
 * are read as UTF-8 when tolerant, since mislabelled UTF-8 is common and should
 * display right, and as Latin-1 when strict, so that names which differ in
 * their bytes never compare equal.
 */
export function readText(t: Tlv): string {
  const b = t.buf;
  const len = t.end - t.body;
  switch (t.tag) {
    case TAG.BMP:
      if (len % 2) throw new DerError('odd BMPString');
      return Buffer.from(b.subarray(t.body, t.end)).swap16().toString('utf16le');
    case TAG.UNIVERSAL: {
      if (t.strict && len % 4) throw new DerError('bad UniversalString');
      let s = '';
      for (let i = t.body; i + 3 < t.end; i += 4) s += String.fromCodePoint(b.readUInt32BE(i));
      return s;
    }
    case TAG.UTF8:
      return b.toString('utf8', t.body, t.end);
    case TAG.T61:
      return b.toString('latin1', t.body, t.end);
    default:
      return b.toString(t.strict ? 'latin1' : 'utf8', t.body, t.end);
  }
}
