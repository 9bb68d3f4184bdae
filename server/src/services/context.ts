import type { SiblingDocument } from '../analysis/match';
import type { TrustStore } from '../analysis/truststore';

/** What the services need to know beyond the document itself; all optional so the CLI can pass what it has. */
export interface ServiceContext {
  /** The clock; tests pin it. */
  now?: Date;
  /** The document's URI, for links to its own blocks. */
  uri?: string;
  /** System roots plus `certops.trust.extraCAFiles`; without it `chain-incomplete` is not reported. */
  trust?: TrustStore;
  /** Sibling files that may hold the matching key or certificate (see analysis/siblings). */
  siblings?: SiblingDocument[];
  /** POSIX mode bits of the file on disk, for `key-permissions`; undefined for unsaved or remote documents. */
  fileMode?: number;
}

/** Whole days from `now` until `date` (negative once it has passed). */
export function daysUntil(date: Date, now: Date): number {
  return Math.floor((date.getTime() - now.getTime()) / 86_400_000);
}

/** "in 42 days", "today", "3 days ago". */
export function relativeDays(date: Date, now: Date): string {
  const ms = date.getTime() - now.getTime();
  const d = Math.floor(Math.abs(ms) / 86_400_000);
  if (d === 0) return ms >= 0 ? 'within a day' : 'less than a day ago';
  const unit = d === 1 ? 'day' : 'days';
  return ms >= 0 ? `in ${d} ${unit}` : `${d} ${unit} ago`;
}
