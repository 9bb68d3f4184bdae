/**
 * The expiry monitor's decisions as pure functions: which level each endpoint
 * is at, which endpoints crossed into a worse level since the last check (each
 * crossing is notified once), and the nearest expiry for the status bar.
 * The states come from the engine; only the warning/critical split of
 * `expiring` is made here, from the endpoint's own thresholds.
 */
import type { EndpointEntry, EndpointStatus } from './engine';
import { statusKey } from './items';

export type ExpiryLevel = 'ok' | 'warning' | 'critical' | 'expired';
const LEVELS: ExpiryLevel[] = ['ok', 'warning', 'critical', 'expired'];

/** The days left of the certificate that expires first: the one on disk or the one served. */
export function nearestDays(s: EndpointStatus): number | undefined {
  const days = [s.files.cert.certificate?.daysLeft, s.served?.daysLeft].filter((d): d is number => typeof d === 'number');
  return days.length ? Math.min(...days) : undefined;
}

/** An endpoint's expiry level from the engine's states; `criticalDays` is the endpoint's, else the setting. */
export function expiryLevel(s: EndpointStatus, endpoint: EndpointEntry | undefined, criticalDays: number): ExpiryLevel {
  if (s.states.includes('expired')) return 'expired';
  if (!s.states.includes('expiring')) return 'ok';
  const days = nearestDays(s);
  return days !== undefined && days <= (endpoint?.expiry?.criticalDays ?? criticalDays) ? 'critical' : 'warning';
}

/** A level an endpoint newly reached, to notify. */
export interface Crossing {
  key: string;
  level: ExpiryLevel;
  status: EndpointStatus;
}

/**
 * Compares the levels now with those last seen (`seen`, updated in place).
 * An endpoint that got worse is reported once; one that got better is
 * remembered at its new level, so falling back later is reported again.
 * Endpoints with no certificate read (unreachable) keep their last level.
 */
export function crossings(seen: Map<string, ExpiryLevel>, now: { status: EndpointStatus; level: ExpiryLevel }[]): Crossing[] {
  const out: Crossing[] = [];
  for (const { status, level } of now) {
    if (nearestDays(status) === undefined) continue;
    const key = statusKey(status.host, status.endpoint);
    const before = seen.get(key) ?? 'ok';
    if (LEVELS.indexOf(level) > LEVELS.indexOf(before)) out.push({ key, level, status });
    seen.set(key, level);
  }
  return out;
}

/** The endpoint whose certificate (on disk or served) expires first, for the status bar. */
export function nearestExpiry(statuses: EndpointStatus[]): { key: string; daysLeft: number; status: EndpointStatus } | undefined {
  let best: { key: string; daysLeft: number; status: EndpointStatus } | undefined;
  for (const s of statuses) {
    const d = nearestDays(s);
    if (d !== undefined && (!best || d < best.daysLeft)) best = { key: statusKey(s.host, s.endpoint), daysLeft: d, status: s };
  }
  return best;
}
