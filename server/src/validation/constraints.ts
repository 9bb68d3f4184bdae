/**
 * Name constraints (RFC 5280 §4.2.1.10, §6.1.4(g)): DNS, IP, email, URI and
 * directory names, permitted and excluded. Forms this module cannot evaluate
 * (otherName and friends) fail closed when a constraint of that form exists.
 * Every name/constraint comparison is charged to a budget so that hostile
 * certificates with thousands of names and constraints stay cheap.
 */
import type { Certificate, GeneralSubtree, NameConstraints } from '../x509/certificate';
import { normalizeDnsPattern } from './hostname';
import { GeneralName, OID_EMAIL_ATTR, attributes, nameHasPrefix, nameIsEmpty } from '../x509/names';

/** Upper bound on name/constraint comparisons per validation. */
export const NAME_CONSTRAINT_BUDGET = 1 << 18;

export class Budget {
  used = 0;
  constructor(readonly limit: number) {}
  charge(n = 1): boolean {
    this.used += n;
    return this.used <= this.limit;
  }
}

const DNS_CONSTRAINT = /^([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)*$/;

function validDnsConstraint(s: string): boolean {
  return s === '' || (s.length <= 253 && DNS_CONSTRAINT.test(s.toLowerCase()));
}

function contiguousMask(mask: Uint8Array): boolean {
  let seenZero = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set && seenZero) return false;
      if (!set) seenZero = true;
    }
  }
  return true;
}

function validEmailConstraint(s: string): boolean {
  const at = s.lastIndexOf('@');
  if (at >= 0) return at > 0 && validDnsConstraint(s.slice(at + 1)) && s.slice(at + 1) !== '';
  const host = s.startsWith('.') ? s.slice(1) : s;
  return host !== '' && validDnsConstraint(host);
}

function subtreeProblem(st: GeneralSubtree): string | undefined {
  if (st.hasMinMax) return 'minimum/maximum must not be used';
  const b = st.base;
  if (b.kind === 'dns' && !validDnsConstraint(b.value)) return `invalid dNSName constraint "${b.value}"`;
  if (b.kind === 'ip' && ((b.value.length !== 8 && b.value.length !== 32) || !contiguousMask(b.value.subarray(b.value.length / 2)))) {
    return 'invalid iPAddress constraint';
  }
  if (b.kind === 'email' && !validEmailConstraint(b.value)) return `invalid rfc822Name constraint "${b.value}"`;
  return undefined;
}

/** Why a nameConstraints extension is itself unacceptable, or undefined. */
export function constraintsProblem(nc: NameConstraints): string | undefined {
  if (!nc.permitted && !nc.excluded) return 'nameConstraints has neither permitted nor excluded subtrees';
  if ((nc.permitted && nc.permitted.length === 0) || (nc.excluded && nc.excluded.length === 0)) {
    return 'nameConstraints has an empty subtree list';
  }
  for (const st of [...(nc.permitted ?? []), ...(nc.excluded ?? [])]) {
    const p = subtreeProblem(st);
    if (p) return p;
  }
  return undefined;
}

function dnsWithin(name: string, c: string): boolean {
  return c === '' || name === c || name.endsWith('.' + c);
}

/** Whether the dNSName (possibly a wildcard pattern) falls inside constraint `c`. */
function dnsPermittedBy(name: string, c: string): boolean {
  return dnsWithin(name.startsWith('*.') ? name.slice(2) : name, c);
}

/**
 * Whether some host the dNSName can stand for lies inside constraint `c`; for
 * `*.example.com` that includes `c = bar.example.com` (CVE-2025-61727).
 */
function dnsMayMatch(name: string, c: string): boolean {
  if (!name.startsWith('*.')) return dnsWithin(name, c);
  const base = name.slice(2);
  if (dnsWithin(base, c)) return true;
  const dot = c.indexOf('.');
  return dot > 0 && c.slice(dot + 1) === base;
}

/** RFC 5321 Mailbox: a dot-atom or quoted local part, one unquoted '@', a host name. */
function isMailbox(addr: string): boolean {
  const at = addr.lastIndexOf('@');
  if (at <= 0) return false;
  const local = addr.slice(0, at);
  const host = addr.slice(at + 1).toLowerCase();
  const dotAtom = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
  const quoted = /^"([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
  return (dotAtom.test(local) || quoted.test(local)) && host !== '' && DNS_CONSTRAINT.test(host);
}

function emailMatches(addr: string, c: string): boolean {
  const at = addr.lastIndexOf('@');
  const local = addr.slice(0, at);
  const host = addr.slice(at + 1).toLowerCase();
  const cl = c.toLowerCase();
  if (c.includes('@')) {
    const cat = c.lastIndexOf('@');
    return local === c.slice(0, cat) && host === c.slice(cat + 1).toLowerCase();
  }
  if (cl.startsWith('.')) return host.endsWith(cl);
  return host === cl;
}

function uriHost(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(uri);
  return m && m[1] && !m[1].startsWith('[') ? m[1].toLowerCase() : undefined;
}

function ipMatches(ip: Uint8Array, c: Uint8Array): boolean {
  if (c.length !== ip.length * 2) return false;
  for (let i = 0; i < ip.length; i++) {
    const m = c[ip.length + i];
    if ((ip[i] & m) !== (c[i] & m)) return false;
  }
  return true;
}

type Verdict = 'match' | 'nomatch' | 'unknown' | 'other-type';

function compare(name: GeneralName, st: GeneralSubtree, excluded: boolean): Verdict {
  const c = st.base;
  if (name.kind === 'other' || c.kind === 'other') {
    if (name.kind === 'other' && c.kind === 'other' && name.tag === c.tag) return 'unknown';
    return 'other-type';
  }
  if (name.kind !== c.kind) return 'other-type';
  switch (name.kind) {
    case 'dns': {
      const n = normalizeDnsPattern(name.value);
      if (!n) return 'unknown';
      const cv = (c.value as string).toLowerCase();
      return (excluded ? dnsMayMatch(n, cv) : dnsPermittedBy(n, cv)) ? 'match' : 'nomatch';
    }
    case 'ip':
      if (name.value.length !== 4 && name.value.length !== 16) return 'unknown';
      return ipMatches(name.value, c.value as Uint8Array) ? 'match' : 'nomatch';
    case 'email': {
      if (!isMailbox(name.value)) return 'unknown';
      return emailMatches(name.value, c.value as string) ? 'match' : 'nomatch';
    }
    case 'uri': {
      const host = uriHost(name.value);
      if (!host) return 'unknown';
      const cv = (c.value as string).toLowerCase();
      return (cv.startsWith('.') ? host.endsWith(cv) : host === cv) ? 'match' : 'nomatch';
    }
    case 'dn':
      return nameHasPrefix(name.value, c.value as typeof name.value) ? 'match' : 'nomatch';
  }
}

/** The names of `cert` that name constraints apply to: SAN entries, the subject DN and its emailAddress attributes. */
export function constrainedNames(cert: Certificate): GeneralName[] {
  const names: GeneralName[] = [...(cert.subjectAltName ?? [])];
  if (!nameIsEmpty(cert.subject)) names.push({ kind: 'dn', value: cert.subject });
  for (const a of attributes(cert.subject, OID_EMAIL_ATTR)) {
    if (a.text !== undefined) names.push({ kind: 'email', value: a.text });
  }
  return names;
}

export type ConstraintOutcome = { ok: true } | { ok: false; code: 'name-constraint-violation' | 'work-limit-exceeded'; message: string };

/** Checks every constrained name of `cert` against one CA's name constraints. */
export function checkNameConstraints(nc: NameConstraints, cert: Certificate, budget: Budget): ConstraintOutcome {
  const names = constrainedNames(cert);
  const permitted = nc.permitted ?? [];
  const excluded = nc.excluded ?? [];
  if (!budget.charge(names.length * (permitted.length + excluded.length))) {
    return { ok: false, code: 'work-limit-exceeded', message: 'too many name/constraint combinations to evaluate' };
  }
  const show = (n: GeneralName) => (n.kind === 'ip' ? Buffer.from(n.value).join('.') : n.kind === 'dn' ? 'subject DN' : n.kind === 'other' ? `name with tag 0x${n.tag.toString(16)}` : n.value);
  for (const n of names) {
    for (const st of excluded) {
      const v = compare(n, st, true);
      if (v === 'match' || v === 'unknown') return { ok: false, code: 'name-constraint-violation', message: `${n.kind} ${show(n)} is excluded (or cannot be checked) by a name constraint` };
    }
    let sameType = false;
    let allowed = false;
    for (const st of permitted) {
      const v = compare(n, st, false);
      if (v === 'other-type') continue;
      sameType = true;
      if (v === 'match') {
        allowed = true;
        break;
      }
    }
    if (sameType && !allowed) return { ok: false, code: 'name-constraint-violation', message: `${n.kind} ${show(n)} is outside the permitted name constraints` };
  }
  return { ok: true };
}
