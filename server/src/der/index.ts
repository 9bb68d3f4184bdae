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
    if (this.done()) throw new DerError(`${name ?? this.what}: missing element`);
    const t = readTlv(this.parent.buf, this.pos, this.parent.end, this.parent.strict, this.parent.sink);
    if (expected !== undefined && t.tag !== expected) {
      throw new DerError(`${name ?? this.what}: expected tag 0x${expected.toString(16)}, found 0x${t.tag.toString(16)}`);
    }
    this.pos = t.end;
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

const UTC_TIME = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?([Zz]|[+-]\d{4})?$/;
const GENERALIZED_TIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?([.,]\d+)?([Zz]|[+-]\d{4})?$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * UTCTime or GeneralizedTime as epoch seconds. RFC 5280 wants `Z`, seconds
 * and no fraction; variants that still name one instant (no seconds, a
 * fraction, an offset, a lower-case z) are deviations. A field out of range
 * (month 13, 30 February, hour 24) always throws: such a time names no
 * instant, and rolling it over would show a date that is not in the
 * certificate. UTCTime years 50-99 are 1950-1999, 00-49 are 2000-2049.
 */
export function readTime(t: Tlv): number {
  const utc = t.tag === TAG.UTC_TIME;
  if (!utc && t.tag !== TAG.GENERALIZED_TIME) throw new DerError(`expected UTCTime or GeneralizedTime, found tag 0x${t.tag.toString(16)}`);
  const type = utc ? 'UTCTime' : 'GeneralizedTime';
  const s = t.buf.toString('latin1', t.body, t.end);
  const shown = JSON.stringify(s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40));
  const m = (utc ? UTC_TIME : GENERALIZED_TIME).exec(s);
  if (!m) throw new DerError(`${type} ${shown} is not a time (expected ${utc ? 'YYMMDDHHMMSSZ' : 'YYYYMMDDHHMMSSZ'})`);
  const zone = utc ? m[7] : m[8];
  if (zone === undefined) throw new DerError(`${type} ${shown} has no time zone`);
  let year = Number(m[1]);
  if (utc) year += year < 50 ? 2000 : 1900;
  const mo = +m[2];
  const d = +m[3];
  const h = +m[4];
  const mi = +m[5];
  const se = m[6] === undefined ? 0 : +m[6];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const range = (what: string, v: number) => new DerError(`${type} ${shown}: ${what} ${v} is out of range`);
  if (mo < 1 || mo > 12) throw range('month', mo);
  if (d < 1 || d > MONTH_DAYS[mo - 1] + (mo === 2 && leap ? 1 : 0)) throw range('day', d);
  if (h > 23) throw range('hour', h);
  if (mi > 59) throw range('minute', mi);
  if (se > 59) throw range('second', se);
  // Range errors first: a time that names no instant matters more than how it is spelled.
  const offset = zone === 'Z' || zone === 'z' ? 0 : (zone[0] === '-' ? -1 : 1) * (+zone.slice(1, 3) * 60 + +zone.slice(3, 5));
  if (zone.length === 5 && (+zone.slice(1, 3) > 23 || +zone.slice(3, 5) > 59)) throw new DerError(`${type} ${shown}: time zone offset ${zone} is out of range`);
  if (m[6] === undefined) deviation(t, `${type} ${shown} has no seconds`);
  if (!utc && m[7] !== undefined) deviation(t, `${type} ${shown} has fractional seconds`);
  if (zone === 'z') deviation(t, `${type} ${shown} ends in a lower-case z`);
  else if (zone !== 'Z') deviation(t, `${type} ${shown} has a time zone offset instead of Z`);
  let ms = Date.UTC(year, mo - 1, d, h, mi, se);
  // Date.UTC maps years 0..99 into the 1900s.
  if (year < 100) ms = new Date(ms).setUTCFullYear(year);
  return (ms - offset * 60_000) / 1000;
}

/** Tags of the directory string types. */
export const STRING_TAGS: ReadonlySet<number> = new Set<number>([TAG.UTF8, TAG.PRINTABLE, TAG.T61, TAG.IA5, TAG.VISIBLE, TAG.BMP, TAG.UNIVERSAL]);

/** Whether a string type is 7-bit (PrintableString, IA5String, VisibleString). */
export function isAsciiType(tag: number): boolean {
  return tag === TAG.PRINTABLE || tag === TAG.IA5 || tag === TAG.VISIBLE;
}

/**
 * A directory string as text. BMPString is UTF-16BE, UniversalString UTF-32BE,
 * TeletexString in practice Latin-1, the 7-bit types (Printable, IA5, Visible)
 * Latin-1 so that names which differ in their bytes never compare equal;
 * printers escape their octets above 0x7F rather than guess an encoding.
 * Tolerant reads (the display of CSRs and CRLs) read the 7-bit types as UTF-8.
 */
export function readText(t: Tlv): string {
  const b = t.buf;
  const len = t.end - t.body;
  switch (t.tag) {
    case TAG.BMP:
      if (len % 2) throw new DerError(`BMPString of odd length ${len}`);
      return Buffer.from(b.subarray(t.body, t.end)).swap16().toString('utf16le');
    case TAG.UNIVERSAL: {
      if (len % 4) throw new DerError(`UniversalString of length ${len} (not a multiple of 4)`);
      let s = '';
      for (let i = t.body; i + 3 < t.end; i += 4) {
        const cp = b.readUInt32BE(i);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new DerError(`UniversalString character U+${cp.toString(16).toUpperCase()} is out of range`);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    case TAG.UTF8:
      return b.toString('utf8', t.body, t.end);
    case TAG.T61:
      return b.toString('latin1', t.body, t.end);
    default:
      return b.toString(t.strict || t.sink ? 'latin1' : 'utf8', t.body, t.end);
  }
}
