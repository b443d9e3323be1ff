/** The ops summary: counts of every process by state, and what needs attention now, in one read. */
import { sql } from 'kysely';
import { AWAITING_BOOKING } from '../domain/referral';
import { weeklyHitsByClinic, weeklyLowConfidence, type ClinicHits } from './diagnosis';
import type { Db } from './index';

export interface OpsSummary {
  at: string;
  appointments: Record<string, number>;
  referrals: Record<string, number>;
  labOrders: Record<string, number>;
  onboarding: Record<string, number>;
  attention: {
    /** Open referrals past their deadline and not booked, or marked breached. */
    overdueReferrals: number;
    /** Lab orders with a critical result nobody has acknowledged yet. */
    unacknowledgedCriticalResults: number;
    /** Lab orders past their turnaround deadline and not final. */
    labOrdersPastTurnaround: number;
    /** Slots held for a patient and not yet booked or released. */
    heldSlots: number;
  };
  /** Diagnosis suggestions over the last seven days: answers, the low-confidence share (drift), Hit@1/Hit@3 per clinic. */
  diagnosisSuggestions: { windowDays: 7; answered: number; lowConfidenceShare: number; byClinic: ClinicHits[] };
}

const counts = (rows: { key: string; n: number | string | bigint }[]) => Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));

/** One snapshot, read in one repeatable-read transaction so the figures agree with each other. */
export async function opsSummary(db: Db, now = new Date()): Promise<OpsSummary> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (tx) => {
      await sql`SET LOCAL statement_timeout = '5s'`.execute(tx);
      // Every count in one statement (one round trip and one snapshot instead of eight).
      const { rows } = await sql<{ grp: string; key: string; n: number }>`
        SELECT 'appointments' AS grp, status AS key, count(*)::int AS n FROM appointments GROUP BY status
        UNION ALL SELECT 'referrals', status, count(*)::int FROM referrals GROUP BY status
        UNION ALL SELECT 'labOrders', status, count(*)::int FROM lab_orders GROUP BY status
        -- Clinics by their rollout stage: where each clinic's onboarding stands.
        UNION ALL SELECT 'onboarding', rollout_stage, count(*)::int FROM clinics GROUP BY rollout_stage
        UNION ALL SELECT 'attention', 'overdueReferrals', count(*)::int FROM referrals
         WHERE (breached = true OR (status IN (${sql.join([...AWAITING_BOOKING])}) AND deadline_at < ${now}))
           AND status NOT IN ('closed', 'cancelled', 'expired')
        UNION ALL SELECT 'attention', 'unacknowledgedCriticalResults', count(*)::int FROM lab_orders
         WHERE critical_pending = true AND acknowledged_at IS NULL
        UNION ALL SELECT 'attention', 'labOrdersPastTurnaround', count(*)::int FROM lab_orders
         WHERE (overdue = true OR (deadline_at < ${now} AND status IN ('ordered', 'collected', 'received', 'resulted')))
           AND status NOT IN ('cancelled', 'closed')
        UNION ALL SELECT 'attention', 'heldSlots', count(*)::int FROM appointments
         WHERE status IN ('held', 'offered') AND (hold_expires_at IS NULL OR hold_expires_at > ${now})`.execute(tx);
      const group = (grp: string) => counts(rows.filter((r) => r.grp === grp));
      const attention = group('attention');
      const [hits, low] = await Promise.all([weeklyHitsByClinic(tx, now), weeklyLowConfidence(tx, now)]);
      return {
        at: now.toISOString(),
        appointments: group('appointments'),
        referrals: group('referrals'),
        labOrders: group('labOrders'),
        onboarding: group('onboarding'),
        attention: {
          overdueReferrals: attention.overdueReferrals ?? 0,
          unacknowledgedCriticalResults: attention.unacknowledgedCriticalResults ?? 0,
          labOrdersPastTurnaround: attention.labOrdersPastTurnaround ?? 0,
          heldSlots: attention.heldSlots ?? 0,
        },
        diagnosisSuggestions: { windowDays: 7, answered: low.answered, lowConfidenceShare: low.lowConfidenceShare, byClinic: hits },
      };
    });
}
