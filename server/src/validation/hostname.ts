/**
 * Server identity checks per RFC 6125/9525 and the CA/Browser Forum: only the
 * subjectAltName counts (never the CN), a wildcard is only ever the whole
 * left-most label and never covers a single-label suffix, IP addresses match
 * only iPAddress entries, comparison is ASCII case-insensitive on A-labels.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import type { Certificate } from '../x509/certificate';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** True for a syntactically valid host name in preferred name syntax (lowercased A-labels). */
export function isValidDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.toLowerCase().split('.');
  return labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]);
}

/** Validates a SAN dNSName that may hold a left-most wildcard; returns its lowercase form or undefined. */
export function normalizeDnsPattern(pattern: string): string | undefined {
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) {
    const rest = p.slice(2);
    // "*.com" and "*" name a whole public suffix or the DNS root.
    if (!isValidDnsName(rest) || !rest.includes('.')) return undefined;
    return p;
  }
  return isValidDnsName(p) ? p : undefined;
}

/** Parses a textual IPv4/IPv6 address to bytes; strict dotted-quad for IPv4. */
export function parseIp(text: string): Uint8Array | undefined {
  const kind = isIP(text);
  if (kind === 4) return new Uint8Array(text.split('.').map(Number));
  if (kind !== 6) return undefined;
  let s = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  let tail: number[] = [];
  if (v4) {
    tail = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + '0:0';
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const hs = head ? head.split(':') : [];
  const rs = rest ? rest.split(':') : [];
  const groups = rest === undefined ? hs : [...hs, ...Array(8 - hs.length - rs.length).fill('0'), ...rs];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  if (v4) out.set(tail, 12);
  return out;
}

/**
 * Every address a permissive reader could take `text` for: inet_aton forms
 * (`0xC0A80101`, octal `010`), decimal with leading zeros, any IPv6 spelling.
 * Used to recognise differently spelled copies of an address.
 */
export function parseIpLenient(text: string): Uint8Array[] {
  if (text.includes(':')) {
    const v6 = parseIp(text.toLowerCase());
    return v6 ? [v6] : [];
  }
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((p) => !/^(0x[0-9a-f]+|[0-9]+)$/i.test(p))) return [];
  const out: Uint8Array[] = [];
  for (const octalZeros of [true, false]) {
    const nums = parts.map((p) => (/^0x/i.test(p) ? parseInt(p, 16) : octalZeros && p.length > 1 && p.startsWith('0') ? parseInt(p, 8) : parseInt(p, 10)));
    if (nums.some((n) => Number.isNaN(n))) continue;
    const last = nums.pop() as number;
    if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) continue;
    const ip = new Uint8Array(4);
    nums.forEach((n, i) => (ip[i] = n));
    for (let i = 3, v = last; i >= nums.length; i--, v = Math.floor(v / 256)) ip[i] = v % 256;
    out.push(ip);
  }
  return out;
}

/** Canonical text of an address: dotted quad, or RFC 5952 for IPv6. */
export function formatIp(b: Uint8Array): string | undefined {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length !== 16) return undefined;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Converts a reference host name to its comparison form (A-labels, lowercase, no trailing dot). */
export function referenceHostname(name: string): string | undefined {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  // eslint-disable-next-line no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(n) ? n.toLowerCase() : domainToASCII(n);
  return ascii && isValidDnsName(ascii) ? ascii : undefined;
}

/** Whether one SAN dNSName entry covers the reference name (both already lowercase). */
export function dnsPatternMatches(pattern: string, reference: string): boolean {
  const p = normalizeDnsPattern(pattern);
  if (!p) return false;
  if (!p.startsWith('*.')) return p === reference;
  const dot = reference.indexOf('.');
  return dot > 0 && reference.slice(dot + 1) === p.slice(2);
}

export type PeerName = { kind: 'DNS' | 'IP' | 'RFC822'; value: string };

/**
 * Whether the certificate's subjectAltName covers the peer name. The subject
 * CN is deliberately ignored, as CA/B Forum and RFC 9525 require.
 */
export function matchesHostname(cert: Certificate, name: string | PeerName): boolean {
  const peer: PeerName = typeof name === 'string' ? { kind: isIP(name) ? 'IP' : 'DNS', value: name } : name;
  const san = cert.subjectAltName ?? [];
  if (peer.kind === 'IP') {
    const ip = parseIp(peer.value.replace(/^\[|\]$/g, ''));
    if (!ip) return false;
    return san.some((g) => g.kind === 'ip' && Buffer.from(g.value).equals(Buffer.from(ip)));
  }
  if (peer.kind === 'RFC822') {
    const v = peer.value;
    const at = v.lastIndexOf('@');
    if (at <= 0) return false;
    const host = v.slice(at + 1).toLowerCase();
    return san.some((g) => g.kind === 'email' && g.value.slice(0, g.value.lastIndexOf('@')) === v.slice(0, at) && g.value.slice(g.value.lastIndexOf('@') + 1).toLowerCase() === host);
  }
  const ref = referenceHostname(peer.value);
  if (!ref) return false;
  return san.some((g) => g.kind === 'dns' && dnsPatternMatches(g.value, ref));
}
