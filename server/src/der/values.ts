/** Times and directory strings, read in the element's mode (see ./index). */
import { DerError, TAG, Tlv, deviation } from './tlv';

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
