/**
 * What the fault tests share: one `npm start` engine per test file (own DATA_DIR and ports, so jest
 * runs the files side by side), a small mixed load, and the outcome checks every fault must pass:
 * no invariant violated, nothing lost, nothing created twice, the backlog drained.
 */
import { faultRow, observed, runFault, type FaultResult } from '../bench/fault-run';
import { SCENARIOS } from '../bench/fault-scenarios';
import type { EngineProcess } from './engine-process';

export const SMALL_LOAD = { loadSeconds: 24, rate: 2, faultAfterMs: 6_000 };

const say = (line: string) => process.stdout.write(`${line}\n`);

export async function faultRun(engine: EngineProcess, name: keyof typeof SCENARIOS, downMs = 0): Promise<FaultResult> {
  const opts = { ...SMALL_LOAD, downMs, log: (l: string) => say(`[${name}] ${l}`) };
  const r = await runFault(engine, SCENARIOS[name]!, opts);
  say(`[${name}] ${observed(r.observations)}\n${faultRow(r, opts)}`);
  for (const v of r.before) say(`[${name}] (before the load) ${v.rule} ${JSON.stringify(v.ids)}: ${v.message}`);
  say(`[${name}] rows: ${JSON.stringify(r.rows)}; left pending: ${JSON.stringify(r.left)}`);
  for (const v of r.violations) say(`[${name}] VIOLATION ${v.rule} ${JSON.stringify(v.ids)}: ${v.message}`);
  return r;
}

/** Outcomes only (no timings): nothing lost, doubled or left pending, every invariant holds, the load did real work. */
export function expectNothingLostOrDoubled(r: FaultResult): void {
  const left = Object.fromEntries(Object.entries(r.left).filter(([, n]) => n > 0));
  expect({ violations: r.violations, lost: r.lost, duplicated: r.duplicated, left }).toEqual({
    violations: [],
    lost: 0,
    duplicated: 0,
    left: {},
  });
  expect(r.rows.appointments!.answered).toBeGreaterThan(0);
  expect(r.rows.lab_orders!.answered).toBeGreaterThan(0);
  for (const kind of Object.values(r.rows)) expect(kind.rows).toBeLessThanOrEqual(kind.keys);
}
