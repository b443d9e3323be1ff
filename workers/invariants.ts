/**
 * The invariant checker over Postgres and Temporal (`npm run check:invariants`, and the fault
 * runs after each fault): nothing lost, nothing doubled, nothing left unflagged. Each process's
 * rules live in workers/invariants/<slug>.ts; every violation names its rule and carries opaque
 * ids only (no names, birth dates or result values).
 *
 * Rules (stable names):
 *   appointment-slot, appointment-process, slot-no-overlap, patient-no-overlap, appointment-audit,
 *   referral-breach-flagged, referral-audit, lab-result-interpretation, lab-result-cds,
 *   lab-critical-followup, lab-order-audit, and for each process slug (booking, referral,
 *   lab-order, onboarding) <slug>-open-not-running and <slug>-running-not-open.
 */
import { sql } from 'kysely';
import { bookingRules } from './invariants/booking';
import { labOrderRules } from './invariants/lab-order';
import { onboardingRules } from './invariants/onboarding';
import { referralRules } from './invariants/referral';
import { temporalView } from './invariants/temporal';
import type { CheckDeps, Ctx, InvariantOptions, RuleResult, Violation } from './invariants/types';

export type { CheckDeps, InvariantOptions, RuleResult, Violation } from './invariants/types';

export const DEFAULT_SETTLE_MS = 10_000;

export interface InvariantReport {
  violations: Violation[];
  /** One entry per rule, in a fixed order: what it checked and how many violations it found. */
  rules: Array<{ rule: string; checked: number; violations: number }>;
}

/** Every rule, once; the report says per rule what was checked. */
export async function runInvariants(deps: CheckDeps, opts: InvariantOptions = {}): Promise<InvariantReport> {
  const settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
  const { rows } = await sql<{ now: Date }>`SELECT now() AS now`.execute(deps.db);
  const now = rows[0]!.now;
  const ctx: Ctx = {
    ...deps,
    now,
    settledBefore: new Date(now.getTime() - settleMs),
    clinicIds: opts.clinicIds ?? null,
    taskQueue: opts.taskQueue ?? null,
    temporalView: temporalView(deps.temporal, deps.namespace, opts.taskQueue ?? null),
  };
  // One process's rules at a time: each already runs its queries side by side.
  const results: RuleResult[] = [];
  for (const rules of [bookingRules, referralRules, labOrderRules, onboardingRules]) results.push(...(await rules(ctx)));
  return {
    violations: results.flatMap((r) => r.violations),
    rules: results.map((r) => ({ rule: r.rule, checked: r.checked, violations: r.violations.length })),
  };
}

/** The violations found now (empty: every invariant holds). */
export async function checkInvariants(deps: CheckDeps, opts: InvariantOptions = {}): Promise<Violation[]> {
  return (await runInvariants(deps, opts)).violations;
}

/**
 * Checks, and when something is found waits `recheckAfterMs` and checks again, keeping only what
 * is found both times (a process caught between two steps has moved on by then).
 */
export async function checkInvariantsSettled(
  deps: CheckDeps,
  opts: InvariantOptions & { recheckAfterMs?: number } = {},
): Promise<InvariantReport> {
  const first = await runInvariants(deps, opts);
  if (first.violations.length === 0) return first;
  await new Promise((r) => setTimeout(r, opts.recheckAfterMs ?? opts.settleMs ?? DEFAULT_SETTLE_MS));
  const second = await runInvariants(deps, opts);
  const key = (v: Violation) => `${v.rule}|${JSON.stringify(Object.entries(v.ids).sort())}`;
  const seen = new Set(first.violations.map(key));
  const violations = second.violations.filter((v) => seen.has(key(v)));
  const counts = new Map<string, number>();
  for (const v of violations) counts.set(v.rule, (counts.get(v.rule) ?? 0) + 1);
  return { violations, rules: second.rules.map((r) => ({ ...r, violations: counts.get(r.rule) ?? 0 })) };
}
