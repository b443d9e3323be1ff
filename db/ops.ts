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
      const n = sql<number>`count(*)::int`.as('n');
      const [appointments, referrals, labOrders, onboarding] = await Promise.all([
        tx.selectFrom('appointments').select(['status as key', n]).groupBy('status').execute(),
        tx.selectFrom('referrals').select(['status as key', n]).groupBy('status').execute(),
        tx.selectFrom('lab_orders').select(['status as key', n]).groupBy('status').execute(),
        // Clinics by their rollout stage: where each clinic's onboarding stands.
        tx.selectFrom('clinics').select(['rollout_stage as key', n]).groupBy('rollout_stage').execute(),
      ]);
      const overdue = await tx
        .selectFrom('referrals')
        .select(n)
        .where((eb) => eb.or([eb('breached', '=', true), eb.and([eb('status', 'in', [...AWAITING_BOOKING]), eb('deadline_at', '<', now)])]))
        .where('status', 'not in', ['closed', 'cancelled', 'expired'])
        .executeTakeFirstOrThrow();
      const critical = await tx
        .selectFrom('lab_orders')
        .select(n)
        .where('critical_pending', '=', true)
        .where('acknowledged_at', 'is', null)
        .executeTakeFirstOrThrow();
      const late = await tx
        .selectFrom('lab_orders')
        .select(n)
        .where((eb) =>
          eb.or([
            eb('overdue', '=', true),
            eb.and([eb('deadline_at', '<', now), eb('status', 'in', ['ordered', 'collected', 'received', 'resulted'])]),
          ]),
        )
        .where('status', 'not in', ['cancelled', 'closed'])
        .executeTakeFirstOrThrow();
      const held = await tx
        .selectFrom('appointments')
        .select(n)
        .where('status', 'in', ['held', 'offered'])
        .where((eb) => eb.or([eb('hold_expires_at', 'is', null), eb('hold_expires_at', '>', now)]))
        .executeTakeFirstOrThrow();
      const [hits, low] = await Promise.all([weeklyHitsByClinic(tx, now), weeklyLowConfidence(tx, now)]);
      return {
        at: now.toISOString(),
        appointments: counts(appointments),
        referrals: counts(referrals),
        labOrders: counts(labOrders),
        onboarding: counts(onboarding),
        attention: {
          overdueReferrals: overdue.n,
          unacknowledgedCriticalResults: critical.n,
          labOrdersPastTurnaround: late.n,
          heldSlots: held.n,
        },
        diagnosisSuggestions: { windowDays: 7, answered: low.answered, lowConfidenceShare: low.lowConfidenceShare, byClinic: hits },
      };
    });
}
