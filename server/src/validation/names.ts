/**
 * Distinguished names and GeneralNames. Names are compared the way RFC 5280
 * §7.1 asks for in practice: string attributes case-folded with internal
 * whitespace collapsed, everything else byte for byte.
 */
import { DerError, Reader, TAG, Tlv, children, content, encoded, readOid, readText } from '../der';
import { ATTRIBUTE_NAMES } from '../der/oids';

export const OID_CN = '2.5.4.3';
export const OID_EMAIL_ATTR = '1.2.840.113549.1.9.1';

export interface Attribute {
  readonly oid: string;
  readonly tag: number;
  /** Decoded text for string types, undefined otherwise. */
  readonly text: string | undefined;
  readonly raw: Uint8Array;
  /** Comparison form. */
  readonly norm: string;
}

export interface Name {
  readonly der: Uint8Array;
  readonly rdns: readonly (readonly Attribute[])[];
  /** Canonical string used for issuer/subject lookups. */
  readonly key: string;
}

const STRING_TAGS = new Set<number>([TAG.UTF8, TAG.PRINTABLE, TAG.T61, TAG.IA5, TAG.BMP, TAG.UNIVERSAL, 0x1a]);

function normalizeText(s: string): string {
  return s.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');
}

function parseAttribute(t: Tlv): Attribute {
  const r = new Reader(t);
  const oid = readOid(r.next(TAG.OID));
  const v = r.next();
  r.end();
  const isString = STRING_TAGS.has(v.tag);
  const text = isString ? readText(v) : undefined;
  const norm = text !== undefined ? 's:' + normalizeText(text) : 'b:' + Buffer.from(encoded(v)).toString('hex');
  return { oid, tag: v.tag, text, raw: encoded(v), norm };
}

export function parseName(t: Tlv): Name {
  if (t.tag !== TAG.SEQUENCE) throw new DerError('Name must be a SEQUENCE');
  const rdns: Attribute[][] = [];
  for (const set of children(t)) {
    if (set.tag !== TAG.SET) throw new DerError('RDN must be a SET');
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

export function nameToString(n: Name): string {
  return n.rdns
    .map((rdn) => rdn.map((a) => `${ATTRIBUTE_NAMES[a.oid] ?? a.oid}=${a.text ?? '#' + Buffer.from(a.raw).toString('hex')}`).join('+'))
    .join(', ');
}

export type GeneralName =
  | { kind: 'dns'; value: string }
  | { kind: 'email'; value: string }
  | { kind: 'uri'; value: string }
  | { kind: 'ip'; value: Uint8Array }
  | { kind: 'dn'; value: Name }
  | { kind: 'other'; tag: number; raw: Uint8Array };

function ia5(t: Tlv): string {
  const v = content(t);
  for (const b of v) if (b > 0x7f) throw new DerError('IA5String with non-ASCII octet');
  return Buffer.from(v).toString('latin1');
}

/** One GeneralName (RFC 5280 §4.2.1.6), keeping unsupported forms as opaque `other`. */
export function parseGeneralName(t: Tlv): GeneralName {
  switch (t.tag) {
    case 0x82:
      return { kind: 'dns', value: ia5(t) };
    case 0x81:
      return { kind: 'email', value: ia5(t) };
    case 0x86:
      return { kind: 'uri', value: ia5(t) };
    case 0x87:
      return { kind: 'ip', value: content(t) };
    case 0xa4: {
      const r = new Reader(t);
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
  if (t.tag !== TAG.SEQUENCE) throw new DerError('GeneralNames must be a SEQUENCE');
  return children(t).map(parseGeneralName);
}
