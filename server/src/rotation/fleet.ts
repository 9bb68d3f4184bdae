/**
 * Fleet rollouts: a canary first, then the rest with bounded concurrency,
 * stopping at the first failure (endpoints not yet started are skipped and
 * reported so).
 */
import type { FinalState, RotationRecord } from './evidence';

/** One endpoint of a rollout and how to rotate it. */
export interface FleetItem {
  label: string;
  run: () => Promise<RotationRecord[]>;
}

/** The outcome per endpoint, in the input order. */
export interface FleetResult {
  label: string;
  /** `skipped` when the rollout stopped before it started. */
  state: FinalState | 'skipped';
  records: RotationRecord[];
  message: string;
}

/** The state a run of records ends in: the last record's. */
function finalOf(records: RotationRecord[]): FinalState {
  return records[records.length - 1]?.state ?? 'refused';
}

const OK: ReadonlySet<FinalState | 'skipped'> = new Set(['rotated', 'planned']);

/** Runs `items`: the first `canary` one by one, then the rest `concurrency` at a time; stops at the first failure. */
export async function runFleet(items: FleetItem[], opts: { canary?: number; concurrency?: number } = {}): Promise<FleetResult[]> {
  const results: FleetResult[] = items.map((i) => ({ label: i.label, state: 'skipped', records: [], message: 'not started: the rollout stopped at a failure' }));
  let stopped = false;
  const runOne = async (index: number) => {
    let records: RotationRecord[];
    try {
      records = await items[index].run();
    } catch (e) {
      records = [];
      results[index] = { label: items[index].label, state: 'needs-attention', records, message: (e as Error).message };
      stopped = true;
      return;
    }
    const state = finalOf(records);
    results[index] = { label: items[index].label, state, records, message: records[records.length - 1]?.message ?? '' };
    if (!OK.has(state)) stopped = true;
  };
  const canary = Math.min(items.length, Math.max(0, opts.canary ?? 0));
  for (let i = 0; i < canary && !stopped; i++) await runOne(i);
  let next = canary;
  const workers = Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, async () => {
    while (!stopped && next < items.length) await runOne(next++);
  });
  await Promise.all(workers);
  return results;
}
