/**
 * The Public Suffix List, for the CA/Browser Forum rule that a wildcard may
 * not cover a registry-controlled or public suffix (`*.com`, `*.co.uk`,
 * ...). Only the ICANN section counts: names in the PRIVATE section
 * (`s3.amazonaws.com`) belong to one operator, which may well hold a wildcard
 * below its own suffix (Amazon's S3 certificate is `*.s3.amazonaws.com`).
 * certops ships no copy of the list (it changes weekly):
 * it reads the system's, Debian's `publicsuffix` package
 * (/usr/share/publicsuffix/public_suffix_list.dat) or $CERTOPS_PUBLIC_SUFFIX_LIST,
 * once, synchronously. Without a list the rule is not applied.
 */
import { readFileSync } from 'node:fs';

/** Where Debian and Ubuntu keep the list. */
export const SYSTEM_PUBLIC_SUFFIX_LIST = '/usr/share/publicsuffix/public_suffix_list.dat';

/** Parsed rules: exact suffixes, wildcard parents (`*.ck` → `ck`) and exceptions (`!www.ck`). */
export interface PublicSuffixList {
  readonly rules: ReadonlySet<string>;
  readonly wildcards: ReadonlySet<string>;
  readonly exceptions: ReadonlySet<string>;
}

/** Parses the list's text: the rules of its ICANN section. */
export function parsePublicSuffixList(text: string): PublicSuffixList {
  const rules = new Set<string>();
  const wildcards = new Set<string>();
  const exceptions = new Set<string>();
  let icann = false;
  // Bounded by the file's size; the list is about 15,000 lines.
  for (const raw of text.split('\n')) {
    const line = raw.trim().split(/\s/)[0].toLowerCase();
    if (raw.includes('===BEGIN ICANN DOMAINS===')) icann = true;
    if (raw.includes('===END ICANN DOMAINS===')) icann = false;
    if (!icann || !line || line.startsWith('//')) continue;
    const ascii = new URL(`http://${line.replace(/^[!*]\.?/, '') || 'x'}`).hostname;
    if (line.startsWith('!')) exceptions.add(ascii);
    else if (line.startsWith('*.')) wildcards.add(ascii);
    else rules.add(ascii);
  }
  return { rules, wildcards, exceptions };
}

let cached: PublicSuffixList | null | undefined;

/** The system list, read once; null when there is none. */
export function systemPublicSuffixList(): PublicSuffixList | null {
  if (cached === undefined) {
    try {
      cached = parsePublicSuffixList(readFileSync(process.env.CERTOPS_PUBLIC_SUFFIX_LIST || SYSTEM_PUBLIC_SUFFIX_LIST, 'utf8'));
    } catch {
      cached = null;
    }
  }
  return cached;
}

/** Whether `domain` (lower-case A-labels) is itself a public suffix under `list`. */
export function isPublicSuffix(domain: string, list: PublicSuffixList): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  if (list.exceptions.has(d)) return false;
  if (list.rules.has(d)) return true;
  const dot = d.indexOf('.');
  return dot > 0 && list.wildcards.has(d.slice(dot + 1));
}
