/**
 * Reading a DER structure field by field with errors a reader can act on:
 * every failure is a DerError whose message names the structure, the field
 * and what is wrong (`RSAPrivateKey: modulus is missing`,
 * `SignedData: version is a SEQUENCE, not an INTEGER`), since the decoders'
 * messages are shown to the user as they are.
 */
import { DerError, Tlv, children, readTlv } from '../der';

const TAG_NAMES: Record<number, string> = {
  0x01: 'a BOOLEAN', 0x02: 'an INTEGER', 0x03: 'a BIT STRING', 0x04: 'an OCTET STRING', 0x05: 'a NULL', 0x06: 'an OBJECT IDENTIFIER',
  0x0c: 'a UTF8String', 0x13: 'a PrintableString', 0x16: 'an IA5String', 0x17: 'a UTCTime', 0x18: 'a GeneralizedTime', 0x30: 'a SEQUENCE', 0x31: 'a SET',
};

/** How a DER tag is named in messages: `an INTEGER`, `a SEQUENCE`, `[0]`. */
export function tagName(tag: number): string {
  if (TAG_NAMES[tag]) return TAG_NAMES[tag];
  if ((tag & 0xc0) === 0x80) return `a [${tag & 0x1f}] element`;
  return `an element with tag 0x${tag.toString(16).padStart(2, '0')}`;
}

/** The single element at the start of `der`, which must carry `tag`; errors name `what`. */
export function rootOf(der: Buffer, tag: number, what: string): Tlv {
  if (der.length === 0) throw new DerError(`${what}: empty`);
  let t: Tlv;
  try {
    t = readTlv(der, 0);
  } catch (e) {
    throw new DerError(`${what}: ${(e as Error).message}`);
  }
  if (t.tag !== tag) throw new DerError(`${what}: expected ${tagName(tag)}, found ${tagName(t.tag)}`);
  return t;
}

/** The elements inside `t`; errors name `what`. */
export function fieldsOf(t: Tlv, what: string): Tlv[] {
  if ((t.tag & 0x20) === 0) throw new DerError(`${what}: expected a constructed element, found ${tagName(t.tag)}`);
  try {
    return children(t);
  } catch (e) {
    throw new DerError(`${what}: ${(e as Error).message}`);
  }
}

/** `list[i]`, which must carry `tag`: "RSAPrivateKey: modulus is missing", "…: modulus is a SEQUENCE, not an INTEGER". */
export function field(list: Tlv[], i: number, tag: number, what: string, name: string): Tlv {
  const t = list[i];
  if (!t) throw new DerError(`${what}: ${name} is missing`);
  if (t.tag !== tag) throw new DerError(`${what}: ${name} is ${tagName(t.tag)}, not ${tagName(tag)}`);
  return t;
}

/**
 * The text of a decoding failure. DerErrors say what is wrong; anything else
 * escaping a parser (a TypeError on a missing element, a crypto library code)
 * would mean nothing to the reader, so it is reported as the structure
 * problem it is.
 */
export function describeDecodeError(e: unknown): string {
  if (e instanceof DerError) return e.message;
  return 'unexpected DER structure: an element is missing or of the wrong type';
}
