/**
 * Rules for policy changes made through the admin API, pure: what a valid waiting time,
 * escalation share, escalation ladder, critical range and effective-from instant are, and
 * which version of a policy is in force at an instant. Each refusal carries a stable code.
 */
import type { WaitTime } from './calendar';

export type PolicyRefusalCode =
  | 'negative_duration'
  | 'share_out_of_range'
  | 'range_inverted'
  | 'range_empty'
  | 'escalation_order'
  | 'effective_from_in_past'
  | 'invalid_date';

export interface PolicyRefusal {
  code: PolicyRefusalCode;
  message: string;
  field: string;
}

/** The longest duration a policy may name: a year (a Temporal timer beyond what the server takes would fail the workflow task). */
export const MAX_POLICY_SECONDS = 366 * 86_400;

const positiveWhole = (n: number) => Number.isInteger(n) && n > 0;

/** A waiting time: one whole, positive amount of working days, hours or seconds, at most a year. */
export function checkWait(wait: WaitTime): PolicyRefusal | null {
  const [unit, amount] = Object.entries(wait)[0] as [string, number];
  const seconds = unit === 'workingDays' ? (amount * 86_400 * 7) / 5 : unit === 'hours' ? amount * 3600 : amount;
  if (!positiveWhole(amount) || seconds > MAX_POLICY_SECONDS) {
    return { code: 'negative_duration', field: `wait.${unit}`, message: `wait.${unit} must be a whole number above 0 and at most a year.` };
  }
  return null;
}

/** A positive whole number of seconds (or days, counts) for a named field. */
export function checkPositive(field: string, value: number | undefined, max = MAX_POLICY_SECONDS): PolicyRefusal | null {
  if (value === undefined || (positiveWhole(value) && value <= max)) return null;
  return { code: 'negative_duration', field, message: `${field} must be a whole number above 0 and at most ${max}.` };
}

/** The escalation share: the fraction of the wait after which an unbooked referral is escalated, strictly between 0 and 1. */
export function checkShare(share: number | undefined): PolicyRefusal | null {
  if (share === undefined || (Number.isFinite(share) && share > 0 && share < 1)) return null;
  const message = 'escalationShare must be above 0 and below 1 (a fraction of the waiting time).';
  return { code: 'share_out_of_range', field: 'escalationShare', message };
}

/** Critical-value escalation: the covering doctor after `covering` seconds, the head after `head` (> covering), both from the result. */
export function checkEscalation(covering: number, head: number): PolicyRefusal | null {
  return (
    checkPositive('escalateCoveringSeconds', covering, 7 * 86_400) ??
    checkPositive('escalateHeadSeconds', head, 7 * 86_400) ??
    (head > covering
      ? null
      : {
          code: 'escalation_order',
          field: 'escalateHeadSeconds',
          message: 'The head of department is called after the covering doctor: escalateHeadSeconds must exceed escalateCoveringSeconds.',
        })
  );
}

export interface ReferenceBand {
  refLow: number | null;
  refHigh: number | null;
}

/**
 * Critical limits of a test: at least one, low below high, and outside every reference band of the
 * test (a critical value is beyond the reference interval; CLSI GP47).
 */
export function checkCriticalRange(low: number | null, high: number | null, bands: readonly ReferenceBand[]): PolicyRefusal | null {
  const inverted = (field: string, message: string): PolicyRefusal => ({ code: 'range_inverted', field, message });
  if (low === null && high === null)
    return { code: 'range_empty', field: 'criticalLow', message: 'Give criticalLow, criticalHigh or both.' };
  if ((low !== null && !Number.isFinite(low)) || (high !== null && !Number.isFinite(high))) {
    return inverted('criticalLow', 'Critical limits must be finite numbers.');
  }
  if (low !== null && high !== null && low >= high) return inverted('criticalLow', 'criticalLow must be below criticalHigh.');
  for (const b of bands) {
    if (low !== null && b.refLow !== null && low > b.refLow) {
      return inverted('criticalLow', 'criticalLow must not be above the lower reference limit of the test.');
    }
    if (high !== null && b.refHigh !== null && high < b.refHigh) {
      return inverted('criticalHigh', 'criticalHigh must not be below the upper reference limit of the test.');
    }
  }
  return null;
}

/** A change takes effect now or later, never in the past: processes already started under the old version keep it. */
export function checkEffectiveFrom(effectiveFrom: Date, now: Date): PolicyRefusal | null {
  const field = 'effectiveFrom';
  if (Number.isNaN(effectiveFrom.getTime())) return { code: 'invalid_date', field, message: 'effectiveFrom must be an ISO 8601 instant.' };
  if (effectiveFrom.getTime() < now.getTime()) {
    return {
      code: 'effective_from_in_past',
      field,
      message: 'effectiveFrom is in the past; a change takes effect now (omit it) or later.',
    };
  }
  return null;
}

/** A real calendar date 'YYYY-MM-DD'. */
export function isLocalDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

export interface Versioned {
  effectiveFrom: Date;
}

/** The version in force at `at`: the latest whose effectiveFrom is at or before it. */
export function versionInForce<T extends Versioned>(versions: readonly T[], at: Date): T | undefined {
  let best: T | undefined;
  for (const v of versions) {
    if (v.effectiveFrom.getTime() <= at.getTime() && (!best || v.effectiveFrom.getTime() > best.effectiveFrom.getTime())) best = v;
  }
  return best;
}
