import { ATTRIBUTE_NAMES } from '../der/oids';
import { Tlv, children, encoded, readOid, readText } from '../der';

/**
 * An X.501 Name as an RFC 4514 string: most specific RDN first, `,` between
 * RDNs, `+` inside multi-valued RDNs, special characters escaped, unknown
 * types as dotted OIDs with the value's DER in `#hex`.
 */
export function nameToString(name: Tlv): string {
  const rdns: string[] = [];
  for (const set of children(name)) {
    const parts: string[] = [];
    for (const atv of children(set)) {
      const [type, value] = children(atv);
      const id = readOid(type);
      const short = ATTRIBUTE_NAMES[id];
      const isString = [0x0c, 0x13, 0x16, 0x14, 0x1e, 0x1c, 0x1a].includes(value.tag);
      parts.push(short && isString ? `${short}=${escapeValue(readText(value))}` : `${id}=#${encoded(value).toString('hex')}`);
    }
    rdns.push(parts.join('+'));
  }
  return rdns.reverse().join(',');
}

/** The first value of an attribute (e.g. CN) in a Name, or undefined. */
export function nameAttribute(name: Tlv, attributeOid: string): string | undefined {
  for (const set of children(name)) {
    for (const atv of children(set)) {
      const [type, value] = children(atv);
      if (readOid(type) === attributeOid) return readText(value);
    }
  }
  return undefined;
}

function escapeValue(v: string): string {
  let s = v.replace(/[\\,+"<>;=]/g, (c) => '\\' + c).replace(/\0/g, '\\00');
  if (s.startsWith(' ') || s.startsWith('#')) s = '\\' + s;
  if (s.endsWith(' ') && s.length > 1) s = s.slice(0, -1) + '\\ ';
  return s;
}
