/**
 * Distinguished names and GeneralNames: one parser, one comparison rule, one
 * printer for every face. Names compare the way RFC 5280 §7.1 asks: string
 * attributes whatever their string type (a PrintableString and a UTF8String of
 * the same text are equal), case-folded, with leading, trailing and repeated
 * internal whitespace folded; other values byte for byte. They print as
 * RFC 4514 strings.
 */
import { DerError, Reader, STRING_TAGS, TAG, Tlv, children, content, encoded, isAsciiType, readOid, readText } from '../der';
import { ATTRIBUTE_NAMES } from '../der/oids';

export const OID_CN = '2.5.4.3';
export const OID_EMAIL_ATTR = '1.2.840.113549.1.9.1';

export interface Attribute {
  readonly oid: string;
  readonly tag: number;
  /** Decoded text for string types, undefined otherwise (or when the string does not decode). */
  readonly text: string | undefined;
  readonly raw: Uint8Array;
  /** Comparison form. */
  readonly norm: string;
}

export interface Name {
  readonly der: Uint8Array;
  readonly rdns: readonly (readonly Attribute[])[];
  /** Canonical string used for issuer/subject lookups: equal keys mean equal names under RFC 5280 §7.1. */
  readonly key: string;
}

// NFKC leaves ASCII text unchanged; most name attributes are ASCII, and normalize() costs a copy and a table walk each.
const NON_ASCII = /[\u0080-\uffff]/;

function normalizeText(s: string): string {
  return (NON_ASCII.test(s) ? s.normalize('NFKC') : s).toLowerCase().trim().replace(/\s+/g, ' ');
}

function parseAttribute(t: Tlv): Attribute {
  const r = new Reader(t, 'AttributeTypeAndValue');
  const oid = readOid(r.next(TAG.OID));
  const v = r.next();
  r.end();
  let text: string | undefined;
  if (STRING_TAGS.has(v.tag)) {
    try {
      text = readText(v);
    } catch (e) {
      // The value cannot be read as text: keep it as bytes (the name still compares and prints as #hex).
      if (!(e instanceof DerError) || !v.sink) throw e;
      v.sink.add(`${ATTRIBUTE_NAMES[oid] ?? oid}: ${e.message}`);
    }
    if (text !== undefined && isAsciiType(v.tag) && content(v).some((b) => b > 0x7f)) {
      v.sink?.add(`${ATTRIBUTE_NAMES[oid] ?? oid}: ${v.tag === TAG.PRINTABLE ? 'PrintableString' : v.tag === TAG.IA5 ? 'IA5String' : 'VisibleString'} with octets above 0x7F`, 'warning');
    }
  }
  const norm = text !== undefined ? 's:' + normalizeText(text) : 'b:' + Buffer.from(encoded(v)).toString('hex');
  return { oid, tag: v.tag, text, raw: encoded(v), norm };
}

/** Parses a Name; in a recording read, undecodable strings are recorded and kept as bytes. */
export function parseName(t: Tlv): Name {
  if (t.tag !== TAG.SEQUENCE) throw new DerError(`Name must be a SEQUENCE, found tag 0x${t.tag.toString(16)}`);
  const rdns: Attribute[][] = [];
  for (const set of children(t)) {
    if (set.tag !== TAG.SET) throw new DerError(`RDN must be a SET, found tag 0x${set.tag.toString(16)}`);
    const attrs = children(set).map(parseAttribute);
    if (attrs.length === 0) throw new DerError('empty RDN');
    rdns.push(attrs);
  }
  const key = rdns
    .map((rdn) => rdn.map((a) => `${a.oid}=${JSON.stringify(a.norm)}`).sort().join('+'))
    .join(',');
  return { der: encoded(t), rdns, key };
}

export function nameIsEmpty(n: Name): boolean {
  return n.rdns.length === 0;
}

/** Every attribute of `n` with the given type, in order. */
export function attributes(n: Name, oid: string): Attribute[] {
  return n.rdns.flat().filter((a) => a.oid === oid);
}

/** RFC 5280 §7.1 name chaining comparison. */
export function namesEqual(a: Name, b: Name): boolean {
  return a.key === b.key;
}

/** True when `prefix`'s RDNs are the leading RDNs of `n` (directoryName constraints). */
export function nameHasPrefix(n: Name, prefix: Name): boolean {
  if (prefix.rdns.length > n.rdns.length) return false;
  for (let i = 0; i < prefix.rdns.length; i++) {
    const a = prefix.rdns[i].map((x) => `${x.oid}=${x.norm}`).sort().join('+');
    const b = n.rdns[i].map((x) => `${x.oid}=${x.norm}`).sort().join('+');
    if (a !== b) return false;
  }
  return true;
}

/**
 * RFC 4514: most specific RDN first, `,` between RDNs, `+` inside multi-valued
 * RDNs, special characters escaped, known types by name. Values that are not
 * strings, and unknown types, print as `#` and the value's DER in hex. Octets
 * above 0x7F in a 7-bit string type print as `\XX`, never as a guessed charset.
 */
export function nameToString(n: Name): string {
  return n.rdns
    .map((rdn) => rdn.map(attributeToString).join('+'))
    .reverse()
    .join(',');
}

function attributeToString(a: Attribute): string {
  const short = ATTRIBUTE_NAMES[a.oid];
  if (!short || a.text === undefined) return `${short ?? a.oid}=#${Buffer.from(a.raw).toString('hex')}`;
  return `${short}=${escapeValue(a.text, isAsciiType(a.tag))}`;
}

function escapeValue(v: string, ascii: boolean): string {
  let s = '';
  for (const c of v) {
    const n = c.codePointAt(0) ?? 0;
    // Control characters (and, in 7-bit types, octets above 0x7F) as RFC 4514 hex pairs, so no terminal or charset sees them raw.
    if (n < 0x20 || n === 0x7f || (ascii && n > 0x7f && n <= 0xff)) s += '\\' + n.toString(16).padStart(2, '0');
    else if (n >= 0x80 && n < 0xa0) s += [...Buffer.from(c, 'utf8')].map((b) => '\\' + b.toString(16)).join('');
    else if ('\\,+"<>;='.includes(c)) s += '\\' + c;
    else s += c;
  }
  if (s.startsWith(' ') || s.startsWith('#')) s = '\\' + s;
  if (s.endsWith(' ') && s.length > 1) s = s.slice(0, -1) + '\\ ';
  return s;
}

/** The first value of an attribute (e.g. CN) as text, or undefined. */
export function firstText(n: Name, oid: string): string | undefined {
  return attributes(n, oid).find((a) => a.text !== undefined)?.text;
}

export type GeneralName =
  | { kind: 'dns'; value: string }
  | { kind: 'email'; value: string }
  | { kind: 'uri'; value: string }
  | { kind: 'ip'; value: Uint8Array }
  | { kind: 'dn'; value: Name }
  | { kind: 'other'; tag: number; raw: Uint8Array };

/** IA5String content; octets above 0x7F are not IA5 and are refused (recorded in a recording read). */
function ia5(t: Tlv, what: string): string {
  const v = content(t);
  if (v.some((b) => b > 0x7f)) {
    const msg = `${what} ${JSON.stringify(escapeIa5(v))} contains octets above 0x7F (not IA5)`;
    if (!t.sink) throw new DerError(msg);
    t.sink.add(msg);
  }
  return Buffer.from(v).toString('latin1');
}

/** IA5 text for display: non-ASCII and control octets as `\xHH`, so that no charset is guessed. */
export function escapeIa5(v: Uint8Array): string {
  let s = '';
  for (const b of v) s += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return s;
}

/** One GeneralName (RFC 5280 §4.2.1.6), keeping unsupported forms as opaque `other`. */
export function parseGeneralName(t: Tlv): GeneralName {
  switch (t.tag) {
    case 0x82:
      return { kind: 'dns', value: ia5(t, 'dNSName') };
    case 0x81:
      return { kind: 'email', value: ia5(t, 'rfc822Name') };
    case 0x86:
      return { kind: 'uri', value: ia5(t, 'uniformResourceIdentifier') };
    case 0x87:
      return { kind: 'ip', value: content(t) };
    case 0xa4: {
      const r = new Reader(t, 'directoryName');
      const n = parseName(r.next(TAG.SEQUENCE));
      r.end();
      return { kind: 'dn', value: n };
    }
    case 0xa0: // otherName
    case 0xa3: // x400Address
    case 0xa5: // ediPartyName
    case 0x88: // registeredID
      return { kind: 'other', tag: t.tag, raw: encoded(t) };
    default:
      throw new DerError(`unknown GeneralName tag 0x${t.tag.toString(16)}`);
  }
}

export function parseGeneralNames(t: Tlv): GeneralName[] {
  if (t.tag !== TAG.SEQUENCE) throw new DerError(`GeneralNames must be a SEQUENCE, found tag 0x${t.tag.toString(16)}`);
  return children(t).map(parseGeneralName);
}
