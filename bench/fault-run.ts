/**
 * One fault run: the mixed load against a running `npm start` engine, the fault injected part-way
 * through, then the backlog drained, the rows counted against the keys sent and the invariant
 * checker run. Returns the README's table row: fault, load, processes in flight, lost, duplicated,
 * time to recover. Shared by tests/faults-*.int.test.ts (small load) and `npm run bench:faults`.
 */
import { checkInvariantsSettled, runInvariants, type Violation } from '../workers/invariants';
import type { EngineProcess } from '../tests/engine-process';
import type { FaultObservations, FaultScenario } from './fault-scenarios';
import { LoadRecord, runMixedLoad } from './mixed-load';
import { bookingMismatches, drain, openProbe, rowAccounting } from './mixed-settle';

export interface FaultRunOptions {
  loadSeconds: number;
  rate: number;
  /** When the fault starts, after the load began. */
  faultAfterMs: number;
  /** How long a stopped part stays away (kills come back on their own). */
  downMs: number;
  drainTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface FaultResult {
  scenario: FaultScenario;
  record: LoadRecord;
  observations: FaultObservations;
  /** Running workflows (all types) when the fault began. */
  inFlight: number;
  /** From the part given back (a kill: the kill) to the engine serving again (the part's own check, /health ok). */
  recoverMs: number;
  /** From the fault's start until the backlog was drained after the load stopped. */
  drainMs: number;
  left: Record<string, number>;
  rows: Awaited<ReturnType<typeof rowAccounting>>;
  lost: number;
  duplicated: number;
  /** Violations the fault brought (found after it, settled, and not already there before the load). */
  violations: Violation[];
  /** Violations already there before the load began (the demo city's own data), reported apart. */
  before: Violation[];
}

/** The checker, tried again on a transient error (a dev server just started again may not know its namespace for a moment). */
async function withRetries<T>(fn: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }
}

const violationKey = (v: Violation) => `${v.rule}|${JSON.stringify(Object.entries(v.ids).sort())}`;

export async function runFault(engine: EngineProcess, scenario: FaultScenario, opts: FaultRunOptions): Promise<FaultResult> {
  const log = opts.log ?? (() => undefined);
  const probe = await openProbe(engine.databaseUrl, engine.temporalAddress);
  try {
    const deps = { db: probe.db, temporal: probe.temporal, namespace: 'default' };
    const before = (await withRetries(() => runInvariants(deps, { settleMs: 10_000 }))).violations;
    // Rows are counted from the moment this load starts, not earlier: a margin reached back into the
    // previous scenario's last journeys (same engine, same tokens) and counted one of its rows here.
    // Every row the load makes has created_at at or after its request, so nothing of ours is missed.
    const since = new Date();
    const record = new LoadRecord();
    const load = runMixedLoad(
      { apiUrl: engine.apiUrl, tokens: engine.tokens },
      {
        durationMs: opts.loadSeconds * 1000,
        rate: opts.rate,
        runId: `${scenario.name}-${Date.now().toString(36)}`,
        retryForMs: opts.downMs + 60_000,
      },
      record,
    );
    await new Promise((r) => setTimeout(r, opts.faultAfterMs));
    const inFlight = (await probe.temporal.workflow.count(`ExecutionStatus = 'Running'`)).count;
    const faultAt = Date.now();
    const observations = await scenario.inject(engine, { downMs: opts.downMs, log });
    const recoverMs = observations.healedAt - observations.returnedAt;
    log(`${scenario.name}: back ${(recoverMs / 1000).toFixed(1)} s after the part returned; waiting for the load to end`);
    await load;
    const drained = await drain(probe, since, opts.drainTimeoutMs ?? 120_000);
    const drainMs = Date.now() - faultAt;
    if ((drained.left['booking status not in its process'] ?? 0) > 0)
      for (const line of await bookingMismatches(probe, since)) log(`booking not in its process: ${line}`);
    const rows = await rowAccounting(probe, since, record);
    const table = Object.values(rows);
    const left = Object.values(drained.left).reduce((s, n) => s + n, 0);
    const known = new Set(before.map(violationKey));
    const violations = (await withRetries(() => checkInvariantsSettled(deps, { settleMs: 10_000 }))).violations.filter(
      (v) => !known.has(violationKey(v)),
    );
    return {
      scenario,
      record,
      observations,
      inFlight,
      recoverMs,
      drainMs,
      left: drained.left,
      rows,
      violations,
      before,
      lost: table.reduce((s, r) => s + r.lost, 0) + left,
      duplicated: table.reduce((s, r) => s + r.duplicated, 0),
    };
  } finally {
    await probe.close();
  }
}

/** The README row: | fault | load | in flight | lost | duplicated | recovered | drained | violations |. */
export function faultRow(r: FaultResult, opts: Pick<FaultRunOptions, 'loadSeconds' | 'rate' | 'downMs'>): string {
  const requests = [...r.record.ops.values()].reduce((s, o) => s + o.latencies.length, 0);
  const away = r.scenario.name.endsWith('-sigkill') ? '' : ` for ${opts.downMs / 1000} s`;
  return `| ${r.scenario.what}${away} | ${opts.rate} journeys/s × ${opts.loadSeconds} s (${requests} requests) | ${r.inFlight} | ${r.lost} | ${r.duplicated} | ${(r.recoverMs / 1000).toFixed(1)} s | ${(r.drainMs / 1000).toFixed(1)} s | ${r.violations.length} |`;
}

/** What the API answered while the part was away: /health and the probe write, by status and code. */
export function observed(o: FaultObservations): string {
  const tally = (xs: string[]) =>
    Object.entries(xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {}))
      .map(([k, n]) => `${k}×${n}`)
      .join(' ');
  const slowest = Math.max(0, ...o.probes.map((p) => p.ms));
  return `health: ${tally(o.health.map((h) => `${h.status}${h.down.length ? ` down=${h.down.join('+')}` : ''}`))}; probe write: ${tally(o.probes.map((p) => `${p.status}${p.code ? ` ${p.code}` : ''}`))} (slowest ${slowest} ms)`;
}
