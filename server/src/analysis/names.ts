/**
 * Names of CSRs and CRLs for display, through the one Name parser and
 * RFC 4514 printer of server/src/x509/names.
 */
import { Sink, Tlv, readOid, children } from '../der';
import { firstText, nameToString as printName, parseName } from '../x509/names';

/** Reads a Name element in recording mode: 7-bit strings as their octets, so the printer escapes rather than guesses. */
function recorded(name: Tlv): Tlv {
  return { ...name, strict: true, sink: new Sink() };
}

/** An X.501 Name element as an RFC 4514 string. */
export function nameToString(name: Tlv): string {
  return printName(parseName(recorded(name)));
}

/** The first value of an attribute (e.g. CN) in a Name element, or undefined. */
export function nameAttribute(name: Tlv, attributeOid: string): string | undefined {
  return firstText(parseName(recorded(name)), attributeOid);
}

/** The attribute types of a Name element, in order (for tests and diagnostics). */
export function attributeTypes(name: Tlv): string[] {
  return children(name).flatMap((set) => children(set).map((atv) => readOid(children(atv)[0])));
}
